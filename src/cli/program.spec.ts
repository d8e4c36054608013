import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileConvenant } from '../policy/compile.js';
import type { Explanation } from '../policy/explain.js';
import { Command } from 'commander';
import { checkConvenantDir } from '../policy/validate.js';
import { createContext, wantsColour } from './context.js';
import { buildProgram, COMMANDS, commandsFor, execute, run } from './program.js';

const MINIMAL = 'test/fixtures/policies/minimal';
const REAL = 'policies/zvh-rotterdam-rijnmond';
const DIAGNOSTIC_LINE = /^\S+\.ya?ml:\d+:\d+ (error|warning) [a-z-]+: .+$/;
const ANSI = '\u001b[';

function compiledMinimal() {
  const result = checkConvenantDir(MINIMAL);
  if (!result.convenant) throw new Error('the minimal fixture must be valid');
  return compileConvenant(result.convenant);
}

describe('convenant validate', () => {
  it('passes a valid convenant with its policy version, exit 0', async () => {
    const { code, stdout } = await run(['validate', MINIMAL]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(
      `✓ ${MINIMAL}: convenant minimal ${compiledMinimal().version} is valid (0 errors, 0 warnings)`,
    );
  });

  it('lists every error as file:line:column severity code: message and exits 1', async () => {
    const { code, stdout } = await run(['validate', 'test/fixtures/policies/unknown-refs']);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, -2)).toHaveLength(4);
    for (const line of lines.slice(0, -2)) expect(line).toMatch(DIAGNOSTIC_LINE);
    expect(lines[0]).toMatch(
      /00-convenant\.yaml:36:14 error unknown-partner: Rule 'onbekende-partner' names partner 'huisarts'/,
    );
    expect(lines.at(-1)).toBe('✗ test/fixtures/policies/unknown-refs: 4 errors, 0 warnings');
  });

  it('exits 0 when there are only warnings', async () => {
    const { code, stdout } = await run(['validate', 'test/fixtures/policies/shadowed']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/:\d+:\d+ warning shadowed-rule: /);
    expect(stdout).toMatch(/is valid \(0 errors, 1 warning\)/);
  });

  it('reports diagnostics with positions as JSON', async () => {
    const { code, stdout } = await run(['validate', 'test/fixtures/policies/special-category', '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ valid: false, errors: 3, warnings: 0 });
    expect(report.diagnostics[0]).toEqual({
      severity: 'error',
      code: 'sensitivity-not-permitted',
      message: expect.stringContaining("Rule 'wijkteam-diagnose'"),
      file: expect.stringMatching(/10-rules\.yaml$/),
      line: 8,
      column: 27,
    });
  });

  it('takes the folder from CONVENANT_POLICY_DIR when none is given', async () => {
    const { code, stdout } = await run(['validate'], { CONVENANT_POLICY_DIR: MINIMAL });
    expect(code).toBe(0);
    expect(stdout).toContain(`${MINIMAL}: convenant minimal`);
  });
});

describe('convenant test', () => {
  let root: string;
  let dir: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'convenant-cli-'));
    // The folder must carry the convenant's id.
    dir = join(root, 'minimal');
    cpSync(MINIMAL, dir, { recursive: true });
    writeFileSync(
      join(dir, '20-failing.yaml'),
      [
        'tests:',
        '  - name: Wijkteam ziet in de acute fase de doelen',
        '    as: { partner: wijkteam, purpose: uitvoering-plan }',
        '    case: { phase: acute }',
        '    expect:',
        '      read: [plan.doelen]',
        '',
      ].join('\n'),
    );
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs the inline tests and summarises, exit 0', async () => {
    const { code, stdout } = await run(['test', MINIMAL]);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').at(-1)).toBe('7 passed, 0 failed');
  });

  it('points each failure at file:line:column and exits 1', async () => {
    const { code, stdout } = await run(['test', dir]);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /\n {4}\S*20-failing\.yaml:6:14 {2}expected wijkteam\/uitvoering-plan to read plan\.doelen in phase acute, but no rule grants it\n/,
    );
    expect(stdout.trim().split('\n').at(-1)).toBe('7 passed, 1 failed');
  });

  it('reports results as JSON', async () => {
    const { code, stdout } = await run(['test', dir, '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { results: { ok: boolean; failures: unknown[] }[] };
    expect(report).toMatchObject({
      passed: 7,
      failed: 1,
      policyVersion: expect.stringMatching(/^0\.1\+[0-9a-f]{12}$/),
    });
    expect(report.results.find((r) => !r.ok)?.failures).toEqual([
      {
        file: expect.stringMatching(/20-failing\.yaml$/),
        line: 6,
        column: 14,
        message: expect.stringContaining('but no rule grants it'),
      },
    ]);
  });

  it('refuses an invalid convenant, pointing at validate', async () => {
    const { code, stderr } = await run(['test', 'test/fixtures/policies/duplicates']);
    expect(code).toBe(1);
    expect(stderr).toContain('run `convenant validate test/fixtures/policies/duplicates` for details');
  });

  it('passes every inline test of the real convenant', async () => {
    const { code, stdout } = await run(['test', REAL]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\n\d+ passed, 0 failed\n$/);
  });
});

describe('convenant explain', () => {
  const explainMinimal = (...args: string[]) => run(['explain', '--dir', MINIMAL, ...args]);

  it('renders the purpose, manage and one table per section', async () => {
    const { code, stdout } = await explainMinimal('--partner', 'wijkteam', '--purpose', 'uitvoering-plan');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Partner {2}wijkteam {2}Wijkteams gemeente Rotterdam$/m);
    expect(stdout).toMatch(/^ {2}Legal bases +avg-6-1-e +AVG art\. 6 lid 1 sub e +permits ordinary$/m);
    expect(stdout).toMatch(/^Manage the case\n {2}✗ denied {2}all phases {2}no rule grants it$/m);
    expect(stdout).toMatch(
      /^ {2}plan\.doelen +read +✓ allowed +stabilisatie, herstel +plan-lezen-stabiel +AVG art\. 6 lid 1 sub e$/m,
    );
    expect(stdout).toMatch(/^Section zorg\n {2}1 field: no rule grants read or write$/m);
    expect(stdout).toMatch(/^Rules cited\n/m);
    expect(stdout).not.toContain(ANSI);
  });

  it('says whether the purpose discloses involvement matches and shows field history', async () => {
    const signalling = await run([
      'explain',
      '--dir',
      REAL,
      '--partner',
      'wijkteam',
      '--purpose',
      'signalering',
    ]);
    expect(signalling.stdout).toMatch(/^ {2}Involvement +matches disclosed$/m);
    expect(signalling.stdout).toMatch(/^ {2}History +current values only$/m);
    const plan = await run([
      'explain',
      '--dir',
      REAL,
      '--partner',
      'wijkteam',
      '--purpose',
      'uitvoering-plan',
    ]);
    expect(plan.stdout).toMatch(/^ {2}Involvement +matches not disclosed$/m);
    expect(plan.stdout).toMatch(/^ {2}History +earlier versions shown$/m);
  });

  it('narrows to a phase, role and flags', async () => {
    const { stdout } = await explainMinimal(
      ...['--partner', 'vtrr', '--purpose', 'triage', '--phase', 'acute', '--flag', 'geheim-adres'],
    );
    expect(stdout).toMatch(
      /^Scope {4}phase acute · all roles · taking part in the case · case flags geheim-adres/m,
    );
    expect(stdout).toMatch(
      /^ {2}betrokkenen\.naam +read +✓ allowed +acute \(pleger, kind, gezinslid\) +vtrr-triage-lezen .*\n +read +✗ denied +acute \(slachtoffer\) +naam-geheim-adres$/m,
    );
  });

  it('includes every catalogue field in the JSON', async () => {
    const { code, stdout } = await explainMinimal(
      '--partner',
      'wijkteam',
      '--purpose',
      'uitvoering-plan',
      '--json',
    );
    expect(code).toBe(0);
    const explanation = JSON.parse(stdout) as Explanation;
    expect(explanation.fields.map((f) => f.field)).toEqual(
      compiledMinimal().convenant.fields.map((f) => f.id),
    );
    expect(explanation.policyVersion).toBe(compiledMinimal().version);
  });

  it.each([
    [
      ['--partner', 'huisarts', '--purpose', 'triage'],
      "Unknown partner 'huisarts'. Known partners: vtrr, wijkteam.",
    ],
    [
      ['--partner', 'vtrr', '--purpose', 'opsporing'],
      "Unknown purpose 'opsporing'. Known purposes: triage, uitvoering-plan.",
    ],
    [
      ['--partner', 'wijkteam', '--purpose', 'triage'],
      "Partner 'wijkteam' is not registered for purpose 'triage'. Its purposes are: uitvoering-plan.",
    ],
    [
      ['--partner', 'vtrr', '--purpose', 'triage', '--flag', 'wapens'],
      "Unknown case flag 'wapens'. Known case flags: geheim-adres.",
    ],
  ])('refuses %j with a sentence listing the known ones, exit 1', async (args, message) => {
    const { code, stdout, stderr } = await explainMinimal(...args);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(message);
  });

  it('reports the same refusal as JSON on stdout', async () => {
    const { code, stdout } = await explainMinimal('--partner', 'huisarts', '--purpose', 'triage', '--json');
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      error: { code: 'unknown-partner', message: expect.stringContaining('huisarts') },
    });
  });

  it('leaves option errors to commander, exit 1', async () => {
    const { code, stderr } = await explainMinimal('--partner', 'vtrr');
    expect(code).toBe(1);
    expect(stderr).toContain("required option '--purpose <purpose>' not specified");
    const phase = await explainMinimal('--partner', 'vtrr', '--purpose', 'triage', '--phase', 'crisis');
    expect(phase.code).toBe(1);
    expect(phase.stderr).toContain('Allowed choices are acute, stabilisatie, herstel, afgesloten');
  });
});

describe('convenant compile', () => {
  it('prints the CASL rules of a pair as JSON', async () => {
    const { code, stdout } = await run([
      'compile',
      '--dir',
      MINIMAL,
      '--partner',
      'wijkteam',
      '--purpose',
      'uitvoering-plan',
      '--json',
    ]);
    expect(code).toBe(0);
    const compiled = compiledMinimal();
    expect(JSON.parse(stdout)).toEqual({
      policyVersion: compiled.version,
      partner: 'wijkteam',
      purpose: 'uitvoering-plan',
      rules: compiled.rulesFor('wijkteam', 'uitvoering-plan'),
      levelGuards: compiled.levelGuards,
    });
  });

  it('prints them as a table, allow before deny', async () => {
    const { code, stdout } = await run([
      'compile',
      '--dir',
      MINIMAL,
      '--partner',
      'wijkteam',
      '--purpose',
      'uitvoering-plan',
    ]);
    expect(code).toBe(0);
    const kinds = stdout.split('\n').flatMap((l) => /^ {2}(allow|deny) /.exec(l)?.[1] ?? []);
    expect(kinds).toEqual(['allow', 'allow', 'allow', 'deny']);
    expect(stdout).toMatch(
      /deny +naam-geheim-adres +read +person\.role in \[slachtoffer\] and case\.flags has all \[geheim-adres\]/,
    );
  });
});

describe('the program', () => {
  it.each(COMMANDS.map((c) => [c.name, c]))(
    'loads %s only when it is invoked, and that entry registers the command of its name',
    async (name, command) => {
      const program = new Command();
      (await command.load())(
        program,
        createContext({ env: {}, writeOut: () => undefined, writeErr: () => undefined, colour: false }),
      );
      expect(program.commands.map((c) => c.name())).toEqual([name]);
    },
  );

  it.each(['validate', 'test', 'explain', 'compile', 'matrix', 'render'])(
    '%s takes the convenant folder as an argument and as --dir, and refuses two different ones',
    async (command) => {
      const pair = ['explain', 'compile'].includes(command)
        ? ['--partner', 'vtrr', '--purpose', 'triage']
        : [];
      const positional = await run([command, MINIMAL, ...pair]);
      const option = await run([command, '--dir', MINIMAL, ...pair]);
      expect(positional.code).toBe(0);
      expect(option).toEqual(positional);
      const both = await run([command, MINIMAL, '--dir', REAL, ...pair]);
      expect(both.code).toBe(1);
      expect(both.stderr).toContain(
        `the folder is given twice ('${MINIMAL}' and --dir '${REAL}'); give it once.`,
      );
    },
  );

  it('shows help with exit 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const command of ['validate', 'explain', 'test', 'compile']) expect(stdout).toContain(command);
  });

  it('lists every command in --help exactly as its own registration describes it, loading none', async () => {
    const ctx = createContext({
      env: {},
      writeOut: () => undefined,
      writeErr: () => undefined,
      colour: false,
    });
    let loaded = 0;
    const counting = COMMANDS.map((c) => ({ ...c, load: () => ((loaded += 1), c.load()) }));
    const listing = buildProgram(ctx, await commandsFor(['--help'], counting)).helpInformation();
    expect(loaded).toBe(0);
    const registrations = [];
    // One at a time: Jest's ESM loader fails on concurrent imports that share a module.
    for (const command of COMMANDS) registrations.push(await command.load());
    expect(listing).toBe(buildProgram(ctx, registrations).helpInformation());
    expect(listing).toContain('init [options] <dir>');
  });

  it('loads only the command that `help <command>` asks about', async () => {
    const loads: string[] = [];
    const counting = COMMANDS.map((c) => ({ ...c, load: () => (loads.push(c.name), c.load()) }));
    const { code, stdout } = await run(['help', 'token'], {}, counting);
    expect(code).toBe(0);
    expect(loads).toEqual(['token']);
    expect(stdout).toContain('--officer');
  });

  it('colours only on a terminal without NO_COLOR', async () => {
    expect(wantsColour(true, {})).toBe(true);
    expect(wantsColour(true, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour(false, {})).toBe(false);
    expect(wantsColour(undefined, {})).toBe(false);
    let out = '';
    const streams = { writeOut: (t: string) => (out += t), writeErr: () => undefined, isTTY: true, env: {} };
    await execute(['validate', MINIMAL], streams);
    expect(out).toContain(ANSI);
    out = '';
    await execute(['validate', MINIMAL], { ...streams, env: { NO_COLOR: '1' } });
    expect(out).not.toContain(ANSI);
  });
});
