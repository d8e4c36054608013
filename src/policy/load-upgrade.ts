/**
 * Reading a convenant written in an older version of the format, for `convenant diff` against a
 * version that was signed before the format grew (docs/convenant-format.md, "Older versions").
 * Each step below is a rule the format gained later; an older file that breaks it is read with
 * the missing part filled in as the earlier format meant it, and a note says so. None of these
 * steps changes what the old version enforced. Enforcing and validating stay strict: only the
 * diff reads leniently.
 */
import type { Diagnostic } from './model.js';
import type { YamlPath } from './load-raw.js';

/** A part an older file lacked, filled in by a step; reported as a note at `path`. */
export interface Upgraded {
  path: YamlPath;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Fills in, in place, what a file in an older format lacks. Since 2026.2 a basis for health or
 * criminal data names its AVG art. 9(2)/art. 10 exception; before, the citation was the exception.
 */
export function upgradeOlderFormat(data: unknown): Upgraded[] {
  const upgraded: Upgraded[] = [];
  if (!isObject(data) || !isObject(data.legal_bases)) return upgraded;
  for (const [id, basis] of Object.entries(data.legal_bases)) {
    if (!isObject(basis) || basis.exception !== undefined || typeof basis.citation !== 'string') continue;
    const permits = Array.isArray(basis.permits) ? basis.permits : [];
    if (!permits.includes('health') && !permits.includes('criminal')) continue;
    basis.exception = basis.citation;
    upgraded.push({
      path: ['legal_bases', id],
      message: `Older format: legal basis '${id}' names no 'exception' (required since format 2026.2); read as its own citation, '${basis.citation}'.`,
    });
  }
  return upgraded;
}

/**
 * Semantic checks the format gained later: in an older version they are notes, not errors, since
 * that version was in force as it was. Keyed by diagnostic code, with the format version.
 */
export const LATER_CHECKS: Readonly<Record<string, string>> = {
  'signals-without-bsn-basis': '2026.2',
};

/** An error of a later check, as a note on an older version. */
export function asOlderFormatNote(d: Diagnostic): Diagnostic {
  const since = LATER_CHECKS[d.code];
  if (d.severity !== 'error' || since === undefined) return d;
  return {
    ...d,
    severity: 'warning',
    code: 'older-format',
    message: `Older format (checked since format ${since}, ${d.code}): ${d.message}`,
  };
}
