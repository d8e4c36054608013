import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import schema from '../policies/convenant.schema.json' with { type: 'json' };
import { COMMANDS, run } from '../src/cli/program.js';

/**
 * Every `convenant` command and every YAML snippet in the README, policies/README.md and docs/
 * runs here as written, so the docs cannot drift from the tools.
 *
 * - A `convenant …` line in a ```sh block runs in-process; a trailing comment saying `exit N`
 *   sets the exit code it must give (else 0). `--out F` writes into a temporary folder.
 * - Commands that need a running gateway or database (token, keys, audit, retention, db) and
 *   `diff --git` (needs the repository's history) are checked to name a command that exists.
 * - A ```yaml block must be a valid fragment of a convenant file (the JSON Schema). Preceded by
 *   `<!-- doc-test: adds-to <folder> -->` it is added, as one more file, to a copy of that
 *   convenant, which must then validate; `…, error <code>` marks a counter-example whose
 *   validation must fail with that code; `…, test fails` one whose inline test must fail.
 */

const DOCS = [
  'README.md',
  'policies/README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Snippet {
  doc: string;
  line: number;
  lang: string;
  text: string;
  marker?: string;
}

function snippets(doc: string): Snippet[] {
  const lines = readFileSync(doc, 'utf8').split('\n');
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '');
    const before = lines.slice(Math.max(0, start - 3), start).join('\n');
    const marker = /<!-- doc-test: (.+?) -->/.exec(before)?.[1];
    found.push({
      doc,
      line: start + 1,
      lang: open[1] ?? '',
      text: body.join('\n'),
      ...(marker ? { marker } : {}),
    });
  }
  return found;
}

const all = DOCS.flatMap(snippets);
const NEEDS_GATEWAY = new Set(['token', 'keys', 'audit', 'retention', 'db']);

/** The `convenant …` invocations of a shell block, with the exit code each must give. */
function invocations(s: Snippet): { line: string; argv: string[]; exit: number; runnable: boolean }[] {
  return s.text
    .split('\n')
    .map((raw) => raw.trim())
    .filter((raw) => /^(npx )?convenant /.test(raw))
    .map((raw) => {
      const [command, comment = ''] = raw.split(/\s+#\s*/, 2);
      const argv = (command ?? '')
        .replace(/^(npx )?convenant /, '')
        .trim()
        .split(/\s+/);
      const exit = Number(/exit (\d)/.exec(comment)?.[1] ?? 0);
      const runnable = !NEEDS_GATEWAY.has(argv[0] ?? '') && !argv.includes('--git');
      return { line: raw, argv, exit, runnable };
    });
}

describe.each(DOCS)('%s', (doc) => {
  const mine = all.filter((s) => s.doc === doc);
  const shell = mine
    .filter((s) => s.lang === 'sh')
    .flatMap((s) => invocations(s).map((c) => ({ ...c, at: `${doc}:${s.line}` })));
  const yamls = mine.filter((s) => s.lang === 'yaml');
  let out: string;

  // A doc without commands or YAML has no tests here, and Jest refuses hooks in an empty block.
  if (shell.length + yamls.length > 0) {
    beforeAll(() => {
      out = mkdtempSync(join(tmpdir(), 'convenant-docs-'));
    });
    afterAll(() => rmSync(out, { recursive: true, force: true }));
  }

  const runnable = shell.filter((c) => c.runnable);
  // A folder that a doc's `convenant init <dir>` creates lives in the scratch folder, for that
  // command and for the later ones of the same doc that use it (they run in order).
  const scratch = new Set(runnable.filter((c) => c.argv[0] === 'init' && c.argv[1]).map((c) => c.argv[1]));
  if (runnable.length > 0) {
    it.each(runnable.map((c) => [c.line, c]))('runs `%s`', async (_line, c) => {
      const argv = c.argv.map((a, i) =>
        c.argv[i - 1] === '--out' || scratch.has(a) ? join(out, basename(a)) : a,
      );
      const result = await run(argv, {});
      expect({ at: c.at, code: result.code, stderr: result.code === c.exit ? '' : result.stderr }).toEqual({
        at: c.at,
        code: c.exit,
        stderr: '',
      });
      expect(result.stdout + result.stderr).toMatch(/\S/);
    });
  }

  const other = shell.filter((c) => !c.runnable);
  if (other.length > 0) {
    it.each(other.map((c) => [c.line, c]))('names a command that exists: `%s`', (_line, c) => {
      expect(COMMANDS.map((x) => x.name)).toContain(c.argv[0]);
    });
  }

  if (yamls.length > 0) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    const validFragment = ajv.compile(schema);
    it.each(yamls.map((s) => [`${s.doc}:${s.line}`, s]))(
      'the YAML at %s is a valid convenant fragment',
      (_at, s) => {
        expect([validFragment(parse(s.text) ?? {}), validFragment.errors ?? []]).toEqual([true, []]);
      },
    );

    const added = yamls.filter((s) => s.marker?.startsWith('adds-to '));
    if (added.length > 0) {
      it.each(added.map((s) => [`${s.doc}:${s.line}`, s]))(
        'the YAML at %s, added to its convenant, gives what the marker says',
        async (_at, s) => {
          const [, folder = '', expectation = ''] = /^adds-to (\S+?)(?:, (.+))?$/.exec(s.marker ?? '') ?? [];
          const copy = join(mkdtempSync(join(out, 'copy-')), basename(folder));
          cpSync(folder, copy, { recursive: true });
          writeFileSync(join(copy, '95-voorbeeld.yaml'), `${s.text}\n`);
          const validation = await run(['validate', copy, '--json']);
          const report = JSON.parse(validation.stdout) as {
            valid: boolean;
            diagnostics: { code: string; severity: string }[];
          };
          const errorCode = /^error (\S+)$/.exec(expectation)?.[1];
          if (errorCode) {
            expect(report.valid).toBe(false);
            expect(report.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toContain(
              errorCode,
            );
            return;
          }
          expect(report.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
          const tested = await run(['test', copy]);
          expect(tested.code).toBe(expectation === 'test fails' ? 1 : 0);
        },
      );
    }
  }
});

it('finds the snippets it is meant to check', () => {
  expect(all.filter((s) => s.lang === 'yaml').length).toBeGreaterThan(8);
  expect(all.filter((s) => s.marker !== undefined).length).toBeGreaterThanOrEqual(2);
});
