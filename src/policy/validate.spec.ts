import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadConvenantSources, type LoadResult } from './load.js';
import type { Convenant, Diagnostic } from './model.js';
import { checkConvenantDir, checkConvenantSources, formatDiagnostic, validateConvenant } from './validate.js';

const DIR = 'policies/demo';

/** Lines joined with newlines, so a spec can count line numbers by eye: element i is line i+1. */
const yaml = (...lines: string[]): string => lines.join('\n') + '\n';

const META = yaml(
  'convenant: demo', //                                                                   1
  'title: Demo convenant', //                                                             2
  'version: "2026.1"', //                                                                 3
  'case_flags:', //                                                                       4
  '  geheim-adres: { description: Opvang }', //                                           5
  'legal_bases:', //                                                                      6
  '  avg-6-1-e: { citation: AVG art. 6 lid 1 sub e, permits: [ordinary] }', //            7
  '  wmo-4-1-1: { citation: Wmo 2015 art. 4.1.1, permits: [ordinary] }', //               8
  '  avg-9-2-h: { citation: AVG art. 9 lid 2 sub h, exception: UAVG art. 30 lid 3, permits: [health] }', // 9
  '  wmo-opvang: { citation: Wmo 2015 opvang, permits: [ordinary, confidential-address] }', // 10
);

const PARTNERS = yaml(
  'partners:', //                                             1
  '  - id: vtrr', //                                          2
  '    name: Veilig Thuis', //                                3
  '    kind: veilig-thuis', //                                4
  '    purposes: [triage, uitvoering-plan]', //               5
  '    keys: keys/vtrr.jwks.json', //                         6
  '  - id: wijkteam', //                                      7
  '    name: Wijkteam', //                                    8
  '    kind: zorg', //                                        9
  '    purposes: [uitvoering-plan]', //                       10
  '    jwks_uri: https://wijkteam.example/jwks.json', //      11
  'purposes:', //                                             12
  '  - id: triage', //                                        13
  '    name: Triage', //                                      14
  '    legal_bases: [avg-6-1-e, avg-9-2-h]', //               15
  '    retention: P5Y', //                                    16
  '    emergency_access: { allowed: true, window: PT60M }', // 17
  '  - id: uitvoering-plan', //                               18
  '    name: Uitvoering plan', //                             19
  '    legal_bases: [avg-6-1-e, wmo-4-1-1]', //               20
  '    retention: P2Y', //                                    21
);

const CATALOGUE = yaml(
  'catalogue:', //                                                             1
  '  betrokkenen:', //                                                         2
  '    fields:', //                                                            3
  '      naam: { sensitivity: ordinary, level: person }', //                   4
  '      adres: { sensitivity: confidential-address, level: person }', //      5
  '  zorg:', //                                                                6
  '    fields:', //                                                            7
  '      diagnose: { sensitivity: health, level: person }', //                 8
  '  plan:', //                                                                9
  '    fields:', //                                                            10
  '      doelen: { sensitivity: ordinary }', //                                11
  '      acties: { sensitivity: ordinary }', //                                12
);

const RULES = yaml(
  'rules:', //                                                         1
  '  - id: vtrr-triage', //                                            2
  '    partner: vtrr', //                                              3
  '    purpose: triage', //                                            4
  '    can: read', //                                                  5
  '    fields: [betrokkenen.naam, zorg.diagnose, plan.*]', //          6
  '    reason: Veilig Thuis weegt de melding.', //                     7
  '  - id: wijkteam-plan', //                                          8
  '    partner_kind: zorg', //                                         9
  '    purpose: uitvoering-plan', //                                   10
  '    can: [read, write]', //                                         11
  '    fields: [plan.*]', //                                           12
  '    when: { phase: [stabilisatie, herstel] }', //                   13
  '    reason: Het wijkteam voert het plan uit.', //                   14
  '  - id: vtrr-regie', //                                             15
  '    partner: vtrr', //                                              16
  '    purpose: "*"', //                                               17
  '    can: manage', //                                                18
  '    reason: Veilig Thuis voert de regie.', //                       19
  '  - id: geen-geheim-adres', //                                      20
  '    partner: "*"', //                                               21
  '    purpose: "*"', //                                               22
  '    cannot: read', //                                               23
  '    fields: [betrokkenen.adres]', //                                24
  '    when: { person.role: slachtoffer, case.flag: geheim-adres }', // 25
  '    reason: Een geheim adres wordt nooit gedeeld.', //              26
  '  - id: doorbraak', //                                              27
  '    partner: vtrr', //                                              28
  '    purpose: triage', //                                            29
  '    can: read', //                                                  30
  '    fields: [betrokkenen.naam, zorg.diagnose]', //                  31
  '    when: { emergency: true, phase: [acute] }', //                  32
  '    reason: Acuut gevaar.', //                                      33
);

const TESTS = yaml(
  'tests:', //                                                                       1
  '  - name: Wijkteam ziet de doelen in herstel', //                                 2
  '    as: { partner: wijkteam, purpose: uitvoering-plan }', //                      3
  '    case: { phase: herstel, flags: [geheim-adres] }', //                          4
  '    expect: { read: [plan.doelen], deny: [zorg.diagnose, betrokkenen.*] }', //    5
);

const FILES: Record<string, string> = {
  '00-meta.yaml': META,
  '10-partners.yaml': PARTNERS,
  '30-catalogue.yaml': CATALOGUE,
  '40-rules.yaml': RULES,
  '90-tests.yaml': TESTS,
};

/** Appends a rule to the base rules; `lines` are the rule's lines without indentation. */
const withRule = (...lines: string[]): string =>
  RULES + yaml(...lines.map((l, i) => (i === 0 ? `  - ${l}` : `    ${l}`)));
/** Line number of the first line of a rule appended with withRule. */
const NEW_RULE = 34;

function load(overrides: Record<string, string> = {}): { loaded: LoadResult; convenant: Convenant } {
  const files = Object.entries({ ...FILES, ...overrides })
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, text]) => ({ path: `${DIR}/${name}`, text }));
  const loaded = loadConvenantSources(DIR, files);
  // These specs are about semantics: the YAML itself must load cleanly.
  expect(loaded.diagnostics).toEqual([]);
  if (!loaded.convenant) throw new Error('the base convenant did not load');
  return { loaded, convenant: loaded.convenant };
}

function check(overrides: Record<string, string> = {}): Diagnostic[] {
  const { loaded, convenant } = load(overrides);
  return validateConvenant(convenant, loaded.locate);
}

/** `code file:line:column` for each diagnostic, short enough to compare as a list. */
function where(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map(
    (d) => `${d.code} ${d.position?.file.replace(`${DIR}/`, '')}:${d.position?.line}:${d.position?.column}`,
  );
}

function warnings(overrides: Record<string, string>): Diagnostic[] {
  return check(overrides).filter((d) => d.severity === 'warning');
}

describe('validateConvenant: the base convenant', () => {
  it('has no findings', () => {
    expect(check()).toEqual([]);
  });
});

describe('validateConvenant: references', () => {
  it('unknown partner in a rule, at the list item, with a suggestion', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace(
        '    partner: vtrr\n    purpose: triage\n    can: read\n    fields: [betrokkenen',
        '    partner: [vtrr, wijktem]\n    purpose: triage\n    can: read\n    fields: [betrokkenen',
      ),
    });
    expect(where(ds)).toEqual(['unknown-partner 40-rules.yaml:3:21']);
    expect(ds[0]?.message).toBe(
      "Rule 'vtrr-triage' names partner 'wijktem', which is not declared. Did you mean 'wijkteam'?",
    );
  });

  it('unknown partner in a test', () => {
    const ds = check({ '90-tests.yaml': TESTS.replace('partner: wijkteam', 'partner: politie') });
    expect(where(ds)).toEqual(['unknown-partner 90-tests.yaml:3:20']);
  });

  it('partner kind no partner has', () => {
    const ds = check({ '40-rules.yaml': RULES.replace('partner_kind: zorg', 'partner_kind: [zrog]') });
    expect(where(ds)).toEqual(['unknown-partner-kind 40-rules.yaml:9:20']);
    expect(ds[0]?.message).toBe(
      "Rule 'wijkteam-plan' names partner kind 'zrog', but no partner is of that kind (kinds in use: veilig-thuis, zorg). Did you mean 'zorg'?",
    );
  });

  it('unknown purpose in a rule, a partner and a test', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace('purpose: uitvoering-plan', 'purpose: uitvoering'),
      '10-partners.yaml': PARTNERS.replace(
        'purposes: [uitvoering-plan]',
        'purposes: [uitvoering-plan, nazorg]',
      ),
      '90-tests.yaml': TESTS.replace('purpose: uitvoering-plan', 'purpose: triag'),
    });
    expect(where(ds)).toEqual([
      'unknown-purpose 10-partners.yaml:10:33',
      'unknown-purpose 40-rules.yaml:10:14',
      'unknown-purpose 90-tests.yaml:3:39',
    ]);
    expect(ds.map((d) => d.message)).toEqual([
      "Partner 'wijkteam' names purpose 'nazorg', which is not declared.",
      "Rule 'wijkteam-plan' names purpose 'uitvoering', which is not declared.",
      "Test 'Wijkteam ziet de doelen in herstel' names purpose 'triag', which is not declared. Did you mean 'triage'?",
    ]);
  });

  it('unknown field, at that item of the list', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace(
        'fields: [betrokkenen.naam, zorg.diagnose, plan.*]',
        'fields: [betrokkenen.naam, zorg.diagnos, plan.*]',
      ),
    });
    expect(where(ds)).toEqual(['unknown-field 40-rules.yaml:6:32']);
    expect(ds[0]?.message).toBe(
      "Rule 'vtrr-triage' names field 'zorg.diagnos', which is not in the catalogue. Did you mean 'zorg.diagnose'?",
    );
  });

  it('unknown field in a test expectation', () => {
    const ds = check({ '90-tests.yaml': TESTS.replace('read: [plan.doelen]', 'read: [plan.doel]') });
    expect(where(ds)).toEqual(['unknown-field 90-tests.yaml:5:22']);
  });

  it('wildcard over a section that does not exist, or has no fields', () => {
    const ds = check({
      '30-catalogue.yaml': CATALOGUE + yaml('  leeg:', '    description: Nog te vullen'),
      '40-rules.yaml': RULES.replace('fields: [plan.*]', 'fields: [bestaatniet.*, leeg.*]'),
    });
    expect(where(ds)).toEqual([
      'wildcard-matches-nothing 40-rules.yaml:12:14',
      'wildcard-matches-nothing 40-rules.yaml:12:29',
    ]);
    expect(ds.map((d) => d.message)).toEqual([
      "Rule 'wijkteam-plan' names 'bestaatniet.*', but there is no section 'bestaatniet' in the catalogue, so it matches nothing.",
      "Rule 'wijkteam-plan' names 'leeg.*', but section 'leeg' has no fields, so it matches nothing.",
    ]);
  });

  it('unknown legal basis in a purpose and in a rule', () => {
    const ds = check({
      '10-partners.yaml': PARTNERS.replace(
        'legal_bases: [avg-6-1-e, wmo-4-1-1]',
        'legal_bases: [avg-6-1-e, wmo-4-1-2]',
      ),
      '40-rules.yaml': withRule(
        'id: extra',
        'partner: wijkteam',
        'purpose: uitvoering-plan',
        'can: write',
        'fields: [plan.doelen]',
        'legal_basis: avg-6-1-f',
        'reason: x',
      ),
    });
    expect(where(ds)).toEqual([
      'unknown-legal-basis 10-partners.yaml:20:30',
      `unknown-legal-basis 40-rules.yaml:${NEW_RULE + 5}:18`,
    ]);
    expect(ds[0]?.message).toBe(
      "Purpose 'uitvoering-plan' names legal basis 'wmo-4-1-2', which is not declared under legal_bases. Did you mean 'wmo-4-1-1'?",
    );
  });

  it('unknown case flag in a rule and in a test', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace('case.flag: geheim-adres', 'case.flag: [geheim-adress]'),
      '90-tests.yaml': TESTS.replace('flags: [geheim-adres]', 'flags: [top-x]'),
    });
    expect(where(ds)).toEqual([
      'unknown-case-flag 40-rules.yaml:25:51',
      'unknown-case-flag 90-tests.yaml:4:37',
    ]);
    expect(ds[0]?.message).toBe(
      "Rule 'geen-geheim-adres' names case flag 'geheim-adress', which is not declared under case_flags. Did you mean 'geheim-adres'?",
    );
  });
});

describe('validateConvenant: duplicates', () => {
  it('reports every kind of duplicate id at the second place, naming the first', () => {
    const more = yaml(
      'case_flags:', //                                                            1
      '  geheim-adres: {}', //                                                     2
      'legal_bases:', //                                                           3
      '  avg-6-1-e: { citation: AVG 6.1.e, permits: [ordinary] }', //              4
      'partners:', //                                                              5
      '  - { id: vtrr, name: VT, kind: x, purposes: [], keys: k.json }', //        6
      'purposes:', //                                                              7
      '  - { id: triage, name: T, legal_bases: [avg-6-1-e], retention: P1Y }', //  8
      'catalogue:', //                                                             9
      '  zorg:', //                                                                10
      '    fields:', //                                                            11
      '      diagnose: { sensitivity: health }', //                                12
      'rules:', //                                                                 13
      '  - { id: vtrr-regie, partner: vtrr, purpose: triage, can: manage, reason: x }', // 14
      'tests:', //                                                                 15
      '  - name: Wijkteam ziet de doelen in herstel', //                           16
      '    as: { partner: vtrr, purpose: triage }', //                             17
      '    case: { phase: acute }', //                                             18
      '    expect: { manage: true }', //                                           19
    );
    const ds = check({ '50-more.yaml': more }).filter((d) => d.code.startsWith('duplicate-'));
    expect(where(ds)).toEqual([
      'duplicate-partner 50-more.yaml:6:7',
      'duplicate-purpose 50-more.yaml:8:7',
      'duplicate-legal-basis 50-more.yaml:4:3',
      'duplicate-case-flag 50-more.yaml:2:3',
      'duplicate-field 50-more.yaml:12:7',
      'duplicate-rule 50-more.yaml:14:7',
      'duplicate-test 90-tests.yaml:2:5',
    ]);
    expect(ds[0]?.message).toBe(
      `Partner 'vtrr' is given twice: first at ${DIR}/10-partners.yaml:2:5. Each must be unique; remove or rename one.`,
    );
    expect(ds[4]?.message).toBe(
      `Field 'zorg.diagnose' is given twice: first at ${DIR}/30-catalogue.yaml:8:7. Each must be unique; remove or rename one.`,
    );
  });
});

describe('validateConvenant: rule shape', () => {
  it('both partner and partner_kind', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace(
        '    partner_kind: zorg',
        '    partner: wijkteam\n    partner_kind: zorg',
      ),
    });
    expect(where(ds)).toEqual(['partner-and-partner-kind 40-rules.yaml:10:19']);
  });

  it('neither partner nor partner_kind', () => {
    const ds = check({ '40-rules.yaml': RULES.replace('    partner_kind: zorg\n', '') });
    expect(where(ds)).toEqual(['missing-partner 40-rules.yaml:8:5']);
  });

  it('fields on a manage-only rule', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace('    can: manage', '    can: manage\n    fields: [plan.*]'),
    });
    expect(where(ds)).toEqual(['fields-with-manage 40-rules.yaml:19:5']);
    expect(ds[0]?.message).toBe(
      "Rule 'vtrr-regie' only allows 'manage', which applies to the case itself and takes no fields. Remove 'fields', or add read or write.",
    );
  });

  it('read or write without fields', () => {
    const ds = check({ '40-rules.yaml': RULES.replace('    can: manage', '    can: [manage, write]') });
    expect(where(ds)).toEqual(['missing-fields 40-rules.yaml:15:5']);
    expect(ds[0]?.message).toBe(
      "Rule 'vtrr-regie' allows write but lists no 'fields'. Name the fields it applies to (e.g. plan.*).",
    );
  });

  it('person.role on case-level fields (the condition could never hold for them)', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace(
        'when: { phase: [stabilisatie, herstel] }',
        'when: { phase: [stabilisatie, herstel], person.role: [kind] }',
      ),
    });
    expect(where(ds)).toEqual(['role-condition-on-case-field 40-rules.yaml:13:45']);
    expect(ds[0]?.message).toBe(
      "Rule 'wijkteam-plan' has a person.role condition, but plan.doelen and plan.acties are case-level fields: they belong to no person, so they would never be granted. Remove the condition or move those fields to another rule.",
    );
  });

  it('emergency under a purpose without emergency access', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace('when: { phase: [stabilisatie, herstel] }', 'when: { emergency: true }'),
    });
    expect(where(ds)).toEqual(['emergency-not-allowed 40-rules.yaml:13:24']);
    expect(ds[0]?.message).toMatch(
      /^Rule 'wijkteam-plan' applies only under emergency access, but purpose 'uitvoering-plan' does not allow emergency access\./,
    );
  });

  it('an emergency rule under "*" is judged only under purposes with emergency access', () => {
    expect(
      check({
        '40-rules.yaml': RULES.replace(
          '    purpose: triage\n    can: read\n    fields: [betrokkenen.naam, zorg.diagnose]\n',
          '    purpose: "*"\n    can: read\n    fields: [betrokkenen.naam, zorg.diagnose]\n',
        ),
      }),
    ).toEqual([]);
  });
});

describe('validateConvenant: legal bases and sensitivities', () => {
  it('special-category field under a purpose none of whose bases permits it', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace('fields: [plan.*]', 'fields: [plan.*, zorg.diagnose]'),
    });
    expect(where(ds)).toEqual(['sensitivity-not-permitted 40-rules.yaml:12:22']);
    expect(ds[0]?.message).toBe(
      "Rule 'wijkteam-plan' lets partners of kind zorg read and write zorg.diagnose (health data, AVG art. 9) under purpose 'uitvoering-plan', but none of its legal bases (avg-6-1-e, wmo-4-1-1) permits health data. Add a basis that permits it (an AVG art. 9(2) exception) or remove the field.",
    );
  });

  it('a wildcard that brings in a confidential address', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace(
        'fields: [betrokkenen.naam, zorg.diagnose, plan.*]',
        'fields: [betrokkenen.*, zorg.diagnose, plan.*]',
      ),
    });
    expect(where(ds)).toEqual(['sensitivity-not-permitted 40-rules.yaml:6:14']);
    expect(ds[0]?.message).toMatch(
      /lets vtrr read betrokkenen\.adres \(confidential address, geheim adres\) under purpose 'triage', but none of its legal bases \(avg-6-1-e, avg-9-2-h\) permits confidential addresses\./,
    );
  });

  it("a rule's own legal_basis must permit the sensitivity, even if the purpose has a basis that would", () => {
    const ds = check({
      '40-rules.yaml': RULES.replace(
        '    reason: Veilig Thuis weegt de melding.',
        '    legal_basis: avg-6-1-e\n    reason: Veilig Thuis weegt de melding.',
      ),
    });
    expect(where(ds)).toEqual(['sensitivity-not-permitted 40-rules.yaml:6:32']);
    expect(ds[0]?.message).toMatch(
      /but none of the legal bases it relies on \(avg-6-1-e\) permits health data/,
    );
  });

  it("a rule's legal_basis that permits it passes", () => {
    expect(
      check({
        '40-rules.yaml': RULES.replace(
          '    reason: Veilig Thuis weegt de melding.',
          '    legal_basis: [avg-6-1-e, avg-9-2-h]\n    reason: Veilig Thuis weegt de melding.',
        ),
      }),
    ).toEqual([]);
  });

  it("a rule's legal_basis must belong to the purpose", () => {
    const ds = check({
      '40-rules.yaml': RULES.replace(
        '    reason: Veilig Thuis weegt de melding.',
        '    legal_basis: [avg-9-2-h, wmo-4-1-1]\n    reason: Veilig Thuis weegt de melding.',
      ),
    });
    expect(where(ds)).toEqual(['legal-basis-not-in-purpose 40-rules.yaml:7:30']);
    expect(ds[0]?.message).toBe(
      "Rule 'vtrr-triage' relies on legal basis 'wmo-4-1-1', but 'triage' does not list it among its legal bases. Add it to the purpose or name one of the purpose's bases.",
    );
  });

  it('a purpose with no basis that permits ordinary data', () => {
    const ds = check({
      '10-partners.yaml': PARTNERS.replace('legal_bases: [avg-6-1-e, avg-9-2-h]', 'legal_bases: [avg-9-2-h]'),
    });
    expect(where(ds)).toEqual(['purpose-without-ordinary-basis 10-partners.yaml:15:5']);
  });

  it('retention missing or not ISO-8601, and a bad emergency window (the schema stops these in YAML; a built model is checked too)', () => {
    const { loaded, convenant } = load();
    const [triage, plan] = convenant.purposes;
    if (!triage || !plan) throw new Error('purposes missing');
    triage.retention = '5 jaar';
    triage.emergencyAccess.window = '1 uur';
    plan.retention = '';
    const ds = validateConvenant(convenant, loaded.locate);
    expect(where(ds)).toEqual([
      'invalid-retention 10-partners.yaml:16:16',
      'invalid-emergency-window 10-partners.yaml:17:48',
      'missing-retention 10-partners.yaml:18:5',
    ]);
  });
});

describe('validateConvenant: inline tests', () => {
  it('refuses a test under a purpose its partner may not act under, at the purpose', () => {
    const ds = check({
      '90-tests.yaml': TESTS.replace(
        'partner: wijkteam, purpose: uitvoering-plan',
        'partner: wijkteam, purpose: triage',
      ),
    });
    expect(where(ds)).toEqual(['test-purpose-not-registered 90-tests.yaml:3:39']);
    expect(ds[0]?.message).toBe(
      "Test 'Wijkteam ziet de doelen in herstel' acts as 'wijkteam' under purpose 'triage', but that partner may not act under it (its purposes: uitvoering-plan). Add the purpose to the partner, or test under one of its purposes.",
    );
  });
});

describe('partner keys (said by the schema, so editors flag it too)', () => {
  /** The whole check, loader and validator: the schema's key choice stops at the loader. */
  const check = (overrides: Record<string, string>): Diagnostic[] =>
    checkConvenantSources(
      DIR,
      Object.entries({ ...FILES, ...overrides })
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, text]) => ({ path: `${DIR}/${name}`, text })),
    ).diagnostics;

  it('neither keys nor jwks_uri', () => {
    const ds = check({ '10-partners.yaml': PARTNERS.replace('    keys: keys/vtrr.jwks.json\n', '') });
    expect(where(ds)).toEqual(['partner-without-keys 10-partners.yaml:2:5']);
  });

  it('both keys and jwks_uri', () => {
    const ds = check({
      '10-partners.yaml': PARTNERS.replace(
        '    keys: keys/vtrr.jwks.json',
        '    keys: keys/vtrr.jwks.json\n    jwks_uri: https://vtrr.example/jwks',
      ),
    });
    expect(where(ds)).toEqual(['partner-keys-and-jwks-uri 10-partners.yaml:7:15']);
  });
});

describe('validateConvenant: warnings', () => {
  it('an allow overridden by an unconditional deny is shadowed', () => {
    const ds = check({
      '40-rules.yaml': withRule(
        'id: wijkteam-nooit-plan',
        'partner: wijkteam',
        'purpose: "*"',
        'cannot: [read, write]',
        'fields: [plan.*]',
        'reason: x',
      ),
    });
    expect(where(ds)).toEqual(['shadowed-rule 40-rules.yaml:8:5']);
    expect(ds[0]?.message).toBe(
      "Rule 'wijkteam-plan' never has an effect: 'wijkteam-nooit-plan' forbids everything it allows, whenever it applies. Remove it, or narrow the deny.",
    );
  });

  it('several denies can shadow an allow together', () => {
    const ds = check({
      '40-rules.yaml':
        withRule(
          'id: geen-lezen',
          'partner: wijkteam',
          'purpose: uitvoering-plan',
          'cannot: read',
          'fields: [plan.*]',
          'reason: x',
        ) +
        yaml(
          '  - id: geen-schrijven',
          '    partner_kind: zorg',
          '    purpose: "*"',
          '    cannot: write',
          '    fields: ["*"]',
          '    when: { phase: [acute, stabilisatie, herstel] }',
          '    reason: x',
        ),
    });
    expect(where(ds)).toEqual(['shadowed-rule 40-rules.yaml:8:5']);
    expect(ds[0]?.message).toMatch(/'geen-lezen' and 'geen-schrijven' forbid everything it allows/);
  });

  it('a deny with conditions the allow does not imply does not shadow it', () => {
    const deny = (when: string): Diagnostic[] =>
      warnings({
        '40-rules.yaml': withRule(
          'id: wijkteam-soms-niet',
          'partner: wijkteam',
          'purpose: uitvoering-plan',
          'cannot: [read, write]',
          'fields: [plan.*]',
          `when: ${when}`,
          'reason: x',
        ),
      });
    expect(deny('{ phase: [herstel] }')).toEqual([]);
    expect(deny('{ case.flag: geheim-adres }')).toEqual([]);
    expect(deny('{ emergency: true }')).toEqual([]);
    expect(where(deny('{ participant: true }'))).toEqual(['shadowed-rule 40-rules.yaml:8:5']);
    expect(where(deny('{ phase: [acute, stabilisatie, herstel] }'))).toEqual([
      'shadowed-rule 40-rules.yaml:8:5',
    ]);
  });

  it('a partly overridden allow is not shadowed', () => {
    expect(
      check({
        '40-rules.yaml': withRule(
          'id: geen-acties',
          'partner: wijkteam',
          'purpose: uitvoering-plan',
          'cannot: [read, write]',
          'fields: [plan.acties]',
          'reason: x',
        ),
      }),
    ).toEqual([]);
  });

  it('a rule for a purpose its partner is not registered for is unreachable', () => {
    const ds = check({
      '40-rules.yaml': withRule(
        'id: wijkteam-triage',
        'partner: wijkteam',
        'purpose: triage',
        'can: read',
        'fields: [plan.doelen]',
        'reason: x',
      ),
    });
    expect(where(ds)).toEqual([`unreachable-rule 40-rules.yaml:${NEW_RULE}:5`]);
    expect(ds[0]?.message).toBe(
      "Rule 'wijkteam-triage' never applies: no partner it addresses is registered for purpose 'triage'. A rule only applies to a partner for the purposes in that partner's 'purposes'.",
    );
  });

  it('a rule with an empty phase list is unreachable', () => {
    const ds = check({
      '40-rules.yaml': RULES.replace('when: { phase: [stabilisatie, herstel] }', 'when: { phase: [] }'),
    });
    expect(where(ds)).toEqual(['unreachable-rule 40-rules.yaml:13:13']);
  });

  it('an allow covered by another allow is redundant; the broader one is not', () => {
    const ds = check({
      '40-rules.yaml': withRule(
        'id: wijkteam-doelen',
        'partner: wijkteam',
        'purpose: uitvoering-plan',
        'can: read',
        'fields: [plan.doelen]',
        'when: { phase: herstel }',
        'reason: x',
      ),
    });
    expect(where(ds)).toEqual([`redundant-rule 40-rules.yaml:${NEW_RULE}:5`]);
    expect(ds[0]?.message).toBe(
      `Rule 'wijkteam-doelen' adds nothing: rule 'wijkteam-plan' (${DIR}/40-rules.yaml:8:5) already allows all of it, whenever this rule applies. Remove one of them.`,
    );
  });

  it('of two identical allows only the later is redundant', () => {
    const ds = check({
      '40-rules.yaml': withRule(
        'id: wijkteam-plan-2',
        'partner: wijkteam',
        'purpose: uitvoering-plan',
        'can: [write, read]',
        'fields: [plan.doelen, plan.acties]',
        'when: { phase: [herstel, stabilisatie] }',
        'reason: x',
      ),
    });
    expect(where(ds)).toEqual([`redundant-rule 40-rules.yaml:${NEW_RULE}:5`]);
  });

  it('an allow with fewer conditions is not covered by one with more', () => {
    expect(
      check({
        '40-rules.yaml': withRule(
          'id: wijkteam-doelen-altijd',
          'partner: wijkteam',
          'purpose: uitvoering-plan',
          'can: read',
          'fields: [plan.doelen]',
          'reason: x',
        ),
      }),
    ).toEqual([]);
  });

  it('does not pile warnings on a rule that already has reference errors', () => {
    const ds = check({
      '40-rules.yaml': withRule(
        'id: kapot',
        'partner: politie',
        'purpose: triage',
        'can: read',
        'fields: [plan.doelen]',
        'reason: x',
      ),
    });
    expect(where(ds)).toEqual([`unknown-partner 40-rules.yaml:${NEW_RULE + 1}:14`]);
  });
});

describe('checkConvenantDir and formatDiagnostic', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'convenant-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const writeConvenant = (files: Record<string, string>): string => {
    const dir = join(root, 'demo');
    mkdirSync(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  it('returns the model when there are no errors', () => {
    const result = checkConvenantDir(writeConvenant(FILES));
    expect(result.diagnostics).toEqual([]);
    expect(result.convenant?.id).toBe('demo');
  });

  it('fails closed: any error, loading or semantic, means no model; findings come sorted', () => {
    const dir = writeConvenant({
      ...FILES,
      '40-rules.yaml': RULES.replace('fields: [plan.*]', 'fields: [plan.*, zorg.diagnose]').replace(
        'partner: vtrr',
        'partner: vtr',
      ),
    });
    const result = checkConvenantDir(dir);
    expect(result.convenant).toBeNull();
    expect(result.diagnostics.map((d) => `${d.code} ${d.position?.line}:${d.position?.column}`)).toEqual([
      'unknown-partner 3:14',
      'sensitivity-not-permitted 12:22',
    ]);
  });

  it('keeps the model when there are only warnings', () => {
    const dir = writeConvenant({
      ...FILES,
      '40-rules.yaml': RULES.replace('when: { phase: [stabilisatie, herstel] }', 'when: { phase: [] }'),
    });
    const result = checkConvenantDir(dir);
    expect(result.diagnostics.map((d) => d.severity)).toEqual(['warning']);
    expect(result.convenant).not.toBeNull();
  });

  it('formats a diagnostic as file:line:column severity code: message', () => {
    expect(
      formatDiagnostic({
        severity: 'error',
        code: 'unknown-field',
        message: 'M.',
        position: { file: 'policies/x/40-rules.yaml', line: 12, column: 7 },
      }),
    ).toBe('policies/x/40-rules.yaml:12:7 error unknown-field: M.');
    expect(formatDiagnostic({ severity: 'error', code: 'empty-folder', message: 'M.' })).toBe(
      'error empty-folder: M.',
    );
  });

  it('keeps a diagnostic on one line when its message quotes text with line breaks', () => {
    // Found by validate.fuzz.spec: a `? ` line makes a complex key whose text spans lines.
    expect(
      formatDiagnostic({
        severity: 'error',
        code: 'unknown-key',
        message: "Unknown key '? \n  avg-9-2-g-uavg-30:'.\r\n  Remove it.",
        position: { file: 'f.yaml', line: 3, column: 1 },
      }),
    ).toBe("f.yaml:3:1 error unknown-key: Unknown key '? avg-9-2-g-uavg-30:'. Remove it.");
  });
});

describe('the real convenant', () => {
  it('policies/zvh-rotterdam-rijnmond has no errors', () => {
    const result = checkConvenantDir('policies/zvh-rotterdam-rijnmond');
    expect(result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
    expect(result.convenant?.id).toBe('zvh-rotterdam-rijnmond');
  });
});

/**
 * The fixtures in test/fixtures/policies/<name>/ each state in EXPECTED.md, as tables under
 * "## Errors" and "## Warnings", the exact diagnostics (`file:line:column` and code) a checker
 * must report; an optional last column names the first place of a duplicate. A position without
 * a column (YAML syntax errors, where parsers differ) only pins file and line.
 */
interface ExpectedRow {
  severity: Diagnostic['severity'];
  file: string;
  line: number;
  column?: number;
  code: string;
  firstAt?: string;
}

function expectedRows(markdown: string): ExpectedRow[] {
  const rows: ExpectedRow[] = [];
  let severity: Diagnostic['severity'] | undefined;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('## '))
      severity = line.startsWith('## Errors')
        ? 'error'
        : line.startsWith('## Warnings')
          ? 'warning'
          : undefined;
    const cells = line.split('|').map((c) => c.trim());
    const position = /^`([^`:]+):(\d+)(?::(\d+))?`$/.exec(cells[1] ?? '');
    const code = /^`([a-z-]+)`$/.exec(cells[2] ?? '');
    if (!severity || !position || !code) continue;
    const firstAt = /^`([^`]+:\d+:\d+)`$/.exec(cells[4] ?? '')?.[1];
    rows.push({
      severity,
      file: position[1] ?? '',
      line: Number(position[2]),
      ...(position[3] ? { column: Number(position[3]) } : {}),
      code: code[1] ?? '',
      ...(firstAt ? { firstAt } : {}),
    });
  }
  return rows;
}

const FIXTURES = 'test/fixtures/policies';
const fixtures = existsSync(FIXTURES)
  ? readdirSync(FIXTURES, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(FIXTURES, e.name, 'EXPECTED.md')))
      .map((e) => e.name)
  : [];

describe.each(fixtures)('fixture %s (EXPECTED.md)', (name) => {
  const dir = join(FIXTURES, name);
  const expected = expectedRows(readFileSync(join(dir, 'EXPECTED.md'), 'utf8'));
  const result = checkConvenantDir(dir);
  const actual = result.diagnostics.map((d) => ({
    severity: d.severity,
    code: d.code,
    at: d.position ? `${relative(dir, d.position.file)}:${d.position.line}:${d.position.column}` : '',
    message: d.message,
  }));

  it('reports exactly the expected diagnostics', () => {
    const exact = expected.filter((e) => e.column !== undefined);
    const loose = expected.filter((e) => e.column === undefined);
    const key = (severity: string, code: string, at: string): string => `${severity} ${code} ${at}`;
    if (loose.length === 0) {
      expect(actual.map((a) => key(a.severity, a.code, a.at)).sort()).toEqual(
        exact.map((e) => key(e.severity, e.code, `${e.file}:${e.line}:${e.column}`)).sort(),
      );
    } else {
      for (const e of loose)
        expect(
          actual.some(
            (a) => a.severity === e.severity && a.code === e.code && a.at.startsWith(`${e.file}:${e.line}:`),
          ),
        ).toBe(true);
      expect(actual.every((a) => expected.some((e) => e.severity === a.severity && e.code === a.code))).toBe(
        true,
      );
    }
  });

  it('names the first place of each duplicate', () => {
    for (const e of expected.filter((x) => x.firstAt !== undefined)) {
      const found = actual.find((a) => a.code === e.code && a.at === `${e.file}:${e.line}:${e.column}`);
      expect(found?.message).toContain(`${dir}/${e.firstAt}`);
    }
  });

  it('gives a model exactly when there is no error', () => {
    expect(result.convenant === null).toBe(expected.some((e) => e.severity === 'error'));
  });
});

describe('validateConvenant: legal bases that say to whom they apply, and aftercare', () => {
  const partnersWith = (from: string, to: string): string => {
    expect(PARTNERS).toContain(from);
    return PARTNERS.replace(from, to);
  };

  it('refuses a rule whose cited basis does not apply to the partner kind, at its legal_basis', () => {
    const meta = META.replace(
      '  wmo-4-1-1: { citation: Wmo 2015 art. 4.1.1, permits: [ordinary] }',
      '  wmo-4-1-1: { citation: Wmo 2015 art. 4.1.1, permits: [ordinary], applies_to: [veilig-thuis] }',
    );
    const found = check({
      '00-meta.yaml': meta,
      '40-rules.yaml': withRule(
        'id: wijkteam-wmo',
        'partner: wijkteam',
        'purpose: uitvoering-plan',
        'can: read',
        'fields: [plan.doelen]',
        'legal_basis: [wmo-4-1-1]',
        'reason: Fout, de Wmo-taak van Veilig Thuis geldt niet voor het wijkteam.',
      ),
    });
    const errors = found.filter((d) => d.severity === 'error');
    expect(where(errors)).toEqual([`legal-basis-not-for-partner 40-rules.yaml:${NEW_RULE + 5}:5`]);
    expect(errors[0]!.message).toContain('wijkteam (zorg)');
    expect(errors[0]!.message).toContain('only veilig-thuis');
  });

  it('refuses a special-category field whose only basis does not apply to the partner, at the field', () => {
    const meta = META.replace(
      '  avg-9-2-h: { citation: AVG art. 9 lid 2 sub h, exception: UAVG art. 30 lid 3, permits: [health] }',
      '  avg-9-2-h: { citation: AVG art. 9 lid 2 sub h, exception: UAVG art. 30 lid 3, permits: [health], applies_to: [zorg] }',
    );
    // vtrr-triage and doorbraak grant zorg.diagnose to Veilig Thuis on the purpose's bases;
    // avg-9-2-h now applies to zorg only.
    const errors = check({ '00-meta.yaml': meta }).filter((d) => d.severity === 'error');
    // Both rules that grant it, each at its zorg.diagnose.
    expect(where(errors)).toEqual([
      'legal-basis-not-for-partner 40-rules.yaml:6:32',
      'legal-basis-not-for-partner 40-rules.yaml:31:32',
    ]);
    expect(errors[0]!.message).toContain('zorg.diagnose');
  });

  it('refuses a partner acting under a purpose none of whose bases applies to it', () => {
    const meta = META.replace(
      '  wmo-4-1-1: { citation: Wmo 2015 art. 4.1.1, permits: [ordinary] }',
      '  wmo-4-1-1: { citation: Wmo 2015 art. 4.1.1, permits: [ordinary], applies_to: [veilig-thuis] }',
    );
    const partners = partnersWith('    legal_bases: [avg-6-1-e, wmo-4-1-1]', '    legal_bases: [wmo-4-1-1]');
    const errors = check({ '00-meta.yaml': meta, '10-partners.yaml': partners }).filter(
      (d) => d.code === 'purpose-basis-not-for-partner',
    );
    expect(where(errors)).toEqual(['purpose-basis-not-for-partner 10-partners.yaml:10:16']);
  });

  it('refuses involvement_matches under a purpose without a BSN basis', () => {
    const partners = partnersWith('    retention: P2Y', '    retention: P2Y\n    involvement_matches: true');
    expect(where(check({ '10-partners.yaml': partners }))).toEqual([
      'signals-without-bsn-basis 10-partners.yaml:22:26',
    ]);
  });

  it('refuses a built model whose health basis names no exception (the schema stops it in YAML)', () => {
    const { loaded, convenant } = load();
    const basis = convenant.legalBases.find((b) => b.id === 'avg-9-2-h')!;
    delete basis.exception;
    expect(where(validateConvenant(convenant, loaded.locate))).toEqual([
      'special-basis-without-exception 00-meta.yaml:9:3',
    ]);
  });

  it('refuses aftercare longer than the retention that runs from the same closing, or not a duration', () => {
    const longer = partnersWith('    retention: P2Y', '    retention: P2Y\n    after_closing: P3Y');
    expect(where(check({ '10-partners.yaml': longer }))).toEqual([
      'after-closing-beyond-retention 10-partners.yaml:22:20',
    ]);
    const fine = partnersWith('    retention: P2Y', '    retention: P2Y\n    after_closing: P1Y');
    expect(check({ '10-partners.yaml': fine })).toEqual([]);
  });
});
