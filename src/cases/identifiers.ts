import { randomBytes } from 'node:crypto';

/** Base32 (RFC 4648 alphabet, lower case): 20 characters carry 100 random bits. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * A person's pseudonymous reference, used in APIs and the access log instead of anything that
 * identifies the person: random, so it reveals nothing and cannot be derived from a BSN.
 */
export function newSubjectRef(): string {
  let ref = 'p_';
  for (const byte of randomBytes(20)) ref += BASE32[byte & 31];
  return ref;
}

/**
 * The prefix of the case references under this convenant (`<PREFIX>-<year>-<number>`), from its
 * id: the first part when it is short (`vh-twente` → `VH`), else the initials of
 * its parts (`veiligheidshuis-twente` → `VT`). Upper-case letters and digits, at most twelve, as
 * the database's check on `cases.reference` requires.
 */
export function caseReferencePrefix(convenantId: string): string {
  const parts = convenantId
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((p) => p.length > 0);
  const first = parts[0] ?? 'CASUS';
  const prefix = first.length <= 6 ? first : parts.map((p) => p[0]).join('');
  return prefix.slice(0, 12);
}
