import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the access log's own retention removed, kept forever beside the log (append-only like it):
 * one row per run (`access_log_purge_run`) and one per purpose it removed entries of
 * (`access_log_purge`: how many, which seqs, under which retention and cut-off). The verifier
 * reads these to tell a position purged by retention from an entry removed by someone else: seals
 * and checkpoints are never purged, so the chain still runs across purged positions.
 */
export class AccessLogPurge1763900007100 implements MigrationInterface {
  name = 'AccessLogPurge1763900007100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE access_log_purge_run (
        run_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        ran_at      timestamptz NOT NULL DEFAULT now(),
        removed     bigint      NOT NULL CHECK (removed >= 0),
        trace_id    text        NOT NULL,
        policy_version text
      )`);
    await queryRunner.query(`
      CREATE TABLE access_log_purge (
        run_id      bigint      NOT NULL REFERENCES access_log_purge_run (run_id),
        purpose     text,
        retention   text        NOT NULL,
        cutoff      timestamptz NOT NULL,
        count       bigint      NOT NULL CHECK (count > 0),
        from_seq    bigint      NOT NULL,
        to_seq      bigint      NOT NULL CHECK (to_seq >= from_seq),
        -- Exactly which seqs went, as ranges of consecutive ones: the verifier accepts a missing
        -- entry as purged only when its seq is in here.
        seqs        int8multirange NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX access_log_purge_run_idx ON access_log_purge (run_id)`);
    await queryRunner.query(`
      CREATE FUNCTION refuse_change_append_only_always() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % refused for role %', TG_TABLE_NAME, TG_OP, current_user
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['access_log_purge_run', 'access_log_purge']) {
      // Not even the retention role may rewrite what retention did.
      await queryRunner.query(`
        CREATE TRIGGER ${table}_append_only
          BEFORE UPDATE OR DELETE OR TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only_always()`);
    }
    await queryRunner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_app') THEN
          GRANT SELECT ON access_log_purge_run, access_log_purge TO convenant_app;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_retention') THEN
          GRANT SELECT, INSERT ON access_log_purge_run, access_log_purge TO convenant_retention;
          -- It writes its own log entry, and removes only sealed entries.
          GRANT INSERT ON access_log TO convenant_retention;
          GRANT SELECT ON access_log_seal TO convenant_retention;
        END IF;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE access_log_purge`);
    await queryRunner.query(`DROP TABLE access_log_purge_run`);
    await queryRunner.query(`DROP FUNCTION refuse_change_append_only_always()`);
  }
}
