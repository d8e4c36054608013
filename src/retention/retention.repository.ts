import type { DataSource, EntityManager } from 'typeorm';

/**
 * The SQL of the case-data retention job. Selection is read-only and deterministic for a given
 * `now`; removal runs as `convenant_retention`, the only role the case tables' guards let delete
 * (migration 1763900008000). Nothing here touches access_log rows.
 */

/** purpose id → ISO-8601 retention period, as in the convenant. */
export type RetentionPeriods = Record<string, string>;

export interface LapsedValueRow {
  id: string;
  caseId: string;
  reference: string;
  subjectRef: string | null;
  field: string;
  purpose: string;
  /** When the basis of the value ended: its participation's end, or the case's closing. */
  basisEndedAt: Date;
}

export interface LapsedCaseRow {
  caseId: string;
  reference: string;
  closedAt: Date;
  persons: number;
  participations: number;
  phaseChanges: number;
  emergencyGrants: number;
}

export interface LapsedSignalRow {
  id: string;
  partner: string;
  purpose: string;
}

const PERIODS = `periods AS (SELECT key AS purpose, value::interval AS keep FROM jsonb_each_text($2::jsonb))`;

/** The connecting user cannot act as convenant_retention, so nothing can be removed. */
export class RetentionRoleError extends Error {
  constructor(cause: string) {
    super(
      `Cannot act as the retention role (${cause}). Connect as a user that is a member of ` +
        'convenant_retention (README: the database roles); nothing was removed.',
    );
    this.name = 'RetentionRoleError';
  }
}

export class RetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Values whose basis lapsed: the partner that recorded a value under a purpose no longer takes
   * part in the case for that purpose (every such participation has ended), and the purpose's
   * retention has passed since the last one ended, or since the closing if that came first (an
   * aftercare participation outlives the closing; its clock still starts there). Without any
   * such participation the basis is the case itself, until its closing. A value under a purpose the convenant no longer names is
   * kept: nothing says how long, so nothing is removed on a guess.
   */
  async lapsedValues(now: Date, periods: RetentionPeriods, tx?: EntityManager): Promise<LapsedValueRow[]> {
    return (tx ?? this.dataSource.manager).query<LapsedValueRow[]>(
      `WITH ${PERIODS},
       basis AS (
         SELECT v.id, v.case_id, v.person_id, v.field_id, v.purpose, c.reference, periods.keep,
                CASE
                  WHEN bool_or(p.id IS NOT NULL AND p.valid_until IS NULL) THEN NULL
                  -- Aftercare (after_closing) runs past the closing, but the clock starts at it.
                  WHEN bool_or(p.id IS NOT NULL) THEN LEAST(max(p.valid_until), c.closed_at)
                  ELSE c.closed_at
                END AS basis_ended_at
           FROM case_field_value v
           JOIN cases c ON c.id = v.case_id
           JOIN periods ON periods.purpose = v.purpose
           LEFT JOIN case_participation p
             ON p.case_id = v.case_id AND p.partner = v.source_partner AND v.purpose = ANY (p.purposes)
          GROUP BY v.id, c.id, periods.keep)
       SELECT b.id::text AS id, b.case_id AS "caseId", b.reference, cp.subject_ref AS "subjectRef",
              b.field_id AS field, b.purpose, b.basis_ended_at AS "basisEndedAt"
         FROM basis b
         LEFT JOIN case_person cp ON cp.id = b.person_id
        WHERE b.basis_ended_at IS NOT NULL AND b.basis_ended_at + b.keep <= $1
        ORDER BY b.reference, b.id`,
      [now, JSON.stringify(periods)],
    );
  }

  /**
   * Closed cases whose every purpose has lapsed: the retention of each purpose the case was shared
   * under (its participations' purposes and its values' purposes) has passed since the closing.
   * A purpose the convenant no longer names keeps the case.
   */
  async lapsedCases(now: Date, periods: RetentionPeriods, tx?: EntityManager): Promise<LapsedCaseRow[]> {
    return (tx ?? this.dataSource.manager).query<LapsedCaseRow[]>(
      `WITH ${PERIODS},
       used AS (
         SELECT p.case_id, unnest(p.purposes) AS purpose FROM case_participation p
         UNION
         SELECT v.case_id, v.purpose FROM case_field_value v),
       closed AS (
         SELECT c.id, c.reference, c.closed_at FROM cases c
          WHERE c.phase = 'afgesloten' AND c.closed_at IS NOT NULL
            AND NOT EXISTS (
              SELECT 1 FROM used u LEFT JOIN periods r ON r.purpose = u.purpose
               WHERE u.case_id = c.id AND (r.keep IS NULL OR c.closed_at + r.keep > $1)))
       SELECT c.id AS "caseId", c.reference, c.closed_at AS "closedAt",
              (SELECT count(*) FROM case_person x WHERE x.case_id = c.id)::int AS persons,
              (SELECT count(*) FROM case_participation x WHERE x.case_id = c.id)::int AS participations,
              (SELECT count(*) FROM case_phase_change x WHERE x.case_id = c.id)::int AS "phaseChanges",
              (SELECT count(*) FROM emergency_grant x WHERE x.case_id = c.id)::int AS "emergencyGrants"
         FROM closed c
        ORDER BY c.reference`,
      [now, JSON.stringify(periods)],
    );
  }

  /** Every value of these cases (removed with them), in the shape of a lapsed value. */
  async valuesOfCases(caseIds: readonly string[], tx?: EntityManager): Promise<LapsedValueRow[]> {
    if (caseIds.length === 0) return [];
    return (tx ?? this.dataSource.manager).query<LapsedValueRow[]>(
      `SELECT v.id::text AS id, v.case_id AS "caseId", c.reference, cp.subject_ref AS "subjectRef",
              v.field_id AS field, v.purpose, c.closed_at AS "basisEndedAt"
         FROM case_field_value v
         JOIN cases c ON c.id = v.case_id
         LEFT JOIN case_person cp ON cp.id = v.person_id
        WHERE v.case_id = ANY ($1::uuid[])
        ORDER BY c.reference, v.id`,
      [caseIds],
    );
  }

  /** Signals whose purpose's retention has passed since they were withdrawn, or else since they were made. */
  async lapsedSignals(now: Date, periods: RetentionPeriods, tx?: EntityManager): Promise<LapsedSignalRow[]> {
    return (tx ?? this.dataSource.manager).query<LapsedSignalRow[]>(
      `WITH ${PERIODS}
       SELECT s.id, s.partner, s.purpose FROM involvement_signal s
         JOIN periods r ON r.purpose = s.purpose
        WHERE COALESCE(s.withdrawn_at, s.signalled_at) + r.keep <= $1
        ORDER BY s.signalled_at, s.id`,
      [now, JSON.stringify(periods)],
    );
  }

  /**
   * Deletes exactly these rows as `convenant_retention`, children first, then returns to the
   * session's own role so the caller can write the access log entries in the same transaction.
   */
  async remove(
    tx: EntityManager,
    ids: { values: readonly string[]; cases: readonly string[]; signals: readonly string[] },
  ): Promise<{ values: number; cases: number; signals: number }> {
    // SET LOCAL ends with the transaction, also when a statement fails and it rolls back.
    try {
      await tx.query(`SET LOCAL ROLE convenant_retention`);
    } catch (error) {
      throw new RetentionRoleError(error instanceof Error ? error.message : String(error));
    }
    const values = await deleted(tx, `DELETE FROM case_field_value WHERE id = ANY ($1::bigint[])`, [
      ids.values,
    ]);
    for (const table of ['case_phase_change', 'emergency_grant', 'case_participation', 'case_person']) {
      await tx.query(`DELETE FROM ${table} WHERE case_id = ANY ($1::uuid[])`, [ids.cases]);
    }
    const cases = await deleted(tx, `DELETE FROM cases WHERE id = ANY ($1::uuid[])`, [ids.cases]);
    const signals = await deleted(tx, `DELETE FROM involvement_signal WHERE id = ANY ($1::uuid[])`, [
      ids.signals,
    ]);
    await tx.query(`RESET ROLE`);
    return { values, cases, signals };
  }
}

async function deleted(tx: EntityManager, sql: string, params: unknown[]): Promise<number> {
  const [, count] = await tx.query<[unknown[], number]>(sql, params);
  return count;
}
