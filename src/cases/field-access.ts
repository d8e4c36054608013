import {
  DENIED_BY_DEFAULT,
  Decisions,
  type CompiledConvenant,
  type Decision as EngineDecision,
  type FieldAction,
  type PersonRole,
  type Phase,
  type Verdict,
} from '../policy/index.js';

/**
 * The case endpoints' view of the policy engine: which fields a partner may read or write in a
 * situation, which rule decided each field, and under which legal basis. Every answer comes from
 * the engine's one decision pass (`Decisions`, src/policy/decide.ts), memoised per situation:
 * the same few situations (phase x role x flags) repeat on every request while the convenant
 * version stays the same. This class only shapes those verdicts for the access log.
 */

/** What a decision looks at, from the case as stored and the caller's emergency grant. */
export interface Situation {
  phase: Phase;
  participant: boolean;
  flags: readonly string[];
  /** Set for person-level fields; absent for case-level fields. */
  role?: PersonRole;
  /** The caller reads under a live emergency access grant (doorbraak); default false. */
  emergency?: boolean;
}

export interface Decision {
  allowed: boolean;
  ruleId: string | null;
  /** The rule's reason, or a sentence saying that no rule grants it. */
  reason: string;
  /** The deciding allow rule's legal bases, else the purpose's (ids, as in the convenant). */
  legalBasis: readonly string[];
}

/** Fields decided alike (same outcome, same rule): one access log entry each. */
export interface DecisionGroup extends Decision {
  fields: string[];
}

function decisionOf(
  d: Verdict,
  purposeBases: readonly string[],
  partner: string,
  purpose: string,
  action: string,
): Decision {
  return {
    allowed: d.allowed,
    ruleId: d.ruleId ?? null,
    reason:
      d.reason ?? `No rule of the convenant grants ${partner} ${action} under ${purpose} in this situation.`,
    // The log names the rule's own bases, else all of the purpose's (one entry covers fields of
    // several sensitivities, so it cannot name the per-sensitivity subset explain shows).
    legalBasis: d.allowed && d.basesFrom === 'rule' ? d.bases : purposeBases,
  };
}

export class FieldAccess {
  private readonly decisions: Decisions;
  private readonly candidates = new Map<string, readonly string[]>();

  constructor(readonly compiled: CompiledConvenant) {
    this.decisions = new Decisions(compiled);
  }

  /** The engine's one decision pass for this situation (memoised per situation key). */
  situation(partner: string, purpose: string, s: Situation): EngineDecision {
    return this.decisions.for({ partner, purpose, ...s });
  }

  /** The fields `action` is allowed on in this situation (throws a PolicyError for an unknown pair). */
  permitted(partner: string, purpose: string, action: FieldAction, s: Situation): ReadonlySet<string> {
    return this.situation(partner, purpose, s).allowed[action];
  }

  /** One field's decision with its rule, reason and legal basis. */
  decide(partner: string, purpose: string, action: FieldAction, s: Situation, fieldId: string): Decision {
    const d = this.situation(partner, purpose, s);
    return decisionOf(
      d.fields[action].get(fieldId) ?? DENIED_BY_DEFAULT,
      d.purposeBases,
      partner,
      purpose,
      action,
    );
  }

  /** `fields` grouped by outcome and deciding rule, in first-seen order. */
  group(
    partner: string,
    purpose: string,
    action: FieldAction,
    s: Situation,
    fields: readonly string[],
  ): DecisionGroup[] {
    const d = this.situation(partner, purpose, s);
    const verdicts = d.fields[action];
    const groups = new Map<string, DecisionGroup>();
    for (const field of fields) {
      const verdict = verdicts.get(field) ?? DENIED_BY_DEFAULT;
      const key = `${verdict.allowed ? 'allow' : 'deny'}\u0000${verdict.ruleId ?? ''}`;
      const group = groups.get(key);
      if (group) group.fields.push(field);
      else
        groups.set(key, {
          ...decisionOf(verdict, d.purposeBases, partner, purpose, action),
          fields: [field],
        });
    }
    return [...groups.values()];
  }

  /** Whether the case may be managed (participations, phase), with the deciding rule. */
  manage(partner: string, purpose: string, s: Omit<Situation, 'role'>): Decision {
    const d = this.situation(partner, purpose, s);
    return decisionOf(d.manage, d.purposeBases, partner, purpose, 'manage');
  }

  /**
   * Every field some allow rule for the pair names, in any situation: a superset of what any
   * request can be granted. The database read fetches only these, so values no rule could ever
   * grant to this partner never leave PostgreSQL; the exact decision is still `permitted`.
   */
  readCandidates(partner: string, purpose: string): readonly string[] {
    const key = `${partner}\u0000${purpose}`;
    let fields = this.candidates.get(key);
    if (!fields) {
      const rules = this.compiled.rulesFor(partner, purpose);
      fields = [
        ...new Set(
          rules.filter((r) => !r.inverted && r.action.includes('read')).flatMap((r) => r.fields ?? []),
        ),
      ];
      this.candidates.set(key, fields);
    }
    return fields;
  }

  /** The legal bases of a purpose (for entries no rule decided, such as a denied participation). */
  purposeLegalBasis(purpose: string): readonly string[] {
    return this.compiled.purpose(purpose).legalBases;
  }
}
