import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SELECT_EVENT, type AuditEvent } from './audit.repository.js';

export type Judgement = 'lawful' | 'unlawful' | 'unclear';

export interface Review {
  seq: string;
  reviewedByPartner: string;
  reviewedBy: string;
  judgement: Judgement;
  comment: string;
  reviewedAt: string;
}

export interface ReviewQueueItem {
  entry: AuditEvent;
  review: Review | null;
}

const REVIEW_COLUMNS = `r.seq::text AS "seq", r.reviewed_by_partner AS "reviewedByPartner",
  r.reviewed_by AS "reviewedBy", r.judgement, r.comment,
  to_char(r.reviewed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "reviewedAt"`;

/** Emergency accesses that were allowed, and the officers' judgements of them. */
@Injectable()
export class EmergencyReviewRepository {
  constructor(private readonly dataSource: DataSource) {}

  async queue(status: 'pending' | 'reviewed', limit: number): Promise<ReviewQueueItem[]> {
    const rows = await this.dataSource.query<(AuditEvent & { review: Review | null })[]>(
      // Scalar subqueries, not a join: SELECT_EVENT names access_log's columns unqualified.
      `SELECT ${SELECT_EVENT},
              (SELECT json_build_object(
                 'seq', r.seq::text, 'reviewedByPartner', r.reviewed_by_partner, 'reviewedBy', r.reviewed_by,
                 'judgement', r.judgement, 'comment', r.comment,
                 'reviewedAt', to_char(r.reviewed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                 FROM emergency_review r WHERE r.seq = access_log.seq) AS review
         FROM access_log
        WHERE access_log.emergency AND access_log.status = 'allowed'
          AND ${status === 'pending' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM emergency_review r WHERE r.seq = access_log.seq)
        ORDER BY access_log.occurred_at, access_log.seq
        LIMIT $1`,
      [limit],
    );
    return rows.map(({ review, ...entry }) => ({ entry, review }));
  }

  /** The allowed emergency entry at `seq` and its review, or undefined when there is no such entry. */
  async find(seq: string): Promise<ReviewQueueItem | undefined> {
    const [entry] = await this.dataSource.query<AuditEvent[]>(
      `SELECT ${SELECT_EVENT} FROM access_log WHERE seq = $1::bigint AND emergency AND status = 'allowed'`,
      [seq],
    );
    if (!entry) return undefined;
    const [review] = await this.dataSource.query<Review[]>(
      `SELECT ${REVIEW_COLUMNS} FROM emergency_review r WHERE r.seq = $1::bigint`,
      [seq],
    );
    return { entry, review: review ?? null };
  }

  /** Records a judgement unless one exists; returns it, or undefined when the entry was already reviewed. */
  async insert(
    entry: AuditEvent,
    review: { partner: string; professional: string; judgement: Judgement; comment: string },
  ): Promise<Review | undefined> {
    const [row] = await this.dataSource.query<Review[]>(
      `WITH inserted AS (
         INSERT INTO emergency_review (seq, trace_id, reviewed_by_partner, reviewed_by, judgement, comment)
         VALUES ($1::bigint, $2, $3, $4, $5, $6)
         ON CONFLICT (seq) DO NOTHING
         RETURNING *)
       SELECT ${REVIEW_COLUMNS} FROM inserted r`,
      [entry.seq, entry.traceId, review.partner, review.professional, review.judgement, review.comment],
    );
    return row;
  }
}
