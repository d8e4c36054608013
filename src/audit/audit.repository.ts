import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ChainFilter } from '../access-log/chain.repository.js';
import { SELECT_EVENT } from '../access-log/entry-description.js';
import { verifiableExportLines } from './verifiable-export.js';

/** Filters of an access log query, already validated; every one reaches SQL as a parameter. */
export interface EventFilter {
  from?: string;
  to?: string;
  caseId?: string;
  partner?: string;
  professional?: string;
  purpose?: string;
  outcome?: 'allowed' | 'denied';
  action?: string;
  field?: string;
  emergency?: boolean;
}

/** The keyset position of an entry: newest first, ties broken by seq. */
export interface EventPosition {
  occurredAt: string;
  seq: string;
}

export interface AuditEvent {
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
  outcome: 'allowed' | 'denied';
  ruleId: string | null;
  reason: string | null;
  policyVersion: string | null;
  emergency: boolean;
  /** The gateway-made identity of the request that left the entry (null before it existed). */
  requestId: string | null;
}

/**
 * An entry as the officers' API shows it, from the entry's one description
 * (src/access-log/entry-description.ts): microsecond UTC text, so a cursor keeps the exact
 * timestamp PostgreSQL compares with, and seq as text (a bigint exceeds a JS number): ORDER BY
 * must name access_log.seq, or it would sort the text alias and break the keyset.
 */
export { SELECT_EVENT };

/** The WHERE conditions of a filter; `p` adds a parameter and gives its placeholder. */
function filterConditions(filter: EventFilter, p: (value: unknown) => string): string[] {
  const where: string[] = [];
  if (filter.from !== undefined) where.push(`occurred_at >= ${p(filter.from)}::timestamptz`);
  if (filter.to !== undefined) where.push(`occurred_at < ${p(filter.to)}::timestamptz`);
  if (filter.caseId !== undefined) where.push(`case_id = ${p(filter.caseId)}::uuid`);
  if (filter.partner !== undefined) where.push(`partner = ${p(filter.partner)}`);
  if (filter.professional !== undefined) where.push(`professional = ${p(filter.professional)}`);
  if (filter.purpose !== undefined) where.push(`processing_activity_id = ${p(filter.purpose)}`);
  if (filter.outcome !== undefined) where.push(`status = ${p(filter.outcome)}`);
  if (filter.action !== undefined) where.push(`action = ${p(filter.action)}`);
  // Array containment, so the GIN index on fields serves it.
  if (filter.field !== undefined) where.push(`fields @> ARRAY[${p(filter.field)}]::text[]`);
  if (filter.emergency !== undefined) where.push(`emergency = ${p(filter.emergency)}`);
  return where;
}

function parameters(): { params: unknown[]; p: (value: unknown) => string } {
  const params: unknown[] = [];
  return {
    params,
    p: (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    },
  };
}

/** The SQL of an events query; every filter reaches it as a parameter (the benchmark EXPLAINs it). */
export function eventsQuery(
  filter: EventFilter,
  after: EventPosition | null,
  limit: number,
): { sql: string; params: unknown[] } {
  const { params, p } = parameters();
  const where = filterConditions(filter, p);
  if (after) {
    where.push(`(occurred_at, seq) < (${p(after.occurredAt)}::timestamptz, ${p(after.seq)}::bigint)`);
  }
  const sql = `SELECT ${SELECT_EVENT} FROM access_log
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY access_log.occurred_at DESC, access_log.seq DESC LIMIT ${p(limit)}`;
  return { sql, params };
}

export const TIMELINE_TIME_ZONE = 'Europe/Amsterdam';

/** One bucket and partner of a timeline, as counted by PostgreSQL. */
export interface TimelineRow {
  key: string;
  start: string;
  end: string;
  partner: string | null;
  allowed: number;
  denied: number;
}

/**
 * Counts per local bucket and partner, grouped in PostgreSQL: the same WHERE as the events query
 * (so the same indexes and partition pruning on occurred_at), then date_trunc in Amsterdam time,
 * so 23:30 UTC on a winter day counts for the next local day. Only counts leave the database.
 */
export function timelineQuery(
  filter: EventFilter,
  bucket: 'day' | 'hour',
): { sql: string; params: unknown[] } {
  const { params, p } = parameters();
  const where = filterConditions(filter, p);
  const unit = p(bucket);
  const zone = p(TIMELINE_TIME_ZONE);
  const step = p(`1 ${bucket}`);
  const iso = `'YYYY-MM-DD"T"HH24:MI:SS"Z"'`;
  const sql = `SELECT to_char(b.local, ${bucket === 'day' ? `'YYYY-MM-DD'` : `'YYYY-MM-DD HH24'`}) AS "key",
         to_char((b.local AT TIME ZONE ${zone}) AT TIME ZONE 'UTC', ${iso}) AS "start",
         to_char(((b.local + ${step}::interval) AT TIME ZONE ${zone}) AT TIME ZONE 'UTC', ${iso}) AS "end",
         b.partner, b.allowed::int AS "allowed", b.denied::int AS "denied"
    FROM (SELECT date_trunc(${unit}, occurred_at AT TIME ZONE ${zone}) AS local, partner,
                 count(*) FILTER (WHERE status = 'allowed') AS allowed,
                 count(*) FILTER (WHERE status = 'denied') AS denied
            FROM access_log
           ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
           GROUP BY 1, 2) b
   ORDER BY b.local, b.partner NULLS LAST`;
  return { sql, params };
}

/** Reads the access log for privacy officers. Read-only: the log is written by AccessLogRepository. */
@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  async events(filter: EventFilter, after: EventPosition | null, limit: number): Promise<AuditEvent[]> {
    const { sql, params } = eventsQuery(filter, after, limit);
    return this.dataSource.query<AuditEvent[]>(sql, params);
  }

  async timeline(filter: EventFilter, bucket: 'day' | 'hour'): Promise<TimelineRow[]> {
    const { sql, params } = timelineQuery(filter, bucket);
    return this.dataSource.query<TimelineRow[]>(sql, params);
  }

  /**
   * Every access to one person, oldest first, except the officers' own audit queries: the report
   * answers "who processed my data", and an officer looking up the person is not such an access.
   */
  async subjectAccesses(subjectRef: string): Promise<AuditEvent[]> {
    return this.dataSource.query<AuditEvent[]>(
      `SELECT ${SELECT_EVENT} FROM access_log
        WHERE data_subject_ref = $1 AND action <> 'audit'
        ORDER BY access_log.occurred_at, access_log.seq`,
      [subjectRef],
    );
  }

  /**
   * One batch of an export, oldest first by seq (the log's own order). Keyset batches instead of a
   * server-side cursor: no connection or transaction is held while a slow client reads, and each
   * batch is an indexed range scan, so memory stays at one batch whatever the range holds.
   */
  async exportBatch(
    range: { from?: string; to?: string; caseId?: string },
    afterSeq: string,
    limit: number,
  ): Promise<AuditEvent[]> {
    const params: unknown[] = [afterSeq, limit];
    const where = ['seq > $1::bigint'];
    if (range.from !== undefined) {
      params.push(range.from);
      where.push(`occurred_at >= $${params.length}::timestamptz`);
    }
    if (range.to !== undefined) {
      params.push(range.to);
      where.push(`occurred_at < $${params.length}::timestamptz`);
    }
    if (range.caseId !== undefined) {
      params.push(range.caseId);
      where.push(`case_id = $${params.length}::uuid`);
    }
    return this.dataSource.query<AuditEvent[]>(
      `SELECT ${SELECT_EVENT} FROM access_log WHERE ${where.join(' AND ')} ORDER BY access_log.seq LIMIT $2`,
      params,
    );
  }

  /** The verifiable NDJSON export's lines, streamed in keyset pages (see verifiable-export.ts). */
  verifiableExport(filter: ChainFilter): AsyncGenerator<string> {
    return verifiableExportLines(this.dataSource, filter);
  }
}
