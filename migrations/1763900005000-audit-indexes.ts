import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the privacy officer's queries (GET /v1/audit/events and the reports built on it).
 * All serve the keyset order (occurred_at DESC, seq DESC) so a filtered page stops after `limit`
 * rows; case and subject already have indexes from the access-log migration.
 */
export class AuditIndexes1763900005000 implements MigrationInterface {
  name = 'AuditIndexes1763900005000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX access_log_time_idx ON access_log (occurred_at DESC, seq DESC)`);
    await queryRunner.query(
      `CREATE INDEX access_log_partner_idx ON access_log (partner, occurred_at DESC, seq DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX access_log_professional_idx ON access_log (professional, occurred_at DESC, seq DESC)`,
    );
    // `fields @> ARRAY[…]`: which entries touched a field.
    await queryRunner.query(`CREATE INDEX access_log_fields_idx ON access_log USING gin (fields)`);
    // Emergency accesses and denials are rare and are what review and anomaly queries look for.
    await queryRunner.query(
      `CREATE INDEX access_log_emergency_idx ON access_log (occurred_at DESC, seq DESC) WHERE emergency`,
    );
    await queryRunner.query(
      `CREATE INDEX access_log_denied_idx ON access_log (professional, occurred_at DESC) WHERE status = 'denied'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of ['time', 'partner', 'professional', 'fields', 'emergency', 'denied']) {
      await queryRunner.query(`DROP INDEX access_log_${index}_idx`);
    }
  }
}
