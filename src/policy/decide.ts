import {
  accessSubject,
  CASE_SUBJECT,
  ruleIdOf,
  type CompiledConvenant,
  type FieldAction,
} from './compile.js';
import type { PersonRole, Phase, Purpose, Sensitivity } from './model.js';

/**
 * One decision pass: for one subject (partner, purpose and the case's situation), every field's
 * decision for every field action, plus `manage`, each with its deciding rule, reason and legal
 * bases. The gateway, explain, the effective-access table (matrix, render, diff) and the inline
 * test runner all decide through here, so they cannot disagree.
 *
 * It gives exactly what CASL's `relevantRuleFor` gives per field and `permittedFieldsOf` gives
 * per subject (differentially tested in decide.spec.ts), but in one walk per action: each CASL
 * rule's conditions are matched once against the subject, and a field takes the highest-priority
 * matching rule that names it (deny rules and level guards come last in the file's rule list, so
 * they win: docs/casl.md trap 1). A field no rule matches is denied by default. Rules' fields are
 * literal after compile-time expansion (trap 7), so no field matcher is needed; the subject is
 * always a tagged object, never the type string (trap 8).
 */

/** What a decision looks at. Without `role` it decides case-level fields, with it person-level ones. */
export interface DecisionSubject {
  partner: string;
  purpose: string;
  phase: Phase;
  participant: boolean;
  /** Case flags set on the case, in any order. */
  flags?: readonly string[];
  /** The person's role, for person-level fields. */
  role?: PersonRole;
  /** A live emergency access grant (doorbraak). Default false. */
  emergency?: boolean;
}

export interface Verdict {
  allowed: boolean;
  /** The deciding rule (a convenant rule id or a built-in level guard id); absent when no rule matched. */
  ruleId?: string;
  /** The deciding rule's reason; absent when no rule matched. */
  reason?: string;
  /**
   * For a grant, the legal bases (ids) it rests on: the deciding rule's own when it names any
   * (`basesFrom: 'rule'`), else the purpose's bases that permit the field's sensitivity (for
   * `manage`: ordinary data). Empty for a refusal.
   */
  bases: readonly string[];
  basesFrom: 'rule' | 'purpose';
}

export interface Decision {
  /** The situation key this decision is for (see decisionKey). */
  readonly key: string;
  /** The subject as given; not copied, so callers must not change it afterwards. */
  subject: Readonly<DecisionSubject>;
  /** Every catalogue field, per field action. Fields of the other level are refused by a level guard. */
  fields: Readonly<Record<FieldAction, ReadonlyMap<string, Verdict>>>;
  /** The allowed fields per field action: what `permittedFields` answers. */
  allowed: Readonly<Record<FieldAction, ReadonlySet<string>>>;
  /** Whether the case itself may be managed (participations, phase). */
  manage: Verdict;
  /** The purpose's legal bases (ids), for entries that no rule decided. */
  purposeBases: readonly string[];
}

/** The key of a subject: equal keys mean equal decisions (flags are a set). */
export function decisionKey(s: DecisionSubject): string {
  const flags = s.flags && s.flags.length > 0 ? [...new Set(s.flags)].sort().join(',') : '';
  return [
    s.partner,
    s.purpose,
    s.phase,
    s.participant ? 'p' : '-',
    s.emergency === true ? 'e' : '-',
    flags,
    s.role ?? '',
  ].join('\u0000');
}

/** No rule matched: denied by default. Also the verdict for an id outside the catalogue. */
export const DENIED_BY_DEFAULT: Verdict = Object.freeze({
  allowed: false,
  bases: Object.freeze([]),
  basesFrom: 'purpose',
});

/**
 * Verdicts are shared per (CASL rule, sensitivity): a decision only holds references to them. A
 * CASL rule object belongs to one ability, so to one pair of one compiled version.
 */
const verdictMemo = new WeakMap<object, Map<Sensitivity, Verdict>>();

function verdictOf(
  compiled: CompiledConvenant,
  purpose: Purpose,
  rule: { inverted: boolean; reason?: string | undefined; origin: unknown },
  sensitivity: Sensitivity,
): Verdict {
  let bySensitivity = verdictMemo.get(rule);
  if (!bySensitivity) verdictMemo.set(rule, (bySensitivity = new Map<Sensitivity, Verdict>()));
  let verdict = bySensitivity.get(sensitivity);
  if (verdict) return verdict;
  const ruleId = ruleIdOf(rule.origin);
  const allowed = !rule.inverted;
  const own = allowed && ruleId !== undefined ? compiled.rule(ruleId)?.legalBases : undefined;
  const fromRule = own !== undefined && own.length > 0;
  verdict = Object.freeze({
    allowed,
    ...(ruleId !== undefined ? { ruleId } : {}),
    ...(rule.reason !== undefined ? { reason: rule.reason } : {}),
    bases: Object.freeze(
      !allowed ? [] : fromRule ? [...own] : permittingBases(compiled, purpose, sensitivity),
    ),
    basesFrom: fromRule ? 'rule' : 'purpose',
  });
  bySensitivity.set(sensitivity, verdict);
  return verdict;
}

/** The purpose's legal bases that permit data of this sensitivity. */
function permittingBases(compiled: CompiledConvenant, purpose: Purpose, sensitivity: Sensitivity): string[] {
  const bases = compiled.convenant.legalBases;
  return purpose.legalBases.filter((id) => bases.find((b) => b.id === id)?.permits.includes(sensitivity));
}

/**
 * Decides every field and `manage` for one subject in one pass. Throws a PolicyError for an
 * unknown or unregistered partner/purpose pair (fail closed), like `abilityFor`.
 */
export function decide(compiled: CompiledConvenant, s: DecisionSubject): Decision {
  const ability = compiled.abilityFor(s.partner, s.purpose);
  const purpose = compiled.purpose(s.purpose);
  const subject = accessSubject({
    phase: s.phase,
    participant: s.participant,
    flags: s.flags ?? [],
    emergency: s.emergency === true,
    ...(s.role !== undefined ? { role: s.role } : {}),
  });
  const catalogue = compiled.convenant.fields;
  // Conditions are matched once per rule and subject, whatever the number of actions or fields.
  const matched = new Map<object, boolean>();
  const matches = (rule: { matchesConditions(o: typeof subject): boolean }): boolean => {
    let m = matched.get(rule);
    if (m === undefined) matched.set(rule, (m = rule.matchesConditions(subject)));
    return m;
  };

  type CaslRule = ReturnType<typeof ability.possibleRulesFor>[number];
  interface ActionPass {
    /** The rules whose conditions hold, lowest priority first. */
    matched: CaslRule[];
    allowed: Set<string>;
    verdicts?: Map<string, Verdict>;
  }
  // Lowest priority first, each matching rule adding or removing what it names, exactly as
  // CASL's `permittedFieldsOf` walks them: so `allowed` holds the same fields in the same order.
  const walk = (action: FieldAction): ActionPass => {
    const matched: CaslRule[] = [];
    const allowed = new Set<string>();
    const rules = ability.possibleRulesFor(action, CASE_SUBJECT);
    for (let i = rules.length - 1; i >= 0; i--) {
      const rule = rules[i]!;
      if (!matches(rule)) continue;
      matched.push(rule);
      for (const id of rule.fields ?? catalogue.map((f) => f.id)) {
        if (rule.inverted) allowed.delete(id);
        else allowed.add(id);
      }
    }
    return { matched, allowed };
  };
  // Each field's verdict comes from its highest-priority matching rule (what `relevantRuleFor`
  // answers), taken from the rules already matched: no condition is evaluated again.
  const verdictsOf = (pass: ActionPass): Map<string, Verdict> => {
    const winners = new Map<string, CaslRule>();
    for (let i = pass.matched.length - 1; i >= 0; i--) {
      const rule = pass.matched[i]!;
      for (const id of rule.fields ?? catalogue.map((f) => f.id)) if (!winners.has(id)) winners.set(id, rule);
    }
    const verdicts = new Map<string, Verdict>();
    for (const field of catalogue) {
      const rule = winners.get(field.id);
      verdicts.set(
        field.id,
        rule ? verdictOf(compiled, purpose, rule, field.sensitivity) : DENIED_BY_DEFAULT,
      );
    }
    return verdicts;
  };
  // Each action is walked when first asked for, and verdicts are made only when asked for: the
  // effective-access table (matrix, render, diff) needs just the allowed sets, for thousands of
  // situations, and an inline test often just one action.
  const passes: Partial<Record<FieldAction, ActionPass>> = {};
  const pass = (action: FieldAction): ActionPass => (passes[action] ??= walk(action));
  const allowed: Record<FieldAction, ReadonlySet<string>> = {
    get read() {
      return pass('read').allowed;
    },
    get write() {
      return pass('write').allowed;
    },
  };
  const fields: Record<FieldAction, ReadonlyMap<string, Verdict>> = {
    get read() {
      const p = pass('read');
      return (p.verdicts ??= verdictsOf(p));
    },
    get write() {
      const p = pass('write');
      return (p.verdicts ??= verdictsOf(p));
    },
  };
  let manage: Verdict | undefined;
  const decideManage = (): Verdict => {
    // A check without a field: CASL's matchesField skips field-bound deny rules here, and so do we.
    const rule = ability
      .possibleRulesFor('manage', CASE_SUBJECT)
      .find((r) => (r.fields === undefined || !r.inverted) && matches(r));
    return rule ? verdictOf(compiled, purpose, rule, 'ordinary') : DENIED_BY_DEFAULT;
  };
  return {
    get key() {
      return decisionKey(s);
    },
    subject: s,
    fields,
    allowed,
    get manage() {
      return (manage ??= decideManage());
    },
    purposeBases: purpose.legalBases,
  };
}

/**
 * Decisions memoised per situation key for one compiled convenant: the request path meets the
 * same few situations (phase x role x flags) again and again while the version stays the same.
 * The situations are finite (phases x roles x declared flags), so the bound only guards against
 * surprises. Keep one per compiled convenant, so memoised decisions never outlive their version.
 */
export class Decisions {
  private readonly memo = new Map<string, Decision>();

  constructor(
    readonly compiled: CompiledConvenant,
    private readonly maxSituations = 20_000,
  ) {}

  for(s: DecisionSubject): Decision {
    const key = decisionKey(s);
    let d = this.memo.get(key);
    if (!d) {
      d = decide(this.compiled, s);
      if (this.memo.size >= this.maxSituations) this.memo.clear();
      this.memo.set(key, d);
    }
    return d;
  }
}
