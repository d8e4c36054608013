import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The columns the application role may name in an INSERT into access_log: never seq or occurred_at. */
const APP_INSERT_COLUMNS = `trace_id, partner, professional, processing_activity_id, legal_basis, action, case_id,
  data_subject_ref, fields, status, rule_id, reason, policy_version, emergency, request_id`;

/**
 * - `request_id`: the identity the gateway gives each request when it arrives (a random UUID),
 *   so "exactly one set of entries per request" is counted by something no caller chooses; the
 *   trace id stays the caller's (recorded, never trusted). Null for rows written before, and for
 *   entries no request asked for (a retention run).
 * - The application role loses INSERT on the whole table and gets it on the columns it writes
 *   only: a position (seq) and a time (occurred_at) come from the database alone. An
 *   `INSERT … OVERRIDING SYSTEM VALUE` with a seq of the app's choosing (into a gap left by a
 *   rolled-back insert) is refused with "permission denied", and so is a back-dated row. Column
 *   privileges are checked on the table a statement names, so partitions need nothing.
 */
export class AccessLogRequestIdentity1763900010000 implements MigrationInterface {
  name = 'AccessLogRequestIdentity1763900010000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE access_log ADD COLUMN request_id uuid`);
    await queryRunner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_app') THEN
          REVOKE INSERT ON access_log FROM convenant_app;
          GRANT INSERT (${APP_INSERT_COLUMNS}) ON access_log TO convenant_app;
        END IF;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_app') THEN
          REVOKE INSERT (${APP_INSERT_COLUMNS}) ON access_log FROM convenant_app;
          GRANT INSERT ON access_log TO convenant_app;
        END IF;
      END $$`);
    await queryRunner.query(`ALTER TABLE access_log DROP COLUMN request_id`);
  }
}
