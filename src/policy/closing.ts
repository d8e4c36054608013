import type { Convenant, Partner, Phase, Rule, RuleWhen } from './model.js';
import { ruleAppliesTo } from './match.js';

/**
 * What closing a case means for the convenant: which participations continue for aftercare, and
 * which rules may reach into a closed case under emergency access.
 */

export const CLOSED_PHASE: Phase = 'afgesloten';
export const OPEN_PHASES: readonly Phase[] = ['acute', 'stabilisatie', 'herstel'];

/**
 * The conditions an allow rule is compiled with. An emergency grant without a phase list does
 * not reach into a closed case: opening a closed case to a doorbraak is a decision the jurist
 * writes down (`phase: [afgesloten]`), never a side effect of leaving the phase out.
 */
export function effectiveWhen(rule: Rule): RuleWhen {
  if (rule.effect === 'allow' && rule.when.emergency === true && rule.when.phase === undefined)
    return { ...rule.when, phase: [...OPEN_PHASES] };
  return rule.when;
}

/** Whether some emergency allow rule for this partner and purpose names phase afgesloten. */
export function emergencyOpensClosedCase(convenant: Convenant, partner: Partner, purposeId: string): boolean {
  return convenant.rules.some(
    (r) =>
      r.effect === 'allow' &&
      r.when.emergency === true &&
      (r.when.phase?.includes(CLOSED_PHASE) ?? false) &&
      ruleAppliesTo(r, partner, purposeId),
  );
}

/** The purposes whose participations continue after closing, with their windows (ISO-8601). */
export function aftercareWindows(convenant: Convenant): { purpose: string; window: string }[] {
  return convenant.purposes.flatMap((p) =>
    p.afterClosing === undefined ? [] : [{ purpose: p.id, window: p.afterClosing }],
  );
}
