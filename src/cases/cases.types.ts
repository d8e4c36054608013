/** What the case service takes and answers: its inputs and the views of cases and field values. */
import type { PersonRole, Phase } from '../policy/index.js';
import type { FieldValue } from './field-values.js';
import type { ParticipationView } from './participations.service.js';

export interface RegisterCaseInput {
  phase: Phase;
  flags?: string[];
  persons: { role: PersonRole; bsn?: string; fields?: Record<string, unknown> }[];
  fields?: Record<string, unknown>;
}

export interface ListCasesInput {
  phase?: Phase;
  limit?: number;
  cursor?: string;
}

export interface FieldValueInput {
  field: string;
  subjectRef?: string;
  value: unknown;
  reason?: string;
}

export interface FieldView {
  value: FieldValue;
  source: string;
  recordedAt: string;
}

export interface CaseView {
  id: string;
  reference: string;
  phase: Phase;
  policyVersion: string;
  participation: { participant: boolean; purpose: string; validUntil: string | null };
  /** Present only when read under a live emergency access grant (doorbraak). */
  emergencyAccess?: { until: string };
  fields: Record<string, FieldView>;
  /**
   * `role` is the person's role, or the convenant's general word for it when the role is withheld
   * from this reader (`roleGeneralised`; see src/cases/person-roles.ts).
   */
  persons: { subjectRef: string; role: string; roleGeneralised?: true; fields: Record<string, FieldView> }[];
}

export interface CaseSummary {
  id: string;
  reference: string;
  phase: Phase;
  openedAt: string;
}

export interface RegisteredCase extends CaseSummary {
  policyVersion: string;
  participation: ParticipationView;
  persons: { subjectRef: string; role: PersonRole }[];
}

export interface FieldHistory {
  field: string;
  subjectRef?: string;
  policyVersion: string;
  versions: (FieldView & { purpose: string; reason: string | null })[];
}
