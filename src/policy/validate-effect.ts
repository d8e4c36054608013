/**
 * Warnings about rules that can never have an effect: unreachable rules, and allows that a deny
 * or an earlier allow always shadows.
 */
import { expandFieldPatterns, ruleAppliesTo, ruleTargetsPartner } from './match.js';
import { conditionsCover } from './conditions.js';
import type { Diagnostic, Rule } from './model.js';
import { type Context, list } from './validate-context.js';

// ---------------------------------------------------------------------------------------------
// Warnings: rules that can never have an effect
// ---------------------------------------------------------------------------------------------

/** Rules whose every reference resolves; the others are errors already, and judging them would repeat that. */
export function resolvable(ctx: Context, rule: Rule): boolean {
  const targets =
    (rule.partners === undefined) !== (rule.partnerKinds === undefined) &&
    (rule.partners === undefined ||
      rule.partners === '*' ||
      rule.partners.every((id) => ctx.partners.has(id))) &&
    (rule.partnerKinds ?? []).every((kind) => ctx.kinds.has(kind));
  const purposes = rule.purposes === '*' || rule.purposes.every((id) => ctx.purposes.has(id));
  return targets && purposes;
}

export function unreachableRules(ctx: Context): Diagnostic[] {
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
export function ineffectiveRules(ctx: Context): Diagnostic[] {
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
