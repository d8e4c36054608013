/**
 * A contribution's values on their way in (see CasesService): each proposed value checked against
 * the catalogue and the convenant, and the accepted ones turned into rows, with a BSN encrypted.
 */
import type { InvalidParam } from '../common/problem.js';
import type { CatalogueField } from '../policy/index.js';
import type { BsnCipher } from './bsn.js';
import type { Actor, PolicyInForce } from './case-policy.js';
import type { NewValue, PersonRow } from './cases.repository.js';
import type { Decision, Situation } from './field-access.js';
import { fieldValueProblem, isFieldValue, type FieldValue } from './field-values.js';
import { roleView } from './person-roles.js';

/** A value someone wants to write, located in the request, before it is checked. */
export interface Proposal {
  pointer: string;
  fieldId: string;
  /** The person it is about; null for a case-level value. */
  person: PersonRow | null;
  value: unknown;
  reason: string | null;
}

export interface Accepted {
  pointer: string;
  field: CatalogueField;
  person: PersonRow | null;
  value: FieldValue;
  reason: string | null;
}

export interface Refused {
  pointer: string;
  fieldId: string;
  person: PersonRow | null;
  /** The person's role as this writer may be shown it (src/cases/person-roles.ts). */
  shownRole?: string;
  decision: Decision;
}

export interface Checked {
  accepted: Accepted[];
  malformed: InvalidParam[];
  refused: Refused[];
}

/** Checks every proposal against the catalogue and the convenant; collects all problems at once. */
export function checkProposals(
  actor: Actor,
  policy: PolicyInForce,
  situation: Omit<Situation, 'role'>,
  proposals: readonly Proposal[],
): Checked {
  const out: Checked = { accepted: [], malformed: [], refused: [] };
  const seen = new Set<string>();
  const shown = roleView(policy.compiled.convenant, policy.access, actor.partner, actor.purpose, situation);
  for (const p of proposals) {
    const field = policy.compiled.field(p.fieldId);
    if (!field) {
      out.malformed.push({
        pointer: p.pointer,
        detail: `${p.fieldId} is not a field in the data catalogue.`,
      });
      continue;
    }
    if (field.level === 'person' && !p.person) {
      out.malformed.push({
        pointer: p.pointer,
        detail: `${p.fieldId} is a person-level field: give it for a person (subjectRef).`,
      });
      continue;
    }
    if (field.level === 'case' && p.person) {
      out.malformed.push({
        pointer: p.pointer,
        detail: `${p.fieldId} is a case-level field: give it without a person.`,
      });
      continue;
    }
    const key = `${p.person?.id ?? ''}\u0000${p.fieldId}`;
    if (seen.has(key)) {
      out.malformed.push({
        pointer: p.pointer,
        detail: `${p.fieldId} is given twice for the same ${p.person ? 'person' : 'case'}.`,
      });
      continue;
    }
    seen.add(key);
    const decision = policy.access.decide(
      actor.partner,
      actor.purpose,
      'write',
      p.person ? { ...situation, role: p.person.role } : situation,
      p.fieldId,
    );
    if (!decision.allowed) {
      out.refused.push({
        pointer: p.pointer,
        fieldId: p.fieldId,
        person: p.person,
        ...(p.person ? { shownRole: shown(p.person.role).role } : {}),
        decision,
      });
      continue;
    }
    const problem = fieldValueProblem(field, p.value);
    if (problem !== undefined || !isFieldValue(p.value)) {
      out.malformed.push({
        pointer: p.pointer,
        detail: problem ?? `${p.fieldId} has a value of the wrong type.`,
      });
      continue;
    }
    out.accepted.push({ pointer: p.pointer, field, person: p.person, value: p.value, reason: p.reason });
  }
  return out;
}

export function newValueRows(
  bsn: BsnCipher,
  actor: Actor,
  caseId: string,
  accepted: readonly Accepted[],
): NewValue[] {
  return accepted.map((a) => {
    const common = {
      caseId,
      personId: a.person?.id ?? null,
      field: a.field.id,
      sourcePartner: actor.partner,
      recordedBy: actor.professional,
      purpose: actor.purpose,
      reason: a.reason,
    };
    if (a.field.sensitivity === 'bsn' && typeof a.value === 'string') {
      // Bound to the person (or case) it belongs to: a copied ciphertext does not decrypt elsewhere.
      return {
        ...common,
        encrypted: bsn.encrypt(a.value, a.person?.id ?? caseId),
        hash: bsn.hash(a.value),
      };
    }
    return { ...common, value: a.value };
  });
}
