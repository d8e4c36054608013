import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The access log: one row per access per data subject, allowed or denied. Column names follow
 * Logius' Logboek Dataverwerkingen where they fit (trace_id, processing_activity_id = purpose,
 * data_subject_ref, status), plus what the AVG needs here (partner, professional, legal basis,
 * fields, rule, policy version). Field ids only, never values; subject references are
 * pseudonymous, never a BSN.
 */
export class AccessLog1763900001000 implements MigrationInterface {
  name = 'AccessLog1763900001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE access_log (
        seq                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        occurred_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
        trace_id                text        NOT NULL CHECK (trace_id ~ '^[0-9a-f]{32}$'),
        partner                 text,
        professional            text,
        processing_activity_id  text,
        legal_basis             text[]      NOT NULL DEFAULT '{}',
        action                  text        NOT NULL,
        case_id                 uuid,
        data_subject_ref        text,
        fields                  text[]      NOT NULL DEFAULT '{}',
        status                  text        NOT NULL CHECK (status IN ('allowed', 'denied')),
        rule_id                 text,
        reason                  text,
        policy_version          text,
        emergency               boolean     NOT NULL DEFAULT false
      )`);
    await queryRunner.query(`CREATE INDEX access_log_case_idx ON access_log (case_id, occurred_at DESC)`);
    await queryRunner.query(
      `CREATE INDEX access_log_subject_idx ON access_log (data_subject_ref, occurred_at DESC)`,
    );
    await queryRunner.query(`CREATE INDEX access_log_trace_idx ON access_log (trace_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE access_log`);
  }
}
