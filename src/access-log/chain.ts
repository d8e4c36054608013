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
 * An entry as the verifier reads it from the database: PostgreSQL renders canonical(entry) itself
 * (CANONICAL_SELECT), so no entry object and no JSON.stringify per row in Node, which was the cost
 * of verifying from the database. Only seq and occurredAt are kept, for the verifier's report.
 */
export interface CanonicalEntry {
  seq: string;
  occurredAt: string;
  canonical: string;
}

/** What the chain can hash: the entry's fields, or its canonical text already rendered. */
export type HashableEntry = LoggedEntry | CanonicalEntry;

const OCCURRED_AT = `to_char(l.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const json = (sql: string) => `coalesce(to_json(${sql})::text, 'null')`;

/**
 * canonical(entry) rendered by PostgreSQL, byte for byte: to_json escapes strings as
 * JSON.stringify does (\" \\ \b \f \n \r \t, other control characters as lowercase \u00xx,
 * everything else as is), array_to_json writes arrays without spaces, and SQL NULL becomes null.
 * chain.spec.ts compares it with canonical() over random entries. The hash is still computed in
 * Node: a database that is being audited never vouches for its own hashes.
 */
export const CANONICAL_SELECT = `
  l.seq::text AS "seq", ${OCCURRED_AT} AS "occurredAt",
  '[' || ${[
    'l.seq::text',
    OCCURRED_AT,
    'l.trace_id',
    'l.partner',
    'l.professional',
    'l.processing_activity_id',
    'array_to_json(l.legal_basis)',
    'l.action',
    'l.case_id::text',
    'l.data_subject_ref',
    'array_to_json(l.fields)',
    'l.status',
    'l.rule_id',
    'l.reason',
    'l.policy_version',
    'l.emergency',
  ]
    .map(json)
    .join(` || ',' || `)} || ']' AS "canonical"`;

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
export function entryHash(prev: Uint8Array, entry: HashableEntry): Buffer {
  return hash('sha256', chainInput(prev, entry), 'buffer');
}

/** The same, as lowercase hex: what the verifier compares, without a second encoding step. */
export function entryHashHex(prev: Uint8Array, entry: HashableEntry): string {
  return hash('sha256', chainInput(prev, entry), 'hex');
}

function chainInput(prev: Uint8Array, entry: HashableEntry): Buffer {
  const text = 'canonical' in entry ? entry.canonical : canonical(entry);
  const input = Buffer.allocUnsafe(prev.length + Buffer.byteLength(text));
  input.set(prev, 0);
  input.write(text, prev.length, 'utf8');
  return input;
}
