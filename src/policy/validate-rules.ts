/**
 * Semantic checks on each rule (targets, fields, references, legal bases, sensitivity, conditions)
 * and on the references rules and tests make to fields, partners and purposes.
 */
import { didYouMean } from './load.js';
import { expandFieldPattern, expandFieldPatterns, ruleAppliesTo } from './match.js';
import type { Diagnostic, FieldRef, Purpose, Rule, Sensitivity, SourceRef } from './model.js';
import { type Context, SENSITIVITY_WORDS, addressees, list, verbs } from './validate-context.js';

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

export function ruleProblems(ctx: Context, rule: Rule): Diagnostic[] {
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
export function purposesUsed(ctx: Context, rule: Rule): Purpose[] {
  if (rule.purposes !== '*') return rule.purposes.flatMap((id) => ctx.purposes.get(id) ?? []);
  const reachable = reachablePurposes(ctx, rule);
  return rule.when.emergency ? reachable.filter((p) => p.emergencyAccess.allowed) : reachable;
}

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

export function fieldRefProblems(ctx: Context, ref: FieldRef, owner: string): Diagnostic[] {
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
export function unknownReference(
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
