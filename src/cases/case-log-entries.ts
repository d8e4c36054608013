/**
 * The access-log entries a case read or write produces (see CasesService): one per data subject
 * and deciding rule, or one naming no rule for a subject touched without fields.
 */
import type { AccessLogEntry } from '../access-log/access-log.types.js';
import type { Actor, CasePolicy, PolicyInForce } from './case-policy.js';
import type { PersonRow } from './cases.repository.js';
import type { Situation } from './field-access.js';
import type { Accepted } from './field-writes.js';

/**
 * One entry per data subject and deciding rule. A registration touches the case and every
 * person it creates, so each gets an entry even without fields; a contribution only the
 * subjects it wrote to.
 */
export function writeEntries(
  log: CasePolicy,
  actor: Actor,
  policy: PolicyInForce,
  caseId: string,
  situation: Omit<Situation, 'role'>,
  accepted: readonly Accepted[],
  persons: readonly PersonRow[],
  touched: 'all-subjects' | 'written-subjects',
): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  const caseFields = accepted.filter((a) => !a.person).map((a) => a.field.id);
  if (caseFields.length > 0 || touched === 'all-subjects') {
    entries.push(...subjectEntries(log, actor, policy, 'write', caseId, situation, null, caseFields));
  }
  for (const person of persons) {
    const fields = accepted.filter((a) => a.person?.id === person.id).map((a) => a.field.id);
    if (fields.length === 0 && touched === 'written-subjects') continue;
    entries.push(
      ...subjectEntries(
        log,
        actor,
        policy,
        'write',
        caseId,
        { ...situation, role: person.role },
        person,
        fields,
      ),
    );
  }
  return entries;
}

/**
 * Entries for fields of one subject (the case, or one person), grouped by deciding rule. With
 * no fields the subject was still touched (listed in the answer, or registered): one entry
 * that names no rule, under the purpose's legal bases.
 */
export function subjectEntries(
  log: CasePolicy,
  actor: Actor,
  policy: PolicyInForce,
  action: 'read' | 'write',
  caseId: string,
  situation: Situation,
  person: PersonRow | null,
  fields: readonly string[],
): AccessLogEntry[] {
  const where = { caseId, dataSubjectRef: person?.subjectRef ?? null };
  if (fields.length === 0) {
    return [
      log.entry(actor, policy, {
        action,
        ...where,
        fields: [],
        status: 'allowed',
        ruleId: null,
        reason: situation.emergency
          ? `Under emergency access (doorbraak) for ${actor.purpose}.`
          : `Takes part in the case for ${actor.purpose}.`,
        legalBasis: policy.access.purposeLegalBasis(actor.purpose),
      }),
    ];
  }
  return policy.access
    .group(actor.partner, actor.purpose, action, situation, fields)
    .map((group) => log.decided(actor, policy, action, where, group, group.fields));
}
