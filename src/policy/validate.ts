/**
 * Semantic checks on a loaded convenant: references resolve, ids are unique, every grant of
 * special-category data rests on a legal basis that permits it, and rules that can never have
 * an effect are pointed out. Each finding is a Diagnostic with a stable code and a plain
 * sentence, positioned at the item a jurist has to change.
 */
import {
  didYouMean,
  formatPosition,
  ISO_8601_DURATION,
  loadConvenantDir,
  loadConvenantSources,
  sortDiagnostics,
  type LoadResult,
} from './load.js';
import { basisAppliesTo } from './legal-basis.js';
import { expandFieldPattern, expandFieldPatterns, ruleAppliesTo, ruleTargetsPartner } from './match.js';
import type {
  Action,
  CatalogueField,
  Convenant,
  Diagnostic,
  FieldRef,
  LegalBasis,
  Partner,
  Purpose,
  Rule,
  RuleWhen,
  Sensitivity,
  SourceRef,
} from './model.js';

type Locate = LoadResult['locate'];

/** Loads and validates a convenant folder. `convenant` is null when anything is an error: fail closed. */
export function checkConvenantDir(dir: string): LoadResult {
  return checked(loadConvenantDir(dir));
}

/** The same checks on files already read (see readConvenantFolder). */
export function checkConvenantSources(dir: string, files: { path: string; text: string }[]): LoadResult {
  return checked(loadConvenantSources(dir, files));
}

function checked(loaded: LoadResult): LoadResult {
  const semantic = loaded.convenant ? validateConvenant(loaded.convenant, loaded.locate) : [];
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...semantic]);
  const failed = diagnostics.some((d) => d.severity === 'error');
  return { convenant: failed ? null : loaded.convenant, diagnostics, locate: loaded.locate };
}

/** `policies/x/40-rules.yaml:12:7 error unknown-field: …` */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.position ? `${formatPosition(d.position)} ` : '';
  return `${where}${d.severity} ${d.code}: ${d.message}`;
}

export function validateConvenant(c: Convenant, locate: Locate): Diagnostic[] {
  const ctx = context(c, locate);
  return [
    ...duplicateIds(ctx),
    ...c.partners.flatMap((p) => partnerProblems(ctx, p)),
    ...c.purposes.flatMap((p) => purposeProblems(ctx, p)),
    ...c.rules.flatMap((r) => ruleProblems(ctx, r)),
    ...c.tests.flatMap((t) => testProblems(ctx, t)),
    ...unreachableRules(ctx),
    ...ineffectiveRules(ctx),
    ...legalBasisProblems(ctx),
    ...aftercareProblems(ctx),
  ];
}

// ---------------------------------------------------------------------------------------------
// Context: lookups shared by every check
// ---------------------------------------------------------------------------------------------

interface Context {
  c: Convenant;
  partners: Map<string, Partner>;
  purposes: Map<string, Purpose>;
  bases: Map<string, LegalBasis>;
  flags: Set<string>;
  kinds: Set<string>;
  fields: Map<string, CatalogueField>;
  sections: Set<string>;
  /** A diagnostic at `src`, or at a child of it (YAML keys and indexes below src.path). */
  report(
    severity: Diagnostic['severity'],
    code: string,
    message: string,
    src: SourceRef,
    ...below: (string | number)[]
  ): Diagnostic;
  where(src: SourceRef, ...below: (string | number)[]): string;
}

function context(c: Convenant, locate: Locate): Context {
  const byId = <T extends { id: string }>(items: readonly T[]): Map<string, T> => {
    const map = new Map<string, T>();
    for (const item of items) if (!map.has(item.id)) map.set(item.id, item);
    return map;
  };
  const child = (src: SourceRef, below: (string | number)[]): SourceRef => ({
    file: src.file,
    path: [...src.path, ...below],
  });
  return {
    c,
    partners: byId(c.partners),
    purposes: byId(c.purposes),
    bases: byId(c.legalBases),
    flags: new Set(c.caseFlags.map((f) => f.id)),
    kinds: new Set(c.partners.map((p) => p.kind)),
    fields: byId(c.fields),
    sections: new Set(c.sections.map((s) => s.id)),
    report: (severity, code, message, src, ...below) => ({
      severity,
      code,
      message,
      position: locate(child(src, below)),
    }),
    where: (src, ...below) => formatPosition(locate(child(src, below))),
  };
}

// ---------------------------------------------------------------------------------------------
// Duplicates
// ---------------------------------------------------------------------------------------------

function duplicateIds(ctx: Context): Diagnostic[] {
  const { c } = ctx;
  return [
    ...duplicates(ctx, c.partners, (p) => p.id, 'duplicate-partner', 'Partner'),
    ...duplicates(ctx, c.purposes, (p) => p.id, 'duplicate-purpose', 'Purpose'),
    ...duplicates(ctx, c.legalBases, (b) => b.id, 'duplicate-legal-basis', 'Legal basis'),
    ...duplicates(ctx, c.caseFlags, (f) => f.id, 'duplicate-case-flag', 'Case flag'),
    ...duplicates(ctx, c.fields, (f) => f.id, 'duplicate-field', 'Field'),
    ...duplicates(ctx, c.rules, (r) => r.id, 'duplicate-rule', 'Rule'),
    ...duplicates(ctx, c.tests, (t) => t.name, 'duplicate-test', 'Test'),
  ];
}

/** Reports every later occurrence of an id, naming where it was first given. */
function duplicates<T extends { src: SourceRef }>(
  ctx: Context,
  items: readonly T[],
  idOf: (item: T) => string,
  code: string,
  noun: string,
): Diagnostic[] {
  const first = new Map<string, T>();
  const found: Diagnostic[] = [];
  for (const item of items) {
    const id = idOf(item);
    const earlier = first.get(id);
    if (!earlier) first.set(id, item);
    else
      found.push(
        ctx.report(
          'error',
          code,
          `${noun} '${id}' is given twice: first at ${ctx.where(earlier.src)}. Each must be unique; remove or rename one.`,
          item.src,
        ),
      );
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Partners and purposes
// ---------------------------------------------------------------------------------------------

function partnerProblems(ctx: Context, partner: Partner): Diagnostic[] {
  // Keys (one of 'keys' and 'jwks_uri') are the schema's to check: see KEY_CHOICES in load.ts.
  const found: Diagnostic[] = [];
  partner.purposes.forEach((id, i) => {
    if (!ctx.purposes.has(id))
      found.push(unknownReference(ctx, 'purpose', id, `Partner '${partner.id}'`, partner.src, 'purposes', i));
  });
  return found;
}

function purposeProblems(ctx: Context, purpose: Purpose): Diagnostic[] {
  const found: Diagnostic[] = [];
  purpose.legalBases.forEach((id, i) => {
    if (!ctx.bases.has(id))
      found.push(
        unknownReference(ctx, 'legal-basis', id, `Purpose '${purpose.id}'`, purpose.src, 'legal_bases', i),
      );
  });
  const bases = purpose.legalBases.map((id) => ctx.bases.get(id));
  // With an unknown basis the jurist may have meant an art. 6 one; that error is reported already.
  if (bases.every((b) => b !== undefined) && !bases.some((b) => b.permits.includes('ordinary'))) {
    found.push(
      ctx.report(
        'error',
        'purpose-without-ordinary-basis',
        `Purpose '${purpose.id}' has no legal basis that permits ordinary personal data (${purpose.legalBases.join(', ') || 'none given'}). Every purpose needs an AVG art. 6 basis; an art. 9 or 10 exception alone is not enough.`,
        purpose.src,
        'legal_bases',
      ),
    );
  }
  if (purpose.retention === '') {
    found.push(
      ctx.report(
        'error',
        'missing-retention',
        `Purpose '${purpose.id}' has no retention period. Add 'retention' as an ISO-8601 duration, e.g. P5Y.`,
        purpose.src,
      ),
    );
  } else if (!ISO_8601_DURATION.test(purpose.retention)) {
    found.push(
      ctx.report(
        'error',
        'invalid-retention',
        `Purpose '${purpose.id}' has retention '${purpose.retention}', which is not an ISO-8601 duration; write e.g. P5Y (5 years) or P18M (18 months).`,
        purpose.src,
        'retention',
      ),
    );
  }
  const window = purpose.emergencyAccess.window;
  if (window !== undefined && !ISO_8601_DURATION.test(window)) {
    found.push(
      ctx.report(
        'error',
        'invalid-emergency-window',
        `Purpose '${purpose.id}' has emergency window '${window}', which is not an ISO-8601 duration; write e.g. PT60M (60 minutes).`,
        purpose.src,
        'emergency_access',
        'window',
      ),
    );
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

function ruleProblems(ctx: Context, rule: Rule): Diagnostic[] {
  return [
    ...ruleTargetProblems(ctx, rule),
    ...ruleFieldProblems(ctx, rule),
    ...ruleReferenceProblems(ctx, rule),
    ...ruleLegalBasisProblems(ctx, rule),
    ...sensitivityProblems(ctx, rule),
    ...conditionProblems(ctx, rule),
  ];
}

function ruleTargetProblems(ctx: Context, rule: Rule): Diagnostic[] {
  const found: Diagnostic[] = [];
  const label = `Rule '${rule.id}'`;
  if (rule.partners !== undefined && rule.partnerKinds !== undefined) {
    found.push(
      ctx.report(
        'error',
        'partner-and-partner-kind',
        `${label} has both 'partner' and 'partner_kind'; give one of them.`,
        rule.src,
        'partner_kind',
      ),
    );
  } else if (rule.partners === undefined && rule.partnerKinds === undefined) {
    found.push(
      ctx.report(
        'error',
        'missing-partner',
        `${label} says neither 'partner' nor 'partner_kind', so it addresses nobody. Add 'partner: <id>' (or "*") or 'partner_kind: <kind>'.`,
        rule.src,
      ),
    );
  }
  if (Array.isArray(rule.partners)) {
    rule.partners.forEach((id, i) => {
      if (!ctx.partners.has(id)) {
        found.push(
          ctx.report(
            'error',
            'unknown-partner',
            `${label} names partner '${id}', which is not declared.${didYouMean(id, ctx.partners.keys())}`,
            rule.src,
            'partner',
            i,
          ),
        );
      }
    });
  }
  rule.partnerKinds?.forEach((kind, i) => {
    if (!ctx.kinds.has(kind)) {
      found.push(
        ctx.report(
          'error',
          'unknown-partner-kind',
          `${label} names partner kind '${kind}', but no partner is of that kind (kinds in use: ${[...ctx.kinds].join(', ') || 'none'}).${didYouMean(kind, ctx.kinds)}`,
          rule.src,
          'partner_kind',
          i,
        ),
      );
    }
  });
  if (Array.isArray(rule.purposes)) {
    rule.purposes.forEach((id, i) => {
      if (!ctx.purposes.has(id))
        found.push(unknownReference(ctx, 'purpose', id, label, rule.src, 'purpose', i));
    });
  }
  return found;
}

function ruleFieldProblems(ctx: Context, rule: Rule): Diagnostic[] {
  const found: Diagnostic[] = [];
  const label = `Rule '${rule.id}'`;
  const fieldActions = rule.actions.filter((a) => a !== 'manage');
  if (fieldActions.length === 0 && rule.fields.length > 0) {
    found.push(
      ctx.report(
        'error',
        'fields-with-manage',
        `${label} only ${rule.effect === 'allow' ? 'allows' : 'forbids'} 'manage', which applies to the case itself and takes no fields. Remove 'fields', or add read or write.`,
        rule.src,
        'fields',
      ),
    );
  }
  if (fieldActions.length > 0 && rule.fields.length === 0) {
    const verb = rule.effect === 'allow' ? 'allows' : 'forbids';
    found.push(
      ctx.report(
        'error',
        'missing-fields',
        `${label} ${verb} ${verbs(fieldActions)} but lists no 'fields'. Name the fields it applies to (e.g. plan.*).`,
        rule.src,
      ),
    );
  }
  found.push(...rule.fields.flatMap((ref) => fieldRefProblems(ctx, ref, label)));
  return found;
}

function ruleReferenceProblems(ctx: Context, rule: Rule): Diagnostic[] {
  const label = `Rule '${rule.id}'`;
  const found: Diagnostic[] = [];
  rule.legalBases?.forEach((id, i) => {
    if (!ctx.bases.has(id))
      found.push(unknownReference(ctx, 'legal-basis', id, label, rule.src, 'legal_basis', i));
  });
  rule.when.caseFlags?.forEach((flag, i) => {
    if (!ctx.flags.has(flag))
      found.push(unknownReference(ctx, 'case-flag', flag, label, rule.src, 'when', 'case.flag', i));
  });
  return found;
}

/** A rule's own legal bases must be bases of every purpose it is used under. */
function ruleLegalBasisProblems(ctx: Context, rule: Rule): Diagnostic[] {
  const found: Diagnostic[] = [];
  const purposes = purposesUsed(ctx, rule);
  rule.legalBases?.forEach((id, i) => {
    if (!ctx.bases.has(id)) return;
    const outside = purposes.filter((p) => !p.legalBases.includes(id));
    if (outside.length === 0) return;
    found.push(
      ctx.report(
        'error',
        'legal-basis-not-in-purpose',
        `Rule '${rule.id}' relies on legal basis '${id}', but ${list(outside.map((p) => `'${p.id}'`))} ${outside.length === 1 ? 'does' : 'do'} not list it among ${outside.length === 1 ? 'its' : 'their'} legal bases. Add it to the purpose or name one of the purpose's bases.`,
        rule.src,
        'legal_basis',
        i,
      ),
    );
  });
  return found;
}

/**
 * The core legal check: a grant of a special-category field (health, criminal, BSN, geheim
 * adres) needs a basis that permits that sensitivity, among the bases the rule relies on
 * (its own `legal_basis`, or else all of its purpose's).
 */
function sensitivityProblems(ctx: Context, rule: Rule): Diagnostic[] {
  const granted = rule.actions.filter((a) => a !== 'manage');
  if (rule.effect !== 'allow' || granted.length === 0) return [];
  const found: Diagnostic[] = [];
  for (const purpose of purposesUsed(ctx, rule)) {
    const basisIds = rule.legalBases
      ? rule.legalBases.filter((id) => purpose.legalBases.includes(id))
      : purpose.legalBases;
    const bases = basisIds.map((id) => ctx.bases.get(id));
    // Unknown bases and bases outside the purpose are reported on their own; judging
    // sensitivities against an incomplete list would only repeat that error.
    if (basisIds.length === 0 || !bases.every((b) => b !== undefined)) continue;
    const permitted = new Set(bases.flatMap((b) => b.permits));
    for (const ref of rule.fields) {
      const bySensitivity = new Map<Sensitivity, string[]>();
      for (const id of expandFieldPattern(ref.pattern, ctx.c.fields)) {
        const field = ctx.fields.get(id);
        if (!field || field.sensitivity === 'ordinary' || permitted.has(field.sensitivity)) continue;
        bySensitivity.set(field.sensitivity, [...(bySensitivity.get(field.sensitivity) ?? []), id]);
      }
      for (const [sensitivity, ids] of bySensitivity) {
        const words = SENSITIVITY_WORDS[sensitivity];
        const whose = rule.legalBases ? 'the legal bases it relies on' : 'its legal bases';
        found.push(
          ctx.report(
            'error',
            'sensitivity-not-permitted',
            `Rule '${rule.id}' lets ${addressees(rule)} ${verbs(granted)} ${list(ids)} (${words.long}) under purpose '${purpose.id}', but none of ${whose} (${basisIds.join(', ')}) permits ${words.short}. Add a basis that permits it (${words.remedy}) or remove the field${ids.length === 1 ? '' : 's'}.`,
            ref.src,
          ),
        );
      }
    }
  }
  return found;
}

function conditionProblems(ctx: Context, rule: Rule): Diagnostic[] {
  const found: Diagnostic[] = [];
  if (rule.when.personRole !== undefined) {
    const caseLevel = expandFieldPatterns(
      rule.fields.map((f) => f.pattern),
      ctx.c.fields,
    ).filter((id) => ctx.fields.get(id)?.level === 'case');
    if (caseLevel.length > 0) {
      const consequence =
        rule.effect === 'deny' ? 'this deny would never hold for them' : 'they would never be granted';
      found.push(
        ctx.report(
          'error',
          'role-condition-on-case-field',
          `Rule '${rule.id}' has a person.role condition, but ${list(caseLevel)} ${caseLevel.length === 1 ? 'is a case-level field' : 'are case-level fields'}: they belong to no person, so ${consequence}. Remove the condition or move those fields to another rule.`,
          rule.src,
          'when',
          'person.role',
        ),
      );
    }
  }
  if (rule.when.emergency === true) {
    // Under "*" the rule is fine as long as some purpose it reaches allows emergency access.
    const listed = rule.purposes === '*' ? reachablePurposes(ctx, rule) : purposesUsed(ctx, rule);
    const closed = listed.filter((p) => !p.emergencyAccess.allowed);
    const wrong = rule.purposes === '*' && closed.length < listed.length ? [] : closed;
    if (wrong.length > 0) {
      found.push(
        ctx.report(
          'error',
          'emergency-not-allowed',
          `Rule '${rule.id}' applies only under emergency access, but purpose ${list(wrong.map((p) => `'${p.id}'`))} ${wrong.length === 1 ? 'does' : 'do'} not allow emergency access. Allow it in the purpose ('emergency_access: { allowed: true }') or remove 'emergency'.`,
          rule.src,
          'when',
          'emergency',
        ),
      );
    }
  }
  return found;
}

/** The declared purposes under which a rule reaches at least one partner. */
function reachablePurposes(ctx: Context, rule: Rule): Purpose[] {
  return [...ctx.purposes.values()].filter((purpose) =>
    ctx.c.partners.some((partner) => ruleAppliesTo(rule, partner, purpose.id)),
  );
}

/**
 * The declared purposes a rule is judged under: those it lists, or for "*" those where it can
 * take effect: where it reaches a partner and, for an emergency rule, where emergency access
 * exists (elsewhere it never fires, so it grants nothing there).
 */
function purposesUsed(ctx: Context, rule: Rule): Purpose[] {
  if (rule.purposes !== '*') return rule.purposes.flatMap((id) => ctx.purposes.get(id) ?? []);
  const reachable = reachablePurposes(ctx, rule);
  return rule.when.emergency ? reachable.filter((p) => p.emergencyAccess.allowed) : reachable;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

function testProblems(ctx: Context, test: Convenant['tests'][number]): Diagnostic[] {
  const label = `Test '${test.name}'`;
  const found: Diagnostic[] = [];
  if (!ctx.partners.has(test.as.partner)) {
    found.push(
      ctx.report(
        'error',
        'unknown-partner',
        `${label} acts as partner '${test.as.partner}', which is not declared.${didYouMean(test.as.partner, ctx.partners.keys())}`,
        test.src,
        'as',
        'partner',
      ),
    );
  }
  if (!ctx.purposes.has(test.as.purpose))
    found.push(unknownReference(ctx, 'purpose', test.as.purpose, label, test.src, 'as', 'purpose'));
  const partner = ctx.partners.get(test.as.partner);
  // The gateway refuses such a token before any rule is asked, so the test could only fail.
  if (partner && ctx.purposes.has(test.as.purpose) && !partner.purposes.includes(test.as.purpose)) {
    found.push(
      ctx.report(
        'error',
        'test-purpose-not-registered',
        `${label} acts as '${partner.id}' under purpose '${test.as.purpose}', but that partner may not act under it (its purposes: ${partner.purposes.join(', ') || 'none'}). Add the purpose to the partner, or test under one of its purposes.`,
        test.src,
        'as',
        'purpose',
      ),
    );
  }
  test.case.flags.forEach((flag, i) => {
    if (!ctx.flags.has(flag))
      found.push(unknownReference(ctx, 'case-flag', flag, label, test.src, 'case', 'flags', i));
  });
  const { read, write, deny, denyWrite } = test.expect;
  found.push(
    ...[...read, ...write, ...deny, ...denyWrite].flatMap((ref) => fieldRefProblems(ctx, ref, label)),
  );
  return found;
}

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

function fieldRefProblems(ctx: Context, ref: FieldRef, owner: string): Diagnostic[] {
  const { pattern } = ref;
  if (expandFieldPattern(pattern, ctx.c.fields).length > 0) return [];
  if (pattern === '*') {
    return [
      ctx.report(
        'error',
        'wildcard-matches-nothing',
        `${owner} names every field ('*'), but the catalogue has no fields yet.`,
        ref.src,
      ),
    ];
  }
  if (pattern.endsWith('.*')) {
    const section = pattern.slice(0, -2);
    const message = ctx.sections.has(section)
      ? `${owner} names '${pattern}', but section '${section}' has no fields, so it matches nothing.`
      : `${owner} names '${pattern}', but there is no section '${section}' in the catalogue, so it matches nothing.${didYouMean(section, ctx.sections)}`;
    return [ctx.report('error', 'wildcard-matches-nothing', message, ref.src)];
  }
  return [
    ctx.report(
      'error',
      'unknown-field',
      `${owner} names field '${pattern}', which is not in the catalogue.${didYouMean(pattern, ctx.fields.keys())}`,
      ref.src,
    ),
  ];
}

const UNKNOWN_REFERENCES = {
  purpose: { code: 'unknown-purpose', noun: 'purpose', where: 'declared' },
  'legal-basis': { code: 'unknown-legal-basis', noun: 'legal basis', where: 'declared under legal_bases' },
  'case-flag': { code: 'unknown-case-flag', noun: 'case flag', where: 'declared under case_flags' },
} as const;

/** "Rule 'x' names purpose 'y', which is not declared. Did you mean …?" for any kind of reference. */
function unknownReference(
  ctx: Context,
  kind: keyof typeof UNKNOWN_REFERENCES,
  id: string,
  owner: string,
  src: SourceRef,
  ...below: (string | number)[]
): Diagnostic {
  const { code, noun, where } = UNKNOWN_REFERENCES[kind];
  const known = { purpose: ctx.purposes.keys(), 'legal-basis': ctx.bases.keys(), 'case-flag': ctx.flags }[
    kind
  ];
  return ctx.report(
    'error',
    code,
    `${owner} names ${noun} '${id}', which is not ${where}.${didYouMean(id, known)}`,
    src,
    ...below,
  );
}

// ---------------------------------------------------------------------------------------------
// Warnings: rules that can never have an effect
// ---------------------------------------------------------------------------------------------

/** Rules whose every reference resolves; the others are errors already, and judging them would repeat that. */
function resolvable(ctx: Context, rule: Rule): boolean {
  const targets =
    (rule.partners === undefined) !== (rule.partnerKinds === undefined) &&
    (rule.partners === undefined ||
      rule.partners === '*' ||
      rule.partners.every((id) => ctx.partners.has(id))) &&
    (rule.partnerKinds ?? []).every((kind) => ctx.kinds.has(kind));
  const purposes = rule.purposes === '*' || rule.purposes.every((id) => ctx.purposes.has(id));
  return targets && purposes;
}

function unreachableRules(ctx: Context): Diagnostic[] {
  return ctx.c.rules.flatMap((rule) => {
    if (rule.when.phase?.length === 0 || rule.when.personRole?.length === 0) {
      const key = rule.when.phase?.length === 0 ? 'phase' : 'person.role';
      return [
        ctx.report(
          'warning',
          'unreachable-rule',
          `Rule '${rule.id}' never applies: its '${key}' list is empty, so no case matches. Name at least one, or remove the condition.`,
          rule.src,
          'when',
          key,
        ),
      ];
    }
    if (!resolvable(ctx, rule) || applicablePairs(ctx, rule).length > 0) return [];
    return [
      ctx.report(
        'warning',
        'unreachable-rule',
        `Rule '${rule.id}' never applies: no partner it addresses is registered for ${rule.purposes === '*' ? 'any purpose' : `purpose ${list(rule.purposes.map((p) => `'${p}'`))}`}. A rule only applies to a partner for the purposes in that partner's 'purposes'.`,
        rule.src,
      ),
    ];
  });
}

/** What a rule allows or forbids, as tokens: `manage`, `read zorg.diagnose`, … */
function ruleEffects(ctx: Context, rule: Rule): Set<string> {
  const fields = expandFieldPatterns(
    rule.fields.map((f) => f.pattern),
    ctx.c.fields,
  );
  const tokens = new Set<string>();
  for (const action of rule.actions) {
    if (action === 'manage') {
      // A field-limited deny does not stop managing the case; only a field-less one does.
      if (rule.effect === 'allow' || rule.fields.length === 0) tokens.add('manage');
    } else {
      for (const field of fields) tokens.add(`${action} ${field}`);
    }
  }
  return tokens;
}

/** The (partner, purpose) pairs a rule applies to, as `partner purpose` keys. */
function applicablePairs(ctx: Context, rule: Rule): string[] {
  return ctx.c.partners.flatMap((partner) =>
    ruleTargetsPartner(rule, partner)
      ? partner.purposes
          .filter((purpose) => ruleAppliesTo(rule, partner, purpose))
          .map((purpose) => `${partner.id} ${purpose}`)
      : [],
  );
}

/**
 * Whether `general` holds in every situation where `specific` holds, judged on the conditions
 * alone: then a rule with `general` conditions is in force whenever one with `specific` is.
 */
function conditionsCover(general: RuleWhen, specific: RuleWhen): boolean {
  const within = <T>(outer: readonly T[] | undefined, inner: readonly T[] | undefined): boolean =>
    outer === undefined || (inner !== undefined && inner.every((v) => outer.includes(v)));
  return (
    (general.participant === 'any' || specific.participant === true) &&
    within(general.phase, specific.phase) &&
    within(general.personRole, specific.personRole) &&
    (general.caseFlags ?? []).every((flag) => (specific.caseFlags ?? []).includes(flag)) &&
    (general.emergency === undefined || specific.emergency === true)
  );
}

interface RuleFacts {
  rule: Rule;
  index: number;
  effects: Set<string>;
  pairs: Set<string>;
}

/**
 * Shadowed allows (every effect is overridden by denies in force whenever the allow is) and
 * redundant allows (another allow grants all of it whenever it applies). Both are judged per
 * (partner, purpose) pair, on rules whose references resolve and which apply somewhere.
 */
function ineffectiveRules(ctx: Context): Diagnostic[] {
  const facts: RuleFacts[] = ctx.c.rules
    .map((rule, index) => ({
      rule,
      index,
      effects: ruleEffects(ctx, rule),
      pairs: new Set(applicablePairs(ctx, rule)),
    }))
    .filter(
      (f) =>
        resolvable(ctx, f.rule) &&
        f.pairs.size > 0 &&
        f.effects.size > 0 &&
        f.rule.when.phase?.length !== 0 &&
        f.rule.when.personRole?.length !== 0,
    );
  const allows = facts.filter((f) => f.rule.effect === 'allow');
  const denies = facts.filter((f) => f.rule.effect === 'deny');
  return allows.flatMap((allow) => {
    const shadowing = shadowingDenies(allow, denies);
    if (shadowing) {
      return [
        ctx.report(
          'warning',
          'shadowed-rule',
          `Rule '${allow.rule.id}' never has an effect: ${list(shadowing.map((d) => `'${d.rule.id}'`))} ${shadowing.length === 1 ? 'forbids' : 'forbid'} everything it allows, whenever it applies. Remove it, or narrow the deny.`,
          allow.rule.src,
        ),
      ];
    }
    const covering = allows.find(
      (other) => covers(other, allow) && !(covers(allow, other) && allow.index < other.index),
    );
    if (!covering) return [];
    return [
      ctx.report(
        'warning',
        'redundant-rule',
        `Rule '${allow.rule.id}' adds nothing: rule '${covering.rule.id}' (${ctx.where(covering.rule.src)}) already allows all of it, whenever this rule applies. Remove one of them.`,
        allow.rule.src,
      ),
    ];
  });
}

/** The denies that together override all of `allow`, or undefined if something gets through. */
function shadowingDenies(allow: RuleFacts, denies: readonly RuleFacts[]): RuleFacts[] | undefined {
  const inForce = denies.filter((d) => conditionsCover(d.rule.when, allow.rule.when));
  const used = new Set<RuleFacts>();
  for (const pair of allow.pairs) {
    const here = inForce.filter((d) => d.pairs.has(pair));
    for (const effect of allow.effects) {
      const deny = here.find((d) => d.effects.has(effect));
      if (!deny) return undefined;
      used.add(deny);
    }
  }
  return [...used];
}

/** Whether `general` (an allow) grants everything `specific` does, wherever and whenever it does. */
function covers(general: RuleFacts, specific: RuleFacts): boolean {
  if (general === specific || !conditionsCover(general.rule.when, specific.rule.when)) return false;
  for (const pair of specific.pairs) if (!general.pairs.has(pair)) return false;
  for (const effect of specific.effects) if (!general.effects.has(effect)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Legal bases: to whom they apply, the exception for special categories, BSN for signals
// ---------------------------------------------------------------------------------------------

/** All checks on who may rely on which basis; kept together so the section can be read (and merged) as one. */
function legalBasisProblems(ctx: Context): Diagnostic[] {
  return [
    ...ctx.c.legalBases.flatMap((b) => basisDeclarationProblems(ctx, b)),
    ...ctx.c.partners.flatMap((p) => partnerPurposeBasisProblems(ctx, p)),
    ...ctx.c.rules.flatMap((r) => ruleBasisApplicabilityProblems(ctx, r)),
    ...ctx.c.purposes.flatMap((p) => signalBasisProblems(ctx, p)),
  ];
}

/** `applies_to` names kinds in use; a basis for health or criminal data names its exception. */
function basisDeclarationProblems(ctx: Context, basis: LegalBasis): Diagnostic[] {
  const found: Diagnostic[] = [];
  basis.appliesTo?.forEach((kind, i) => {
    if (ctx.kinds.has(kind)) return;
    found.push(
      ctx.report(
        'error',
        'unknown-partner-kind',
        `Legal basis '${basis.id}' applies to partner kind '${kind}', but no partner is of that kind (kinds in use: ${[...ctx.kinds].join(', ') || 'none'}).${didYouMean(kind, ctx.kinds)}`,
        basis.src,
        'applies_to',
        i,
      ),
    );
  });
  const special = basis.permits.filter((s) => s === 'health' || s === 'criminal');
  if (special.length > 0 && (basis.exception ?? '').trim() === '') {
    found.push(
      ctx.report(
        'error',
        'special-basis-without-exception',
        `Legal basis '${basis.id}' permits ${list(special.map((s) => SENSITIVITY_WORDS[s].short))}, which the AVG forbids unless an exception applies. Name it in 'exception': the AVG art. 9 lid 2 or art. 10 ground with its UAVG article.`,
        basis.src,
      ),
    );
  }
  return found;
}

const kindOf = (bases: readonly LegalBasis[]): string =>
  list(bases.map((b) => `${b.id} (${b.appliesTo ? `only ${list(b.appliesTo)}` : 'any partner'})`));

/** A partner can act under a purpose only if at least one of the purpose's bases applies to its kind. */
function partnerPurposeBasisProblems(ctx: Context, partner: Partner): Diagnostic[] {
  return partner.purposes.flatMap((id, i) => {
    const purpose = ctx.purposes.get(id);
    if (!purpose) return [];
    const bases = purpose.legalBases.flatMap((b) => ctx.bases.get(b) ?? []);
    if (bases.length < purpose.legalBases.length || bases.some((b) => basisAppliesTo(b, partner.kind)))
      return [];
    return [
      ctx.report(
        'error',
        'purpose-basis-not-for-partner',
        `Partner '${partner.id}' (kind ${partner.kind}) acts under purpose '${id}', but none of its legal bases applies to partners of kind ${partner.kind}: ${kindOf(bases)}. Add a basis that applies to it, or remove the purpose from the partner.`,
        partner.src,
        'purposes',
        i,
      ),
    ];
  });
}

/**
 * A grant rests on the bases the rule cites (or else its purpose's); for each partner it
 * reaches, only those that apply to the partner's kind count. None left: the partner has no
 * basis at all. Left, but none permits a special field the full list would: that field has no
 * basis for this partner. (A field no basis permits at all is `sensitivity-not-permitted`.)
 */
function ruleBasisApplicabilityProblems(ctx: Context, rule: Rule): Diagnostic[] {
  if (rule.effect !== 'allow' || !resolvable(ctx, rule)) return [];
  const found: Diagnostic[] = [];
  const granted = rule.actions.filter((a) => a !== 'manage');
  for (const purpose of purposesUsed(ctx, rule)) {
    const ids = rule.legalBases
      ? rule.legalBases.filter((id) => purpose.legalBases.includes(id))
      : purpose.legalBases;
    const bases = ids.map((id) => ctx.bases.get(id));
    if (ids.length === 0 || !bases.every((b) => b !== undefined)) continue;
    const partners = ctx.c.partners.filter((p) => ruleAppliesTo(rule, p, purpose.id));
    const without = partners.filter((p) => !bases.some((b) => basisAppliesTo(b, p.kind)));
    const at: (string | number)[] = rule.legalBases ? ['legal_basis'] : [];
    if (without.length > 0) {
      found.push(
        ctx.report(
          'error',
          'legal-basis-not-for-partner',
          `Rule '${rule.id}' grants ${partnerWords(without)} under purpose '${purpose.id}' on ${kindOf(bases)}, which ${bases.length === 1 ? 'does' : 'do'} not apply to ${without.length === 1 ? 'that partner' : 'those partners'}. Name a basis that applies to ${without.length === 1 ? 'it' : 'them'}, or take ${without.length === 1 ? 'it' : 'them'} out of the rule.`,
          rule.src,
          ...at,
        ),
      );
    }
    if (granted.length === 0) continue;
    const permittedByAll = new Set(bases.flatMap((b) => b.permits));
    for (const ref of rule.fields) {
      for (const id of expandFieldPattern(ref.pattern, ctx.c.fields)) {
        const field = ctx.fields.get(id);
        if (!field || field.sensitivity === 'ordinary' || !permittedByAll.has(field.sensitivity)) continue;
        const lacking = partners.filter(
          (p) =>
            !without.includes(p) &&
            !bases.some((b) => basisAppliesTo(b, p.kind) && b.permits.includes(field.sensitivity)),
        );
        if (lacking.length === 0) continue;
        const words = SENSITIVITY_WORDS[field.sensitivity];
        const permitting = bases.filter((b) => b.permits.includes(field.sensitivity));
        found.push(
          ctx.report(
            'error',
            'legal-basis-not-for-partner',
            `Rule '${rule.id}' lets ${partnerWords(lacking)} ${verbs(granted)} ${id} (${words.long}) under purpose '${purpose.id}', but the basis for ${words.short} (${kindOf(permitting)}) does not apply to ${lacking.length === 1 ? 'that partner' : 'those partners'}. Name a basis that applies to ${lacking.length === 1 ? 'it' : 'them'}, or take ${lacking.length === 1 ? 'it' : 'them'} out of the rule.`,
            ref.src,
          ),
        );
        break;
      }
    }
  }
  return found;
}

/**
 * The verwijsindex hashes a BSN under the caller's purpose; a purpose that discloses involvement
 * matches is meant for that, so it needs a basis that permits processing the BSN (UAVG art. 46).
 * Partners of a kind no such basis applies to are warned about: the gateway refuses their signals.
 */
function signalBasisProblems(ctx: Context, purpose: Purpose): Diagnostic[] {
  if (!purpose.involvementMatches) return [];
  const bases = purpose.legalBases.flatMap((id) => ctx.bases.get(id) ?? []);
  const bsn = bases.filter((b) => b.permits.includes('bsn'));
  if (bsn.length === 0) {
    return [
      ctx.report(
        'error',
        'signals-without-bsn-basis',
        `Purpose '${purpose.id}' lets partners signal involvement with a person by BSN (involvement_matches), but none of its legal bases (${purpose.legalBases.join(', ')}) permits processing the BSN. Add a BSN basis (e.g. Wabb art. 10 jo. UAVG art. 46) or remove involvement_matches.`,
        purpose.src,
        'involvement_matches',
      ),
    ];
  }
  return ctx.c.partners
    .filter((p) => p.purposes.includes(purpose.id) && !bsn.some((b) => basisAppliesTo(b, p.kind)))
    .map((p) =>
      ctx.report(
        'warning',
        'signals-not-for-partner',
        `Partner '${p.id}' (kind ${p.kind}) acts under purpose '${purpose.id}', which matches signals by BSN, but no BSN basis of that purpose applies to it (${kindOf(bsn)}): the gateway will refuse its signals.`,
        p.src,
        'purposes',
        p.purposes.indexOf(purpose.id),
      ),
    );
}

/** "dock (welzijn)", "dock (welzijn) and fier (opvang)". */
function partnerWords(partners: readonly Partner[]): string {
  return list(partners.map((p) => `${p.id} (${p.kind})`));
}

// ---------------------------------------------------------------------------------------------
// Aftercare after closing
// ---------------------------------------------------------------------------------------------

function aftercareProblems(ctx: Context): Diagnostic[] {
  return ctx.c.purposes.flatMap((purpose) => {
    const window = purpose.afterClosing;
    if (window === undefined) return [];
    if (!ISO_8601_DURATION.test(window) || !/[1-9]/.test(window)) {
      return [
        ctx.report(
          'error',
          'invalid-after-closing',
          `Purpose '${purpose.id}' has after_closing '${window}', which is not a positive ISO-8601 duration; write e.g. P1Y (one year) or P6M (six months).`,
          purpose.src,
          'after_closing',
        ),
      ];
    }
    const days = (d: string): number => {
      const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(
        d,
      );
      if (!m) return Number.NaN;
      const n = m.slice(1).map((x) => Number(x ?? 0));
      return n[0]! * 365 + n[1]! * 30 + n[2]! * 7 + n[3]! + (n[4]! * 3600 + n[5]! * 60 + n[6]!) / 86400;
    };
    if (days(window) > days(purpose.retention)) {
      return [
        ctx.report(
          'error',
          'after-closing-beyond-retention',
          `Purpose '${purpose.id}' keeps its participations ${window} after closing, longer than its retention (${purpose.retention}), which also runs from the closing: data recorded in aftercare would be removed while aftercare goes on. Shorten after_closing or lengthen retention.`,
          purpose.src,
          'after_closing',
        ),
      ];
    }
    const reaches = ctx.c.rules.some(
      (r) =>
        r.effect === 'allow' &&
        (r.purposes === '*' || r.purposes.includes(purpose.id)) &&
        (r.when.phase === undefined || r.when.phase.includes('afgesloten')),
    );
    if (reaches) return [];
    return [
      ctx.report(
        'warning',
        'after-closing-without-rule',
        `Purpose '${purpose.id}' keeps its participations after closing (after_closing: ${window}), but no rule under it applies in phase afgesloten, so they grant nothing. Add a rule for phase afgesloten or remove after_closing.`,
        purpose.src,
        'after_closing',
      ),
    ];
  });
}

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

const SENSITIVITY_WORDS: Record<Sensitivity, { long: string; short: string; remedy: string }> = {
  ordinary: {
    long: 'ordinary personal data',
    short: 'ordinary personal data',
    remedy: 'an AVG art. 6 basis',
  },
  bsn: {
    long: 'BSN, UAVG art. 46',
    short: 'the BSN',
    remedy: 'a BSN basis such as UAVG art. 46 or the Wabb',
  },
  health: { long: 'health data, AVG art. 9', short: 'health data', remedy: 'an AVG art. 9(2) exception' },
  criminal: {
    long: 'criminal-law data, AVG art. 10',
    short: 'criminal-law data',
    remedy: 'an AVG art. 10 / UAVG art. 33 basis',
  },
  'confidential-address': {
    long: 'confidential address, geheim adres',
    short: 'confidential addresses',
    remedy: 'an explicit basis for confidential addresses',
  },
};

/** "wijkteam", "vtrr and politie", "every partner", "partners of kind zorg". */
function addressees(rule: Rule): string {
  if (rule.partners === '*') return 'every partner';
  if (rule.partners) return list(rule.partners);
  return `partners of kind ${list(rule.partnerKinds ?? [])}`;
}

function verbs(actions: readonly Action[]): string {
  return list(actions.filter((a) => a !== 'manage'));
}

/** "a", "a and b", "a, b and c". */
function list(items: readonly string[]): string {
  const last = items[items.length - 1];
  if (items.length <= 1 || last === undefined) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${last}`;
}
