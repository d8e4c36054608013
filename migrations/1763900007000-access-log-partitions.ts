import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The filter columns of GET /v1/audit/events, each with the keyset order (newest first). */
const FILTER_INDEXES: readonly [name: string, columns: string, where?: string][] = [
  ['time', 'occurred_at DESC, seq DESC'],
  ['case', 'case_id, occurred_at DESC, seq DESC'],
  ['subject', 'data_subject_ref, occurred_at DESC, seq DESC'],
  ['partner', 'partner, occurred_at DESC, seq DESC'],
  ['professional', 'professional, occurred_at DESC, seq DESC'],
  ['purpose', 'processing_activity_id, occurred_at DESC, seq DESC'],
  ['action', 'action, occurred_at DESC, seq DESC'],
  ['trace', 'trace_id'],
  // Emergency accesses and denials are rare, and are what review and anomaly queries look for.
  ['emergency', 'occurred_at DESC, seq DESC', 'emergency'],
  ['denied', 'occurred_at DESC, seq DESC', `status = 'denied'`],
  ['denied_professional', 'professional, occurred_at DESC', `status = 'denied'`],
];

const COLUMNS = `seq, occurred_at, trace_id, partner, professional, processing_activity_id, legal_basis, action,
  case_id, data_subject_ref, fields, status, rule_id, reason, policy_version, emergency`;

/**
 * access_log partitioned by month of occurred_at (native declarative partitioning), so the log can
 * grow to many millions of rows: queries on a time range touch only their months, retention
 * deletes from old months only, and every index stays the size of one month.
 *
 * - The primary key must hold the partition key: (seq, occurred_at). seq stays unique in practice
 *   (one identity sequence), and seq-leading keeps lookups by seq (the sealer, the verifier) indexed.
 * - Partitions are created ahead by access_log_ensure_partitions(ahead) (this month and `ahead`
 *   more, in UTC): here, at start-up and by the sealer's tick. A DEFAULT partition takes whatever
 *   no month partition holds, so an insert never fails for lack of a partition; a month whose rows
 *   already sit in DEFAULT is left there (moving them would mean deleting from the log) and a
 *   WARNING says so.
 * - Append-only on every partition. Statement-level triggers fire only for the table a statement
 *   names and are not cloned onto partitions, so the parent refuses TRUNCATE and
 *   access_log_create_partition gives each partition (DEFAULT too) its own statement trigger against
 *   UPDATE, DELETE and TRUNCATE. Beneath those, a row-level BEFORE UPDATE OR DELETE trigger on the
 *   parent is cloned by PostgreSQL onto every partition, also one created by hand, and refuses
 *   every changed row whichever table the statement named; it lets convenant_retention delete.
 *   Partitions get no grants: convenant_app and convenant_retention reach rows through the parent.
 * - Existing rows move over with their seq; the identity continues after the old sequence.
 */
export class AccessLogPartitions1763900007000 implements MigrationInterface {
  name = 'AccessLogPartitions1763900007000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`ALTER TABLE access_log RENAME TO access_log_unpartitioned`);
    await q(
      `ALTER TABLE access_log_unpartitioned RENAME CONSTRAINT access_log_pkey TO access_log_unpartitioned_pkey`,
    );
    await q(`ALTER SEQUENCE access_log_seq_seq RENAME TO access_log_unpartitioned_seq_seq`);
    for (const index of [
      'case',
      'subject',
      'trace',
      'time',
      'partner',
      'professional',
      'fields',
      'emergency',
      'denied',
    ]) {
      await q(`DROP INDEX IF EXISTS access_log_${index}_idx`);
    }
    await q(`
      CREATE TABLE access_log (
        seq                     bigint      GENERATED ALWAYS AS IDENTITY,
        occurred_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
        trace_id                text        NOT NULL CHECK (trace_id ~ '^[0-9a-f]{32}$'),
        partner                 text,
        professional            text,
        processing_activity_id  text,
        legal_basis             text[]      NOT NULL DEFAULT '{}',
        action                  text        NOT NULL,
        case_id                 uuid,
        data_subject_ref        text,
        fields                  text[]      NOT NULL DEFAULT '{}',
        status                  text        NOT NULL CHECK (status IN ('allowed', 'denied')),
        rule_id                 text,
        reason                  text,
        policy_version          text,
        emergency               boolean     NOT NULL DEFAULT false,
        PRIMARY KEY (seq, occurred_at)
      ) PARTITION BY RANGE (occurred_at)`);
    await q(`CREATE TABLE access_log_default PARTITION OF access_log DEFAULT`);
    await q(`
      CREATE FUNCTION refuse_change_append_only_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_user = 'convenant_retention' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only: % refused for role %', TG_TABLE_NAME, TG_OP, current_user
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'Only the retention job (SET ROLE convenant_retention) may remove entries.';
      END $$`);
    // Named like the old statement trigger, so `ALTER TABLE access_log DISABLE TRIGGER
    // access_log_append_only` (tests that tamper on purpose) still names the guard, on every partition.
    await q(`
      CREATE TRIGGER access_log_append_only
        BEFORE UPDATE OR DELETE ON access_log
        FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only_row()`);
    await q(`
      CREATE TRIGGER access_log_no_truncate
        BEFORE TRUNCATE ON access_log
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only()`);
    await q(`
      CREATE TRIGGER access_log_default_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log_default
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only()`);
    await q(`
      CREATE FUNCTION access_log_create_partition(month date) RETURNS boolean
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      DECLARE
        first timestamptz := date_trunc('month', month::timestamp) AT TIME ZONE 'UTC';
        next  timestamptz := (date_trunc('month', month::timestamp) + interval '1 month') AT TIME ZONE 'UTC';
        name  text := 'access_log_' || to_char(month, 'YYYY_MM');
      BEGIN
        IF to_regclass(name) IS NOT NULL THEN
          RETURN false;
        END IF;
        IF EXISTS (SELECT 1 FROM access_log_default WHERE occurred_at >= first AND occurred_at < next) THEN
          RAISE WARNING 'access_log: rows of % are in access_log_default; partition % not created', to_char(month, 'YYYY-MM'), name;
          RETURN false;
        END IF;
        EXECUTE format('CREATE TABLE %I PARTITION OF access_log FOR VALUES FROM (%L) TO (%L)', name, first, next);
        EXECUTE format(
          'CREATE TRIGGER %I BEFORE UPDATE OR DELETE OR TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only()',
          name || '_append_only', name);
        RETURN true;
      END $$`);
    await q(`
      CREATE FUNCTION access_log_ensure_partitions(ahead integer DEFAULT 1) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      DECLARE
        created integer := 0;
        this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
      BEGIN
        -- Two gateway instances starting together must not race to create the same partition.
        PERFORM pg_advisory_xact_lock(1885434484);
        FOR i IN 0..ahead LOOP
          IF access_log_create_partition((this_month + make_interval(months => i))::date) THEN
            created := created + 1;
          END IF;
        END LOOP;
        RETURN created;
      END $$`);
    await q(`REVOKE ALL ON FUNCTION access_log_create_partition(date) FROM PUBLIC`);
    await q(`REVOKE ALL ON FUNCTION access_log_ensure_partitions(integer) FROM PUBLIC`);
    // Months of the existing rows first, so none of them lands in DEFAULT.
    await q(`
      SELECT access_log_create_partition(m::date)
        FROM (SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') AS m FROM access_log_unpartitioned) months`);
    await q(`SELECT access_log_ensure_partitions(1)`);
    await q(`INSERT INTO access_log (${COLUMNS}) OVERRIDING SYSTEM VALUE
             SELECT ${COLUMNS} FROM access_log_unpartitioned`);
    await q(`
      SELECT setval(pg_get_serial_sequence('access_log', 'seq'), last_value, is_called)
        FROM access_log_unpartitioned_seq_seq`);
    await q(`DROP TABLE access_log_unpartitioned`);
    for (const [name, columns, where] of FILTER_INDEXES) {
      await q(
        `CREATE INDEX access_log_${name}_idx ON access_log (${columns})${where ? ` WHERE ${where}` : ''}`,
      );
    }
    // `fields @> ARRAY[…]`: which entries touched a field.
    await q(`CREATE INDEX access_log_fields_idx ON access_log USING gin (fields)`);
    await this.grants(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`ALTER TABLE access_log RENAME TO access_log_partitioned`);
    await q(
      `ALTER TABLE access_log_partitioned RENAME CONSTRAINT access_log_pkey TO access_log_partitioned_pkey`,
    );
    await q(`ALTER SEQUENCE access_log_seq_seq RENAME TO access_log_partitioned_seq_seq`);
    for (const [name] of FILTER_INDEXES) await q(`DROP INDEX access_log_${name}_idx`);
    await q(`DROP INDEX access_log_fields_idx`);
    await q(`
      CREATE TABLE access_log (
        seq                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        occurred_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
        trace_id                text        NOT NULL CHECK (trace_id ~ '^[0-9a-f]{32}$'),
        partner                 text,
        professional            text,
        processing_activity_id  text,
        legal_basis             text[]      NOT NULL DEFAULT '{}',
        action                  text        NOT NULL,
        case_id                 uuid,
        data_subject_ref        text,
        fields                  text[]      NOT NULL DEFAULT '{}',
        status                  text        NOT NULL CHECK (status IN ('allowed', 'denied')),
        rule_id                 text,
        reason                  text,
        policy_version          text,
        emergency               boolean     NOT NULL DEFAULT false
      )`);
    await q(
      `INSERT INTO access_log (${COLUMNS}) OVERRIDING SYSTEM VALUE SELECT ${COLUMNS} FROM access_log_partitioned`,
    );
    await q(`
      SELECT setval(pg_get_serial_sequence('access_log', 'seq'), last_value, is_called)
        FROM access_log_partitioned_seq_seq`);
    await q(`DROP TABLE access_log_partitioned`);
    await q(`DROP FUNCTION access_log_ensure_partitions(integer)`);
    await q(`DROP FUNCTION access_log_create_partition(date)`);
    await q(`DROP FUNCTION refuse_change_append_only_row()`);
    await q(`CREATE INDEX access_log_case_idx ON access_log (case_id, occurred_at DESC)`);
    await q(`CREATE INDEX access_log_subject_idx ON access_log (data_subject_ref, occurred_at DESC)`);
    await q(`CREATE INDEX access_log_trace_idx ON access_log (trace_id)`);
    await q(`CREATE INDEX access_log_time_idx ON access_log (occurred_at DESC, seq DESC)`);
    await q(`CREATE INDEX access_log_partner_idx ON access_log (partner, occurred_at DESC, seq DESC)`);
    await q(
      `CREATE INDEX access_log_professional_idx ON access_log (professional, occurred_at DESC, seq DESC)`,
    );
    await q(`CREATE INDEX access_log_fields_idx ON access_log USING gin (fields)`);
    await q(
      `CREATE INDEX access_log_emergency_idx ON access_log (occurred_at DESC, seq DESC) WHERE emergency`,
    );
    await q(
      `CREATE INDEX access_log_denied_idx ON access_log (professional, occurred_at DESC) WHERE status = 'denied'`,
    );
    await q(`
      CREATE TRIGGER access_log_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only()`);
    await this.grants(queryRunner);
  }

  /** Grants only where the role exists: role creation may have been skipped for lack of privilege. */
  private async grants(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_app') THEN
          GRANT INSERT, SELECT ON access_log TO convenant_app;
          IF to_regprocedure('access_log_ensure_partitions(integer)') IS NOT NULL THEN
            GRANT EXECUTE ON FUNCTION access_log_ensure_partitions(integer) TO convenant_app;
          END IF;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_retention') THEN
          GRANT SELECT, DELETE ON access_log TO convenant_retention;
        END IF;
      END $$`);
  }
}
