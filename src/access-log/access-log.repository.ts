import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { AccessLogEntry } from './access-log.types.js';

/** The columns an INSERT writes; seq and occurred_at come from the database. chain.spec.ts checks the chain hashes them all. */
export const INSERT_COLUMNS = [
  'trace_id',
  'partner',
  'professional',
  'processing_activity_id',
  'legal_basis',
  'action',
  'case_id',
  'data_subject_ref',
  'fields',
  'status',
  'rule_id',
  'reason',
  'policy_version',
  'emergency',
] as const;

function values(e: AccessLogEntry): unknown[] {
  return [
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
  ];
}

/** Rows per INSERT at most: 14 parameters a row stays far below PostgreSQL's 65,535. */
const MAX_ROWS_PER_INSERT = 1000;

/** Told of every INSERT's outcome and duration (the metrics). */
export interface AccessLogObserver {
  written(entries: readonly AccessLogEntry[], seconds: number): void;
  failed(seconds: number): void;
}

interface Waiting {
  entries: readonly AccessLogEntry[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes access log entries.
 *
 * Inside a transaction (pass its EntityManager) the entries are written there, so data and log
 * commit together or not at all. Outside one, entries of concurrent requests are gathered into one
 * INSERT (group commit, PERF-NOTES): each caller's promise resolves only once the statement that
 * holds its rows has committed, so no response leaves before its log entry is stored. Batches form
 * only under load: a lone request is written at once. If a batch fails, each request's entries are
 * retried on their own, so one request's bad entry cannot refuse its neighbours.
 */
@Injectable()
export class AccessLogRepository {
  private readonly waiting: Waiting[] = [];
  private flushing = false;
  private readonly appendedListeners: ((count: number) => void)[] = [];
  private readonly observers: AccessLogObserver[] = [];

  constructor(private readonly dataSource: DataSource) {}

  async append(entries: readonly AccessLogEntry[], manager?: EntityManager): Promise<void> {
    if (entries.length === 0) return;
    if (manager) return this.insert(entries, manager);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ entries, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Called after rows are written (the sealer uses it to seal early under load). */
  onAppended(listener: (count: number) => void): void {
    this.appendedListeners.push(listener);
  }

  observe(observer: AccessLogObserver): void {
    this.observers.push(observer);
  }

  /** Whether the request with this trace id has left any entry (committed ones: group commit resolves after COMMIT). */
  async hasEntries(traceId: string): Promise<boolean> {
    const [row] = await this.dataSource.query<{ found: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM access_log WHERE trace_id = $1) AS found`,
      [traceId],
    );
    return row?.found === true;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.insert(
            batch.flatMap((w) => w.entries),
            this.dataSource.manager,
          );
          for (const w of batch) w.resolve();
        } catch (error) {
          if (batch.length === 1) {
            batch[0]!.reject(error);
            continue;
          }
          await Promise.all(
            batch.map((w) => this.insert(w.entries, this.dataSource.manager).then(w.resolve, w.reject)),
          );
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Whole requests, oldest first, up to MAX_ROWS_PER_INSERT rows (always at least one request). */
  private takeBatch(): Waiting[] {
    let rows = 0;
    let count = 0;
    while (count < this.waiting.length) {
      const size = this.waiting[count]!.entries.length;
      if (count > 0 && rows + size > MAX_ROWS_PER_INSERT) break;
      rows += size;
      count++;
    }
    return this.waiting.splice(0, count);
  }

  private async insert(entries: readonly AccessLogEntry[], manager: EntityManager): Promise<void> {
    const params: unknown[] = [];
    const rows = entries.map((entry) => {
      const placeholders = values(entry).map((value) => {
        params.push(value);
        return `$${params.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    const started = performance.now();
    try {
      await manager.query(
        `INSERT INTO access_log (${INSERT_COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`,
        params,
      );
    } catch (error) {
      for (const observer of this.observers) observer.failed((performance.now() - started) / 1000);
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    for (const observer of this.observers) observer.written(entries, seconds);
    for (const listener of this.appendedListeners) listener(entries.length);
  }
}
