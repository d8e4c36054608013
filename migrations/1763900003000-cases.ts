import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cases, the persons in them, the partners taking part, and the shared field values.
 *
 * - The table is `cases` because `case` is an SQL keyword; the other tables are singular, like
 *   the rest of the schema.
 * - Persons are known to the outside only by a random `subject_ref`; a BSN is a field value like
 *   any other, but kept only as a keyed hash plus an AES-256-GCM ciphertext (never plain text).
 * - Field values are append-only: a new value is a new row, the current value is the latest row
 *   per (case, person, field), and a trigger refuses UPDATE and DELETE, so the history of who
 *   recorded what under which purpose cannot be rewritten.
 * - Participations decide who may see a case, and when: valid_from <= now < valid_until (open
 *   when null). Listing a partner's cases starts from (partner, case_id), so its cost depends on
 *   that partner's cases only.
 */
export class Cases1763900003000 implements MigrationInterface {
  name = 'Cases1763900003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SEQUENCE case_reference_seq`);
    await queryRunner.query(`
      CREATE TABLE cases (
        id                  uuid        PRIMARY KEY,
        reference           text        NOT NULL UNIQUE CHECK (reference ~ '^ZVH-[0-9]{4}-[0-9]{6,}$'),
        phase               text        NOT NULL
                                        CHECK (phase IN ('acute', 'stabilisatie', 'herstel', 'afgesloten')),
        flags               text[]      NOT NULL DEFAULT '{}',
        controller_partner  text        NOT NULL,
        opened_at           timestamptz NOT NULL DEFAULT now(),
        closed_at           timestamptz CHECK (closed_at IS NULL OR closed_at >= opened_at)
      )`);
    await queryRunner.query(`
      CREATE TABLE case_person (
        id           uuid        PRIMARY KEY,
        case_id      uuid        NOT NULL REFERENCES cases (id),
        role         text        NOT NULL CHECK (role IN ('slachtoffer', 'pleger', 'kind', 'gezinslid')),
        subject_ref  text        NOT NULL UNIQUE CHECK (subject_ref ~ '^p_[a-z2-7]{20}$'),
        created_at   timestamptz NOT NULL DEFAULT now(),
        UNIQUE (id, case_id)
      )`);
    await queryRunner.query(`CREATE INDEX case_person_case_idx ON case_person (case_id)`);
    await queryRunner.query(`
      CREATE TABLE case_participation (
        id                     uuid        PRIMARY KEY,
        case_id                uuid        NOT NULL REFERENCES cases (id),
        partner                text        NOT NULL,
        purposes               text[]      NOT NULL CHECK (cardinality(purposes) > 0),
        valid_from             timestamptz NOT NULL,
        valid_until            timestamptz CHECK (valid_until IS NULL OR valid_until >= valid_from),
        added_by_partner       text        NOT NULL,
        added_by_professional  text        NOT NULL,
        added_at               timestamptz NOT NULL DEFAULT now(),
        ended_by_partner       text,
        ended_by_professional  text,
        ended_at               timestamptz,
        CHECK ((ended_at IS NULL) = (ended_by_partner IS NULL)
               AND (ended_at IS NULL) = (ended_by_professional IS NULL))
      )`);
    await queryRunner.query(
      `CREATE INDEX case_participation_partner_case_idx ON case_participation (partner, case_id)`,
    );
    await queryRunner.query(`CREATE INDEX case_participation_case_idx ON case_participation (case_id)`);
    await queryRunner.query(`
      CREATE TABLE case_field_value (
        id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        case_id          uuid        NOT NULL REFERENCES cases (id),
        person_id        uuid,
        field_id         text        NOT NULL CHECK (field_id ~ '^[a-z0-9-]+\\.[a-z0-9-]+$'),
        value            jsonb,
        value_encrypted  bytea,
        value_hash       bytea,
        source_partner   text        NOT NULL,
        recorded_by      text        NOT NULL,
        purpose          text        NOT NULL,
        recorded_at      timestamptz NOT NULL DEFAULT now(),
        reason           text,
        FOREIGN KEY (person_id, case_id) REFERENCES case_person (id, case_id),
        CHECK ((value IS NULL) <> (value_encrypted IS NULL)),
        CHECK ((value_encrypted IS NULL) = (value_hash IS NULL))
      )`);
    await queryRunner.query(
      `CREATE INDEX case_field_value_current_idx ON case_field_value (case_id, person_id, field_id, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX case_field_value_hash_idx ON case_field_value (value_hash) WHERE value_hash IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE FUNCTION case_field_value_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'case_field_value is append-only: record a new value instead of changing one';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER case_field_value_append_only
        BEFORE UPDATE OR DELETE ON case_field_value
        FOR EACH ROW EXECUTE FUNCTION case_field_value_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER case_field_value_no_truncate
        BEFORE TRUNCATE ON case_field_value
        FOR EACH STATEMENT EXECUTE FUNCTION case_field_value_append_only()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE case_field_value`);
    await queryRunner.query(`DROP FUNCTION case_field_value_append_only()`);
    await queryRunner.query(`DROP TABLE case_participation`);
    await queryRunner.query(`DROP TABLE case_person`);
    await queryRunner.query(`DROP TABLE cases`);
    await queryRunner.query(`DROP SEQUENCE case_reference_seq`);
  }
}
