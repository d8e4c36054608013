import fc from 'fast-check';
import {
  checkUrl,
  MAX_JSON_DEPTH,
  parseFormBody,
  parseJsonBody,
  UnsafeInputError,
} from './request-hygiene.js';

function refusalOf(work: () => unknown): UnsafeInputError {
  try {
    work();
  } catch (error) {
    if (error instanceof UnsafeInputError) return error;
    throw error;
  }
  throw new Error('expected an UnsafeInputError');
}

const pointers = (error: UnsafeInputError) =>
  (error.extensions.errors as { pointer: string }[]).map((e) => e.pointer);

describe('parseJsonBody', () => {
  it('agrees with JSON.parse on every well-formed body without NUL, duplicates or deep nesting', () => {
    const safe = fc.jsonValue({ maxDepth: 6 }).filter((v) => {
      const text = JSON.stringify(v);
      return !text.includes('\\u0000') && !/"(__proto__|constructor|prototype)":/.test(text);
    });
    fc.assert(
      fc.property(safe, fc.constantFrom('', ' ', '\n\t'), (value, space) => {
        const text = JSON.stringify(value, null, space);
        expect(parseJsonBody(Buffer.from(text))).toEqual(JSON.parse(text));
      }),
    );
  });

  it('names the place of a NUL character, escaped or raw, in values and in member names', () => {
    expect(
      pointers(refusalOf(() => parseJsonBody(Buffer.from('{"values":[{"value":"a\\u0000b"}]}')))),
    ).toEqual(['/values/0/value']);
    expect(pointers(refusalOf(() => parseJsonBody(Buffer.from('{"a\\u0000":1}'))))).toEqual(['/a\\u0000']);
    expect(pointers(refusalOf(() => parseJsonBody(Buffer.from('{"x":"a\u0000"}'))))).toEqual(['/x']);
  });

  it('refuses invalid UTF-8 and lone surrogates with the pointer of the string', () => {
    const invalid = Buffer.concat([
      Buffer.from('{"persons":[{"naam":"J'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}]}'),
    ]);
    const error = refusalOf(() => parseJsonBody(invalid));
    expect(pointers(error)).toEqual(['/persons/0/naam']);
    expect(error.message).toMatch(/not valid UTF-8/);
    expect(pointers(refusalOf(() => parseJsonBody(Buffer.from('{"a":"\\ud800x"}'))))).toEqual(['/a']);
    expect(parseJsonBody(Buffer.from('{"a":"\\ud83d\\ude00"}'))).toEqual({ a: '😀' });
  });

  it('refuses duplicate member names (also when spelt with escapes) and prototype keys', () => {
    expect(pointers(refusalOf(() => parseJsonBody(Buffer.from('{"a":{"b":1,"\\u0062":2}}'))))).toEqual([
      '/a/b',
    ]);
    expect(pointers(refusalOf(() => parseJsonBody(Buffer.from('{"__proto__":{"x":1}}'))))).toEqual([
      '/__proto__',
    ]);
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels without recursing into it`, () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const error = refusalOf(() => parseJsonBody(Buffer.from(deep)));
    expect(pointers(error)).toEqual(['/0'.repeat(MAX_JSON_DEPTH)]);
    expect(parseJsonBody(Buffer.from('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)))).toBeDefined();
  });

  it('reports syntax errors by byte position, never echoing the body', () => {
    for (const text of ['{"values": [', '{"a" 1}', '[1,]', '{"a":01}', 'tru', '"x" "y"', '']) {
      const error = refusalOf(() => parseJsonBody(Buffer.from(text)));
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/not well-formed JSON/);
    }
    const secret = refusalOf(() => parseJsonBody(Buffer.from('{"naam": Jansen}')));
    expect(JSON.stringify(secret.extensions)).not.toContain('Jansen');
  });

  it('lists every problem at once, up to a bound', () => {
    const error = refusalOf(() => parseJsonBody(Buffer.from('{"a":"\\u0000","a":"\\u0000"}')));
    expect(pointers(error)).toEqual(['/a', '/a', '/a']);
  });
});

describe('parseFormBody', () => {
  it('reads a form, repeated parameters as arrays', () => {
    expect(parseFormBody(Buffer.from('grant_type=client_credentials&scope=a+b&scope=c'))).toEqual({
      grant_type: 'client_credentials',
      scope: ['a b', 'c'],
    });
  });

  it('refuses NUL and invalid percent-encoded UTF-8 naming the parameter, never its value', () => {
    const error = refusalOf(() => parseFormBody(Buffer.from('scope=triage%00&client_assertion=%C3%28')));
    expect(pointers(error)).toEqual(['/scope', '/client_assertion']);
    expect(error.extensions.error).toBe('invalid_request');
  });
});

describe('checkUrl', () => {
  it('passes ordinary URLs and refuses NUL or invalid UTF-8 in the path or the query', () => {
    expect(() => checkUrl('/v1/cases?phase=acute&limit=10')).not.toThrow();
    expect(pointers(refusalOf(() => checkUrl('/v1/cases/%00')))).toEqual(['path']);
    expect(pointers(refusalOf(() => checkUrl('/v1/audit/entries?partner=%00')))).toEqual(['query partner']);
    expect(pointers(refusalOf(() => checkUrl('/v1/cases?phase=%FF')))).toEqual(['query phase']);
  });
});
