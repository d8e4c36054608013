import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A case reference carries the prefix of the convenant in force (`<PREFIX>-<year>-<number>`),
 * not one region's: the gateway runs any region's convenant. The prefix is upper-case letters
 * and digits, at most twelve; the year and the sequence number keep their shape.
 */
export class CaseReferencePrefix1763900013000 implements MigrationInterface {
  name = 'CaseReferencePrefix1763900013000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE cases DROP CONSTRAINT cases_reference_check`);
    await queryRunner.query(
      `ALTER TABLE cases ADD CONSTRAINT cases_reference_check
         CHECK (reference ~ '^[A-Z0-9]{1,12}-[0-9]{4}-[0-9]{6,}$')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE cases DROP CONSTRAINT cases_reference_check`);
    await queryRunner.query(
      `ALTER TABLE cases ADD CONSTRAINT cases_reference_check CHECK (reference ~ '^ZVH-[0-9]{4}-[0-9]{6,}$')`,
    );
  }
}
