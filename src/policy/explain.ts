import { FIELD_ACTIONS, PolicyError, type CompiledConvenant, type FieldAction } from './compile.js';
import { decide, type Decision, type Verdict } from './decide.js';
import { PERSON_ROLES, PHASES } from './model.js';
import type { CatalogueField, FieldLevel, PersonRole, Phase, Purpose, Sensitivity } from './model.js';

/**
 * Explains what one partner may do under one purpose, field by field, from the engine's one
 * decision pass (`decide`, the same one the gateway enforces) in every situation in scope: each
 * phase, and for person-level fields each role. Situations decided by the same rule are grouped.
 */

export interface ExplainQuery {
  partner: string;
  purpose: string;
  /** Only this phase; all phases when absent. */
  phase?: Phase;
  /** Only this role for person-level fields; all roles when absent. */
  role?: PersonRole;
  flags?: string[];
  emergency?: boolean;
  /** Whether the partner takes part in the case. Default true. */
  participant?: boolean;
}

export const NO_RULE_GRANTS = 'no rule grants it';

export interface LegalBasisRef {
  id: string;
  citation: string;
}

/** Where a rule decides: per phase, and for person-level fields the roles in that phase. */
export interface Situation {
  phase: Phase;
  roles?: PersonRole[];
}

export interface DecisionGroup {
  allowed: boolean;
  /** The deciding rule; absent when nothing grants it (denied by default). */
  ruleId?: string;
  /** The rule's reason, or NO_RULE_GRANTS. */
  reason: string;
  /** For grants: the rule's own legal bases, else the purpose's bases that permit the field's sensitivity. */
  legalBases?: LegalBasisRef[];
  where: Situation[];
}

export interface ActionExplanation {
  /** `allowed` in every situation in scope, `denied` in none, `partly` in between. */
  verdict: 'allowed' | 'partly' | 'denied';
  decisions: DecisionGroup[];
}

export interface FieldExplanation {
  field: string;
  section: string;
  level: FieldLevel;
  sensitivity: Sensitivity;
  read: ActionExplanation;
  write: ActionExplanation;
  /** No rule grants or denies it in any situation in scope: only the default applies. */
  deniedByDefault: boolean;
}

export interface Explanation {
  policyVersion: string;
  partner: { id: string; name: string; kind: string };
  purpose: {
    id: string;
    name: string;
    description: string;
    retention: string;
    emergencyAccess: Purpose['emergencyAccess'];
    involvementMatches: boolean;
    fieldHistory: boolean;
    legalBases: (LegalBasisRef & { permits: Sensitivity[] })[];
  };
  scope: { phases: Phase[]; roles: PersonRole[]; flags: string[]; emergency: boolean; participant: boolean };
  manage: ActionExplanation;
  fields: FieldExplanation[];
}

export class UnknownCaseFlagError extends PolicyError {
  readonly code = 'unknown-case-flag';
  constructor(
    readonly flag: string,
    readonly knownFlags: readonly string[],
  ) {
    super(`Unknown case flag '${flag}'. Known case flags: ${knownFlags.join(', ') || '(none)'}.`);
    this.name = 'UnknownCaseFlagError';
  }
}

interface Decided {
  situation: { phase: Phase; role?: PersonRole };
  decision: Verdict;
}

export function explain(compiled: CompiledConvenant, query: ExplainQuery): Explanation {
  const c = compiled.convenant;
  const partner = compiled.partner(query.partner);
  const purpose = compiled.purpose(query.purpose);
  const flags = query.flags ?? [];
  const knownFlags = c.caseFlags.map((f) => f.id);
  const unknownFlag = flags.find((f) => !knownFlags.includes(f));
  if (unknownFlag !== undefined) throw new UnknownCaseFlagError(unknownFlag, knownFlags);

  const scope = {
    phases: query.phase ? [query.phase] : [...PHASES],
    roles: query.role ? [query.role] : [...PERSON_ROLES],
    flags,
    emergency: query.emergency ?? false,
    participant: query.participant ?? true,
  };
  // One decision pass per situation in scope (phase, and phase x role), not one per field.
  const decisions = new Map<string, Decision>();
  const decisionIn = (phase: Phase, role?: PersonRole): Decision => {
    const key = `${phase}|${role ?? ''}`;
    let d = decisions.get(key);
    if (!d) {
      d = decide(compiled, {
        partner: query.partner,
        purpose: query.purpose,
        phase,
        participant: scope.participant,
        flags,
        emergency: scope.emergency,
        ...(role ? { role } : {}),
      });
      decisions.set(key, d);
    }
    return d;
  };
  const refs = (ids: readonly string[]): LegalBasisRef[] =>
    ids.map((id) => ({ id, citation: c.legalBases.find((b) => b.id === id)?.citation ?? id }));

  const explainField = (field: CatalogueField): FieldExplanation => {
    const situations: Decided['situation'][] =
      field.level === 'person'
        ? scope.phases.flatMap((phase) => scope.roles.map((role) => ({ phase, role })))
        : scope.phases.map((phase) => ({ phase }));
    const [read, write] = FIELD_ACTIONS.map((action: FieldAction) =>
      explainAction(
        situations.map((situation) => ({
          situation,
          decision: decisionIn(situation.phase, situation.role).fields[action].get(field.id)!,
        })),
        refs,
      ),
    ) as [ActionExplanation, ActionExplanation];
    return {
      field: field.id,
      section: field.section,
      level: field.level,
      sensitivity: field.sensitivity,
      read,
      write,
      deniedByDefault: [read, write].every((a) =>
        a.decisions.every((d) => !d.allowed && d.ruleId === undefined),
      ),
    };
  };

  return {
    policyVersion: compiled.version,
    partner: { id: partner.id, name: partner.name, kind: partner.kind },
    purpose: {
      id: purpose.id,
      name: purpose.name,
      description: purpose.description,
      retention: purpose.retention,
      emergencyAccess: purpose.emergencyAccess,
      involvementMatches: purpose.involvementMatches,
      fieldHistory: purpose.fieldHistory,
      legalBases: purpose.legalBases.map((id) => {
        const basis = c.legalBases.find((b) => b.id === id);
        return { id, citation: basis?.citation ?? id, permits: basis?.permits ?? [] };
      }),
    },
    scope,
    manage: explainAction(
      scope.phases.map((phase) => ({
        situation: { phase },
        decision: decisionIn(phase).manage,
      })),
      refs,
    ),
    fields: c.fields.map(explainField),
  };
}

/** Groups the situations by deciding rule, keeping first-seen order (phase order, then role order). */
function explainAction(
  decided: readonly Decided[],
  refs: (ids: readonly string[]) => LegalBasisRef[],
): ActionExplanation {
  const groups = new Map<string, DecisionGroup>();
  for (const { situation, decision } of decided) {
    const key = `${decision.allowed ? 'allow' : 'deny'}:${decision.ruleId ?? ''}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        allowed: decision.allowed,
        ...(decision.ruleId !== undefined ? { ruleId: decision.ruleId } : {}),
        reason: decision.reason ?? NO_RULE_GRANTS,
        ...(decision.allowed ? { legalBases: refs(decision.bases) } : {}),
        where: [],
      };
      groups.set(key, group);
    }
    addSituation(group.where, situation);
  }
  const decisions = [...groups.values()];
  const allowed = decided.filter((d) => d.decision.allowed).length;
  const verdict = allowed === 0 ? 'denied' : allowed === decided.length ? 'allowed' : 'partly';
  return { verdict, decisions };
}

function addSituation(where: Situation[], s: { phase: Phase; role?: PersonRole }): void {
  const last = where.at(-1);
  if (s.role === undefined) {
    where.push({ phase: s.phase });
  } else if (last?.phase === s.phase && last.roles) {
    last.roles.push(s.role);
  } else {
    where.push({ phase: s.phase, roles: [s.role] });
  }
}
