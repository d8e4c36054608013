/**
 * The actions the access log records. `authenticate` covers token requests; `list` case listings;
 * `audit` a privacy officer's query of the log itself (the log column has no CHECK on actions);
 * `emergency-access` a claim of emergency access (doorbraak); `signal` an involvement signal or
 * the disclosure of its matches (verwijsindex); `retention` the removal of case data whose
 * retention period has passed; `purge` a retention run removing expired log entries.
 */
export type AccessAction =
  | 'authenticate'
  | 'list'
  | 'read'
  | 'write'
  | 'manage'
  | 'history'
  | 'audit'
  | 'emergency-access'
  | 'signal'
  | 'retention'
  | 'purge';

/** Counts a request's entries once they are committed (request-log.ts); never stored. */
export interface RequestTally {
  committed: number;
}

/** One access log entry before it is written: one per access per data subject touched. */
export interface AccessLogEntry {
  /** The gateway-made identity of the request (request-log.ts); null for work no request asked for (retention runs). */
  requestId: string | null;
  /** The W3C trace id, the caller's when it sent one: recorded, never trusted. */
  traceId: string;
  /** The request's tally, counted up when this entry commits. */
  tally?: RequestTally;
  /** The partner as authenticated; for a refused token, the partner it claimed (or null). */
  partner: string | null;
  professional: string | null;
  /** The purpose (Logboek: processing activity). */
  purpose: string | null;
  legalBasis: readonly string[];
  action: AccessAction;
  caseId: string | null;
  /** Pseudonymous reference of the person, never a BSN; null for case-level access. */
  dataSubjectRef: string | null;
  /** Catalogue field ids touched; never values. */
  fields: readonly string[];
  status: 'allowed' | 'denied';
  /** The deciding convenant rule, if one decided. */
  ruleId: string | null;
  /** Why: the rule's reason, or the refusal in a sentence. */
  reason: string | null;
  policyVersion: string | null;
  emergency: boolean;
}
