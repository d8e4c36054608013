import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { parse } from 'yaml';
import { loadSchemaValidator, SCHEMA_KEY, standaloneSource } from './schema-validator.js';

/**
 * The precompiled validator (Ajv standalone code, written by the build) must report exactly
 * what Ajv compiling the schema at run time reports, errors included: load-schema.ts turns
 * those errors, with their schema nodes, into the jurist's sentences.
 */

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f));
}

const documents: unknown[] = [...yamlFilesUnder('policies'), ...yamlFilesUnder('test/fixtures/policies')]
  .map((file) => {
    try {
      return parse(readFileSync(file, 'utf8')) as unknown;
    } catch {
      return undefined; // the syntax fixtures
    }
  })
  .filter((doc) => doc !== undefined && doc !== null);

/** Every path to a value in a document. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
  if (value !== null && typeof value === 'object')
    return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
  return [prefix];
}

function replaced(doc: unknown, at: (string | number)[], value: unknown): unknown {
  if (at.length === 0) return value;
  const [head, ...rest] = at as [string | number, ...(string | number)[]];
  if (Array.isArray(doc)) return doc.map((v: unknown, i) => (i === head ? replaced(v, rest, value) : v));
  const copy = { ...(doc as Record<string, unknown>) };
  copy[head] = replaced(copy[head], rest, value);
  return copy;
}

const outcome = (validate: ValidateFunction, data: unknown) => ({
  valid: validate(data),
  errors: validate.errors,
});

describe('the precompiled schema validator', () => {
  let dir: string;
  let precompiled: ValidateFunction;
  let compiled: ValidateFunction;

  beforeAll(async () => {
    // Inside the repository, so the generated code finds ajv's runtime helpers in node_modules.
    dir = mkdtempSync(path.resolve('.schema-validator-spec-'));
    const file = path.join(dir, 'convenant-schema.validate.js');
    writeFileSync(file, await standaloneSource());
    const loaded = await loadSchemaValidator(file);
    expect(loaded.source).toBe('precompiled');
    precompiled = loaded.validate;
    compiled = (await loadSchemaValidator(path.join(dir, 'absent.js'))).validate;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every convenant and fixture in the repository as Ajv does', () => {
    expect(documents.length).toBeGreaterThan(20);
    for (const doc of documents) expect(outcome(precompiled, doc)).toEqual(outcome(compiled, doc));
  });

  it('reports the same errors as Ajv for any value put anywhere in them', () => {
    const odd = fc.oneof(
      fc.constantFrom(null, 3, 2026.1, true, '', 'x', 'P5Y', 'Niet Een Id', [], {}, ['a', 'a']),
      fc.jsonValue({ maxDepth: 2 }),
    );
    let refused = 0;
    fc.assert(
      fc.property(fc.constantFrom(...documents), fc.nat(), odd, (doc, pick, value) => {
        const all = paths(doc);
        const mutated = replaced(doc, all[pick % all.length] ?? [], value);
        const expected = outcome(compiled, mutated);
        expect(outcome(precompiled, mutated)).toEqual(expected);
        if (!expected.valid) refused += 1;
      }),
      { numRuns: 400 },
    );
    // The comparison covers errors, not only agreement on valid documents.
    expect(refused).toBeGreaterThan(100);
  });

  it('is not trusted when it was generated from another schema or other options', async () => {
    const stale = path.join(dir, 'stale.js');
    writeFileSync(stale, "export const SCHEMA_KEY = 'other'; export default () => true;\n");
    expect((await loadSchemaValidator(stale)).source).toBe('compiled');
    expect(SCHEMA_KEY).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is what the built CLI and gateway use (npm run build writes it)', () => {
    const built = pathToFileURL(path.resolve('dist/src/policy/schema-validator.js')).href;
    const result = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `console.log((await (await import('${built}')).loadSchemaValidator()).source)`,
      ],
      { encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('precompiled');
  });
});
