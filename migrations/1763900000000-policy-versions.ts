import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every convenant version the gateway has enforced, with its source text, so that the text that
 * decided any past access can be shown (access log entries name the version).
 */
export class PolicyVersions1763900000000 implements MigrationInterface {
  name = 'PolicyVersions1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE policy_version (
        version          text        PRIMARY KEY,
        convenant        text        NOT NULL,
        hash             text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
        sources          jsonb       NOT NULL,
        first_loaded_at  timestamptz NOT NULL DEFAULT now(),
        last_loaded_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `COMMENT ON TABLE policy_version IS 'Each convenant version enforced, with the YAML it was compiled from.'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE policy_version`);
  }
}
