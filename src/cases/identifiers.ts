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
