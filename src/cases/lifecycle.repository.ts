import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Phase } from '../policy/index.js';
import type { Tx } from './cases.repository.js';

/**
 * SQL of the case lifecycle: phase changes (and closing and reopening), and emergency access
 * grants. Decisions are the service's; this only reads and writes.
 */

export interface LockedCase {
  id: string;
  phase: Phase;
  flags: string[];
  controllerPartner: string;
  closedAt: Date | null;
  /** The partner takes part in the case for the purpose now. */
  participant: boolean;
  /** The partner took part for the purpose until the case was closed (what reopening is decided on). */
  participantAtClosing: boolean;
}

export interface PhaseChangeRow {
  id: string;
  fromPhase: Phase;
  toPhase: Phase;
  reason: string;
  partner: string;
  purpose: string;
  changedAt: Date;
}

export interface EmergencyGrantRow {
  id: string;
  caseId: string;
  partner: string;
  purpose: string;
  reason: string;
  grantedAt: Date;
  expiresAt: Date;
  live: boolean;
}

const VALID_NOW = `p.valid_from <= now() AND (p.valid_until IS NULL OR p.valid_until > now())`;

const GRANT_COLUMNS = `g.id, g.case_id AS "caseId", g.partner, g.purpose, g.reason,
  g.granted_at AS "grantedAt", g.expires_at AS "expiresAt",
  (g.granted_at <= now() AND g.expires_at > now()) AS live`;

@Injectable()
export class LifecycleRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The case locked FOR UPDATE (contributions wait), with the caller's participation now and at closing. */
  async lock(tx: Tx, caseId: string, partner: string, purpose: string): Promise<LockedCase | undefined> {
    const rows = await tx.query<LockedCase[]>(
      `SELECT c.id, c.phase, c.flags, c.controller_partner AS "controllerPartner", c.closed_at AS "closedAt",
              EXISTS (SELECT 1 FROM case_participation p
                       WHERE p.case_id = c.id AND p.partner = $2 AND $3 = ANY (p.purposes) AND ${VALID_NOW})
                AS participant,
              c.closed_at IS NOT NULL AND EXISTS (
                SELECT 1 FROM case_participation p
                 WHERE p.case_id = c.id AND p.partner = $2 AND $3 = ANY (p.purposes)
                   AND (p.ended_at = c.closed_at OR p.valid_until = c.closed_at))
                AS "participantAtClosing"
         FROM cases c WHERE c.id = $1
          FOR UPDATE`,
      [caseId, partner, purpose],
    );
    return rows[0];
  }

  /** Sets the phase; closing sets closed_at (the retention clock), reopening clears it. */
  async setPhase(tx: Tx, caseId: string, phase: Phase, clock: 'close' | 'reopen' | 'keep'): Promise<void> {
    await tx.query(
      `UPDATE cases
          SET phase = $2,
              closed_at = CASE $3 WHEN 'close' THEN now() WHEN 'reopen' THEN NULL ELSE closed_at END
        WHERE id = $1`,
      [caseId, phase, clock],
    );
  }

  /**
   * Ends every participation that still grants (or will grant) access, at this transaction's
   * now(). For each aftercare purpose an ended participation held, the partner gets a new
   * participation for that purpose alone, from now for the purpose's window (an ISO-8601
   * duration read as an interval), never beyond the ended participation's own end.
   */
  async endAllParticipations(
    tx: Tx,
    caseId: string,
    by: { partner: string; professional: string },
    aftercare: readonly { purpose: string; window: string }[],
  ): Promise<{ ended: number; continued: number }> {
    const rows = await tx.query<{ ended: number; continued: number }[]>(
      `WITH still_open AS (
         SELECT p.id, p.partner, p.purposes, p.valid_until
           FROM case_participation p
          WHERE p.case_id = $1 AND p.ended_at IS NULL AND (p.valid_until IS NULL OR p.valid_until > now())
            FOR UPDATE
       ), ended AS (
         UPDATE case_participation p
            SET valid_until = GREATEST(now(), p.valid_from),
                ended_at = now(), ended_by_partner = $2, ended_by_professional = $3
           FROM still_open o WHERE p.id = o.id
         RETURNING o.partner, o.purposes, o.valid_until AS "validUntil"
       ), aftercare AS (
         SELECT a.purpose, a.duration::interval AS span
           FROM unnest($4::text[], $5::text[]) AS a (purpose, duration)
       ), continued AS (
         INSERT INTO case_participation
           (id, case_id, partner, purposes, valid_from, valid_until, added_by_partner, added_by_professional)
         SELECT gen_random_uuid(), $1, c.partner, ARRAY[c.purpose], now(),
                LEAST(now() + c.span, COALESCE(c."validUntil", 'infinity')), $2, $3
           FROM (SELECT e.partner, a.purpose, min(a.span) AS span, max(e."validUntil") AS "validUntil"
                   FROM ended e JOIN aftercare a ON a.purpose = ANY (e.purposes)
                  GROUP BY e.partner, a.purpose) c
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM ended)::int AS ended, (SELECT count(*) FROM continued)::int AS continued`,
      [caseId, by.partner, by.professional, aftercare.map((a) => a.purpose), aftercare.map((a) => a.window)],
    );
    return rows[0]!;
  }

  /** The case's controller of record and phase, or undefined when there is no such case. */
  async stateOf(caseId: string, tx: Tx): Promise<{ controllerPartner: string; phase: Phase } | undefined> {
    const rows = await tx.query<{ controllerPartner: string; phase: Phase }[]>(
      `SELECT controller_partner AS "controllerPartner", phase FROM cases WHERE id = $1`,
      [caseId],
    );
    return rows[0];
  }

  async insertPhaseChange(
    tx: Tx,
    change: {
      caseId: string;
      fromPhase: Phase;
      toPhase: Phase;
      reason: string;
      partner: string;
      professional: string;
      purpose: string;
    },
  ): Promise<{ id: string; changedAt: Date }> {
    const rows = await tx.query<{ id: string; changedAt: Date }[]>(
      `INSERT INTO case_phase_change
         (case_id, from_phase, to_phase, reason, changed_by_partner, changed_by_professional, purpose)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       RETURNING id::text AS id, changed_at AS "changedAt"`,
      [
        change.caseId,
        change.fromPhase,
        change.toPhase,
        change.reason,
        change.partner,
        change.professional,
        change.purpose,
      ],
    );
    return rows[0]!;
  }

  /** Every phase change of the case, oldest first; without the professional who made it. */
  async phaseChanges(caseId: string): Promise<PhaseChangeRow[]> {
    return this.dataSource.query<PhaseChangeRow[]>(
      `SELECT id::text AS id, from_phase AS "fromPhase", to_phase AS "toPhase", reason,
              changed_by_partner AS partner, purpose, changed_at AS "changedAt"
         FROM case_phase_change WHERE case_id = $1 ORDER BY id`,
      [caseId],
    );
  }

  /** The case's controller of record, or undefined when there is no such case. */
  async controllerOf(caseId: string, tx?: Tx): Promise<string | undefined> {
    const rows = await (tx ?? this.dataSource.manager).query<{ controllerPartner: string }[]>(
      `SELECT controller_partner AS "controllerPartner" FROM cases WHERE id = $1`,
      [caseId],
    );
    return rows[0]?.controllerPartner;
  }

  /** A grant from now for `window` (an ISO-8601 duration, read by PostgreSQL as an interval). */
  async insertGrant(
    tx: Tx,
    grant: {
      id: string;
      caseId: string;
      partner: string;
      purpose: string;
      professional: string;
      reason: string;
      traceId: string;
      window: string;
    },
  ): Promise<EmergencyGrantRow> {
    const rows = await tx.query<EmergencyGrantRow[]>(
      `INSERT INTO emergency_grant AS g
         (id, case_id, partner, purpose, professional, reason, trace_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::interval)
       RETURNING ${GRANT_COLUMNS}`,
      [
        grant.id,
        grant.caseId,
        grant.partner,
        grant.purpose,
        grant.professional,
        grant.reason,
        grant.traceId,
        grant.window,
      ],
    );
    return rows[0]!;
  }

  /** The emergency grants on a case, newest first, without the professionals who claimed them. */
  async grantsOn(caseId: string): Promise<EmergencyGrantRow[]> {
    return this.dataSource.query<EmergencyGrantRow[]>(
      `SELECT ${GRANT_COLUMNS} FROM emergency_grant g WHERE g.case_id = $1 ORDER BY g.granted_at DESC, g.id`,
      [caseId],
    );
  }
}
