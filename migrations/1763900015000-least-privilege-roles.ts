import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the gateway and the retention job need on the tables outside the access log, so that in
 * production neither connects as the schema's owner (docs/operations.md, database roles):
 *
 * - `convenant_app` (the gateway's login role is a member): read and append everywhere it serves
 *   from; UPDATE only where a row changes by design (a case's phase and closing, a participation
 *   ending, a signal withdrawn, a policy version seen again) or is locked FOR UPDATE/SHARE, which
 *   PostgreSQL counts as an update; DELETE only on spent client-assertion ids. No DDL (the schema
 *   belongs to the owner, who runs the migrations), no UPDATE or DELETE on the access log, its
 *   seals and checkpoints, case field values or reviews.
 * - `convenant_retention`: what `convenant retention run` reads before its `SET LOCAL ROLE`
 *   (whether the schema is current) and the policy versions the log's retention is decided by.
 *
 * Both may read `schema_migration`: the gateway starts with MIGRATIONS=check and refuses to serve
 * an old schema, which it must be able to see. Grants are given only where the roles exist (the
 * migrating user may have lacked CREATEROLE, see 1763900004000).
 */
export class LeastPrivilegeRoles1763900015000 implements MigrationInterface {
  name = 'LeastPrivilegeRoles1763900015000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await this.grant(queryRunner, 'convenant_app', [
      `GRANT SELECT, INSERT, UPDATE ON policy_version, cases, case_participation, involvement_signal
         TO convenant_app`,
      `GRANT SELECT, INSERT ON case_person, case_field_value, case_phase_change, emergency_grant,
         emergency_review TO convenant_app`,
      'GRANT SELECT, INSERT, DELETE ON client_assertion_jti TO convenant_app',
      'GRANT SELECT, INSERT ON access_log_seal, access_log_checkpoint TO convenant_app',
      'GRANT USAGE ON SEQUENCE case_reference_seq TO convenant_app',
    ]);
    await this.grant(queryRunner, 'convenant_retention', [
      'GRANT SELECT ON policy_version, access_log_checkpoint TO convenant_retention',
    ]);
    // The migrations table is TypeORM's: it exists whenever the runner applies this migration, but
    // not when a test applies migrations by hand (partitions.spec), so it is granted where it is.
    for (const role of ['convenant_app', 'convenant_retention'])
      await this.grant(queryRunner, role, [
        `IF to_regclass('schema_migration') IS NOT NULL THEN GRANT SELECT ON schema_migration TO ${role}; END IF`,
      ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await this.grant(queryRunner, 'convenant_retention', [
      'REVOKE SELECT ON schema_migration, policy_version, access_log_checkpoint FROM convenant_retention',
    ]);
    await this.grant(queryRunner, 'convenant_app', [
      'REVOKE USAGE ON SEQUENCE case_reference_seq FROM convenant_app',
      'REVOKE ALL ON client_assertion_jti FROM convenant_app',
      `REVOKE ALL ON policy_version, cases, case_participation, involvement_signal, case_person,
         case_field_value, case_phase_change, emergency_grant, emergency_review FROM convenant_app`,
      'REVOKE SELECT ON schema_migration FROM convenant_app',
    ]);
  }

  private async grant(queryRunner: QueryRunner, role: string, statements: string[]): Promise<void> {
    await queryRunner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
          ${statements.join(';\n          ')};
        END IF;
      END $$`);
  }
}
