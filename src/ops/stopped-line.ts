import type { SealOutcome } from '../access-log/access-log.sealer.js';

/**
 * The gateway's last log line (src/main.ts), saying what became of the access log's last seal:
 * an operator reads "sealed" as "every entry is under a signed checkpoint", so it is said only
 * when that is so.
 */
export function stoppedLine(seal: SealOutcome | undefined): { ok: boolean; text: string } {
  switch (seal) {
    case 'sealed':
      return { ok: true, text: 'Stopped: access log sealed, database closed' };
    case 'locked-elsewhere':
      return {
        ok: true,
        text: 'Stopped: database closed; another gateway instance held the seal lock and seals the last entries',
      };
    case 'failed':
      return {
        ok: false,
        text: 'Stopped: the last seal of the access log FAILED (see the error above); its unsealed entries are sealed at the next start. Database closed',
      };
    default:
      return {
        ok: false,
        text: 'Stopped: the last seal of the access log did not run; its unsealed entries are sealed at the next start. Database closed',
      };
  }
}
