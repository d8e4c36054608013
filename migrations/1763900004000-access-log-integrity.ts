import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Makes the access log append-only in the database itself, not only in the code that writes it.
 *
 * - A statement-level trigger refuses UPDATE, DELETE and TRUNCATE for every role, superusers and the
 *   table owner included, except `convenant_retention`: the retention job runs as a login role that is
 *   a member of it and does `SET ROLE convenant_retention`, so the exception is explicit in its session.
 *   The check is on `current_user` by name, not `pg_has_role`: a superuser is a member of every role,
 *   so membership would let any superuser through.
 * - `convenant_app` holds INSERT and SELECT on access_log and nothing else there: production connects
 *   as a login role that is a member of it (README), so even without the trigger it could not rewrite.
 *
 * A superuser can still disable the trigger; that is what the hash chain and signed checkpoints are for.
 * Roles are cluster-wide and creating them needs CREATEROLE: where the connecting user lacks it, the
 * migration says so in a NOTICE and carries on, and the trigger still protects the table.
 */
export class AccessLogIntegrity1763900004000 implements MigrationInterface {
  name = 'AccessLogIntegrity1763900004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const role of ['convenant_retention', 'convenant_app']) {
      await queryRunner.query(`
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
            CREATE ROLE ${role} NOLOGIN;
          END IF;
        EXCEPTION
          -- Another database in this cluster migrating at the same moment created it first.
          WHEN duplicate_object OR unique_violation THEN NULL;
          WHEN insufficient_privilege THEN
            RAISE NOTICE 'role ${role} not created: % lacks CREATEROLE; create it as an administrator', current_user;
        END $$`);
    }
    await queryRunner.query(`
      CREATE FUNCTION refuse_change_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_user = 'convenant_retention' THEN
          RETURN NULL;
        END IF;
        RAISE EXCEPTION '% is append-only: % refused for role %', TG_TABLE_NAME, TG_OP, current_user
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'Only the retention job (SET ROLE convenant_retention) may remove entries.';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER access_log_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only()`);
    await this.grant(queryRunner, 'convenant_app', `REVOKE ALL ON access_log FROM convenant_app`);
    await this.grant(queryRunner, 'convenant_app', `GRANT INSERT, SELECT ON access_log TO convenant_app`);
    await this.grant(
      queryRunner,
      'convenant_retention',
      `GRANT SELECT, DELETE ON access_log TO convenant_retention`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await this.grant(queryRunner, 'convenant_retention', `REVOKE ALL ON access_log FROM convenant_retention`);
    await this.grant(queryRunner, 'convenant_app', `REVOKE ALL ON access_log FROM convenant_app`);
    await queryRunner.query(`DROP TRIGGER access_log_append_only ON access_log`);
    await queryRunner.query(`DROP FUNCTION refuse_change_append_only()`);
    // The roles stay: they are cluster-wide and other databases in the cluster may use them.
  }

  /** Grants only where the role exists: role creation may have been skipped for lack of privilege. */
  private async grant(queryRunner: QueryRunner, role: string, statement: string): Promise<void> {
    await queryRunner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
          ${statement};
        END IF;
      END $$`);
  }
}
