import type { RawTest } from '../load-raw.js';
import type {
  Action,
  CatalogueField,
  Convenant,
  FieldLevel,
  FieldRef,
  PersonRole,
  Phase,
  PolicyTest,
  Rule,
  Section,
  Sensitivity,
  SourceRef,
} from '../model.js';

/**
 * Builds `Convenant` objects for specs without going through YAML. The input mirrors the YAML
 * keys (`can`/`cannot`, `partner_kind`, `person.role`, …) so a spec reads like the policy it
 * stands for; defaults follow docs/convenant-format.md (participant `true` for `can`, `any` for
 * `cannot` and for emergency rules). It is a test aid, not a loader: it does not validate.
 */

export const BUILDER_FILE = 'convenant.yaml';

export interface RuleSpec {
  id: string;
  partner?: string | string[];
  partner_kind?: string | string[];
  /** Defaults to every purpose. */
  purpose?: string | string[];
  can?: Action | Action[];
  cannot?: Action | Action[];
  fields?: string[];
  when?: {
    participant?: true | 'any';
    phase?: Phase[];
    'person.role'?: PersonRole[];
    'case.flag'?: string[];
    emergency?: true;
  };
  legal_basis?: string[];
  reason?: string;
}

/** An inline test as a convenant file states it (load-raw.ts), its name optional. */
export type TestSpec = Omit<RawTest, 'name'> & { name?: string };

export interface FieldSpec {
  sensitivity?: Sensitivity;
  level?: FieldLevel;
}

export interface ConvenantSpec {
  id?: string;
  version?: string;
  caseFlags?: string[];
  legalBases?: Record<
    string,
    { citation?: string; permits: Sensitivity[]; appliesTo?: string[]; exception?: string }
  >;
  partners: { id: string; name?: string; kind?: string; purposes: string[] }[];
  purposes: {
    id: string;
    name?: string;
    legalBases: string[];
    retention?: string;
    emergency?: { window?: string };
    involvementMatches?: boolean;
    fieldHistory?: boolean;
  }[];
  /** section → field name → field. */
  catalogue: Record<string, Record<string, FieldSpec>>;
  rules?: RuleSpec[];
  tests?: TestSpec[];
}

const at = (...path: (string | number)[]): SourceRef => ({ file: BUILDER_FILE, path });

const list = <T>(value: T | T[] | undefined): T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

const fieldRefs = (patterns: readonly string[], ...path: (string | number)[]): FieldRef[] =>
  patterns.map((pattern, i) => ({ pattern, src: at(...path, i) }));

function buildRule(spec: RuleSpec, index: number): Rule {
  const effect = spec.cannot === undefined ? 'allow' : 'deny';
  const when = spec.when ?? {};
  const participant = when.participant ?? (effect === 'deny' || when.emergency ? 'any' : true);
  const partners = spec.partner === '*' ? '*' : list(spec.partner);
  const purposes = spec.purpose === undefined || spec.purpose === '*' ? '*' : (list(spec.purpose) ?? '*');
  return {
    id: spec.id,
    src: at('rules', index),
    effect,
    actions: list(spec.can ?? spec.cannot) ?? [],
    ...(partners !== undefined ? { partners } : {}),
    ...(spec.partner_kind !== undefined ? { partnerKinds: list(spec.partner_kind) } : {}),
    purposes,
    fields: fieldRefs(spec.fields ?? [], 'rules', index, 'fields'),
    when: {
      participant,
      ...(when.phase ? { phase: when.phase } : {}),
      ...(when['person.role'] ? { personRole: when['person.role'] } : {}),
      ...(when['case.flag'] ? { caseFlags: when['case.flag'] } : {}),
      ...(when.emergency ? { emergency: true as const } : {}),
    },
    ...(spec.legal_basis ? { legalBases: spec.legal_basis } : {}),
    reason: spec.reason ?? `Reason of ${spec.id}.`,
  };
}

function buildTest(spec: TestSpec, index: number): PolicyTest {
  const expect = spec.expect;
  const src = (key: string) => ['tests', index, 'expect', key] as const;
  return {
    name: spec.name ?? `test ${index}`,
    src: at('tests', index),
    as: spec.as,
    case: {
      phase: spec.case.phase,
      participant: spec.case.participant ?? true,
      flags: spec.case.flags ?? [],
      emergency: spec.case.emergency ?? false,
    },
    ...(spec.person ? { person: spec.person } : {}),
    expect: {
      read: fieldRefs(expect.read ?? [], ...src('read')),
      write: fieldRefs(expect.write ?? [], ...src('write')),
      deny: fieldRefs(expect.deny ?? [], ...src('deny')),
      denyWrite: fieldRefs(expect.deny_write ?? [], ...src('deny_write')),
      ...(expect.manage !== undefined ? { manage: expect.manage } : {}),
      ...(expect.involvement_matches !== undefined ? { involvementMatches: expect.involvement_matches } : {}),
      ...(expect.field_history !== undefined ? { fieldHistory: expect.field_history } : {}),
    },
  };
}

function buildSections(catalogue: ConvenantSpec['catalogue']): Section[] {
  return Object.entries(catalogue).map(([section, fields]) => ({
    id: section,
    src: at('catalogue', section),
    fields: Object.entries(fields).map(([name, f]): CatalogueField => ({
      id: `${section}.${name}`,
      section,
      name,
      src: at('catalogue', section, 'fields', name),
      sensitivity: f.sensitivity ?? 'ordinary',
      level: f.level ?? 'case',
      type: 'string',
    })),
  }));
}

export function buildConvenant(spec: ConvenantSpec): Convenant {
  const sections = buildSections(spec.catalogue);
  return {
    id: spec.id ?? 'test-convenant',
    title: 'Test convenant',
    version: spec.version ?? '2026.1',
    dir: 'policies/test-convenant',
    files: [BUILDER_FILE],
    personRoles: [],
    caseFlags: (spec.caseFlags ?? []).map((id) => ({ id, src: at('case_flags', id) })),
    legalBases: Object.entries(spec.legalBases ?? {}).map(([id, b]) => ({
      id,
      src: at('legal_bases', id),
      citation: b.citation ?? id,
      permits: b.permits,
      ...(b.appliesTo ? { appliesTo: b.appliesTo } : {}),
      // A basis for health or criminal data names its exception; the citation stands in for it.
      ...(b.exception !== undefined || b.permits.some((s) => s === 'health' || s === 'criminal')
        ? { exception: b.exception ?? b.citation ?? id }
        : {}),
    })),
    partners: spec.partners.map((p, i) => ({
      id: p.id,
      src: at('partners', i),
      name: p.name ?? p.id,
      kind: p.kind ?? p.id,
      purposes: p.purposes,
      keys: { jwksFile: `keys/${p.id}.jwks.json` },
      signatories: [],
    })),
    purposes: spec.purposes.map((u, i) => ({
      id: u.id,
      src: at('purposes', i),
      name: u.name ?? u.id,
      description: `Purpose ${u.id}.`,
      legalBases: u.legalBases,
      retention: u.retention ?? 'P2Y',
      emergencyAccess: u.emergency ? { allowed: true, ...u.emergency } : { allowed: false },
      involvementMatches: u.involvementMatches ?? false,
      fieldHistory: u.fieldHistory ?? false,
    })),
    sections,
    fields: sections.flatMap((s) => s.fields),
    rules: (spec.rules ?? []).map(buildRule),
    tests: (spec.tests ?? []).map(buildTest),
  };
}

/**
 * A small convenant in the shape of the real one: three partners, four purposes, case- and
 * person-level fields of every sensitivity, a section wildcard, a geheim-adres deny and an
 * emergency rule. Specs that need "a realistic policy" share it.
 */
export const EXAMPLE_SPEC: ConvenantSpec = {
  id: 'zvh-test',
  version: '2026.1',
  caseFlags: ['geheim-adres', 'wapens'],
  legalBases: {
    'avg-6-1-e': { citation: 'AVG art. 6 lid 1 sub e', permits: ['ordinary'] },
    'wmo-4-1-1': { citation: 'Wmo 2015 art. 4.1.1', permits: ['ordinary', 'bsn'] },
    'avg-9-2-h': { citation: 'AVG art. 9 lid 2 sub h', permits: ['health'] },
    'uavg-33': { citation: 'UAVG art. 33', permits: ['criminal'] },
    'opvang-adres': { citation: 'Wmo 2015 art. 5.2.6', permits: ['confidential-address'] },
  },
  partners: [
    {
      id: 'vtrr',
      name: 'Veilig Thuis Rotterdam Rijnmond',
      kind: 'veilig-thuis',
      purposes: ['triage', 'casusoverleg', 'acute-veiligheid'],
    },
    {
      id: 'wijkteam',
      name: 'Wijkteam Rotterdam',
      kind: 'gemeente',
      purposes: ['uitvoering-plan', 'casusoverleg'],
    },
    {
      id: 'politie',
      name: 'Politie Rotterdam',
      kind: 'justitie',
      purposes: ['casusoverleg', 'acute-veiligheid'],
    },
  ],
  purposes: [
    { id: 'triage', legalBases: ['avg-6-1-e', 'wmo-4-1-1', 'avg-9-2-h'], retention: 'P5Y' },
    { id: 'uitvoering-plan', legalBases: ['wmo-4-1-1', 'avg-9-2-h'] },
    { id: 'casusoverleg', legalBases: ['avg-6-1-e', 'uavg-33'] },
    {
      id: 'acute-veiligheid',
      legalBases: ['avg-6-1-e', 'opvang-adres', 'uavg-33'],
      emergency: { window: 'PT60M' },
    },
  ],
  catalogue: {
    betrokkenen: {
      naam: { level: 'person' },
      bsn: { level: 'person', sensitivity: 'bsn' },
      adres: { level: 'person', sensitivity: 'confidential-address' },
    },
    veiligheid: { risiconiveau: {}, risicotaxatie: {} },
    zorg: { diagnose: { level: 'person', sensitivity: 'health' } },
    justitie: { antecedenten: { level: 'person', sensitivity: 'criminal' } },
    plan: { doelen: {}, acties: {} },
  },
  rules: [
    // Deliberately before the allow it overrides: deny must win whatever the file order.
    {
      id: 'geheim-adres-nooit',
      partner: '*',
      cannot: ['read', 'write'],
      fields: ['betrokkenen.adres'],
      when: { 'person.role': ['slachtoffer'], 'case.flag': ['geheim-adres'] },
      reason: 'Geheim adres van de opvang wordt nooit gedeeld.',
    },
    {
      id: 'vtrr-triage',
      partner: 'vtrr',
      purpose: 'triage',
      can: ['read', 'write'],
      fields: ['betrokkenen.*', 'veiligheid.*', 'zorg.diagnose'],
      reason: 'Veilig Thuis weegt de melding.',
    },
    {
      id: 'wijkteam-plan',
      partner: 'wijkteam',
      purpose: 'uitvoering-plan',
      can: 'read',
      fields: ['betrokkenen.naam', 'plan.*', 'veiligheid.risiconiveau'],
      when: { phase: ['stabilisatie', 'herstel'] },
      legal_basis: ['wmo-4-1-1'],
      reason: 'Het wijkteam voert het plan uit.',
    },
    {
      id: 'wijkteam-plan-schrijven',
      partner: 'wijkteam',
      purpose: 'uitvoering-plan',
      can: 'write',
      fields: ['plan.*'],
      reason: 'Het wijkteam houdt het plan bij.',
    },
    {
      id: 'wijkteam-geen-acties-in-herstel',
      partner: 'wijkteam',
      cannot: 'read',
      fields: ['plan.acties'],
      when: { phase: ['herstel'] },
      reason: 'In herstel zijn de acties afgerond.',
    },
    {
      id: 'justitie-in-overleg',
      partner_kind: 'justitie',
      purpose: 'casusoverleg',
      can: 'read',
      fields: ['justitie.antecedenten'],
      when: { 'person.role': ['pleger'] },
      reason: 'Antecedenten van de pleger wegen mee in het overleg.',
    },
    {
      id: 'overleg-veiligheid',
      partner: '*',
      purpose: 'casusoverleg',
      can: 'read',
      fields: ['veiligheid.*', 'betrokkenen.naam'],
      reason: 'Deelnemers aan het overleg kennen de veiligheidssituatie.',
    },
    {
      id: 'wapens-acuut',
      partner: 'politie',
      purpose: 'acute-veiligheid',
      can: 'read',
      fields: ['veiligheid.risicotaxatie'],
      when: { 'case.flag': ['wapens'], phase: ['acute'] },
      reason: 'Bij wapens in het spel leest de politie de risicotaxatie.',
    },
    {
      id: 'doorbraak-adres',
      partner: ['politie', 'vtrr'],
      purpose: 'acute-veiligheid',
      can: 'read',
      fields: ['betrokkenen.adres', 'betrokkenen.naam'],
      when: { emergency: true },
      reason: 'Bij acuut gevaar moet de hulp weten waar de betrokkenen zijn.',
    },
    {
      id: 'vtrr-regie',
      partner: 'vtrr',
      purpose: ['triage', 'casusoverleg'],
      can: 'manage',
      when: { phase: ['acute', 'stabilisatie'] },
      reason: 'Veilig Thuis voert regie in de eerste fasen.',
    },
  ],
};

export const exampleConvenant = (): Convenant => buildConvenant(EXAMPLE_SPEC);
