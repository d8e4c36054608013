import { PHASES, type Phase } from '../policy/index.js';

/**
 * How a phase change moves a case: forward (acute → stabilisatie → herstel), back (the danger is
 * acute again), closing (to afgesloten: ends every participation and starts the retention
 * clock) or reopening (from afgesloten). Any running phase may follow any other, because the
 * seeds describe cases that escalate again; who may change it is the convenant's `manage`.
 */
/** The phase that closes a case: the last of the model's phases. */
export const CLOSED_PHASE: Phase = PHASES[PHASES.length - 1]!;

/** The phases of an open case, in order. */
export const RUNNING_PHASES: readonly Phase[] = PHASES.filter((p) => p !== CLOSED_PHASE);

export type PhaseChangeKind = 'forward' | 'back' | 'close' | 'reopen';

/** The kind of change from `from` to `to`, or undefined when there is no change. */
export function phaseChangeKind(from: Phase, to: Phase): PhaseChangeKind | undefined {
  if (from === to) return undefined;
  if (to === CLOSED_PHASE) return 'close';
  if (from === CLOSED_PHASE) return 'reopen';
  return PHASES.indexOf(to) > PHASES.indexOf(from) ? 'forward' : 'back';
}
