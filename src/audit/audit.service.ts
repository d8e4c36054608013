import { Inject, Injectable, Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import { LogUnavailableError } from '../access-log/access-log.errors.js';
import { AccessLogRepository } from '../access-log/access-log.repository.js';
import { AccessLogSealer } from '../access-log/access-log.sealer.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { decodeKeysetCursor, encodeKeysetCursor } from '../common/keyset-cursor.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import type { Actor } from '../kernel/actor.js';
import { DEFAULT_EVENTS_PAGE, MAX_TIMELINE_BUCKETS, type TimelineBucket } from './audit.dto.js';
import { AlreadyReviewedError, EmergencyEntryNotFoundError, TimelineTooLongError } from './audit.errors.js';
import {
  EmergencyReviewRepository,
  type Judgement,
  type Review,
  type ReviewQueueItem,
} from './emergency-review.repository.js';
import { AnomaliesRepository, type Window } from './anomalies.repository.js';
import {
  afterEndSignals,
  caseVolumeSignals,
  denialSignals,
  emergencyClaimSignals,
  emergencySignals,
  nightSignals,
  THRESHOLDS,
  type Signal,
} from './anomalies.js';
import { csvHeader, csvLine } from './export-format.js';
import { ldvLines, type LdvContext } from './ldv.js';
import { buildSubjectReport, type SubjectReport } from './subject-report.js';
import {
  AuditRepository,
  type AuditEvent,
  type EventFilter,
  type EventPosition,
  TIMELINE_TIME_ZONE,
  type TimelineRow,
} from './audit.repository.js';

export interface EventQuery extends EventFilter {
  limit?: number;
  cursor?: string;
}

export interface EventPage {
  items: AuditEvent[];
  nextCursor: string | null;
}

export interface TimelinePartnerCount {
  partner: string | null;
  allowed: number;
  denied: number;
  total: number;
}

export interface TimelineBucketCounts {
  key: string;
  start: string;
  end: string;
  total: number;
  partners: TimelinePartnerCount[];
}

export interface Timeline {
  bucket: TimelineBucket;
  timeZone: string;
  total: number;
  buckets: TimelineBucketCounts[];
}

const BUCKET_MS: Record<TimelineBucket, number> = { day: 86_400_000, hour: 3_600_000 };

/**
 * How many buckets lie from `from` to `to`, at most: a local day is 23 to 25 hours, so one more
 * than the whole steps, which is what a range not starting at midnight touches.
 */
export function bucketsBetween(from: string, to: string, bucket: TimelineBucket): number {
  const span = Date.parse(to) - Date.parse(from);
  return span <= 0 ? 0 : Math.ceil(span / BUCKET_MS[bucket]) + 1;
}

/** The flat counts of PostgreSQL as buckets, each with its partners (oldest bucket first). */
export function groupTimeline(rows: TimelineRow[]): TimelineBucketCounts[] {
  const buckets: TimelineBucketCounts[] = [];
  for (const row of rows) {
    let last = buckets.at(-1);
    if (last?.key !== row.key) {
      last = { key: row.key, start: row.start, end: row.end, total: 0, partners: [] };
      buckets.push(last);
    }
    const total = row.allowed + row.denied;
    last.partners.push({ partner: row.partner, allowed: row.allowed, denied: row.denied, total });
    last.total += total;
  }
  return buckets;
}

/** What an officer's query touched, for its own access log entry. */
export interface AuditQueryRecord {
  caseId: string | null;
  dataSubjectRef: string | null;
  /** The query in a sentence: filters by id only, never personal data beyond a subject ref column. */
  reason: string;
}

export function encodeEventCursor(last: EventPosition): string {
  return encodeKeysetCursor(last.occurredAt, last.seq);
}

export function decodeEventCursor(cursor: string): EventPosition {
  const { at, key } = decodeKeysetCursor(cursor, /^\d{1,19}$/);
  return { occurredAt: at, seq: key };
}

/** The filters of a query as `name=value` pairs; every value passed validation as an id, flag or time. */
export function describeFilter(filter: EventFilter): string {
  const parts = Object.entries(filter)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${String(value)}`);
  return parts.length > 0 ? parts.join(', ') : 'no filters';
}

/**
 * The privacy officer's queries of the access log. Each query is itself logged (action `audit`)
 * before its answer leaves: officers are accountable too, and if that entry cannot be written the
 * answer is 503 (fail closed).
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly repository: AuditRepository,
    private readonly accessLog: AccessLogRepository,
    private readonly registry: PolicyRegistry,
    private readonly anomaliesRepository: AnomaliesRepository,
    private readonly reviews: EmergencyReviewRepository,
    private readonly sealer: AccessLogSealer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async events(officer: Actor, query: EventQuery): Promise<EventPage> {
    const { limit = DEFAULT_EVENTS_PAGE, cursor, ...filter } = query;
    const after = cursor === undefined ? null : decodeEventCursor(cursor);
    // One row more than asked tells whether another page exists.
    const rows = await this.repository.events(filter, after, limit + 1);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    await this.recordQuery(officer, {
      caseId: filter.caseId ?? null,
      dataSubjectRef: null,
      reason: `Access log events queried (${describeFilter(filter)}); ${items.length} entries returned.`,
    });
    return { items, nextCursor: rows.length > limit && last ? encodeEventCursor(last) : null };
  }

  /**
   * Counts per bucket and partner for the whole filter. A range given in full is checked before
   * the query; an open one is checked on what it spans (first to last non-empty bucket), so the
   * picture never has more than MAX_TIMELINE_BUCKETS bars either way.
   */
  async timeline(officer: Actor, query: EventFilter & { bucket: TimelineBucket }): Promise<Timeline> {
    const { bucket, ...filter } = query;
    if (filter.from !== undefined && filter.to !== undefined) {
      const asked = bucketsBetween(filter.from, filter.to, bucket);
      if (asked > MAX_TIMELINE_BUCKETS) throw new TimelineTooLongError(bucket, asked, MAX_TIMELINE_BUCKETS);
    }
    const buckets = groupTimeline(await this.repository.timeline(filter, bucket));
    const first = buckets[0];
    const last = buckets.at(-1);
    if (first && last) {
      const spanned = Math.round((Date.parse(last.start) - Date.parse(first.start)) / BUCKET_MS[bucket]) + 1;
      if (spanned > MAX_TIMELINE_BUCKETS)
        throw new TimelineTooLongError(bucket, spanned, MAX_TIMELINE_BUCKETS);
    }
    const total = buckets.reduce((sum, b) => sum + b.total, 0);
    await this.recordQuery(officer, {
      caseId: filter.caseId ?? null,
      dataSubjectRef: null,
      reason: `Access log timeline queried by ${bucket} (${describeFilter(filter)}); ${total} entries counted.`,
    });
    return { bucket, timeZone: TIMELINE_TIME_ZONE, total, buckets };
  }

  /** Writes the officer's own `audit` entry; a failure is 503 and the caller must not answer. */
  async recordQuery(officer: Actor, record: AuditQueryRecord): Promise<void> {
    const compiled = this.registry.current();
    const purpose = compiled.convenant.purposes.find((p) => p.id === officer.purpose);
    try {
      await this.accessLog.append([
        {
          requestId: officer.requestId,
          traceId: officer.traceId,
          tally: officer.tally,
          partner: officer.partner,
          professional: officer.professional,
          purpose: officer.purpose,
          legalBasis: purpose?.legalBases ?? [],
          action: 'audit',
          caseId: record.caseId,
          dataSubjectRef: record.dataSubjectRef,
          fields: [],
          status: 'allowed',
          ruleId: null,
          reason: record.reason,
          policyVersion: compiled.version,
          emergency: false,
        },
      ]);
    } catch (error) {
      this.logger.error({ err: error, traceId: officer.traceId }, 'Access log write failed');
      throw new LogUnavailableError();
    }
  }

  /** The AVG art. 15 overview for one person; the subject ref goes in the audit entry's column, not its reason. */
  async subjectReport(
    officer: Actor,
    input: { subjectRef: string; includeProfessionals?: boolean },
  ): Promise<SubjectReport> {
    const includeProfessionals = input.includeProfessionals === true;
    const events = await this.repository.subjectAccesses(input.subjectRef);
    const report = buildSubjectReport(
      this.registry.current(),
      input.subjectRef,
      events,
      includeProfessionals,
    );
    await this.recordQuery(officer, {
      caseId: null,
      dataSubjectRef: input.subjectRef,
      reason:
        `AVG art. 15 subject report (includeProfessionals=${includeProfessionals}); ` +
        `${report.accesses.length} accesses listed.`,
    });
    return report;
  }

  /**
   * The entries in [from, to) (optionally of one case) as a stream, oldest first. The officer's
   * `audit` entry is written before the first byte; the stream then pulls one batch at a time as
   * the client reads (Readable.from honours backpressure), so memory stays flat whatever the size.
   *
   * NDJSON is the verifiable format: before it is read, everything logged so far (the export's own
   * entry included) is sealed and checkpointed, so the file carries the signed checkpoint that
   * covers it and `convenant audit verify --file` can check it offline. CSV is for reading: the
   * same entries, in seq order, without seals. LDV: the same entries as Logboek Dataverwerkingen
   * records (ldv.ts), one per line, in seq order.
   */
  async export(
    officer: Actor,
    query: { format: 'ndjson' | 'csv' | 'ldv'; from?: string; to?: string; caseId?: string },
  ): Promise<Readable> {
    const { format, ...range } = query;
    await this.recordQuery(officer, {
      caseId: range.caseId ?? null,
      dataSubjectRef: null,
      reason: `Access log exported as ${format} (${describeFilter(range)}).`,
    });
    if (format === 'ndjson') {
      await this.sealer.sealNow();
      return Readable.from(this.repository.verifiableExport(range));
    }
    const repository = this.repository;
    const ldv: LdvContext = {
      publicUrl: this.config.publicUrl,
      convenantId: this.registry.current().convenant.id,
    };
    const parents = new Set<string>();
    const render =
      format === 'csv'
        ? (batch: AuditEvent[]) => batch.map(csvLine).join('')
        : (batch: AuditEvent[]) => ldvLines(batch, ldv, parents);
    async function* lines(): AsyncGenerator<string> {
      if (format === 'csv') yield csvHeader();
      let after = '0';
      for (;;) {
        const batch = await repository.exportBatch(range, after, EXPORT_BATCH);
        if (batch.length === 0) return;
        yield render(batch);
        after = batch[batch.length - 1]!.seq;
      }
    }
    return Readable.from(lines());
  }

  /** Every signal in the window (default: the last seven days), with the thresholds used. */
  async anomalies(officer: Actor, range: { from?: string; to?: string }): Promise<AnomalyReport> {
    const to = range.to ?? new Date().toISOString();
    const from = range.from ?? new Date(Date.parse(to) - DEFAULT_ANOMALY_DAYS * 86_400_000).toISOString();
    const window = { from, to };
    const t = THRESHOLDS;
    const repo = this.anomaliesRepository;
    const [volumes, denials, afterEnd, emergencies, nights, claims] = await Promise.all([
      repo.caseVolumes(window),
      repo.denialBursts(window, t.denialWindow, t.denialBurst),
      repo.accessAfterEnd(window),
      repo.emergencies(window),
      repo.nightAccess(window, t.timeZone, t.nightFrom, t.nightUntil),
      repo.emergencyClaims(window, t.emergencyClaims),
    ]);
    const signals = [
      ...caseVolumeSignals(volumes),
      ...denialSignals(denials),
      ...afterEndSignals(afterEnd),
      ...emergencySignals(emergencies),
      ...nightSignals(nights),
      ...emergencyClaimSignals(claims),
    ];
    await this.recordQuery(officer, {
      caseId: null,
      dataSubjectRef: null,
      reason: `Anomalies queried (${describeFilter(window)}); ${signals.length} signals.`,
    });
    return { window, thresholds: t, signals };
  }

  /** Emergency accesses awaiting review (or reviewed), oldest first: the oldest wait longest. */
  async emergencyReviews(
    officer: Actor,
    status: 'pending' | 'reviewed',
  ): Promise<{ items: ReviewQueueItem[] }> {
    const items = await this.reviews.queue(status, REVIEW_QUEUE_LIMIT);
    await this.recordQuery(officer, {
      caseId: null,
      dataSubjectRef: null,
      reason: `Emergency review queue queried (status=${status}); ${items.length} entries returned.`,
    });
    return { items };
  }

  /** Records the officer's judgement; logged with the entry's case and subject, never the comment. */
  async review(
    officer: Actor,
    seq: string,
    input: { judgement: Judgement; comment: string },
  ): Promise<Review> {
    const found = await this.reviews.find(seq);
    if (!found) throw new EmergencyEntryNotFoundError();
    if (found.review) throw new AlreadyReviewedError();
    const review = await this.reviews.insert(found.entry, {
      partner: officer.partner,
      professional: officer.professional,
      ...input,
    });
    if (!review) throw new AlreadyReviewedError();
    // Written after the insert: the judgement is not data leaving, and the log row must name it.
    await this.recordQuery(officer, {
      caseId: found.entry.caseId,
      dataSubjectRef: found.entry.dataSubjectRef,
      reason: `Emergency access #${seq} reviewed: ${input.judgement}.`,
    });
    return review;
  }
}

export interface AnomalyReport {
  window: Window;
  thresholds: typeof THRESHOLDS;
  signals: Signal[];
}

/** At most this many entries in one view of the review queue. */
export const REVIEW_QUEUE_LIMIT = 200;

/** The default anomaly window: the last seven days. */
export const DEFAULT_ANOMALY_DAYS = 7;

/** Rows per export batch: large enough that round trips do not dominate, small enough to stay flat. */
export const EXPORT_BATCH = 1000;
