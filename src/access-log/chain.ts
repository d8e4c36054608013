import { hash } from 'node:crypto';

/** The hash before the first entry: 32 zero bytes. */
export const GENESIS = Buffer.alloc(32);

/**
 * An access log row as stored, in the form the chain hashes. `seq` is text (bigint exceeds JS
 * numbers) and `occurredAt` is PostgreSQL's own rendering with microseconds (see ENTRY_SELECT): a JS
 * Date would drop the microseconds, and the hash would no longer match what is stored.
 */
export interface LoggedEntry {
  seq: string;
  occurredAt: string;
  traceId: string;
  partner: string | null;
  professional: string | null;
  purpose: string | null;
  legalBasis: string[];
  action: string;
  caseId: string | null;
  dataSubjectRef: string | null;
  fields: string[];
  status: string;
  ruleId: string | null;
  reason: string | null;
  policyVersion: string | null;
  emergency: boolean;
}

/**
 * Columns of access_log as LoggedEntry, for `SELECT ${ENTRY_SELECT} FROM access_log l`. The
 * timestamp is formatted in UTC by PostgreSQL so every reader gets the same text.
 */
export const ENTRY_SELECT = `
  l.seq::text AS "seq",
  to_char(l.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "occurredAt",
  l.trace_id AS "traceId", l.partner AS "partner", l.professional AS "professional",
  l.processing_activity_id AS "purpose", l.legal_basis AS "legalBasis", l.action AS "action",
  l.case_id::text AS "caseId", l.data_subject_ref AS "dataSubjectRef", l.fields AS "fields",
  l.status AS "status", l.rule_id AS "ruleId", l.reason AS "reason",
  l.policy_version AS "policyVersion", l.emergency AS "emergency"`;

/**
 * The bytes an entry contributes to the chain: a JSON array in a fixed column order. Fixed order
 * instead of a key sort keeps it fast (PERF-NOTES) and is unambiguous: JSON quoting separates the
 * values, arrays stay arrays, and null differs from "null". Adding a column means a new canonical
 * version, never a silent change to this one.
 */
export function canonical(e: LoggedEntry): string {
  return JSON.stringify([
    e.seq,
    e.occurredAt,
    e.traceId,
    e.partner,
    e.professional,
    e.purpose,
    e.legalBasis,
    e.action,
    e.caseId,
    e.dataSubjectRef,
    e.fields,
    e.status,
    e.ruleId,
    e.reason,
    e.policyVersion,
    e.emergency,
  ]);
}

/**
 * entry_hash = SHA-256(prev_hash || canonical(entry)). One buffer and the one-shot crypto.hash:
 * a Hash object per entry costs more than the SHA-256 itself (PERF-NOTES).
 */
export function entryHash(prev: Uint8Array, entry: LoggedEntry): Buffer {
  return hash('sha256', chainInput(prev, entry), 'buffer');
}

/** The same, as lowercase hex: what the verifier compares, without a second encoding step. */
export function entryHashHex(prev: Uint8Array, entry: LoggedEntry): string {
  return hash('sha256', chainInput(prev, entry), 'hex');
}

function chainInput(prev: Uint8Array, entry: LoggedEntry): Buffer {
  const text = canonical(entry);
  const input = Buffer.allocUnsafe(prev.length + Buffer.byteLength(text));
  input.set(prev, 0);
  input.write(text, prev.length, 'utf8');
  return input;
}
