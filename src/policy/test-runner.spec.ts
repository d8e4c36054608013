import { compileConvenant } from './compile.js';
import { BUILDER_FILE, EXAMPLE_SPEC, buildConvenant, type TestSpec } from './testing/convenant-builder.js';
import { runPolicyTests } from './test-runner.js';

const run = (...tests: TestSpec[]) =>
  runPolicyTests(compileConvenant(buildConvenant({ ...EXAMPLE_SPEC, tests })));

const wijkteam = { partner: 'wijkteam', purpose: 'uitvoering-plan' };
const vtrr = { partner: 'vtrr', purpose: 'triage' };

describe('runPolicyTests', () => {
  it('passes a test whose every expectation holds, and counts it', () => {
    const report = run({
      as: wijkteam,
      case: { phase: 'herstel' },
      expect: {
        read: ['plan.doelen', 'betrokkenen.naam'],
        write: ['plan.*'],
        deny: ['zorg.diagnose', 'plan.acties'],
        deny_write: ['betrokkenen.naam'],
        manage: false,
      },
    });
    expect(report).toMatchObject({ passed: 1, failed: 0 });
    expect(report.results[0]?.failures).toEqual([]);
  });

  it('reports a missing grant where the pattern is written', () => {
    const report = run({ as: wijkteam, case: { phase: 'acute' }, expect: { read: ['plan.doelen'] } });
    expect(report).toMatchObject({ passed: 0, failed: 1 });
    expect(report.results[0]?.failures).toEqual([
      {
        src: { file: BUILDER_FILE, path: ['tests', 0, 'expect', 'read', 0] },
        message:
          'expected wijkteam/uitvoering-plan to read plan.doelen in phase acute, but no rule grants it',
      },
    ]);
  });

  it('names the deny rule and its reason when a deny blocks an expected read', () => {
    const report = run({ as: wijkteam, case: { phase: 'herstel' }, expect: { read: ['plan.*'] } });
    expect(report.results[0]?.failures.map((f) => f.message)).toEqual([
      "expected wijkteam/uitvoering-plan to read plan.acties in phase herstel, but rule 'wijkteam-geen-acties-in-herstel' denies it: In herstel zijn de acties afgerond.",
    ]);
  });

  it('names the granting rule when an expected deny does not hold', () => {
    const report = run({
      as: vtrr,
      case: { phase: 'acute' },
      person: { role: 'kind' },
      expect: { deny: ['zorg.diagnose'] },
    });
    expect(report.results[0]?.failures.map((f) => f.message)).toEqual([
      "expected vtrr/triage not to read zorg.diagnose of the kind in phase acute, but rule 'vtrr-triage' grants it: Veilig Thuis weegt de melding.",
    ]);
  });

  describe('person-level expectations without a person hold for every role', () => {
    const flagged = { phase: 'acute' as const, flags: ['geheim-adres'] };

    it('a read fails for the one role that is denied', () => {
      const report = run({ as: vtrr, case: flagged, expect: { read: ['betrokkenen.adres'] } });
      expect(report.results[0]?.failures.map((f) => f.message)).toEqual([
        "expected vtrr/triage to read betrokkenen.adres of the slachtoffer in phase acute with case flag geheim-adres, but rule 'geheim-adres-nooit' denies it: Geheim adres van de opvang wordt nooit gedeeld.",
      ]);
    });

    it('a deny fails for every role that can read', () => {
      const report = run({ as: vtrr, case: flagged, expect: { deny: ['betrokkenen.adres'] } });
      expect(report.results[0]?.failures.map((f) => f.message.match(/of the (\w+)/)?.[1])).toEqual([
        'pleger',
        'kind',
        'gezinslid',
      ]);
    });

    it('a named person narrows the claim to that role', () => {
      const report = run(
        { as: vtrr, case: flagged, person: { role: 'pleger' }, expect: { read: ['betrokkenen.adres'] } },
        { as: vtrr, case: flagged, person: { role: 'slachtoffer' }, expect: { deny: ['betrokkenen.adres'] } },
      );
      expect(report).toMatchObject({ passed: 2, failed: 0 });
    });
  });

  it('checks emergency access and non-participation as the case describes', () => {
    const report = run(
      {
        as: { partner: 'politie', purpose: 'acute-veiligheid' },
        case: { phase: 'acute', participant: false, emergency: true },
        person: { role: 'slachtoffer' },
        expect: { read: ['betrokkenen.adres'] },
      },
      { as: wijkteam, case: { phase: 'herstel', participant: false }, expect: { read: ['plan.doelen'] } },
    );
    expect(report.results.map((r) => r.ok)).toEqual([true, false]);
    expect(report.results[1]?.failures[0]?.message).toBe(
      'expected wijkteam/uitvoering-plan to read plan.doelen in phase herstel without taking part in the case, but no rule grants it',
    );
  });

  it('checks manage, pointing at expect.manage', () => {
    const report = run(
      { as: vtrr, case: { phase: 'acute' }, expect: { manage: true } },
      { as: vtrr, case: { phase: 'herstel' }, expect: { manage: true } },
      { as: vtrr, case: { phase: 'acute' }, expect: { manage: false } },
    );
    expect(report.results.map((r) => r.ok)).toEqual([true, false, false]);
    expect(report.results[1]?.failures).toEqual([
      {
        src: { file: BUILDER_FILE, path: ['tests', 1, 'expect', 'manage'] },
        message: 'expected vtrr/triage to manage the case in phase herstel, but no rule grants it',
      },
    ]);
    expect(report.results[2]?.failures[0]?.message).toBe(
      "expected vtrr/triage not to manage the case in phase acute, but rule 'vtrr-regie' grants it: Veilig Thuis voert regie in de eerste fasen.",
    );
  });

  it('checks involvement_matches against the purpose, pointing at expect.involvement_matches', () => {
    const tests: TestSpec[] = [
      { as: vtrr, case: { phase: 'acute' }, expect: { involvement_matches: true } },
      { as: wijkteam, case: { phase: 'acute' }, expect: { involvement_matches: true } },
    ];
    const spec = {
      ...EXAMPLE_SPEC,
      purposes: EXAMPLE_SPEC.purposes.map((u) =>
        u.id === 'triage' ? { ...u, involvementMatches: true } : u,
      ),
      tests,
    };
    const report = runPolicyTests(compileConvenant(buildConvenant(spec)));
    expect(report.results.map((r) => r.ok)).toEqual([true, false]);
    expect(report.results[1]?.failures).toEqual([
      {
        src: { file: BUILDER_FILE, path: ['tests', 1, 'expect', 'involvement_matches'] },
        message:
          'expected wijkteam/uitvoering-plan to learn which other partners signalled the same person, but purpose uitvoering-plan has involvement_matches: false.',
      },
    ]);
  });

  it('fails a test that acts as an unknown partner or an unregistered purpose, at `as`', () => {
    const report = run(
      {
        as: { partner: 'ggd', purpose: 'triage' },
        case: { phase: 'acute' },
        expect: { read: ['plan.doelen'] },
      },
      {
        as: { partner: 'wijkteam', purpose: 'triage' },
        case: { phase: 'acute' },
        expect: { deny: ['plan.doelen'] },
      },
    );
    expect(report).toMatchObject({ passed: 0, failed: 2 });
    expect(report.results[0]?.failures).toEqual([
      {
        src: { file: BUILDER_FILE, path: ['tests', 0, 'as'] },
        message: expect.stringMatching(/^Unknown partner 'ggd'/),
      },
    ]);
    expect(report.results[1]?.failures[0]?.message).toMatch(/not registered for purpose 'triage'/);
  });

  it('fails a pattern that matches no catalogue field rather than passing vacuously', () => {
    const report = run({ as: vtrr, case: { phase: 'acute' }, expect: { deny: ['zorg.dossier', 'geen.*'] } });
    expect(report.results[0]?.failures.map((f) => f.message)).toEqual([
      "'zorg.dossier' matches no field in the catalogue",
      "'geen.*' matches no field in the catalogue",
    ]);
  });
});
