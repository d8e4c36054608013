import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The window an anomaly query looks at: [from, to). */
export interface Window {
  from: string;
  to: string;
}

export interface CaseVolumeRow {
  partner: string;
  professional: string;
  cases: number;
  partnerMedian: number;
  peers: number;
}

export interface DenialBurstRow {
  partner: string | null;
  professional: string;
  denials: number;
  firstAt: string;
  lastAt: string;
}

export interface AfterEndRow {
  seq: string;
  occurredAt: string;
  partner: string;
  professional: string | null;
  caseId: string;
  participationEndedAt: string;
}

export interface EmergencyRow {
  seq: string;
  occurredAt: string;
  partner: string | null;
  professional: string | null;
  caseId: string | null;
  purpose: string | null;
}

export interface EmergencyClaimsRow {
  partner: string | null;
  professional: string;
  claims: number;
  cases: number;
  firstAt: string;
  lastAt: string;
}

export interface NightRow {
  partner: string | null;
  professional: string;
  accesses: number;
  firstAt: string;
  lastAt: string;
}

const ISO = (column: string) => `to_char((${column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Accesses to case data by partners: what the signals count (not token requests, not officers' queries). */
const DATA_ACCESS = `action IN ('read', 'write', 'list', 'history', 'manage')`;

/** The SQL behind each anomaly signal; the thresholds come from the service, as parameters. */
@Injectable()
export class AnomaliesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Distinct cases each professional touched, next to the median of their partner's professionals. */
  async caseVolumes(window: Window): Promise<CaseVolumeRow[]> {
    return this.dataSource.query<CaseVolumeRow[]>(
      `WITH per_professional AS (
         SELECT partner, professional, count(DISTINCT case_id)::int AS cases
           FROM access_log
          WHERE occurred_at >= $1 AND occurred_at < $2 AND status = 'allowed' AND ${DATA_ACCESS}
            AND case_id IS NOT NULL AND partner IS NOT NULL AND professional IS NOT NULL
          GROUP BY partner, professional),
       per_partner AS (
         SELECT partner, (percentile_cont(0.5) WITHIN GROUP (ORDER BY cases))::float8 AS median,
                count(*)::int AS peers
           FROM per_professional GROUP BY partner)
       SELECT p.partner, p.professional, p.cases, q.median AS "partnerMedian", q.peers
         FROM per_professional p JOIN per_partner q USING (partner)`,
      [window.from, window.to],
    );
  }

  /** For each professional, the most denials inside any 24 hours ending at one of their denials. */
  async denialBursts(window: Window, within: string, atLeast: number): Promise<DenialBurstRow[]> {
    return this.dataSource.query<DenialBurstRow[]>(
      `WITH denials AS (
         SELECT partner, professional, occurred_at,
                (count(*) OVER burst_window)::int AS burst,
                min(occurred_at) OVER burst_window AS burst_start
           FROM access_log
          WHERE occurred_at >= $1 AND occurred_at < $2 AND status = 'denied' AND professional IS NOT NULL
         WINDOW burst_window AS (PARTITION BY professional ORDER BY occurred_at
                                 RANGE BETWEEN $3::interval PRECEDING AND CURRENT ROW)),
       worst AS (
         SELECT DISTINCT ON (professional) partner, professional, burst, burst_start, occurred_at
           FROM denials ORDER BY professional, burst DESC, occurred_at)
       SELECT partner, professional, burst AS denials,
              ${ISO('burst_start')} AS "firstAt", ${ISO('occurred_at')} AS "lastAt"
         FROM worst WHERE burst >= $4 ORDER BY burst DESC`,
      [window.from, window.to, within, atLeast],
    );
  }

  /**
   * Refusals no field rule decided (rule_id null: not participating, or no such case) on a case the
   * partner did take part in, after that participation had ended.
   */
  async accessAfterEnd(window: Window): Promise<AfterEndRow[]> {
    return this.dataSource.query<AfterEndRow[]>(
      `SELECT l.seq::text AS seq, ${ISO('l.occurred_at')} AS "occurredAt", l.partner, l.professional,
              l.case_id AS "caseId", ${ISO('max(p.valid_until)')} AS "participationEndedAt"
         FROM access_log l
         JOIN case_participation p
           ON p.case_id = l.case_id AND p.partner = l.partner AND p.valid_until <= l.occurred_at
        WHERE l.occurred_at >= $1 AND l.occurred_at < $2 AND l.status = 'denied' AND l.rule_id IS NULL
          AND l.${DATA_ACCESS}
          AND NOT EXISTS (
            SELECT 1 FROM case_participation c
             WHERE c.case_id = l.case_id AND c.partner = l.partner AND c.valid_from <= l.occurred_at
               AND (c.valid_until IS NULL OR c.valid_until > l.occurred_at))
        GROUP BY l.seq, l.occurred_at
        ORDER BY l.seq DESC
        LIMIT 200`,
      [window.from, window.to],
    );
  }

  /** Emergency accesses (doorbraak) that were allowed and that no officer has judged yet. */
  async emergencies(window: Window): Promise<EmergencyRow[]> {
    return this.dataSource.query<EmergencyRow[]>(
      `SELECT seq::text AS seq, ${ISO('occurred_at')} AS "occurredAt", partner, professional,
              case_id AS "caseId", processing_activity_id AS purpose
         FROM access_log
        WHERE emergency AND status = 'allowed' AND occurred_at >= $1 AND occurred_at < $2
          AND NOT EXISTS (SELECT 1 FROM emergency_review r WHERE r.seq = access_log.seq)
        ORDER BY access_log.seq DESC
        LIMIT 200`,
      [window.from, window.to],
    );
  }

  /** Professionals with at least `atLeast` emergency access claims (allowed or refused) in the window. */
  async emergencyClaims(window: Window, atLeast: number): Promise<EmergencyClaimsRow[]> {
    return this.dataSource.query<EmergencyClaimsRow[]>(
      `SELECT partner, professional, count(*)::int AS claims, count(DISTINCT case_id)::int AS cases,
              ${ISO('min(occurred_at)')} AS "firstAt", ${ISO('max(occurred_at)')} AS "lastAt"
         FROM access_log
        WHERE occurred_at >= $1 AND occurred_at < $2 AND action = 'emergency-access'
          AND professional IS NOT NULL
        GROUP BY partner, professional
       HAVING count(*) >= $3
        ORDER BY claims DESC`,
      [window.from, window.to, atLeast],
    );
  }

  /** Allowed data accesses per professional between `fromHour` and `toHour` local time. */
  async nightAccess(window: Window, timeZone: string, fromHour: number, toHour: number): Promise<NightRow[]> {
    return this.dataSource.query<NightRow[]>(
      `SELECT partner, professional, count(*)::int AS accesses,
              ${ISO('min(occurred_at)')} AS "firstAt", ${ISO('max(occurred_at)')} AS "lastAt"
         FROM access_log
        WHERE occurred_at >= $1 AND occurred_at < $2 AND status = 'allowed' AND ${DATA_ACCESS}
          AND professional IS NOT NULL
          AND (extract(hour FROM occurred_at AT TIME ZONE $3) >= $4
               OR extract(hour FROM occurred_at AT TIME ZONE $3) < $5)
        GROUP BY partner, professional
        ORDER BY accesses DESC`,
      [window.from, window.to, timeZone, fromHour, toHour],
    );
  }
}
