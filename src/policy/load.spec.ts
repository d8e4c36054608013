import { jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  didYouMean,
  loadConvenantDir,
  loadConvenantSources,
  sortDiagnostics,
  type LoadResult,
} from './load.js';
import type { Diagnostic } from './model.js';

const DIR = 'policies/demo';

/** Lines joined with newlines, so a spec can count line numbers by eye: element i is line i+1. */
const yaml = (...lines: string[]): string => lines.join('\n') + '\n';

const META = yaml(
  'convenant: demo', //                                                   1
  'title: Demo convenant', //                                             2
  'version: "2026.1"', //                                                 3
  'case_flags:', //                                                       4
  '  geheim-adres: { description: Opvang }', //                           5
  'legal_bases:', //                                                      6
  '  avg-6-1-e: { citation: AVG art. 6(1)(e), permits: [ordinary] }', //  7
  '  avg-9-2-h: { citation: AVG art. 9(2)(h), exception: AVG art. 9(2)(h), permits: [health] }', // 8
);

const PARTNERS = yaml(
  'partners:', //                                   1
  '  - id: vtrr', //                                2
  '    name: Veilig Thuis', //                      3
  '    kind: veilig-thuis', //                      4
  '    purposes: [triage]', //                      5
  '    keys: keys/vtrr.jwks.json', //               6
  'purposes:', //                                   7
  '  - id: triage', //                              8
  '    name: Triage', //                            9
  '    legal_bases: [avg-6-1-e, avg-9-2-h]', //     10
  '    retention: P5Y', //                          11
);

const CATALOGUE = yaml(
  'catalogue:', //                                                      1
  '  zorg:', //                                                         2
  '    description: Gezondheid', //                                     3
  '    fields:', //                                                     4
  '      diagnose: { sensitivity: health, level: person, type: text }', // 5
  '      behandelaar: { sensitivity: ordinary }', //                    6
);

const RULES = yaml(
  'rules:', //                                        1
  '  - id: vtrr-zorg', //                             2
  '    partner: vtrr', //                             3
  '    purpose: triage', //                           4
  '    can: read', //                                 5
  '    fields: [zorg.diagnose, zorg.behandelaar]', // 6
  '    reason: Veilig Thuis weegt de zorg mee.', //   7
  '  - id: geen-diagnose-bij-geheim-adres', //        8
  '    partner_kind: [veilig-thuis]', //              9
  '    purpose: "*"', //                              10
  '    cannot: [read, write]', //                     11
  '    fields:', //                                   12
  '      - zorg.*', //                                13
  '    when: { case.flag: geheim-adres }', //         14
  '    reason: Nooit bij geheim adres.', //           15
  '  - id: doorbraak-zorg', //                        16
  '    partner: "*"', //                              17
  '    purpose: triage', //                           18
  '    can: read', //                                 19
  '    fields: ["*"]', //                             20
  '    when: { emergency: true, phase: acute }', //   21
  '    reason: Acuut gevaar.', //                     22
  'tests:', //                                        23
  '  - name: Veilig Thuis ziet de diagnose', //       24
  '    as: { partner: vtrr, purpose: triage }', //    25
  '    case: { phase: acute }', //                    26
  '    expect: { read: [zorg.diagnose] }', //         27
);

const FILES = {
  '00-meta.yaml': META,
  '10-partners.yaml': PARTNERS,
  '30-catalogue.yaml': CATALOGUE,
  '40-rules.yaml': RULES,
};

function load(overrides: Record<string, string | null> = {}): LoadResult {
  const files = Object.entries({ ...FILES, ...overrides })
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, text]) => ({ path: `${DIR}/${name}`, text }));
  return loadConvenantSources(DIR, files);
}

/** The one diagnostic with this code (fails if there are none or several). */
function only(result: LoadResult, code: string): Diagnostic {
  const found = result.diagnostics.filter((d) => d.code === code);
  expect(found).toHaveLength(1);
  return found[0] as Diagnostic;
}

function at(d: Diagnostic): string {
  return `${d.position?.file.replace(`${DIR}/`, '')}:${d.position?.line}:${d.position?.column}`;
}

describe('loadConvenantSources: a valid convenant', () => {
  const result = load();
  const c = result.convenant;

  it('loads without diagnostics', () => {
    expect(result.diagnostics).toEqual([]);
    expect(c).not.toBeNull();
  });

  it('merges the files in order and keeps the metadata', () => {
    expect(c?.id).toBe('demo');
    expect(c?.version).toBe('2026.1');
    expect(c?.dir).toBe(DIR);
    expect(c?.files).toEqual(
      ['00-meta.yaml', '10-partners.yaml', '30-catalogue.yaml', '40-rules.yaml'].map((f) => `${DIR}/${f}`),
    );
    expect(c?.partners.map((p) => p.id)).toEqual(['vtrr']);
    expect(c?.legalBases.map((b) => b.id)).toEqual(['avg-6-1-e', 'avg-9-2-h']);
  });

  it('applies the defaults of the format', () => {
    const [allow, deny, emergency] = c?.rules ?? [];
    expect(allow?.when.participant).toBe(true);
    expect(deny?.when.participant).toBe('any');
    expect(emergency?.when.participant).toBe('any');
    expect(c?.purposes[0]?.emergencyAccess).toEqual({ allowed: false });
    expect(c?.purposes[0]).toMatchObject({ involvementMatches: false, fieldHistory: false });
    expect(c?.fields.find((f) => f.id === 'zorg.behandelaar')).toMatchObject({
      level: 'case',
      type: 'string',
      section: 'zorg',
      name: 'behandelaar',
    });
    expect(c?.tests[0]?.case).toEqual({ phase: 'acute', participant: true, flags: [], emergency: false });
    expect(c?.tests[0]?.expect).toMatchObject({ write: [], deny: [], denyWrite: [] });
  });

  it('normalises one-or-many values and "*"', () => {
    const [allow, deny, emergency] = c?.rules ?? [];
    expect(allow).toMatchObject({
      effect: 'allow',
      actions: ['read'],
      partners: ['vtrr'],
      purposes: ['triage'],
    });
    expect(deny).toMatchObject({
      effect: 'deny',
      actions: ['read', 'write'],
      partnerKinds: ['veilig-thuis'],
      purposes: '*',
    });
    expect(deny?.when.caseFlags).toEqual(['geheim-adres']);
    expect(emergency).toMatchObject({
      partners: '*',
      when: { emergency: true, phase: ['acute'], participant: 'any' },
    });
    expect(deny?.partners).toBeUndefined();
  });

  it('locates every model object: items at their first key, map entries at their key, list values at the value', () => {
    const locate = (src: Parameters<LoadResult['locate']>[0]): string =>
      at({ severity: 'error', code: '', message: '', position: result.locate(src) });
    expect(locate(c!.partners[0]!.src)).toBe('10-partners.yaml:2:5');
    expect(locate(c!.purposes[0]!.src)).toBe('10-partners.yaml:8:5');
    expect(locate(c!.legalBases[1]!.src)).toBe('00-meta.yaml:8:3');
    expect(locate(c!.caseFlags[0]!.src)).toBe('00-meta.yaml:5:3');
    expect(locate(c!.sections[0]!.src)).toBe('30-catalogue.yaml:2:3');
    expect(locate(c!.fields[1]!.src)).toBe('30-catalogue.yaml:6:7');
    expect(locate(c!.rules[1]!.src)).toBe('40-rules.yaml:8:5');
    expect(locate(c!.tests[0]!.src)).toBe('40-rules.yaml:24:5');
  });

  it('keeps a position per field reference, flow or block list', () => {
    const refs = c!.rules.flatMap((r) => r.fields);
    expect(refs.map((r) => r.pattern)).toEqual(['zorg.diagnose', 'zorg.behandelaar', 'zorg.*', '*']);
    expect(
      refs.map((r) => at({ severity: 'error', code: '', message: '', position: result.locate(r.src) })),
    ).toEqual(['40-rules.yaml:6:14', '40-rules.yaml:6:29', '40-rules.yaml:13:9', '40-rules.yaml:20:14']);
    expect(result.locate(c!.tests[0]!.expect.read[0]!.src)).toEqual({
      file: `${DIR}/40-rules.yaml`,
      line: 27,
      column: 22,
    });
  });

  it('points at a scalar value, and falls back to the deepest existing node for paths below it', () => {
    const rule = c!.rules[0]!;
    expect(result.locate({ file: rule.src.file, path: [...rule.src.path, 'partner'] })).toMatchObject({
      line: 3,
      column: 14,
    });
    // `partner: vtrr` is a scalar; index 0 below it resolves to the scalar itself.
    expect(result.locate({ file: rule.src.file, path: [...rule.src.path, 'partner', 0] })).toMatchObject({
      line: 3,
      column: 14,
    });
    expect(result.locate({ file: 'elsewhere.yaml', path: [] })).toEqual({
      file: 'elsewhere.yaml',
      line: 1,
      column: 1,
    });
  });

  it('treats an empty file as contributing nothing', () => {
    expect(load({ '50-empty.yaml': '# nothing yet\n' }).diagnostics).toEqual([]);
  });
});

describe('loadConvenantSources: purpose flags for the case lifecycle', () => {
  it('reads involvement_matches and field_history, and the tests that check them', () => {
    const result = load({
      '10-partners.yaml': PARTNERS + '    involvement_matches: true\n    field_history: true\n',
      '90-tests.yaml': yaml(
        'tests:',
        '  - name: Triage hoort wie er nog meer betrokken is',
        '    as: { partner: vtrr, purpose: triage }',
        '    case: { phase: acute }',
        '    expect: { involvement_matches: true, field_history: true }',
      ),
    });
    expect(result.diagnostics).toEqual([]);
    expect(result.convenant?.purposes[0]).toMatchObject({ involvementMatches: true, fieldHistory: true });
    expect(result.convenant?.tests.at(-1)?.expect).toMatchObject({
      involvementMatches: true,
      fieldHistory: true,
    });
  });

  it('refuses a flag that is not true or false, at its place', () => {
    const result = load({ '10-partners.yaml': PARTNERS + '    field_history: yes please\n' });
    expect(result.diagnostics.some((d) => d.severity === 'error' && d.position?.line === 12)).toBe(true);
  });
});

describe('loadConvenantSources: merging', () => {
  it('concatenates lists and merges sections spread over files', () => {
    const extra = yaml(
      'catalogue:',
      '  zorg:',
      '    fields:',
      '      medicatie: { sensitivity: health, level: person }',
      '  plan:',
      '    fields:',
      '      doelen: { sensitivity: ordinary }',
      'partners:',
      '  - { id: wijkteam, name: Wijkteam, kind: zorg, purposes: [], keys: k.json }',
    );
    const c = load({ '35-extra.yaml': extra }).convenant;
    expect(c?.sections.map((s) => s.id)).toEqual(['zorg', 'plan']);
    expect(c?.sections[0]?.fields.map((f) => f.id)).toEqual([
      'zorg.diagnose',
      'zorg.behandelaar',
      'zorg.medicatie',
    ]);
    expect(c?.fields.map((f) => f.id)).toEqual([
      'zorg.diagnose',
      'zorg.behandelaar',
      'zorg.medicatie',
      'plan.doelen',
    ]);
    expect(c?.partners.map((p) => p.id)).toEqual(['vtrr', 'wijkteam']);
    expect(c?.partners[1]?.src).toEqual({ file: `${DIR}/35-extra.yaml`, path: ['partners', 0] });
  });

  it('accepts metadata repeated identically', () => {
    expect(load({ '50-more.yaml': 'version: "2026.1"\n' }).diagnostics).toEqual([]);
  });

  it('reports conflicting metadata at the second place, naming the first', () => {
    const result = load({ '50-more.yaml': yaml('title: Demo', 'version: "2026.2"') });
    const conflicts = result.diagnostics.filter((d) => d.code === 'conflicting-metadata');
    expect(conflicts.map(at)).toEqual(['50-more.yaml:1:8', '50-more.yaml:2:10']);
    expect(conflicts[1]?.message).toBe(
      `'version' is '2026.2' here but '2026.1' at ${DIR}/00-meta.yaml:3:10; give it once, or the same in every file.`,
    );
  });

  it('reports missing metadata and gives no model', () => {
    const result = load({ '00-meta.yaml': yaml('convenant: demo', 'legal_bases: {}') });
    expect(result.diagnostics.filter((d) => d.code === 'missing-metadata').map((d) => d.message)).toEqual([
      "No file gives 'title'. Add it once, e.g. in the first file.",
      "No file gives 'version'. Add it once, e.g. in the first file.",
    ]);
    expect(result.convenant).toBeNull();
  });

  it('requires the convenant id to equal the folder name', () => {
    const d = only(
      load({ '00-meta.yaml': META.replace('convenant: demo', 'convenant: other') }),
      'convenant-id-mismatch',
    );
    expect(at(d)).toBe('00-meta.yaml:1:12');
  });

  it('refuses a rule with both can and cannot, or neither, and builds no model', () => {
    const rules = yaml(
      'rules:', //                      1
      '  - id: beide', //               2
      '    partner: vtrr', //           3
      '    purpose: triage', //         4
      '    can: read', //               5
      '    cannot: write', //           6
      '    fields: [zorg.diagnose]', // 7
      '    reason: x', //               8
      '  - id: geen', //                9
      '    partner: vtrr', //           10
      '    purpose: triage', //         11
      '    reason: x', //               12
    );
    const result = load({ '40-rules.yaml': rules });
    expect(at(only(result, 'can-and-cannot'))).toBe('40-rules.yaml:6:5');
    expect(at(only(result, 'missing-can-or-cannot'))).toBe('40-rules.yaml:9:5');
    expect(result.convenant).toBeNull();
  });
});

describe('loadConvenantSources: YAML syntax', () => {
  it('reports a syntax error with its position and builds no model', () => {
    const result = load({
      '10-partners.yaml': yaml('partners:', '  - id: vtrr', '    name: [Veilig Thuis', 'purposes: []'),
    });
    const d = result.diagnostics.find((x) => x.code === 'yaml-syntax');
    expect(d?.position?.file).toBe(`${DIR}/10-partners.yaml`);
    expect(d?.message).toMatch(/^This is not valid YAML: /);
    expect(result.convenant).toBeNull();
  });

  it('reports a key given twice in the same map', () => {
    const result = load({
      '10-partners.yaml': PARTNERS.replace('    keys: keys/vtrr.jwks.json', '    name: VTRR'),
    });
    const d = only(result, 'duplicate-key');
    expect(at(d)).toBe('10-partners.yaml:6:5');
    expect(d.message).toBe("'name' is given twice in the same map; give each key once.");
  });

  it('reports every file at once: syntax errors in one, schema errors in another', () => {
    const result = load({
      '10-partners.yaml': yaml('partners:', '\t- id: vtrr'),
      '30-catalogue.yaml': CATALOGUE.replace('sensitivity: ordinary', 'sensitivity: gewoon'),
    });
    expect(result.diagnostics.map((d) => `${d.code} ${at(d)}`)).toEqual([
      'yaml-syntax 10-partners.yaml:2:1',
      'invalid-value 30-catalogue.yaml:6:35',
    ]);
  });
});

describe('loadConvenantSources: files that must never crash the reader', () => {
  it('refuses an alias bomb at its first alias, without expanding it', () => {
    const bomb = yaml(
      'case_flags:', //                                             1
      '  a: &a { description: [x, x, x, x, x, x, x, x, x, x] }', // 2
      '  b: &b { description: [*a, *a, *a, *a, *a, *a, *a, *a] }', // 3
      '  c: &c { description: [*b, *b, *b, *b, *b, *b, *b, *b] }', // 4
      '  d: { description: [*c, *c, *c, *c, *c, *c, *c, *c] }', //  5
    );
    const d = only(load({ '05-bomb.yaml': bomb }), 'too-many-aliases');
    expect(at(d)).toBe('05-bomb.yaml:3:25');
    expect(d.message).toMatch(
      /^This file repeats marked values .* so often that reading it would take too much memory/,
    );
  });

  it('keeps a few aliases working: a shared list is fine', () => {
    const result = load({
      '10-partners.yaml': PARTNERS.replace('purposes: [triage]', 'purposes: &doelen [triage]'),
    });
    expect(result.diagnostics).toEqual([]);
    expect(result.convenant?.partners[0]?.purposes).toEqual(['triage']);
  });

  it('refuses an alias without an anchor above it', () => {
    const d = only(
      load({ '10-partners.yaml': PARTNERS.replace('purposes: [triage]', 'purposes: *doelen') }),
      'unknown-alias',
    );
    expect(at(d)).toBe('10-partners.yaml:5:15');
    expect(d.message).toContain("'*doelen' repeats the value marked '&doelen'");
  });

  it("refuses a list or map used as a key (a '? ' line), at the key, without a YAML warning", () => {
    const warn = jest.spyOn(process, 'emitWarning');
    const d = only(
      load({ '10-partners.yaml': PARTNERS.replace('partners:', '? [a, b]\n: x\npartners:') }),
      'complex-key',
    );
    expect(at(d)).toBe('10-partners.yaml:1:3');
    expect(d.message).toContain("a '? ' at the start of a line makes one");
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('refuses a second YAML document in one file, at its ---', () => {
    const d = only(load({ '10-partners.yaml': `${PARTNERS}---\nrules: []\n` }), 'multiple-documents');
    expect(at(d)).toBe('10-partners.yaml:12:1');
  });

  it('refuses nesting far deeper than the format needs, flow or block', () => {
    const flow = `case_flags: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    expect(load({ '05-deep.yaml': flow }).diagnostics.map((d) => d.code)).toEqual(['too-deeply-nested']);
    const block = Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n');
    const d = only(load({ '05-deep.yaml': `${block}\n` }), 'too-deeply-nested');
    expect(d.position?.line).toBe(65); // the 65th level of maps starts there
  });

  it("explains YAML syntax errors in words and keeps the reader's detail", () => {
    const d = only(load({ '10-partners.yaml': yaml('partners:', '\t- id: vtrr') }), 'yaml-syntax');
    expect(d.message).toMatch(
      /^This is not valid YAML: This line is indented with a tab; YAML allows only spaces/,
    );
  });

  it('takes an empty file, or one with only comments, as contributing nothing', () => {
    expect(load({ '05-empty.yaml': '' }).diagnostics).toEqual([]);
    expect(load({ '05-empty.yaml': '# nog niets\n' }).diagnostics).toEqual([]);
    expect(load({ '05-empty.yaml': '' }).convenant?.partners).toHaveLength(1);
  });
});

describe('readConvenantFolder: encodings', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'convenant-encoding-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function folderWith(name: string, bytes: Buffer): string {
    const dir = join(root, name, 'demo');
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(FILES)) writeFileSync(join(dir, file), text);
    writeFileSync(join(dir, '10-partners.yaml'), bytes);
    return dir;
  }

  it('refuses a Windows-1252 byte at its line and column, saying which letter it was', () => {
    const latin1 = Buffer.from(PARTNERS.replace('Veilig Thuis', 'Veilig Thuis Caf\u00e9'), 'latin1');
    const result = loadConvenantDir(folderWith('latin1', latin1));
    expect(result.convenant).toBeNull();
    const d = only(result, 'not-utf8');
    expect(d.position).toMatchObject({ line: 3, column: 27 });
    expect(d.message).toBe(
      "This file is not UTF-8 text: byte 0xE9 here cannot be read (in Windows-1252 it would be '\u00e9', so the file was probably saved in that encoding). Save the file again with the encoding UTF-8.",
    );
  });

  it('refuses UTF-16 and accepts UTF-8 with a byte order mark', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(PARTNERS, 'utf16le')]);
    expect(only(loadConvenantDir(folderWith('utf16', utf16)), 'not-utf8').message).toMatch(/saved as UTF-16/);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(PARTNERS, 'utf8')]);
    expect(loadConvenantDir(folderWith('bom', bom)).diagnostics).toEqual([]);
  });

  it('accepts a genuine U+FFFD written as UTF-8', () => {
    const text = Buffer.from(PARTNERS.replace('Veilig Thuis', 'Veilig Thuis \ufffd'), 'utf8');
    expect(loadConvenantDir(folderWith('fffd', text)).diagnostics).toEqual([]);
  });
});

describe('loadConvenantSources: schema errors in plain words', () => {
  it('unknown key: at the key, with a suggestion and the known keys', () => {
    const d = only(
      load({
        '10-partners.yaml': PARTNERS.replace('    kind: veilig-thuis', '    kind: veilig-thuis\n    knd: x'),
      }),
      'unknown-key',
    );
    expect(at(d)).toBe('10-partners.yaml:5:5');
    expect(d.message).toBe(
      "Partner 'vtrr' has an unknown key 'knd'. Did you mean 'kind'? Known keys: id, name, kind, purposes, keys, jwks_uri, contact, signatories.",
    );
  });

  it('unknown top-level key', () => {
    const d = only(load({ '50-x.yaml': 'rule: []\n' }), 'unknown-key');
    expect(at(d)).toBe('50-x.yaml:1:1');
    expect(d.message).toMatch(/^The file has an unknown key 'rule'\. Did you mean 'rules'\?/);
  });

  it('missing key: at the object that lacks it, with what to write', () => {
    const d = only(
      load({ '40-rules.yaml': RULES.replace('    reason: Veilig Thuis weegt de zorg mee.\n', '') }),
      'missing-key',
    );
    expect(at(d)).toBe('40-rules.yaml:2:5');
    expect(d.message).toBe(
      "Rule 'vtrr-zorg' is missing 'reason'. Why the rule exists, in plain words; shown in explanations.",
    );
  });

  it('enum: names the kind of value, lists the choices and suggests the closest', () => {
    const d = only(
      load({ '30-catalogue.yaml': CATALOGUE.replace('sensitivity: health', 'sensitivity: helth') }),
      'invalid-value',
    );
    expect(at(d)).toBe('30-catalogue.yaml:5:32');
    expect(d.message).toBe(
      "'helth' is not a sensitivity; use one of: ordinary, bsn, health, criminal, confidential-address. Did you mean 'health'?",
    );
  });

  it('enum inside a list of actions, at the item', () => {
    const d = only(
      load({ '40-rules.yaml': RULES.replace('cannot: [read, write]', 'cannot: [read, wrte]') }),
      'invalid-value',
    );
    expect(at(d)).toBe('40-rules.yaml:11:20');
    expect(d.message).toBe("'wrte' is not an action; use one of: read, write, manage. Did you mean 'write'?");
  });

  it('retention that is not an ISO-8601 duration', () => {
    const d = only(
      load({ '10-partners.yaml': PARTNERS.replace('retention: P5Y', 'retention: 5 jaar') }),
      'invalid-value',
    );
    expect(at(d)).toBe('10-partners.yaml:11:16');
    expect(d.message).toBe(
      "'5 jaar' is not valid for 'retention' in purpose 'triage'. Expected an ISO-8601 duration: P5Y (5 years), P18M (18 months), P2W (2 weeks), PT60M (60 minutes).",
    );
  });

  it('accepts the ISO-8601 durations the format uses and rejects look-alikes', () => {
    const retention = (value: string): string[] =>
      load({ '10-partners.yaml': PARTNERS.replace('retention: P5Y', `retention: ${value}`) }).diagnostics.map(
        (d) => d.code,
      );
    for (const ok of ['P5Y', 'P18M', 'P2W', 'P1Y6M', 'PT60M', 'P1DT12H']) expect(retention(ok)).toEqual([]);
    for (const bad of ['P', 'PT', '5Y', 'P5', 'p5y', 'P1YT'])
      expect(retention(bad)).toEqual(['invalid-value']);
  });

  it('reads an optional log_retention per purpose, and refuses one that is not a duration', () => {
    const withLog = (value: string) =>
      load({
        '10-partners.yaml': PARTNERS.replace('retention: P5Y', `retention: P5Y\n    log_retention: ${value}`),
      });
    expect(load().convenant?.purposes[0]?.logRetention).toBeUndefined();
    expect(withLog('P7Y').convenant?.purposes[0]?.logRetention).toBe('P7Y');
    expect(only(withLog('zeven jaar'), 'invalid-value').message).toMatch(
      /'log_retention' in purpose 'triage'/,
    );
  });

  it('a version YAML reads as a number: says to quote it, keeping the written digits', () => {
    const d = only(
      load({ '00-meta.yaml': META.replace('version: "2026.1"', 'version: 2026.10') }),
      'wrong-type',
    );
    expect(at(d)).toBe('00-meta.yaml:3:10');
    expect(d.message).toBe(
      `'version' must be text, not the number 2026.1. Put it in quotes ("2026.10") so it is read as text.`,
    );
  });

  it('one-or-many values of the wrong form get one sentence, not one per alternative', () => {
    const d = only(load({ '40-rules.yaml': RULES.replace('partner: vtrr', 'partner: 12') }), 'wrong-type');
    expect(at(d)).toBe('40-rules.yaml:3:14');
    expect(d.message).toBe(
      `'partner' in rule 'vtrr-zorg' has the wrong form (the number 12). Expected an id, a list of ids, or "*" for all.`,
    );
  });

  it('an id that is not kebab-case', () => {
    const d = only(
      load({ '40-rules.yaml': RULES.replace('partner: vtrr', 'partner: VTRR') }),
      'invalid-value',
    );
    expect(d.message).toMatch(
      /^'VTRR' is not valid for 'partner' in rule 'vtrr-zorg'\. Expected an id \(lower-case/,
    );
  });

  it('a field name that is not kebab-case: at the key', () => {
    const d = only(
      load({ '30-catalogue.yaml': CATALOGUE.replace('behandelaar:', 'Behandelaar:') }),
      'invalid-name',
    );
    expect(at(d)).toBe('30-catalogue.yaml:6:7');
    expect(d.message).toMatch(/^'Behandelaar' is not a valid field name in section 'zorg'\. Expected an id/);
  });

  it('an enum field without values', () => {
    const d = only(
      load({ '30-catalogue.yaml': CATALOGUE.replace('type: text', 'type: enum') }),
      'missing-key',
    );
    expect(at(d)).toBe('30-catalogue.yaml:5:7');
    expect(d.message).toBe("Field 'zorg.diagnose' has type enum, so it must list its allowed 'values'.");
  });

  it('emergency other than true', () => {
    const d = only(
      load({ '40-rules.yaml': RULES.replace('emergency: true', 'emergency: false') }),
      'invalid-value',
    );
    expect(at(d)).toBe('40-rules.yaml:21:24');
    expect(d.message).toBe(
      "'when.emergency' in rule 'doorbraak-zorg' can only be true; leave it out otherwise.",
    );
  });

  it('participant other than true or any', () => {
    const d = only(
      load({
        '40-rules.yaml': RULES.replace(
          'when: { emergency: true, phase: acute }',
          'when: { participant: false }',
        ),
      }),
      'invalid-value',
    );
    expect(d.message).toBe("'when.participant' in rule 'doorbraak-zorg' must be true or any, not 'false'.");
  });

  it('a list item given twice, at the second', () => {
    const d = only(
      load({ '10-partners.yaml': PARTNERS.replace('purposes: [triage]', 'purposes: [triage, triage]') }),
      'duplicate-item',
    );
    expect(at(d)).toBe('10-partners.yaml:5:24');
    expect(d.message).toBe("'purposes' in partner 'vtrr' lists 'triage' twice.");
  });

  it('an empty value where a map is needed', () => {
    const d = only(
      load({
        '30-catalogue.yaml': CATALOGUE.replace('behandelaar: { sensitivity: ordinary }', 'behandelaar:'),
      }),
      'wrong-type',
    );
    expect(at(d)).toBe('30-catalogue.yaml:6:7');
    expect(d.message).toBe("Field 'zorg.behandelaar' must be a map of keys and values, not empty.");
  });

  it('reports all schema errors of a file at once and builds no model', () => {
    const broken = RULES.replace('can: read', 'can: reed').replace('partner: vtrr', 'partnr: vtrr');
    const result = load({ '40-rules.yaml': broken });
    expect(result.diagnostics.map((d) => `${d.code} ${at(d)}`)).toEqual([
      'unknown-key 40-rules.yaml:3:5',
      'invalid-value 40-rules.yaml:5:10',
    ]);
    expect(result.convenant).toBeNull();
  });
});

describe('loadConvenantDir', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'convenant-')), 'demo');
    mkdirSync(dir);
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('reads *.yaml and *.yml sorted by name, not other files or subfolders', () => {
    writeFileSync(join(dir, '40-rules.yml'), RULES);
    for (const [name, text] of Object.entries(FILES).filter(([n]) => n !== '40-rules.yaml'))
      writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'README.md'), '# not a policy');
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys', 'x.yaml'), 'not: [valid');
    const result = loadConvenantDir(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.convenant?.files.map((f) => f.slice(dir.length + 1))).toEqual([
      '00-meta.yaml',
      '10-partners.yaml',
      '30-catalogue.yaml',
      '40-rules.yml',
    ]);
  });

  it('reports an empty folder', () => {
    const result = loadConvenantDir(dir);
    expect(result.convenant).toBeNull();
    expect(result.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'empty-folder',
        message: expect.stringContaining('holds no convenant files'),
      },
    ]);
  });

  it('reports a missing folder', () => {
    const result = loadConvenantDir(join(dir, 'nope'));
    expect(result.convenant).toBeNull();
    expect(result.diagnostics.map((d) => d.code)).toEqual(['missing-folder']);
  });
});

describe('helpers', () => {
  it('suggests only plausible typos', () => {
    expect(didYouMean('wijktem', ['vtrr', 'wijkteam'])).toBe(" Did you mean 'wijkteam'?");
    expect(didYouMean('politie', ['vtrr', 'wijkteam'])).toBe('');
  });

  it('sorts diagnostics by file, line and column, folder-level first', () => {
    const d = (file: string | undefined, line: number, column: number): Diagnostic => ({
      severity: 'error',
      code: 'x',
      message: '',
      ...(file ? { position: { file, line, column } } : {}),
    });
    const sorted = sortDiagnostics([
      d('b', 1, 1),
      d('a', 2, 1),
      d('a', 1, 9),
      d(undefined, 0, 0),
      d('a', 1, 3),
    ]);
    expect(
      sorted.map((x) => (x.position ? `${x.position.file}:${x.position.line}:${x.position.column}` : '-')),
    ).toEqual(['-', 'a:1:3', 'a:1:9', 'a:2:1', 'b:1:1']);
  });
});

describe('policies/convenant.schema.json', () => {
  type Node = { [key: string]: unknown };
  const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
  const schema: unknown = JSON.parse(readFileSync('policies/convenant.schema.json', 'utf8'));

  /** Every schema object in the file, with its JSON pointer. */
  function nodes(node: unknown, pointer = '#'): [string, Node][] {
    if (Array.isArray(node)) return node.flatMap((n, i) => nodes(n, `${pointer}/${i}`));
    if (!isNode(node)) return [];
    return [[pointer, node], ...Object.entries(node).flatMap(([k, v]) => nodes(v, `${pointer}/${k}`))];
  }

  it('is draft-07, so editors (yaml-language-server) autocomplete from it', () => {
    expect(isNode(schema) && schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  it('closes every object: a misspelt key is always an error', () => {
    const open = nodes(schema).filter(([, n]) => n.type === 'object' && n.additionalProperties === undefined);
    expect(open.map(([p]) => p)).toEqual([]);
  });

  it('describes every property, so editors can show what it means', () => {
    // An `if` only tests a value; its properties are not properties a jurist writes.
    const properties = nodes(schema).filter(([pointer]) => !pointer.includes('/if'));
    const undescribed = properties.flatMap(([pointer, n]) =>
      isNode(n.properties)
        ? Object.entries(n.properties)
            .filter(([, p]) => !isNode(p) || typeof p.description !== 'string')
            .map(([k]) => `${pointer}/properties/${k}`)
        : [],
    );
    expect(undescribed).toEqual([]);
  });

  it('uses no oneOf, whose errors cannot be explained', () => {
    expect(
      nodes(schema)
        .filter(([, n]) => 'oneOf' in n)
        .map(([p]) => p),
    ).toEqual([]);
  });
});
