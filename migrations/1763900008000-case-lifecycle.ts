import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The case lifecycle: phase changes, emergency access grants (doorbraak), involvement signals
 * (verwijsindex), and a purge path for retention.
 *
 * - `case_phase_change` and `emergency_grant` are history: never updated, like the field values.
 * - `involvement_signal` keeps only the keyed hash of a BSN (HMAC with the gateway's BSN key),
 *   never the number; a withdrawal sets `withdrawn_at`, so the row is updated once.
 * - Case data is removed only by the retention job: DELETE and TRUNCATE on every case table are
 *   refused for every role except `convenant_retention` (the same statement-level guard as the
 *   access log, migration 1763900004000), which gets SELECT and DELETE on them and nothing else.
 *   The row-level guard of case_field_value now refuses UPDATE only; its DELETE guard moves to
 *   the statement level, where the retention exception can be made without skipping rows.
 */
export class CaseLifecycle1763900008000 implements MigrationInterface {
  name = 'CaseLifecycle1763900008000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE case_phase_change (
        id                       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        case_id                  uuid        NOT NULL REFERENCES cases (id),
        from_phase               text        NOT NULL,
        to_phase                 text        NOT NULL
                                             CHECK (to_phase IN ('acute', 'stabilisatie', 'herstel', 'afgesloten')),
        reason                   text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
        changed_by_partner       text        NOT NULL,
        changed_by_professional  text        NOT NULL,
        purpose                  text        NOT NULL,
        changed_at               timestamptz NOT NULL DEFAULT now(),
        CHECK (from_phase <> to_phase)
      )`);
    await queryRunner.query(`CREATE INDEX case_phase_change_case_idx ON case_phase_change (case_id, id)`);
    await queryRunner.query(`
      CREATE TABLE emergency_grant (
        id            uuid        PRIMARY KEY,
        case_id       uuid        NOT NULL REFERENCES cases (id),
        partner       text        NOT NULL,
        purpose       text        NOT NULL,
        professional  text        NOT NULL,
        reason        text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
        trace_id      text        NOT NULL,
        granted_at    timestamptz NOT NULL DEFAULT now(),
        expires_at    timestamptz NOT NULL,
        CHECK (expires_at > granted_at)
      )`);
    await queryRunner.query(
      `CREATE INDEX emergency_grant_lookup_idx ON emergency_grant (case_id, partner, purpose, professional, expires_at DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX emergency_grant_professional_idx ON emergency_grant (partner, professional, granted_at)`,
    );
    await queryRunner.query(`
      CREATE TABLE involvement_signal (
        id                         uuid        PRIMARY KEY,
        partner                    text        NOT NULL,
        purpose                    text        NOT NULL,
        professional               text        NOT NULL,
        person_hash                bytea       NOT NULL CHECK (length(person_hash) = 32),
        contact                    text        CHECK (length(contact) <= 200),
        signalled_at               timestamptz NOT NULL DEFAULT now(),
        withdrawn_at               timestamptz,
        withdrawn_by_professional  text,
        CHECK ((withdrawn_at IS NULL) = (withdrawn_by_professional IS NULL))
      )`);
    await queryRunner.query(
      `CREATE INDEX involvement_signal_person_idx ON involvement_signal (person_hash) WHERE withdrawn_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX involvement_signal_partner_idx ON involvement_signal (partner, purpose)`,
    );

    await queryRunner.query(`DROP TRIGGER case_field_value_append_only ON case_field_value`);
    await queryRunner.query(`DROP TRIGGER case_field_value_no_truncate ON case_field_value`);
    await queryRunner.query(`
      CREATE TRIGGER case_field_value_append_only
        BEFORE UPDATE ON case_field_value
        FOR EACH ROW EXECUTE FUNCTION case_field_value_append_only()`);
    for (const table of ['case_phase_change', 'emergency_grant']) {
      await queryRunner.query(`
        CREATE TRIGGER ${table}_append_only
          BEFORE UPDATE ON ${table}
          FOR EACH ROW EXECUTE FUNCTION case_field_value_append_only()`);
    }
    for (const table of PURGED_TABLES) {
      await queryRunner.query(`
        CREATE TRIGGER ${table}_retention_only
          BEFORE DELETE OR TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only()`);
    }
    await queryRunner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_retention') THEN
          GRANT SELECT, DELETE ON ${PURGED_TABLES.join(', ')} TO convenant_retention;
        END IF;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_retention') THEN
          REVOKE ALL ON ${PURGED_TABLES.join(', ')} FROM convenant_retention;
        END IF;
      END $$`);
    for (const table of PURGED_TABLES) {
      await queryRunner.query(`DROP TRIGGER ${table}_retention_only ON ${table}`);
    }
    await queryRunner.query(`DROP TABLE involvement_signal`);
    await queryRunner.query(`DROP TABLE emergency_grant`);
    await queryRunner.query(`DROP TABLE case_phase_change`);
    await queryRunner.query(`DROP TRIGGER case_field_value_append_only ON case_field_value`);
    await queryRunner.query(`
      CREATE TRIGGER case_field_value_append_only
        BEFORE UPDATE OR DELETE ON case_field_value
        FOR EACH ROW EXECUTE FUNCTION case_field_value_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER case_field_value_no_truncate
        BEFORE TRUNCATE ON case_field_value
        FOR EACH STATEMENT EXECUTE FUNCTION case_field_value_append_only()`);
  }
}

/** Every table the retention job may delete from, children before parents. */
const PURGED_TABLES = [
  'case_field_value',
  'case_phase_change',
  'emergency_grant',
  'case_participation',
  'case_person',
  'cases',
  'involvement_signal',
];
