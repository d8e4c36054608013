import { Injectable } from '@nestjs/common';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { PERSON_ROLES, type PersonRole, type Phase } from '../policy/index.js';
import type { Tx } from '../kernel/transaction.js';
import type { FieldValue } from './field-values.js';

/**
 * All SQL of cases, persons, participations and field values. Plain parameterised SQL through
 * the DataSource: the read path is one statement per request (docs/performance.md: round trips dominate),
 * and nothing here decides anything; the service decides with the policy engine.
 */

// Tx is a kernel type (src/kernel/transaction.ts); re-exported so the case services' imports stay.
export type { Tx };

export interface PersonRow {
  id: string;
  subjectRef: string;
  role: PersonRole;
}

/** A current (or historical) value as stored; `encrypted` is set for BSN-sensitivity fields. */
export interface StoredValue {
  personId: string | null;
  field: string;
  /** Parsed jsonb; null when the value is encrypted or was cleared. */
  value: FieldValue;
  encrypted: Buffer | null;
  source: string;
  recordedAt: string;
}

/** What a decision about one case needs, read in one statement. */
export interface CaseSnapshot {
  id: string;
  reference: string;
  phase: Phase;
  flags: string[];
  /** The partner has a participation for the purpose that is valid now (database clock). */
  participant: boolean;
  persons: PersonRow[];
}

export interface CaseWithValues extends CaseSnapshot {
  /** End of the caller's participation that grants access now; null when open-ended (or none). */
  participationUntil: string | null;
  /** End of the professional's live emergency access grant (doorbraak); null when none is live. */
  emergencyUntil: string | null;
  /** End of the professional's latest emergency grant on this case, live or expired; null when none. */
  lastEmergencyUntil: string | null;
  /** Current values of the requested fields; empty unless `participant`. */
  values: StoredValue[];
}

export interface CaseSummaryRow {
  id: string;
  reference: string;
  phase: Phase;
  /** ISO 8601 in UTC with microseconds, exact enough to page on. */
  openedAt: string;
}

export interface NewCase {
  id: string;
  /** The convenant's reference prefix (see caseReferencePrefix). */
  referencePrefix: string;
  phase: Phase;
  flags: readonly string[];
  controllerPartner: string;
}

export interface NewPerson {
  id: string;
  caseId: string;
  role: PersonRole;
  subjectRef: string;
}

export interface NewParticipation {
  id: string;
  caseId: string;
  partner: string;
  purposes: readonly string[];
  /** Absent: from now (the database clock). */
  validFrom?: Date;
  validUntil?: Date | null;
  addedByPartner: string;
  addedByProfessional: string;
}

export interface NewValue {
  caseId: string;
  personId: string | null;
  field: string;
  /** Exactly one of `value` (jsonb) or `encrypted` + `hash`. */
  value?: FieldValue;
  encrypted?: Buffer;
  hash?: Buffer;
  sourcePartner: string;
  recordedBy: string;
  purpose: string;
  reason: string | null;
  /** Absent: now (the database clock). The demo seeder backdates values of long-closed cases. */
  recordedAt?: Date;
}

export interface ParticipationRow {
  id: string;
  caseId: string;
  partner: string;
  purposes: string[];
  validFrom: Date;
  validUntil: Date | null;
  /** Whether it grants access at this moment (database clock). */
  current: boolean;
  /** Ended by someone, or its period is over: it will never grant access again. */
  ended: boolean;
}

export interface HistoryRow {
  value: FieldValue;
  encrypted: Buffer | null;
  source: string;
  purpose: string;
  recordedAt: Date;
  reason: string | null;
}

/** valid_from <= now < valid_until (open-ended when null), on the database clock. */
const VALID_NOW = `p.valid_from <= now() AND (p.valid_until IS NULL OR p.valid_until > now())`;

/** In the model's order of person roles; within a role, in the order registered. */
const PERSON_ORDER = `array_position(ARRAY[${PERSON_ROLES.map((r) => `'${r}'`).join(', ')}], cp.role), cp.created_at, cp.subject_ref`;

const UTC_MICROS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** $1 partner, $2 purpose, $3 phase or null, $4/$5 keyset position or null, $6 limit. Exported for the plan test. */
export const LIST_FOR_PARTNER_SQL = `SELECT c.id, c.reference, c.phase,
          to_char(c.opened_at AT TIME ZONE 'UTC', ${UTC_MICROS}) AS "openedAt"
     FROM cases c
    WHERE c.id IN (
            SELECT p.case_id FROM case_participation p
             WHERE p.partner = $1 AND $2 = ANY (p.purposes) AND ${VALID_NOW})
      AND ($3::text IS NULL OR c.phase = $3::text)
      AND ($4::timestamptz IS NULL OR (c.opened_at, c.id) < ($4::timestamptz, $5::uuid))
    ORDER BY c.opened_at DESC, c.id DESC
    LIMIT $6`;

/** Builds `($1, $2, …), (…)` for a multi-row INSERT. */
function rowsOf(rows: readonly unknown[][]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const sql = rows
    .map((row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`)
    .join(', ');
  return { sql, params };
}

interface SnapshotRow {
  id: string;
  reference: string;
  phase: Phase;
  flags: string[];
  participant: boolean;
  persons: PersonRow[];
  participationUntil?: Date | null;
  emergencyUntil?: Date | null;
  lastEmergencyUntil?: Date | null;
  values?: {
    personId: string | null;
    field: string;
    value: FieldValue;
    encrypted: string | null;
    source: string;
    recordedAt: string;
  }[];
}

/**
 * readForPartner's one statement ($1 case, $2 partner, $3 purpose, $4 field ids, $5 professional);
 * exported so the benchmark's bare peer runs the very same SQL.
 */
export const READ_FOR_PARTNER_SQL = `WITH c AS (
    SELECT id, reference, phase, flags FROM cases WHERE id = $1
  ), part AS (
    SELECT p.valid_until FROM case_participation p
     WHERE p.case_id = $1 AND p.partner = $2 AND $3 = ANY (p.purposes) AND ${VALID_NOW}
     ORDER BY p.valid_until DESC NULLS FIRST
     LIMIT 1
  ), grants AS (
    SELECT max(g.expires_at) AS last_until,
           max(g.expires_at) FILTER (WHERE g.granted_at <= now() AND g.expires_at > now()) AS live_until
      FROM emergency_grant g
     WHERE g.case_id = $1 AND g.partner = $2 AND g.purpose = $3 AND g.professional = $5
  ), visible AS (
    SELECT EXISTS (SELECT 1 FROM part) OR (SELECT live_until IS NOT NULL FROM grants) AS yes
  )
  SELECT c.id, c.reference, c.phase, c.flags,
    EXISTS (SELECT 1 FROM part) AS participant,
    part.valid_until AS "participationUntil",
    (SELECT live_until FROM grants) AS "emergencyUntil",
    (SELECT last_until FROM grants) AS "lastEmergencyUntil",
    COALESCE((
      SELECT json_agg(json_build_object('id', cp.id, 'subjectRef', cp.subject_ref, 'role', cp.role)
                      ORDER BY ${PERSON_ORDER})
        FROM case_person cp
       WHERE cp.case_id = $1 AND (SELECT yes FROM visible)
    ), '[]') AS persons,
    COALESCE((
      SELECT json_agg(json_build_object(
               'personId', v.person_id, 'field', v.field_id, 'value', v.value,
               'encrypted', encode(v.value_encrypted, 'base64'),
               'source', v.source_partner, 'recordedAt', v.recorded_at))
        FROM (
          SELECT DISTINCT ON (person_id, field_id)
                 person_id, field_id, value, value_encrypted, source_partner, recorded_at
            FROM case_field_value
           WHERE case_id = $1 AND field_id = ANY ($4::text[])
           ORDER BY person_id, field_id, id DESC
        ) v
       WHERE (SELECT yes FROM visible)
    ), '[]') AS values
  FROM c LEFT JOIN part ON true`;

@Injectable()
export class CasesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The two hot reads run as named prepared statements on TypeORM's own pg pool, so PostgreSQL
   * parses and plans them once per connection rather than on every request (TypeORM's query()
   * never prepares). Measured on the 2-core box, GET /v1/cases/{id} (3 KB answer, 4 persons) at
   * 32 connections, median of 3 passes: 560 -> 670 requests/s, PostgreSQL CPU per request
   * 1.5 -> 1.0 ms.
   * Same pool and connections as everything else: nothing extra to size or to close.
   */
  private async prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const pool = (this.dataSource.driver as unknown as { master?: pg.Pool }).master;
    if (!pool) throw new Error('The PostgreSQL pool is not open.');
    const result = await pool.query({ name, text, values });
    return result.rows as T[];
  }

  /** Runs `work` in one transaction; it commits when `work` resolves and rolls back when it throws. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * The case, whether `partner` takes part in it for `purpose` now, whether `professional` holds
   * an emergency access grant on it, its persons, and the current values of `fields`: ONE round
   * trip. Persons and values come back only for a participant or under a live grant, so a refused
   * request never even loads them.
   */
  async readForPartner(
    caseId: string,
    partner: string,
    purpose: string,
    fields: readonly string[],
    professional: string,
  ): Promise<CaseWithValues | undefined> {
    const rows = await this.prepared<SnapshotRow>('cases_read_for_partner_v2', READ_FOR_PARTNER_SQL, [
      caseId,
      partner,
      purpose,
      fields,
      professional,
    ]);
    const row = rows[0];
    if (!row) return undefined;
    return {
      ...snapshotOf(row),
      participationUntil: row.participationUntil ? row.participationUntil.toISOString() : null,
      emergencyUntil: row.emergencyUntil ? row.emergencyUntil.toISOString() : null,
      lastEmergencyUntil: row.lastEmergencyUntil ? row.lastEmergencyUntil.toISOString() : null,
      values: (row.values ?? []).map((v) => ({
        personId: v.personId,
        field: v.field,
        value: v.encrypted === null ? v.value : null,
        encrypted: v.encrypted === null ? null : Buffer.from(v.encrypted, 'base64'),
        source: v.source,
        recordedAt: new Date(v.recordedAt).toISOString(),
      })),
    };
  }

  /**
   * The case, participation and persons without values, in one statement. Inside a transaction
   * the case row is locked: contributions take it FOR SHARE and managing takes it FOR UPDATE, so
   * a contribution is checked and stored under one state of the participations.
   */
  async snapshot(
    caseId: string,
    partner: string,
    purpose: string,
    lock?: { tx: Tx; mode: 'share' | 'update' },
  ): Promise<CaseSnapshot | undefined> {
    const forLock = lock ? (lock.mode === 'share' ? 'FOR SHARE' : 'FOR UPDATE') : '';
    const rows = await (lock?.tx ?? this.dataSource.manager).query<SnapshotRow[]>(
      `WITH c AS (
         SELECT id, reference, phase, flags FROM cases WHERE id = $1 ${forLock}
       )
       SELECT c.id, c.reference, c.phase, c.flags,
         EXISTS (
           SELECT 1 FROM case_participation p
            WHERE p.case_id = c.id AND p.partner = $2 AND $3 = ANY (p.purposes) AND ${VALID_NOW}
         ) AS participant,
         COALESCE((
           SELECT json_agg(json_build_object('id', cp.id, 'subjectRef', cp.subject_ref, 'role', cp.role)
                           ORDER BY ${PERSON_ORDER})
             FROM case_person cp WHERE cp.case_id = c.id
         ), '[]') AS persons
       FROM c`,
      [caseId, partner, purpose],
    );
    const row = rows[0];
    return row ? snapshotOf(row) : undefined;
  }

  /**
   * The cases `partner` takes part in for `purpose` now, newest first, keyset-paginated on
   * (opened_at, id). The participation index (partner, case_id) drives the query, so its cost
   * depends on this partner's cases, not on all cases.
   */
  async listForPartner(
    partner: string,
    purpose: string,
    options: { phase?: Phase; limit: number; after?: { openedAt: string; id: string } },
  ): Promise<CaseSummaryRow[]> {
    return this.prepared<CaseSummaryRow>('cases_list_for_partner', LIST_FOR_PARTNER_SQL, [
      partner,
      purpose,
      options.phase ?? null,
      options.after?.openedAt ?? null,
      options.after?.id ?? null,
      options.limit,
    ]);
  }

  /** Inserts the case and hands back its reference (<prefix>-<year>-<number>) and opening time. */
  async insertCase(tx: Tx, c: NewCase): Promise<CaseSummaryRow> {
    const rows = await tx.query<CaseSummaryRow[]>(
      `INSERT INTO cases (id, reference, phase, flags, controller_partner)
       VALUES ($1,
               $5 || '-' || to_char(now() AT TIME ZONE 'Europe/Amsterdam', 'YYYY') || '-'
                  || lpad(nextval('case_reference_seq')::text, 6, '0'),
               $2, $3, $4)
       RETURNING id, reference, phase,
                 to_char(opened_at AT TIME ZONE 'UTC', ${UTC_MICROS}) AS "openedAt"`,
      [c.id, c.phase, c.flags, c.controllerPartner, c.referencePrefix],
    );
    return rows[0]!;
  }

  async insertPersons(tx: Tx, persons: readonly NewPerson[]): Promise<void> {
    if (persons.length === 0) return;
    const { sql, params } = rowsOf(persons.map((p) => [p.id, p.caseId, p.role, p.subjectRef]));
    await tx.query(`INSERT INTO case_person (id, case_id, role, subject_ref) VALUES ${sql}`, params);
  }

  async insertParticipation(tx: Tx, p: NewParticipation): Promise<ParticipationRow> {
    const rows = await tx.query<ParticipationRow[]>(
      `INSERT INTO case_participation AS p
         (id, case_id, partner, purposes, valid_from, valid_until, added_by_partner, added_by_professional)
       VALUES ($1, $2, $3, $4, COALESCE($5::timestamptz, now()), $6, $7, $8)
       RETURNING ${PARTICIPATION_COLUMNS}`,
      [
        p.id,
        p.caseId,
        p.partner,
        p.purposes,
        p.validFrom ?? null,
        p.validUntil ?? null,
        p.addedByPartner,
        p.addedByProfessional,
      ],
    );
    return rows[0]!;
  }

  /** Appends values (never updates: the table refuses UPDATE and DELETE). */
  async insertValues(tx: Tx, values: readonly NewValue[]): Promise<void> {
    if (values.length === 0) return;
    const params: unknown[] = [];
    const slot = (v: unknown) => (params.push(v), `$${params.length}`);
    // recorded_at is the database's now() unless given: the column default, kept per row.
    const rows = values.map(
      (v) =>
        `(${[
          v.caseId,
          v.personId,
          v.field,
          v.encrypted ? null : JSON.stringify(v.value ?? null),
          v.encrypted ?? null,
          v.hash ?? null,
          v.sourcePartner,
          v.recordedBy,
          v.purpose,
          v.reason,
        ]
          .map(slot)
          .join(', ')}, COALESCE(${slot(v.recordedAt ?? null)}::timestamptz, now()))`,
    );
    await tx.query(
      `INSERT INTO case_field_value
         (case_id, person_id, field_id, value, value_encrypted, value_hash,
          source_partner, recorded_by, purpose, reason, recorded_at)
       VALUES ${rows.join(', ')}`,
      params,
    );
  }

  /** A participation of the case (lock the case first with `snapshot(…, { mode: 'update' })`). */
  async participation(tx: Tx, caseId: string, id: string): Promise<ParticipationRow | undefined> {
    const rows = await tx.query<ParticipationRow[]>(
      `SELECT ${PARTICIPATION_COLUMNS} FROM case_participation p WHERE p.case_id = $1 AND p.id = $2`,
      [caseId, id],
    );
    return rows[0];
  }

  /**
   * Ends a participation now. One that has not started yet ends at its start, leaving an empty
   * period, so the check valid_until >= valid_from holds and it never grants anything.
   */
  async endParticipation(
    tx: Tx,
    id: string,
    by: { partner: string; professional: string },
  ): Promise<ParticipationRow> {
    const rows = await tx.query<[ParticipationRow[], number]>(
      `UPDATE case_participation p
          SET valid_until = GREATEST(now(), p.valid_from),
              ended_at = now(), ended_by_partner = $2, ended_by_professional = $3
        WHERE p.id = $1
        RETURNING ${PARTICIPATION_COLUMNS}`,
      [id, by.partner, by.professional],
    );
    return rows[0][0]!;
  }

  /** `<personId or ''>|<field>` for each of `fields` that has a value in the case (inside `tx`). */
  async recordedFields(tx: Tx, caseId: string, fields: readonly string[]): Promise<Set<string>> {
    const rows = await tx.query<{ key: string }[]>(
      `SELECT DISTINCT COALESCE(person_id::text, '') || '|' || field_id AS key
         FROM case_field_value WHERE case_id = $1 AND field_id = ANY ($2::text[])`,
      [caseId, fields],
    );
    return new Set(rows.map((r) => r.key));
  }

  /** Every recorded version of one field, newest first. */
  async history(caseId: string, personId: string | null, fieldId: string): Promise<HistoryRow[]> {
    const person = personId === null ? 'person_id IS NULL' : 'person_id = $3';
    const params = personId === null ? [caseId, fieldId] : [caseId, fieldId, personId];
    return this.dataSource.query<HistoryRow[]>(
      `SELECT CASE WHEN value_encrypted IS NULL THEN value END AS value,
              value_encrypted AS encrypted, source_partner AS source, purpose,
              recorded_at AS "recordedAt", reason
         FROM case_field_value
        WHERE case_id = $1 AND field_id = $2 AND ${person}
        ORDER BY id DESC`,
      params,
    );
  }
}

const PARTICIPATION_COLUMNS = `p.id, p.case_id AS "caseId", p.partner, p.purposes,
  p.valid_from AS "validFrom", p.valid_until AS "validUntil", (${VALID_NOW}) AS current,
  (p.ended_at IS NOT NULL OR COALESCE(p.valid_until <= now(), false)) AS ended`;

function snapshotOf(row: SnapshotRow): CaseSnapshot {
  return {
    id: row.id,
    reference: row.reference,
    phase: row.phase,
    flags: row.flags,
    participant: row.participant,
    persons: row.persons,
  };
}
