import {
  decideField,
  decideManage,
  permittedFields,
  type AccessSubject,
  type CompiledConvenant,
  type FieldAction,
  type PersonRole,
  type Phase,
} from '../policy/index.js';

/**
 * The case endpoints' view of the policy engine: which fields a partner may read or write in a
 * situation, which rule decided each field, and under which legal basis. Every answer comes from
 * the compiled convenant (`permittedFields` / `decideField` / `decideManage`); this class only
 * memoises them per situation, because the same few situations (phase x role x flags) repeat on
 * every request while the convenant version stays the same.
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

/** The situations are finite (phases x roles x declared flags), so this only guards against surprises. */
const MAX_CACHED_SITUATIONS = 20_000;

function subjectOf(s: Situation): AccessSubject {
  return {
    case: { phase: s.phase, participant: s.participant, flags: [...s.flags] },
    ...(s.role !== undefined ? { person: { role: s.role } } : {}),
    access: { emergency: s.emergency === true },
  };
}

function situationKey(partner: string, purpose: string, action: string, s: Situation): string {
  const flags = [...new Set(s.flags)].sort().join(',');
  return [
    partner,
    purpose,
    action,
    s.phase,
    s.participant ? 'p' : '-',
    s.emergency === true ? 'e' : '-',
    flags,
    s.role ?? '',
  ].join('\u0000');
}

interface CachedSituation {
  permitted: ReadonlySet<string>;
  decisions: Map<string, Decision>;
}

export class FieldAccess {
  private readonly situations = new Map<string, CachedSituation>();
  private readonly candidates = new Map<string, readonly string[]>();

  constructor(readonly compiled: CompiledConvenant) {}

  /** The fields `action` is allowed on in this situation (throws a PolicyError for an unknown pair). */
  permitted(partner: string, purpose: string, action: FieldAction, s: Situation): ReadonlySet<string> {
    return this.situation(partner, purpose, action, s).permitted;
  }

  /** One field's decision with its rule, reason and legal basis. */
  decide(partner: string, purpose: string, action: FieldAction, s: Situation, fieldId: string): Decision {
    const cached = this.situation(partner, purpose, action, s);
    let decision = cached.decisions.get(fieldId);
    if (!decision) {
      const ability = this.compiled.abilityFor(partner, purpose);
      const d = decideField(ability, action, subjectOf(s), fieldId);
      decision = this.complete(partner, purpose, action, d);
      cached.decisions.set(fieldId, decision);
    }
    return decision;
  }

  /** `fields` grouped by outcome and deciding rule, in first-seen order. */
  group(
    partner: string,
    purpose: string,
    action: FieldAction,
    s: Situation,
    fields: readonly string[],
  ): DecisionGroup[] {
    const groups = new Map<string, DecisionGroup>();
    for (const field of fields) {
      const d = this.decide(partner, purpose, action, s, field);
      const key = `${d.allowed ? 'allow' : 'deny'}\u0000${d.ruleId ?? ''}`;
      const group = groups.get(key);
      if (group) group.fields.push(field);
      else groups.set(key, { ...d, fields: [field] });
    }
    return [...groups.values()];
  }

  /** Whether the case may be managed (participations, phase), with the deciding rule. */
  manage(partner: string, purpose: string, s: Omit<Situation, 'role'>): Decision {
    const ability = this.compiled.abilityFor(partner, purpose);
    const d = decideManage(ability, subjectOf(s));
    return this.complete(partner, purpose, 'manage', d);
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

  private situation(partner: string, purpose: string, action: FieldAction, s: Situation): CachedSituation {
    const key = situationKey(partner, purpose, action, s);
    let cached = this.situations.get(key);
    if (!cached) {
      const ability = this.compiled.abilityFor(partner, purpose);
      cached = { permitted: new Set(permittedFields(ability, action, subjectOf(s))), decisions: new Map() };
      if (this.situations.size >= MAX_CACHED_SITUATIONS) this.situations.clear();
      this.situations.set(key, cached);
    }
    return cached;
  }

  private complete(
    partner: string,
    purpose: string,
    action: FieldAction | 'manage',
    d: { allowed: boolean; ruleId?: string; reason?: string },
  ): Decision {
    const rule = d.ruleId !== undefined ? this.compiled.rule(d.ruleId) : undefined;
    const ruleBases = d.allowed ? rule?.legalBases : undefined;
    return {
      allowed: d.allowed,
      ruleId: d.ruleId ?? null,
      reason:
        d.reason ??
        `No rule of the convenant grants ${partner} ${action} under ${purpose} in this situation.`,
      legalBasis: ruleBases && ruleBases.length > 0 ? ruleBases : this.purposeLegalBasis(purpose),
    };
  }
}
