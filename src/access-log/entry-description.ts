/**
 * One description of an access log entry: its columns in access_log, their SQL types, the JSON
 * key each has in LoggedEntry, export lines and the officers' API (AuditEvent), how a reader
 * selects it as text, how the binary verifier reads it (canonical-bytes.ts), and, by its order,
 * its place in the canonical form the chain hashes (chain.ts canonical()). The INSERT's columns,
 * ENTRY_SELECT, SELECT_EVENT and the binary COPY's select list are derived from it here;
 * canonical() stays a hand-written fixed-order array because it runs once per entry while
 * verifying millions of them (docs/performance.md), and chain.spec.ts holds it to this order.
 *
 * Changing the canonical order or adding a column means a new canonical format (chain.ts
 * CanonicalFormat), recorded in each seal, never a silent change to an existing one.
 */

/** How the binary COPY reader writes a column into canonical bytes (canonical-bytes.ts). */
export type EntryColumnKind =
  'int8' | 'string' | 'array' | 'boolean' | 'timestamp' | 'uuid' | 'optional-uuid';

export interface EntryColumn {
  /** The key in LoggedEntry, AccessLogEntry and export lines. */
  key: string;
  /** The column in access_log. */
  column: string;
  sqlType: 'bigint' | 'timestamptz' | 'text' | 'text[]' | 'uuid' | 'boolean';
  /** Select expression over the table named `t` that gives the value as LoggedEntry holds it. */
  select: (t: string) => string;
  kind: EntryColumnKind;
  /** Written by the application's INSERT; seq and occurred_at come from the database alone. */
  inserted: boolean;
  /** The first canonical format that hashes it. */
  since: 1 | 2;
  /** The key in the officers' API where it differs (status is `outcome` there). */
  apiKey?: string;
}

/** UTC with microseconds, rendered by PostgreSQL, so every reader gets the same text. */
const UTC_MICROS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

const text = (key: string, column: string): EntryColumn => ({
  key,
  column,
  sqlType: 'text',
  select: (t) => `${t}.${column}`,
  kind: 'string',
  inserted: true,
  since: 1,
});
const textArray = (key: string, column: string): EntryColumn => ({
  ...text(key, column),
  sqlType: 'text[]',
  kind: 'array',
});

/** The entry's columns in canonical order. */
export const ENTRY_COLUMNS: readonly EntryColumn[] = [
  {
    key: 'seq',
    column: 'seq',
    sqlType: 'bigint',
    select: (t) => `${t}.seq::text`,
    kind: 'int8',
    inserted: false,
    since: 1,
  },
  {
    key: 'occurredAt',
    column: 'occurred_at',
    sqlType: 'timestamptz',
    select: (t) => `to_char(${t}.occurred_at AT TIME ZONE 'UTC', ${UTC_MICROS})`,
    kind: 'timestamp',
    inserted: false,
    since: 1,
  },
  text('traceId', 'trace_id'),
  text('partner', 'partner'),
  text('professional', 'professional'),
  // LDV's processing activity; the convenant's purpose (docs/ldv.md).
  text('purpose', 'processing_activity_id'),
  textArray('legalBasis', 'legal_basis'),
  text('action', 'action'),
  { ...text('caseId', 'case_id'), sqlType: 'uuid', select: (t) => `${t}.case_id::text`, kind: 'uuid' },
  text('dataSubjectRef', 'data_subject_ref'),
  textArray('fields', 'fields'),
  { ...text('status', 'status'), apiKey: 'outcome' },
  text('ruleId', 'rule_id'),
  text('reason', 'reason'),
  text('policyVersion', 'policy_version'),
  { ...text('emergency', 'emergency'), sqlType: 'boolean', kind: 'boolean' },
  // Format 2: present in the canonical form only when not null.
  {
    ...text('requestId', 'request_id'),
    sqlType: 'uuid',
    select: (t) => `${t}.request_id::text`,
    kind: 'optional-uuid',
    since: 2,
  },
];

/** The columns the application's INSERT names, in canonical order. */
export const INSERTED_COLUMNS = ENTRY_COLUMNS.filter((c) => c.inserted);

/** The entry as LoggedEntry, for `SELECT ${ENTRY_SELECT} FROM access_log l`. */
export const ENTRY_SELECT = ENTRY_COLUMNS.map((c) => `${c.select('l')} AS "${c.key}"`).join(', ');

/**
 * The entry as the officers' API shows it (AuditEvent), over access_log named as itself: the
 * audit queries name `access_log.seq` in their ORDER BY, so no alias here.
 */
export const SELECT_EVENT = ENTRY_COLUMNS.map(
  (c) => `${c.select('access_log')} AS "${c.apiKey ?? c.key}"`,
).join(', ');

/** The columns as stored, for a binary COPY that canonical-bytes.ts reads: seq, then the rest. */
export const COPY_ENTRY_SELECT = ENTRY_COLUMNS.map((c) => `l.${c.column}`).join(', ');
