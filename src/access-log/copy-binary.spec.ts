import { randomInt } from 'node:crypto';
import { byteaHex, CopyBinaryError, CopyBinaryParser, int8Text, type Tuple } from './copy-binary.js';

/** Binary COPY output as PostgreSQL writes it: signature, flags, empty extension, tuples, trailer. */
function copyOutput(tuples: (Buffer | null)[][], extension = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')];
  const int32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  parts.push(int32(0), int32(extension.length), extension);
  for (const tuple of tuples) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(tuple.length);
    parts.push(count);
    for (const field of tuple)
      parts.push(field === null ? int32(-1) : Buffer.concat([int32(field.length), field]));
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

const int8 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};

/** Parses `bytes` fed in chunks of the given sizes; each tuple copied out, since the parser reuses it. */
function parse(bytes: Buffer, sizes: () => number): (string | null)[][] {
  const parser = new CopyBinaryParser();
  const out: (string | null)[][] = [];
  const keep = (t: Tuple) => {
    const row: (string | null)[] = [];
    for (let i = 0; i < t.count; i++) row.push(t.lengths[i] === -1 ? null : byteaHex(t, i));
    out.push(row);
  };
  for (let at = 0; at < bytes.length;) {
    const size = Math.max(1, sizes());
    parser.push(bytes.subarray(at, at + size), keep);
    at += size;
  }
  parser.end();
  return out;
}

describe('binary COPY reader', () => {
  const tuples = [
    [int8(1n), Buffer.from('één', 'utf8'), null, Buffer.alloc(0)],
    [int8(2n ** 53n + 1n), Buffer.alloc(300, 7), Buffer.from([0]), null],
    [int8(-5n), null, null, Buffer.from('x')],
  ];
  const expected = tuples.map((t) => t.map((f) => (f === null ? null : f.toString('hex'))));

  it('gives the same tuples however the bytes are cut into chunks', () => {
    const bytes = copyOutput(tuples, Buffer.from('ext'));
    expect(parse(bytes, () => bytes.length)).toEqual(expected);
    expect(parse(bytes, () => 1)).toEqual(expected);
    for (let i = 0; i < 50; i++) expect(parse(bytes, () => randomInt(1, 40))).toEqual(expected);
  });

  it('reads int8 fields as exact decimal text, beyond 2^53 and below zero too', () => {
    const seen: string[] = [];
    const parser = new CopyBinaryParser();
    parser.push(copyOutput(tuples), (t) => seen.push(int8Text(t, 0)));
    expect(seen).toEqual(['1', String(2n ** 53n + 1n), '-5']);
  });

  it('refuses output that is cut off, is not binary COPY, or is malformed', () => {
    const bytes = copyOutput(tuples);
    const parser = new CopyBinaryParser();
    parser.push(bytes.subarray(0, bytes.length - 5), () => undefined);
    expect(() => parser.end()).toThrow(CopyBinaryError);
    expect(() => new CopyBinaryParser().push(Buffer.from('1\tfoo\n'.repeat(10)), () => undefined)).toThrow(
      CopyBinaryError,
    );
    const badLength = Buffer.from(bytes);
    // The first field's length (after the 19-byte header and the 2-byte count) made negative.
    badLength.writeInt32BE(-7, 21);
    expect(() => new CopyBinaryParser().push(badLength, () => undefined)).toThrow(CopyBinaryError);
    const notInt8 = new CopyBinaryParser();
    expect(() => notInt8.push(copyOutput([[Buffer.from('abc')]]), (t) => int8Text(t, 0))).toThrow(
      CopyBinaryError,
    );
  });
});
