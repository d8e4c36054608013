/**
 * Stage 3 of loading (see load.ts): merging the files into the Convenant model (metadata given
 * once, can/cannot exclusive) and building its parts from the raw YAML shape.
 */
import { basename } from 'node:path';
import type {
  Action,
  Agreement,
  PersonRole,
  PersonRoleDisclosure,
  CaseFlag,
  CatalogueField,
  Convenant,
  Diagnostic,
  FieldRef,
  LegalBasis,
  Partner,
  PolicyTest,
  Purpose,
  Rule,
  RuleWhen,
  Section,
  SourcePosition,
} from './model.js';
import type { RawField, RawFile, RawPartner, RawPurpose, RawRule, RawTest, YamlPath } from './load-raw.js';
import { type SourceFile, positionOf } from './load-yaml.js';
import { loadWhen } from './conditions.js';
import { formatPosition, many } from './load-text.js';

// ---------------------------------------------------------------------------------------------
// Stage 3: merging the files into the model
// ---------------------------------------------------------------------------------------------

interface Merged {
  convenant: Convenant | null;
  diagnostics: Diagnostic[];
}

export function mergeFiles(dir: string, files: { source: SourceFile; raw: RawFile }[]): Merged {
  const diagnostics: Diagnostic[] = [];
  const at = (file: SourceFile, path: YamlPath, prefer: 'auto' | 'key' = 'auto'): SourcePosition =>
    positionOf(file, path, prefer);

  const metadata = (
    key: 'convenant' | 'title' | 'version' | 'effective_from',
    required: boolean,
  ): string | undefined => {
    const given = files.flatMap(({ source, raw }) =>
      raw[key] === undefined ? [] : [{ source, value: raw[key] }],
    );
    const [first, ...others] = given;
    if (!first) {
      if (required) {
        const firstFile = files[0]?.source.path ?? dir;
        diagnostics.push({
          severity: 'error',
          code: 'missing-metadata',
          message: `No file gives '${key}'. Add it once, e.g. in the first file.`,
          position: { file: firstFile, line: 1, column: 1 },
        });
      }
      return undefined;
    }
    for (const other of others.filter((o) => o.value !== first.value)) {
      const firstAt = at(first.source, [key]);
      diagnostics.push({
        severity: 'error',
        code: 'conflicting-metadata',
        message: `'${key}' is '${other.value}' here but '${first.value}' at ${formatPosition(firstAt)}; give it once, or the same in every file.`,
        position: at(other.source, [key]),
      });
    }
    return first.value;
  };

  const id = metadata('convenant', true);
  const title = metadata('title', true);
  const version = metadata('version', true);
  const effectiveFrom = metadata('effective_from', false);
  const agreement = agreementOf(files, diagnostics);
  const folder = basename(dir);
  const idFile = files.find((f) => f.raw.convenant !== undefined)?.source;
  if (id !== undefined && idFile && folder !== '' && folder !== id) {
    diagnostics.push({
      severity: 'error',
      code: 'convenant-id-mismatch',
      message: `The convenant id '${id}' differs from its folder name '${folder}'; they must be equal so the folder names the convenant.`,
      position: at(idFile, ['convenant']),
    });
  }

  const rules: Rule[] = [];
  let rulesComplete = true;
  for (const { source, raw } of files) {
    for (const [index, rawRule] of (raw.rules ?? []).entries()) {
      const built = buildRule(source.path, index, rawRule);
      if ('rule' in built) rules.push(built.rule);
      else {
        rulesComplete = false;
        diagnostics.push({
          ...built.problem,
          position: at(source, ['rules', index, ...built.problem.path], 'key'),
        });
      }
    }
  }
  // A rule whose effect is unclear cannot be modelled: dropping it could silently remove a deny.
  if (!rulesComplete || id === undefined || title === undefined || version === undefined)
    return { convenant: null, diagnostics };

  const sections = mergeSections(files);
  const convenant: Convenant = {
    id,
    title,
    version,
    ...(effectiveFrom === undefined ? {} : { effectiveFrom }),
    ...(agreement === undefined ? {} : { agreement }),
    personRoles: files.flatMap(({ source, raw }) => buildPersonRoles(source.path, raw)),
    dir,
    files: files.map((f) => f.source.path),
    caseFlags: files.flatMap(({ source, raw }) => buildCaseFlags(source.path, raw)),
    legalBases: files.flatMap(({ source, raw }) => buildLegalBases(source.path, raw)),
    partners: files.flatMap(({ source, raw }) =>
      (raw.partners ?? []).map((p, i) => buildPartner(source.path, i, p)),
    ),
    purposes: files.flatMap(({ source, raw }) =>
      (raw.purposes ?? []).map((p, i) => buildPurpose(source.path, i, p)),
    ),
    sections,
    fields: sections.flatMap((s) => s.fields),
    rules,
    tests: files.flatMap(({ source, raw }) => (raw.tests ?? []).map((t, i) => buildTest(source.path, i, t))),
  };
  diagnostics.push(...sectionDescriptionConflicts(files));
  return { convenant, diagnostics };
}

function buildCaseFlags(file: string, raw: RawFile): CaseFlag[] {
  return Object.entries(raw.case_flags ?? {}).map(([id, flag]) => ({
    id,
    ...(flag.description === undefined ? {} : { description: flag.description }),
    src: { file, path: ['case_flags', id] },
  }));
}

function buildPersonRoles(file: string, raw: RawFile): PersonRoleDisclosure[] {
  return Object.entries(raw.person_roles ?? {}).map(([role, entry]) => ({
    role: role as PersonRole,
    ...(entry.disclosed_with === undefined ? {} : { disclosedWith: entry.disclosed_with }),
    shownAs: entry.shown_as,
    src: { file, path: ['person_roles', role] },
  }));
}

/** The agreement is metadata too: given in one file only (two would be two texts to sign). */
function agreementOf(
  files: { source: SourceFile; raw: RawFile }[],
  diagnostics: Diagnostic[],
): Agreement | undefined {
  const given = files.filter((f) => f.raw.agreement !== undefined);
  const [first, ...others] = given;
  for (const other of others) {
    diagnostics.push({
      severity: 'error',
      code: 'conflicting-metadata',
      message: `'agreement' is also given at ${formatPosition(positionOf(first!.source, ['agreement'], 'key'))}; give the agreement in one file only.`,
      position: positionOf(other.source, ['agreement'], 'key'),
    });
  }
  const raw = first?.raw.agreement;
  if (!first || !raw) return undefined;
  const file = first.source.path;
  const t = raw.term;
  const j = raw.joint_controllership;
  const d = raw.dpia;
  const i = raw.information_duties;
  const p = raw.processor;
  const b = raw.data_breaches;
  const opt = <K extends string, V>(key: K, value: V | undefined) =>
    (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
  return {
    preamble: raw.preamble,
    term: {
      ...opt('duration', t.duration),
      ...opt('renewal', t.renewal),
      ...opt('evaluation', t.evaluation),
      notice: t.notice,
    },
    amendment: raw.amendment,
    jointControllership: {
      arrangement: j.arrangement,
      contactPoint: j.contact_point,
      ...opt('contact', j.contact),
    },
    dpia: {
      reference: d.reference,
      ...opt('date', d.date),
      ...opt('coordinator', d.coordinator),
      ...opt('review', d.review),
    },
    informationDuties: { by: i.by, how: i.how, ...opt('exceptions', i.exceptions) },
    processor: {
      name: p.name,
      agreement: p.agreement,
      contractedBy: p.contracted_by,
      ...opt('duties', p.duties),
    },
    dataBreaches: {
      reportWithin: b.report_within,
      coordinator: b.coordinator,
      notifiesAuthority: b.notifies_authority,
      authorityWithin: b.authority_within,
      procedure: b.procedure,
    },
    supervision: {
      officers: raw.supervision.officers.map((o, n) => ({
        partner: o.partner,
        scope: o.scope,
        src: { file, path: ['agreement', 'supervision', 'officers', n] },
      })),
      arrangement: raw.supervision.arrangement,
    },
    src: { file, path: ['agreement'] },
  };
}

function buildLegalBases(file: string, raw: RawFile): LegalBasis[] {
  return Object.entries(raw.legal_bases ?? {}).map(([id, basis]) => ({
    id,
    citation: basis.citation,
    ...(basis.description === undefined ? {} : { description: basis.description }),
    permits: basis.permits,
    ...(basis.applies_to === undefined ? {} : { appliesTo: basis.applies_to }),
    ...(basis.exception === undefined ? {} : { exception: basis.exception }),
    src: { file, path: ['legal_bases', id] },
  }));
}

function buildPartner(file: string, index: number, raw: RawPartner): Partner {
  return {
    id: raw.id,
    name: raw.name,
    kind: raw.kind,
    purposes: raw.purposes,
    keys: {
      ...(raw.keys === undefined ? {} : { jwksFile: raw.keys }),
      ...(raw.jwks_uri === undefined ? {} : { jwksUri: raw.jwks_uri }),
    },
    ...(raw.contact === undefined ? {} : { contact: raw.contact }),
    signatories: (raw.signatories ?? []).map((s, i) => ({
      name: s.name,
      function: s.function,
      ...(s.place === undefined ? {} : { place: s.place }),
      ...(s.date === undefined ? {} : { date: s.date }),
      src: { file, path: ['partners', index, 'signatories', i] },
    })),
    src: { file, path: ['partners', index] },
  };
}

function buildPurpose(file: string, index: number, raw: RawPurpose): Purpose {
  const window = raw.emergency_access?.window;
  return {
    id: raw.id,
    name: raw.name,
    description: raw.description ?? '',
    legalBases: raw.legal_bases,
    retention: raw.retention,
    ...(raw.log_retention === undefined ? {} : { logRetention: raw.log_retention }),
    emergencyAccess: {
      allowed: raw.emergency_access?.allowed ?? false,
      ...(window === undefined ? {} : { window }),
    },
    involvementMatches: raw.involvement_matches ?? false,
    fieldHistory: raw.field_history ?? false,
    ...(raw.after_closing === undefined ? {} : { afterClosing: raw.after_closing }),
    src: { file, path: ['purposes', index] },
  };
}

/**
 * Sections may be spread over files (a partner's file can add its own section); their fields
 * are concatenated in file order. A field given twice stays twice here so that validation can
 * report both places.
 */
function mergeSections(files: { source: SourceFile; raw: RawFile }[]): Section[] {
  const sections = new Map<string, Section>();
  for (const { source, raw } of files) {
    for (const [sectionId, rawSection] of Object.entries(raw.catalogue ?? {})) {
      let section = sections.get(sectionId);
      if (!section) {
        section = {
          id: sectionId,
          ...(rawSection.description === undefined ? {} : { description: rawSection.description }),
          fields: [],
          src: { file: source.path, path: ['catalogue', sectionId] },
        };
        sections.set(sectionId, section);
      } else if (section.description === undefined && rawSection.description !== undefined) {
        section.description = rawSection.description;
      }
      for (const [name, field] of Object.entries(rawSection.fields ?? {})) {
        section.fields.push(buildField(source.path, sectionId, name, field));
      }
    }
  }
  return [...sections.values()];
}

function buildField(file: string, section: string, name: string, raw: RawField): CatalogueField {
  return {
    id: `${section}.${name}`,
    section,
    name,
    ...(raw.description === undefined ? {} : { description: raw.description }),
    sensitivity: raw.sensitivity,
    level: raw.level ?? 'case',
    type: raw.type ?? 'string',
    ...(raw.values === undefined ? {} : { values: raw.values }),
    src: { file, path: ['catalogue', section, 'fields', name] },
  };
}

function sectionDescriptionConflicts(files: { source: SourceFile; raw: RawFile }[]): Diagnostic[] {
  const first = new Map<string, { source: SourceFile; description: string }>();
  const diagnostics: Diagnostic[] = [];
  for (const { source, raw } of files) {
    for (const [sectionId, section] of Object.entries(raw.catalogue ?? {})) {
      if (section.description === undefined) continue;
      const earlier = first.get(sectionId);
      if (!earlier) first.set(sectionId, { source, description: section.description });
      else if (earlier.description !== section.description) {
        diagnostics.push({
          severity: 'error',
          code: 'conflicting-section-description',
          message: `Section '${sectionId}' is described differently at ${formatPosition(positionOf(earlier.source, ['catalogue', sectionId, 'description'], 'auto'))}; describe it once.`,
          position: positionOf(source, ['catalogue', sectionId, 'description'], 'auto'),
        });
      }
    }
  }
  return diagnostics;
}

/** A rule that cannot be modelled, with the place (inside the rule) to point at. */
interface RuleProblem {
  problem: Omit<Diagnostic, 'position'> & { path: YamlPath };
}

function buildRule(file: string, index: number, raw: RawRule): { rule: Rule } | RuleProblem {
  const effect = ruleEffect(raw);
  if ('problem' in effect) return effect;
  const legalBases = many(raw.legal_basis);
  const partnerKinds = many(raw.partner_kind);
  const when: RuleWhen = loadWhen(raw.when, effect.effect);
  const fields: FieldRef[] = (raw.fields ?? []).map((pattern, i) => ({
    pattern,
    src: { file, path: ['rules', index, 'fields', i] },
  }));
  return {
    rule: {
      id: raw.id,
      effect: effect.effect,
      actions: effect.actions,
      ...(raw.partner === undefined
        ? {}
        : { partners: raw.partner === '*' ? '*' : (many(raw.partner) ?? []) }),
      ...(partnerKinds === undefined ? {} : { partnerKinds }),
      purposes: raw.purpose === '*' ? '*' : (many(raw.purpose) ?? []),
      fields,
      when,
      ...(legalBases === undefined ? {} : { legalBases }),
      reason: raw.reason,
      src: { file, path: ['rules', index] },
    },
  };
}

function ruleEffect(raw: RawRule): { effect: Rule['effect']; actions: Action[] } | RuleProblem {
  if (raw.can !== undefined && raw.cannot !== undefined) {
    return {
      problem: {
        severity: 'error',
        code: 'can-and-cannot',
        message: `Rule '${raw.id}' has both 'can' and 'cannot'. A rule either allows or forbids: split it into two rules.`,
        path: ['cannot'],
      },
    };
  }
  if (raw.can !== undefined) return { effect: 'allow', actions: many(raw.can) ?? [] };
  if (raw.cannot !== undefined) return { effect: 'deny', actions: many(raw.cannot) ?? [] };
  return {
    problem: {
      severity: 'error',
      code: 'missing-can-or-cannot',
      message: `Rule '${raw.id}' says neither 'can' nor 'cannot'. Add 'can: read' (or write, manage) to allow, or 'cannot: …' to forbid.`,
      path: [],
    },
  };
}

function buildTest(file: string, index: number, raw: RawTest): PolicyTest {
  const refs = (key: 'read' | 'write' | 'deny' | 'deny_write'): FieldRef[] =>
    (raw.expect[key] ?? []).map((pattern, i) => ({
      pattern,
      src: { file, path: ['tests', index, 'expect', key, i] },
    }));
  return {
    name: raw.name,
    as: { partner: raw.as.partner, purpose: raw.as.purpose },
    case: {
      phase: raw.case.phase,
      participant: raw.case.participant ?? true,
      flags: raw.case.flags ?? [],
      emergency: raw.case.emergency ?? false,
    },
    ...(raw.person === undefined ? {} : { person: { role: raw.person.role } }),
    expect: {
      read: refs('read'),
      write: refs('write'),
      deny: refs('deny'),
      denyWrite: refs('deny_write'),
      ...(raw.expect.manage === undefined ? {} : { manage: raw.expect.manage }),
      ...(raw.expect.involvement_matches === undefined
        ? {}
        : { involvementMatches: raw.expect.involvement_matches }),
      ...(raw.expect.field_history === undefined ? {} : { fieldHistory: raw.expect.field_history }),
    },
    src: { file, path: ['tests', index] },
  };
}
