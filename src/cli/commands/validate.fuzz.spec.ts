import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { run } from '../program.js';

/**
 * `convenant validate` on mutated copies of every example convenant under policies/ (a new
 * example is picked up by being there): whatever the bytes, it answers with sentences and exit
 * 0 or 1, never with a stack trace, also under --json. FUZZ_RUNS raises the number of runs.
 */

const POLICIES = 'policies';
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);

const convenants = readdirSync(POLICIES).filter(
  (name) =>
    statSync(join(POLICIES, name)).isDirectory() &&
    readdirSync(join(POLICIES, name)).some((f) => /\.ya?ml$/.test(f)),
);

/** Text that YAML readers and schema checks have choked on, or that a slip of the keyboard makes. */
const NASTY = [
  ':',
  ': ',
  '- ',
  '[',
  ']',
  '{',
  '}',
  '"',
  "'",
  '#',
  '\t',
  '? ',
  '&a ',
  '*a',
  '*nergens',
  '<<: *a\n',
  '---\n',
  '...\n',
  '%YAML 1.2\n',
  '!!binary ',
  '!!js/function ',
  '__proto__: { polluted: true }\n',
  'constructor: 1\n',
  'toString: x\n',
  '~',
  'null',
  '1e999',
  '0x1F',
  '2026-13-45',
  '\u0000',
  '\ufeff',
  '\u2028',
  'é',
  '👩‍⚖️',
  `a: ${'['.repeat(3000)}${']'.repeat(3000)}\n`,
  'a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n',
];

type Mutation =
  | { kind: 'delete-line' | 'duplicate-line'; at: number }
  | { kind: 'swap-lines'; at: number; other: number }
  | { kind: 'indent'; at: number; by: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'insert-line'; at: number; text: string }
  | { kind: 'byte'; at: number; byte: number }
  | { kind: 'truncate'; at: number };

const position = fc.nat({ max: 1_000_000 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('delete-line' as const, 'duplicate-line' as const), at: position }),
  fc.record({ kind: fc.constant('swap-lines' as const), at: position, other: position }),
  fc.record({ kind: fc.constant('indent' as const), at: position, by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    text: fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 12, unit: 'binary' })),
  }),
  // Whole lines at a line start, so alias bombs and second documents are read as such.
  fc.record({ kind: fc.constant('insert-line' as const), at: position, text: fc.constantFrom(...NASTY) }),
  fc.record({ kind: fc.constant('byte' as const), at: position, byte: fc.integer({ min: 0x80, max: 0xff }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
);

function mutate(original: Buffer, m: Mutation): Buffer {
  if (m.kind === 'byte' || m.kind === 'truncate' || m.kind === 'insert') {
    const at = original.length === 0 ? 0 : m.at % (original.length + 1);
    if (m.kind === 'truncate') return original.subarray(0, at);
    const middle = m.kind === 'byte' ? Buffer.from([m.byte]) : Buffer.from(m.text, 'utf8');
    return Buffer.concat([original.subarray(0, at), middle, original.subarray(at)]);
  }
  const lines = original.toString('utf8').split('\n');
  const i = m.at % lines.length;
  const line = lines[i] ?? '';
  if (m.kind === 'insert-line') lines.splice(i, 0, m.text.replace(/\n$/, ''));
  else if (m.kind === 'delete-line') lines.splice(i, 1);
  else if (m.kind === 'duplicate-line') lines.splice(i, 0, line);
  else if (m.kind === 'indent')
    lines[i] = m.by >= 0 ? `${' '.repeat(m.by)}${line}` : line.replace(new RegExp(`^ {0,${-m.by}}`), '');
  else if (m.kind === 'swap-lines') {
    const j = m.other % lines.length;
    lines[i] = lines[j] ?? '';
    lines[j] = line;
  }
  return Buffer.from(lines.join('\n'), 'utf8');
}

const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;
const DIAGNOSTIC = /^\S+:\d+:\d+ (error|warning) [a-z0-9-]+: \S.*$/;

describe.each(convenants)('convenant validate on mutated copies of policies/%s', (id) => {
  let root: string;
  let dir: string;
  let files: string[];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'convenant-fuzz-'));
    // The folder keeps the convenant's name, so the unmutated copy is valid.
    dir = join(root, id);
    cpSync(join(POLICIES, id), dir, { recursive: true });
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('the unmutated copy is valid', async () => {
    expect((await run(['validate', dir])).code).toBe(0);
  });

  it('answers every mutation with diagnostics and exit 0 or 1, never a stack trace', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (fileIndex, mutations) => {
          const file = join(dir, files[fileIndex % files.length] ?? '');
          const original = readFileSync(file);
          writeFileSync(file, mutations.reduce(mutate, original));
          try {
            const plain = await run(['validate', dir]);
            expect([0, 1]).toContain(plain.code);
            expect(plain.stdout + plain.stderr).not.toMatch(STACK_LINE);
            const lines = plain.stdout.trim().split('\n');
            expect(lines.at(-1)).toMatch(
              plain.code === 0 ? /^✓ .* is valid/ : /^✗ .*: \d+ errors?, \d+ warnings?$/,
            );
            // Every problem is a line a jurist (and an editor) can go to.
            for (const line of lines.slice(0, -1).filter((l) => l !== '')) expect(line).toMatch(DIAGNOSTIC);
            if (plain.code === 1) expect(lines.length).toBeGreaterThan(2);

            const json = await run(['validate', dir, '--json']);
            expect(json.code).toBe(plain.code);
            const report = JSON.parse(json.stdout) as {
              valid: boolean;
              diagnostics: { message: string; line?: number; column?: number }[];
            };
            expect(report.valid).toBe(plain.code === 0);
            for (const d of report.diagnostics) {
              expect(d.message).toMatch(/\S/);
              expect(d.message).not.toMatch(STACK_LINE);
              if (d.line !== undefined) expect(d.line).toBeGreaterThanOrEqual(1);
              if (d.column !== undefined) expect(d.column).toBeGreaterThanOrEqual(1);
            }
          } finally {
            writeFileSync(file, original);
          }
        },
      ),
      { numRuns: RUNS },
    );
  }, 300_000);
});
