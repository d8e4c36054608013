/**
 * Semantic checks on legal bases (to whom they apply, the exception for special categories, BSN
 * for signals) and on aftercare after a case is closed.
 */
import { didYouMean, ISO_8601_DURATION } from './load.js';
import { basisAppliesTo } from './legal-basis.js';
import { expandFieldPattern, ruleAppliesTo } from './match.js';
import type { Diagnostic, LegalBasis, Partner, Purpose, Rule } from './model.js';
import { type Context, SENSITIVITY_WORDS, list, verbs } from './validate-context.js';
import { purposesUsed } from './validate-rules.js';
import { resolvable } from './validate-effect.js';

// ---------------------------------------------------------------------------------------------
// Legal bases: to whom they apply, the exception for special categories, BSN for signals
// ---------------------------------------------------------------------------------------------

/** All checks on who may rely on which basis; kept together so the section can be read (and merged) as one. */
export function legalBasisProblems(ctx: Context): Diagnostic[] {
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

export function aftercareProblems(ctx: Context): Diagnostic[] {
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
