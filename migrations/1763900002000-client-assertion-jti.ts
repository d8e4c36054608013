import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The jti of every accepted client assertion, until it expires: a shared table, so an assertion
 * is single use across all gateway instances on one database (RFC 7523 §3 item 7). The primary
 * key makes "first one wins" a property of PostgreSQL, not of a read-then-write in Node.
 */
export class ClientAssertionJti1763900002000 implements MigrationInterface {
  name = 'ClientAssertionJti1763900002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE client_assertion_jti (
        jti         text        NOT NULL,
        partner     text        NOT NULL,
        expires_at  timestamptz NOT NULL,
        PRIMARY KEY (partner, jti)
      )`);
    await queryRunner.query(
      `CREATE INDEX client_assertion_jti_expiry_idx ON client_assertion_jti (expires_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE client_assertion_jti`);
  }
}
