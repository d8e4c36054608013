import { PHASES, type Phase } from '../policy/index.js';

/**
 * How a phase change moves a case: forward (acute → stabilisatie → herstel), back (the danger is
 * acute again), closing (to afgesloten: ends every participation and starts the retention
 * clock) or reopening (from afgesloten). Any running phase may follow any other, because the
 * seeds describe cases that escalate again; who may change it is the convenant's `manage`.
 */
export type PhaseChangeKind = 'forward' | 'back' | 'close' | 'reopen';

/** The kind of change from `from` to `to`, or undefined when there is no change. */
export function phaseChangeKind(from: Phase, to: Phase): PhaseChangeKind | undefined {
  if (from === to) return undefined;
  if (to === 'afgesloten') return 'close';
  if (from === 'afgesloten') return 'reopen';
  return PHASES.indexOf(to) > PHASES.indexOf(from) ? 'forward' : 'back';
}
