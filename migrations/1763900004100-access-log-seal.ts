import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The access log's hash chain, kept beside the log so log rows are never updated.
 *
 * `access_log_seal` gives each committed log row a chain position in the order the sealer saw it:
 * entry_hash = SHA-256(prev_hash || canonical(entry)). Sequence order is not commit order (a row can
 * commit after rows with higher seq), so the chain follows positions, not seq; UNIQUE(seq) makes
 * sealing an entry twice impossible. There is deliberately no foreign key to access_log: a removed
 * row must leave its seal behind as evidence, and retention may remove rows under a checkpoint.
 *
 * `access_log_checkpoint` holds the chain head every N entries or T seconds, signed (compact JWS,
 * ES256) with the gateway key, so a rewrite of the whole chain after a checkpoint is detectable by
 * anyone holding the public key. Both tables are append-only like access_log.
 */
export class AccessLogSeal1763900004100 implements MigrationInterface {
  name = 'AccessLogSeal1763900004100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE access_log_seal (
        position    bigint      PRIMARY KEY CHECK (position >= 1),
        seq         bigint      NOT NULL UNIQUE,
        entry_hash  bytea       NOT NULL CHECK (length(entry_hash) = 32),
        prev_hash   bytea       NOT NULL CHECK (length(prev_hash) = 32),
        sealed_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE access_log_checkpoint (
        position    bigint      PRIMARY KEY CHECK (position >= 1),
        chain_head  bytea       NOT NULL CHECK (length(chain_head) = 32),
        count       bigint      NOT NULL,
        created_at  timestamptz NOT NULL,
        jws         text        NOT NULL
      )`);
    for (const table of ['access_log_seal', 'access_log_checkpoint']) {
      await queryRunner.query(`
        CREATE TRIGGER ${table}_append_only
          BEFORE UPDATE OR DELETE OR TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only()`);
      await queryRunner.query(`
        DO $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_app') THEN
            GRANT INSERT, SELECT ON ${table} TO convenant_app;
          END IF;
        END $$`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE access_log_checkpoint`);
    await queryRunner.query(`DROP TABLE access_log_seal`);
  }
}
