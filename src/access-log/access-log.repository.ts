import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import type { AccessLogEntry } from './access-log.types.js';
import { INSERTED_COLUMNS } from './entry-description.js';
import { canonical, canonicalFormatOf, ENTRY_SELECT, type LoggedEntry, type WrittenEntry } from './chain.js';

/**
 * The columns an INSERT writes, from the entry's description (entry-description.ts); seq and
 * occurred_at come from the database (the application role may not name them: migration
 * 1763900010000). chain.spec.ts checks the chain hashes them all.
 */
export const INSERT_COLUMNS = INSERTED_COLUMNS.map((c) => c.column);
const INSERT_KEYS = INSERTED_COLUMNS.map((c) => c.key as keyof AccessLogEntry);

const values = (e: AccessLogEntry): unknown[] => INSERT_KEYS.map((key) => e[key]);

/** Rows per INSERT at most: 15 parameters a row stays far below PostgreSQL's 65,535. */
const MAX_ROWS_PER_INSERT = 1000;

/** Told of every INSERT's outcome and duration (the metrics). */
export interface AccessLogObserver {
  written(entries: readonly AccessLogEntry[], seconds: number): void;
  failed(seconds: number): void;
}

/**
 * Canonical texts kept for the sealer at most; beyond it the oldest go, and the sealer reads those
 * rows back as before (a gateway whose sealer is that far behind has other trouble).
 */
const MAX_WRITTEN = 200_000;

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
 * INSERT (group commit, docs/performance.md): each caller's promise resolves only once the statement that
 * holds its rows has committed, so no response leaves before its log entry is stored. Batches form
 * only under load: a lone request is written at once. If a batch fails, each request's entries are
 * retried on their own, so one request's bad entry cannot refuse its neighbours.
 *
 * Each entry's request tally (request-log.ts) is counted up once the entry is committed: at once
 * for group commit, and for entries written in a transaction when that transaction commits (a
 * TypeORM subscriber on the data source), so entries rolled back with their transaction are
 * not counted and the request still gets its entry.
 */
@Injectable()
export class AccessLogRepository {
  private readonly waiting: Waiting[] = [];
  private flushing = false;
  private readonly appendedListeners: ((count: number) => void)[] = [];
  private readonly observers: AccessLogObserver[] = [];
  /** Entries written in a transaction that has not ended yet, by the transaction's query runner. */
  private readonly inTransaction = new WeakMap<QueryRunner, { entries: AccessLogEntry[]; seqs: string[] }>();
  /**
   * canonical() of each row as the INSERT stored it (its RETURNING), by seq, until the sealer has
   * sealed it: the sealer chains this text, not what it reads back later, so a row altered
   * between write and seal no longer matches its seal and verification names it.
   */
  private readonly written = new Map<string, WrittenEntry>();

  constructor(private readonly dataSource: DataSource) {
    const ended = (queryRunner: QueryRunner | undefined, committed: boolean) => {
      // A nested transaction (savepoint) ending decides nothing: only the outermost COMMIT does.
      if (!queryRunner || queryRunner.isTransactionActive) return;
      const held = this.inTransaction.get(queryRunner);
      if (!held) return;
      this.inTransaction.delete(queryRunner);
      if (committed) countCommitted(held.entries);
      else for (const seq of held.seqs) this.written.delete(seq);
    };
    dataSource.subscribers.push({
      afterTransactionCommit: (event) => ended(event.queryRunner, true),
      afterTransactionRollback: (event) => ended(event.queryRunner, false),
    });
  }

  async append(entries: readonly AccessLogEntry[], manager?: EntityManager): Promise<void> {
    if (entries.length === 0) return;
    if (manager) {
      const seqs = await this.insert(entries, manager);
      const queryRunner = manager.queryRunner;
      if (queryRunner?.isTransactionActive) {
        const held = this.inTransaction.get(queryRunner) ?? { entries: [], seqs: [] };
        held.entries.push(...entries);
        held.seqs.push(...seqs);
        this.inTransaction.set(queryRunner, held);
      } else countCommitted(entries);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.waiting.push({ entries, resolve, reject });
      if (!this.flushing) void this.flush();
    });
    countCommitted(entries);
  }

  /** canonical() of the row with this seq as its INSERT stored it, and its format, while it awaits sealing. */
  writtenAs(seq: string): WrittenEntry | undefined {
    return this.written.get(seq);
  }

  /** The sealer has sealed these seqs: their texts are no longer needed. */
  sealed(seqs: Iterable<string>): void {
    for (const seq of seqs) this.written.delete(seq);
  }

  /** Called after rows are written (the sealer uses it to seal early under load). */
  onAppended(listener: (count: number) => void): void {
    this.appendedListeners.push(listener);
  }

  observe(observer: AccessLogObserver): void {
    this.observers.push(observer);
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

  /** Inserts the rows and keeps canonical() of each as stored; returns their seqs. */
  private async insert(entries: readonly AccessLogEntry[], manager: EntityManager): Promise<string[]> {
    const params: unknown[] = [];
    const rows = entries.map((entry) => {
      const placeholders = values(entry).map((value) => {
        params.push(value);
        return `$${params.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    const started = performance.now();
    let stored: LoggedEntry[];
    try {
      stored = await manager.query<LoggedEntry[]>(
        `INSERT INTO access_log AS l (${INSERT_COLUMNS.join(', ')}) VALUES ${rows.join(', ')} RETURNING ${ENTRY_SELECT}`,
        params,
      );
    } catch (error) {
      for (const observer of this.observers) observer.failed((performance.now() - started) / 1000);
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    for (const observer of this.observers) observer.written(entries, seconds);
    for (const row of stored) {
      this.written.set(row.seq, { canonical: canonical(row), format: canonicalFormatOf(row) });
    }
    for (const seq of this.written.keys()) {
      if (this.written.size <= MAX_WRITTEN) break;
      this.written.delete(seq);
    }
    for (const listener of this.appendedListeners) listener(entries.length);
    return stored.map((row) => row.seq);
  }
}

function countCommitted(entries: readonly AccessLogEntry[]): void {
  for (const entry of entries) if (entry.tally) entry.tally.committed++;
}
