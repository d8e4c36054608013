import type {
  AfterEndRow,
  CaseVolumeRow,
  DenialBurstRow,
  EmergencyClaimsRow,
  EmergencyRow,
  NightRow,
} from './anomalies.repository.js';

/**
 * Explainable signals for a privacy officer: each one names who, the numbers behind it and the
 * threshold it crossed, so the officer can judge it rather than trust a score. Signals are leads,
 * not verdicts: a professional on a large caseload reads many cases lawfully.
 */

export const THRESHOLDS = {
  /** A professional reading more than this many times the median of their partner's peers… */
  caseVolumeFactor: 3,
  /** …and at least this many distinct cases (so small numbers never trigger). */
  caseVolumeMinimum: 10,
  /** Denials of one professional within 24 hours. */
  denialBurst: 5,
  denialWindow: '24 hours',
  /** Local hours counted as unusual: from 22:00 to 06:00. */
  nightFrom: 22,
  nightUntil: 6,
  timeZone: 'Europe/Amsterdam',
  /** Emergency access claims (doorbraak) by one professional in the window, allowed or refused. */
  emergencyClaims: 3,
} as const;

export type Signal =
  | {
      kind: 'case-volume';
      partner: string;
      professional: string;
      cases: number;
      partnerMedian: number;
      peers: number;
      explanation: string;
    }
  | {
      kind: 'repeated-denials';
      partner: string | null;
      professional: string;
      denials: number;
      firstAt: string;
      lastAt: string;
      explanation: string;
    }
  | { kind: 'access-after-participation-ended'; entry: AfterEndRow; explanation: string }
  | { kind: 'emergency-unreviewed'; entry: EmergencyRow; explanation: string }
  | {
      kind: 'repeated-emergency-claims';
      partner: string | null;
      professional: string;
      claims: number;
      cases: number;
      firstAt: string;
      lastAt: string;
      explanation: string;
    }
  | {
      kind: 'unusual-hours';
      partner: string | null;
      professional: string;
      accesses: number;
      firstAt: string;
      lastAt: string;
      explanation: string;
    };

export function caseVolumeSignals(rows: readonly CaseVolumeRow[]): Signal[] {
  const t = THRESHOLDS;
  return rows
    .filter((r) => r.cases >= t.caseVolumeMinimum && r.cases > t.caseVolumeFactor * r.partnerMedian)
    .map((r) => ({
      kind: 'case-volume' as const,
      ...r,
      explanation:
        `${r.professional} (${r.partner}) accessed ${r.cases} distinct cases; the median of the ` +
        `${r.peers} professionals of ${r.partner} is ${r.partnerMedian} (threshold: more than ` +
        `${t.caseVolumeFactor}x the median and at least ${t.caseVolumeMinimum} cases).`,
    }));
}

export function denialSignals(rows: readonly DenialBurstRow[]): Signal[] {
  return rows.map((r) => ({
    kind: 'repeated-denials' as const,
    ...r,
    explanation:
      `${r.professional} was refused ${r.denials} times within ${THRESHOLDS.denialWindow} ` +
      `(threshold: ${THRESHOLDS.denialBurst}).`,
  }));
}

export function afterEndSignals(rows: readonly AfterEndRow[]): Signal[] {
  return rows.map((entry) => ({
    kind: 'access-after-participation-ended' as const,
    entry,
    explanation:
      `${entry.partner} tried to access case ${entry.caseId} at ${entry.occurredAt}, after its ` +
      `participation ended at ${entry.participationEndedAt}; it was refused.`,
  }));
}

export function emergencySignals(rows: readonly EmergencyRow[]): Signal[] {
  return rows.map((entry) => ({
    kind: 'emergency-unreviewed' as const,
    entry,
    explanation: `Emergency access (doorbraak) by ${entry.partner ?? 'an unknown partner'} at ${entry.occurredAt} has not been reviewed.`,
  }));
}

export function nightSignals(rows: readonly NightRow[]): Signal[] {
  const t = THRESHOLDS;
  return rows.map((r) => ({
    kind: 'unusual-hours' as const,
    ...r,
    explanation:
      `${r.professional} accessed case data ${r.accesses} times between ${t.nightFrom}:00 and ` +
      `0${t.nightUntil}:00 ${t.timeZone} time.`,
  }));
}

export function emergencyClaimSignals(rows: readonly EmergencyClaimsRow[]): Signal[] {
  return rows.map((r) => ({
    kind: 'repeated-emergency-claims' as const,
    ...r,
    explanation:
      `${r.professional} (${r.partner ?? 'unknown partner'}) claimed emergency access ${r.claims} times ` +
      `on ${r.cases} case(s) between ${r.firstAt} and ${r.lastAt} (threshold: ${THRESHOLDS.emergencyClaims}).`,
  }));
}
