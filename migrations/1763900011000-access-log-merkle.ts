import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The access log's chain positions as an RFC 9162 Merkle tree, so checkpoints are tree heads a
 * witness outside the database can check for consistency with O(log n) hashes (docs/witness.md).
 *
 * - `access_log_checkpoint.root_hash`: the Merkle root over positions 1..position (leaf data: each
 *   position's entry_hash). Null for checkpoints signed before this migration; the verifier checks
 *   the root where the signed payload has one.
 * - `access_log_merkle_node`: the hashes of the tree's perfect, aligned subtrees of 256 leaves and
 *   more (level 8 and up: leaves [index * 2^level, (index + 1) * 2^level)), written as checkpoints
 *   are, so a proof reads O(log n) of them plus at most 255 entry hashes instead of the whole log.
 *   They are a cache of what the seals determine: proofs are checked against signed roots, so a
 *   forged node makes a proof fail, never pass. Append-only, also for the retention role.
 */
export class AccessLogMerkle1763900011000 implements MigrationInterface {
  name = 'AccessLogMerkle1763900011000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE access_log_checkpoint
        ADD COLUMN root_hash bytea CHECK (length(root_hash) = 32)`);
    await queryRunner.query(`
      CREATE TABLE access_log_merkle_node (
        level   smallint NOT NULL CHECK (level BETWEEN 8 AND 62),
        index   bigint   NOT NULL CHECK (index >= 0),
        hash    bytea    NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, index)
      )`);
    await queryRunner.query(`
      CREATE TRIGGER access_log_merkle_node_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log_merkle_node
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only_always()`);
    await queryRunner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_app') THEN
          GRANT INSERT, SELECT ON access_log_merkle_node TO convenant_app;
        END IF;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE access_log_merkle_node`);
    await queryRunner.query(`ALTER TABLE access_log_checkpoint DROP COLUMN root_hash`);
  }
}
