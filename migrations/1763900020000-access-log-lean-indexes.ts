import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes of access_log that no officer query needs, dropped: every log row updated 13 indexes,
 * and index upkeep was most of PostgreSQL's work per logged read (docs/performance.md).
 *
 * Kept (each one serves a query that would otherwise scan the log): the primary key (seq: sealer,
 * verifier, exports), time (every events page), case (events by case, the audit target), subject
 * (the subject report), professional (events and anomalies per professional), and the partial
 * indexes on emergency and denied rows, which cost nothing for the allowed, non-emergency rows
 * that make up the log.
 *
 * Dropped: partner, purpose and action (a handful of values each: the time index, read newest
 * first with the filter, finds a page as fast), the GIN index on fields (a field filter is read
 * the same way; GIN upkeep was the dearest of all), and the full trace index, replaced by a
 * partial one on purge entries, the only rows looked up by trace id (verify-purges.ts).
 *
 * `access_log_seal.format`: the canonical format an entry was sealed in (chain.ts), so a later
 * format can come without breaking old chains. Null on seals written before this migration: their
 * format is the one the entry's shape implies (format 1 without a request id, 2 with one), as the
 * verifier always read them.
 */
export class AccessLogLeanIndexes1763900020000 implements MigrationInterface {
  name = 'AccessLogLeanIndexes1763900020000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    for (const index of ['partner', 'purpose', 'action', 'fields', 'trace']) {
      await q(`DROP INDEX IF EXISTS access_log_${index}_idx`);
    }
    await q(`CREATE INDEX access_log_purge_trace_idx ON access_log (trace_id) WHERE action = 'purge'`);
    await q(`ALTER TABLE access_log_seal ADD COLUMN format smallint CHECK (format IN (1, 2))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`ALTER TABLE access_log_seal DROP COLUMN format`);
    await q(`DROP INDEX access_log_purge_trace_idx`);
    await q(`CREATE INDEX access_log_partner_idx ON access_log (partner, occurred_at DESC, seq DESC)`);
    await q(
      `CREATE INDEX access_log_purpose_idx ON access_log (processing_activity_id, occurred_at DESC, seq DESC)`,
    );
    await q(`CREATE INDEX access_log_action_idx ON access_log (action, occurred_at DESC, seq DESC)`);
    await q(`CREATE INDEX access_log_trace_idx ON access_log (trace_id)`);
    await q(`CREATE INDEX access_log_fields_idx ON access_log USING gin (fields)`);
  }
}
