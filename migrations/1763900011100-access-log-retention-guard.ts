import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The retention role may delete only what has expired, checked by PostgreSQL on every row it
 * deletes, whatever statement it runs.
 *
 * - `access_log_retention_period`: the log retention per purpose (purpose NULL: entries without a
 *   purpose, or with one the convenant does not know), recorded by the purge run from the
 *   convenant in force. Append-only; `set_at` is always the inserting transaction's time (a trigger
 *   overwrites what is given), and convenant_retention may read it but not write it: the periods
 *   in force at a moment are the rows of the latest recording before it.
 * - The row trigger on access_log now lets convenant_retention delete a row only when it is sealed
 *   at a position covered by a checkpoint signed before now minus the retention in force for its
 *   purpose (and so occurred before that too), and its occurred_at is before that as well. The
 *   checkpoint's signed time is what `convenant audit verify` checks each purge against, so
 *   nothing the database lets go can fail verification for being too young. UPDATE stays refused
 *   for every role.
 */
export class AccessLogRetentionGuard1763900011100 implements MigrationInterface {
  name = 'AccessLogRetentionGuard1763900011100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`
      CREATE TABLE access_log_retention_period (
        id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        set_at          timestamptz NOT NULL DEFAULT now(),
        policy_version  text        NOT NULL,
        purpose         text,
        retention       text        NOT NULL CHECK (retention ~ '^P'),
        UNIQUE NULLS NOT DISTINCT (set_at, purpose)
      )`);
    await q(`CREATE INDEX access_log_retention_period_at_idx ON access_log_retention_period (set_at DESC)`);
    await q(`
      CREATE FUNCTION access_log_retention_period_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.set_at := now();
        RETURN NEW;
      END $$`);
    await q(`
      CREATE TRIGGER access_log_retention_period_stamp
        BEFORE INSERT ON access_log_retention_period
        FOR EACH ROW EXECUTE FUNCTION access_log_retention_period_stamp()`);
    await q(`
      CREATE TRIGGER access_log_retention_period_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log_retention_period
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only_always()`);
    // Checkpoints by signing time: the guard looks up the newest one signed before a cut-off per row.
    await q(`CREATE INDEX access_log_checkpoint_created_idx ON access_log_checkpoint (created_at)`);
    await q(`
      CREATE FUNCTION access_log_retention_in_force(purpose_id text, at timestamptz) RETURNS interval
        LANGUAGE sql STABLE AS $$
        WITH latest AS (
          SELECT max(set_at) AS set_at FROM access_log_retention_period WHERE set_at <= at)
        SELECT coalesce(
          (SELECT r.retention FROM access_log_retention_period r, latest
            WHERE r.set_at = latest.set_at AND r.purpose = purpose_id),
          (SELECT r.retention FROM access_log_retention_period r, latest
            WHERE r.set_at = latest.set_at AND r.purpose IS NULL))::interval
      $$`);
    await q(`
      CREATE OR REPLACE FUNCTION refuse_change_append_only_row() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        cutoff timestamptz;
      BEGIN
        IF current_user = 'convenant_retention' AND TG_OP = 'DELETE' THEN
          cutoff := now() - access_log_retention_in_force(OLD.processing_activity_id, now());
          IF cutoff IS NOT NULL AND OLD.occurred_at < cutoff AND EXISTS (
               SELECT 1 FROM access_log_seal s
                WHERE s.seq = OLD.seq
                  AND s.position <= (SELECT max(c.position) FROM access_log_checkpoint c WHERE c.created_at < cutoff)) THEN
            RETURN OLD;
          END IF;
          RAISE EXCEPTION 'access_log seq % has not expired: its retention (purpose %) runs until % or no checkpoint signed before then covers it',
            OLD.seq, coalesce(OLD.processing_activity_id, '(none)'), coalesce(cutoff::text, '(no retention recorded)')
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'The retention role removes only entries older than the retention in force (access_log_retention_period).';
        END IF;
        RAISE EXCEPTION '% is append-only: % refused for role %', TG_TABLE_NAME, TG_OP, current_user
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'Only the retention job (SET ROLE convenant_retention) may remove entries, once expired.';
      END $$`);
    await q(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_app') THEN
          GRANT SELECT, INSERT ON access_log_retention_period TO convenant_app;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_retention') THEN
          GRANT SELECT ON access_log_retention_period, access_log_checkpoint TO convenant_retention;
        END IF;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`
      CREATE OR REPLACE FUNCTION refuse_change_append_only_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_user = 'convenant_retention' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only: % refused for role %', TG_TABLE_NAME, TG_OP, current_user
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'Only the retention job (SET ROLE convenant_retention) may remove entries.';
      END $$`);
    await q(`DROP FUNCTION access_log_retention_in_force(text, timestamptz)`);
    await q(`DROP INDEX access_log_checkpoint_created_idx`);
    await q(`DROP TABLE access_log_retention_period`);
    await q(`DROP FUNCTION access_log_retention_period_stamp()`);
  }
}
