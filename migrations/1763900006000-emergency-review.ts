import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A privacy officer's judgement of an emergency access (doorbraak). One per log entry: the first
 * judgement stands and is itself logged, so a review cannot be quietly rewritten. The comment is
 * the officer's own text; it never goes into the access log. `seq` names the access_log entry
 * without a foreign key: a key would make the append-only log's TRUNCATE guard and its retention
 * deletes depend on this table.
 */
export class EmergencyReview1763900006000 implements MigrationInterface {
  name = 'EmergencyReview1763900006000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE emergency_review (
        seq                  bigint      PRIMARY KEY,
        trace_id             text        NOT NULL,
        reviewed_by_partner  text        NOT NULL,
        reviewed_by          text        NOT NULL,
        judgement            text        NOT NULL CHECK (judgement IN ('lawful', 'unlawful', 'unclear')),
        comment              text        NOT NULL CHECK (length(comment) <= 2000),
        reviewed_at          timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE emergency_review`);
  }
}
