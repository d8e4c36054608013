import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../program.js';

/**
 * Golden tests of the jurists' tools on fixture convenants: the exact output of diff, matrix and
 * render is committed under test/golden/ and compared byte for byte. After an intended change,
 * regenerate with `UPDATE_GOLDEN=1 npm test -- src/cli/commands/jurist-tools.spec.ts` and review
 * the golden files' diff like any other change.
 */

const BASE = 'test/fixtures/policies/diff/base/diff-fixture';
const WIDEN = 'test/fixtures/policies/diff/widen-health/diff-fixture';
const GOLDEN = 'test/golden';

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  if (!existsSync(file)) throw new Error(`${file} is missing; run with UPDATE_GOLDEN=1 to create it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('convenant diff', () => {
  it('flags a widened health field first and exits 0 without --fail-on-widen', async () => {
    const { code, stdout } = await run(['diff', BASE, WIDEN]);
    expect(code).toBe(0);
    golden('diff-widen-health.txt', stdout);
    const lines = stdout.split('\n');
    // The health grant is the first access line, under the special-category heading.
    expect(lines[3]).toBe('!! Special-category (health) and criminal data:');
    expect(lines[4]).toMatch(/^ {2}\+ wijkteam\/uitvoering-plan read zorg\.letsel \[health\]/);
  });

  it('exits 1 with --fail-on-widen when access widens, 0 when nothing changed', async () => {
    expect((await run(['diff', BASE, WIDEN, '--fail-on-widen'])).code).toBe(1);
    const same = await run(['diff', BASE, BASE, '--fail-on-widen']);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('No differences in what is enforced.');
  });

  it('gives the same diff as JSON, widened first by sensitivity', async () => {
    const { code, stdout } = await run(['diff', BASE, WIDEN, '--json']);
    expect(code).toBe(0);
    golden('diff-widen-health.json', stdout);
    const diff = JSON.parse(stdout) as {
      widened: boolean;
      widenedBy: string[];
      access: { field?: string; sensitivity?: string; direction: string; partner: string }[];
      retention: { id: string; old: string; new: string }[];
      disclosure: { id: string; flag: string; old: boolean; new: boolean }[];
    };
    expect(diff.widened).toBe(true);
    expect(diff.widenedBy).toEqual(['access', 'retention', 'disclosure']);
    expect(diff.access[0]).toMatchObject({
      partner: 'wijkteam',
      field: 'zorg.letsel',
      sensitivity: 'health',
      direction: 'widened',
    });
    expect(
      diff.access.filter((c) => c.direction === 'narrowed').map((c) => `${c.partner} ${c.field}`),
    ).toEqual(['vtrr plan.doelen', 'vtrr plan.acties', 'vtrr plan.regisseur']);
    expect(diff.retention).toEqual([{ id: 'triage', old: 'P5Y', new: 'P7Y' }]);
    // Showing earlier versions of fields discloses more than the current values: a widening.
    expect(diff.disclosure).toEqual([
      { id: 'uitvoering-plan', flag: 'field_history', old: false, new: true },
    ]);
  });

  it('narrowing alone is not widening', async () => {
    // Removing the health grant but keeping everything else the same only narrows.
    const dir = mkdtempSync(join(tmpdir(), 'convenant-diff-'));
    try {
      const narrowed = join(dir, 'diff-fixture');
      cpSync(BASE, narrowed, { recursive: true });
      const rules = join(narrowed, '10-rules.yaml');
      writeFileSync(
        rules,
        readFileSync(rules, 'utf8').replace(
          'fields: [zorg.letsel]',
          'fields: [zorg.letsel]\n    when: { phase: [acute] }',
        ),
      );
      const { code, stdout } = await run(['diff', BASE, narrowed, '--fail-on-widen']);
      expect(code).toBe(0);
      expect(stdout).toContain('Access not widened.');
      expect(stdout).toMatch(
        /- vtrr\/triage read zorg\.letsel \[health\] {2}\(phases stabilisatie, herstel, afgesloten;/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 on usage errors and invalid convenants', async () => {
    expect((await run(['diff', BASE])).code).toBe(2);
    expect((await run(['diff', BASE, WIDEN, '--git', 'a..b'])).code).toBe(2);
    expect((await run(['diff', BASE, WIDEN, '--no-such-option'])).code).toBe(2);
    const invalid = await run(['diff', BASE, 'test/fixtures/policies/special-category']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/sensitivity-not-permitted/);
  });

  describe('--git A..B', () => {
    let repo: string;
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });

    beforeAll(() => {
      repo = mkdtempSync(join(tmpdir(), 'convenant-git-'));
      git('init', '-q', '-b', 'main');
      git('config', 'user.email', 'jurist@example.invalid');
      git('config', 'user.name', 'Jurist');
      const folder = join(repo, 'policies', 'diff-fixture');
      cpSync(BASE, folder, { recursive: true });
      git('add', '.');
      git('commit', '-q', '-m', 'base');
      rmSync(folder, { recursive: true });
      cpSync(WIDEN, folder, { recursive: true });
      git('add', '-A');
      git('commit', '-q', '-m', 'wijkteam leest letsel');
    });
    afterAll(() => rmSync(repo, { recursive: true, force: true }));

    it('compares the folder at two revisions exactly as two folders', async () => {
      const dir = join(repo, 'policies', 'diff-fixture');
      const { code, stdout } = await run(['diff', '--git', 'HEAD~1..HEAD', '--dir', dir, '--fail-on-widen']);
      expect(code).toBe(1);
      expect(stdout).toBe(readFileSync(join(GOLDEN, 'diff-widen-health.txt'), 'utf8'));
    });

    it('compares a revision with the working folder', async () => {
      const dir = join(repo, 'policies', 'diff-fixture');
      const { code, stdout } = await run(['diff', '--git', 'HEAD', '--dir', dir]);
      expect(code).toBe(0);
      expect(stdout).toContain('No differences in what is enforced.');
    });

    it('reads an old side in an older format leniently, with a note per part it filled in', async () => {
      // A version from before `exception` was required: the later format refuses it as it stands.
      const old = mkdtempSync(join(tmpdir(), 'convenant-old-'));
      try {
        const folder = join(old, 'diff-fixture');
        cpSync(BASE, folder, { recursive: true });
        const head = join(folder, '00-convenant.yaml');
        writeFileSync(head, readFileSync(head, 'utf8').replace(/^ {4}exception: .*\n/m, ''));
        expect((await run(['validate', folder])).code).not.toBe(0);
        const dir = join(repo, 'policies', 'diff-fixture');
        rmSync(dir, { recursive: true });
        cpSync(folder, dir, { recursive: true });
        git('add', '-A');
        git('commit', '-q', '-m', 'ouder formaat');
        rmSync(dir, { recursive: true });
        cpSync(BASE, dir, { recursive: true });
        const { code, stdout, stderr } = await run(['diff', '--git', 'HEAD', '--dir', dir]);
        expect(code).toBe(0);
        // Filling in the exception changes no access.
        expect(stdout).toContain('No differences in what is enforced.');
        expect(stderr).toContain(
          'Note: the old version is in an older format; 1 part was read as that format meant them',
        );
        expect(stderr).toMatch(
          /HEAD:policies\/diff-fixture\/00-convenant\.yaml:\d+:\d+ warning older-format: Older format: legal basis '[a-z0-9-]+' names no 'exception'/,
        );
        const json = await run(['diff', '--git', 'HEAD', '--dir', dir, '--json']);
        expect(JSON.parse(json.stdout).olderFormat).toEqual([
          expect.objectContaining({ code: 'older-format', severity: 'warning' }),
        ]);
        // The new side is read strictly: the same files as the new version are refused.
        cpSync(folder, dir, { recursive: true });
        expect((await run(['diff', '--git', 'HEAD~1', '--dir', dir])).code).toBe(2);
      } finally {
        rmSync(old, { recursive: true, force: true });
      }
    });

    it('exits 2 for an unknown revision', async () => {
      const dir = join(repo, 'policies', 'diff-fixture');
      const { code, stderr } = await run(['diff', '--git', 'nope..HEAD', '--dir', dir]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/git rev-parse/);
    });
  });
});

describe('convenant matrix', () => {
  it.each([
    ['table', 'matrix.txt'],
    ['markdown', 'matrix.md'],
    ['csv', 'matrix.csv'],
    ['html', 'matrix.html'],
  ])('as %s', async (format, file) => {
    const { code, stdout } = await run(['matrix', BASE, '--format', format]);
    expect(code).toBe(0);
    golden(file, stdout);
  });

  it('shows what is enforced: the health field only for Veilig Thuis in triage, and what a doorbraak opens', async () => {
    const { stdout } = await run(['matrix', BASE, '--json']);
    const m = JSON.parse(stdout) as {
      rows: {
        partner: string;
        purpose: string;
        cells: Record<string, { read: string; emergency: boolean; emergencyFields: string[] }>;
      }[];
    };
    const zorg = m.rows.map((r) => `${r.partner}/${r.purpose}:${r.cells.zorg!.read}`);
    expect(zorg).toEqual([
      'fg/toezicht:none',
      'vtrr/triage:all',
      'vtrr/uitvoering-plan:none',
      'wijkteam/uitvoering-plan:none',
    ]);
    const triage = m.rows.find((r) => r.purpose === 'triage')!;
    // veiligheid.* is readable without doorbraak anyway while taking part; the doorbraak opens it to a non-participant.
    expect(triage.cells.veiligheid!.emergency).toBe(true);
    expect(triage.cells.veiligheid!.emergencyFields).toEqual([
      'veiligheid.risiconiveau',
      'veiligheid.veiligheidsplan',
    ]);
    expect(triage.cells.plan!.emergency).toBe(false);
  });
});

describe('convenant render', () => {
  it.each([
    ['markdown', 'render.md'],
    ['html', 'render.html'],
  ])('as %s', async (format, file) => {
    const { code, stdout } = await run(['render', BASE, '--format', format]);
    expect(code).toBe(0);
    golden(file, stdout);
  });

  it('tells per purpose whether it discloses involvement matches and field history', async () => {
    const { code, stdout } = await run(['render', WIDEN, '--format', 'markdown']);
    expect(code).toBe(0);
    const planSection = stdout.slice(stdout.indexOf('### Uitvoering van het plan'));
    expect(planSection).toMatch(/Geschiedenis: onder dit doel zijn ook eerdere versies/);
    expect(stdout.slice(0, stdout.indexOf('### Uitvoering van het plan'))).toMatch(
      /Geschiedenis: onder dit doel is alleen de huidige waarde/,
    );
  });

  it('escapes every text in HTML and uses no external assets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convenant-render-'));
    try {
      const folder = join(dir, 'diff-fixture');
      cpSync(BASE, folder, { recursive: true });
      const head = join(folder, '00-convenant.yaml');
      writeFileSync(
        head,
        readFileSync(head, 'utf8').replace(
          'name: Wijkteams gemeente Rotterdam',
          'name: "Wijkteams <script>alert(1)</script> & co"',
        ),
      );
      const { code, stdout } = await run(['render', folder, '--format', 'html']);
      expect(code).toBe(0);
      expect(stdout).not.toContain('<script>');
      expect(stdout).toContain('Wijkteams &lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
      expect(stdout).not.toMatch(/<link|src=|url\(/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a document to sign: retention in words, every deny, a signature line per partner, the matrix as annex', async () => {
    const { code, stdout } = await run(['render', 'policies/zvh-rotterdam-rijnmond', '--format', 'markdown']);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/\bP\d+[YMWD]\b/);
    expect(stdout).toContain(
      'Bewaartermijn: vijf jaar na het einde van de deelname van de partner die het gegeven vastlegde, uiterlijk vijf jaar na afsluiting van de casus.',
    );
    const never = stdout.slice(stdout.indexOf('## 7. Wat nooit wordt gedeeld'), stdout.indexOf('## 8.'));
    // The shelter's address is granted to no partner but the shelter, so no deny takes a grant
    // away; it is stated all the same.
    expect(never).toContain('(regel geheim-adres-alleen-opvang)');
    for (const heading of [
      '## Overwegingen',
      '## 1. Partijen en rollen',
      '## 2. Begrippen',
      '## 9. Gezamenlijke regeling, DPIA en verwerker',
      '## 11. Rechten van betrokkenen en informatieplicht',
      '## 12. Datalekken',
      '## 13. Wijziging en looptijd',
      '## Bijlage: matrix van toegang',
    ])
      expect(stdout).toContain(heading);
    // The legal frame comes from the convenant's agreement, not from standard wording.
    expect(stdout).not.toContain('[In te vullen');
    expect(stdout).toContain(
      'DPIA Gegevensdeling Zorg- en Veiligheidsnetwerk Rotterdam-Rijnmond, versie 2.0',
    );
    expect(stdout).toContain(
      'binnen 72 uur nadat zij is ontdekt aan de Autoriteit Persoonsgegevens (AVG art. 33)',
    );
    expect(stdout).toContain('Dit convenant geldt vanaf 1 januari 2026 voor vier jaar.');
    expect(stdout).toContain("andere partners zien pleger en gezinslid allemaal als 'betrokkene'");
    const signatures = stdout.slice(stdout.indexOf('## 14. Ondertekening'), stdout.indexOf('## Bijlage'));
    // One signature line per party of the convenant, however many it has, each with its signatory.
    const partners = readFileSync('policies/zvh-rotterdam-rijnmond/10-partners.yaml', 'utf8').match(
      /^ {2}- id: /gm,
    );
    expect(partners?.length).toBeGreaterThan(0);
    expect(
      signatures.match(/^\| (?!Partner|---)[^|]+ \| [^|]+, [^|]+ \| Rotterdam, …+ \| …+ \|$/gm),
    ).toHaveLength(partners?.length ?? -1);
    expect(signatures).toContain(
      '| Burgemeester van Rotterdam (tijdelijk huisverbod) | drs. C. (Carla) Verbeek, burgemeester van Rotterdam |',
    );
  });

  it('as the Twente example, with its agreement and signatories (golden)', async () => {
    const { code, stdout } = await run(['render', 'policies/vh-twente', '--format', 'markdown']);
    expect(code).toBe(0);
    golden('render-vh-twente.md', stdout);
  });

  it('marks what a convenant without an agreement still has to fill in, and says so on stderr', async () => {
    const { stdout, stderr } = await run(['render', BASE, '--format', 'markdown']);
    expect(stderr).toContain("warning: the document is not complete: the convenant gives no 'agreement'");
    for (const part of ['overwegingen', 'de DPIA', 'wie coördineert', 'de looptijd'])
      expect(stdout).toMatch(new RegExp(`\\[In te vullen: [^\\]]*${part}`));
  });

  it('writes to --out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convenant-render-'));
    try {
      const out = join(dir, 'convenant.md');
      const { code } = await run(['render', BASE, '--format', 'markdown', '--out', out]);
      expect(code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(GOLDEN, 'render.md'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
