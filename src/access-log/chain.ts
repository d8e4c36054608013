import { hash } from 'node:crypto';

/** The hash before the first entry: 32 zero bytes. */
export const GENESIS = Buffer.alloc(32);

/**
 * An access log row as stored, in the form the chain hashes. `seq` is text (bigint exceeds JS
 * numbers) and `occurredAt` is PostgreSQL's own rendering with microseconds (see ENTRY_SELECT): a JS
 * Date would drop the microseconds, and the hash would no longer match what is stored.
 */
export interface LoggedEntry {
  seq: string;
  occurredAt: string;
  traceId: string;
  partner: string | null;
  professional: string | null;
  purpose: string | null;
  legalBasis: string[];
  action: string;
  caseId: string | null;
  dataSubjectRef: string | null;
  fields: string[];
  status: string;
  ruleId: string | null;
  reason: string | null;
  policyVersion: string | null;
  emergency: boolean;
  /** The gateway-made request identity (request-log.ts); null for entries written before it existed and for runs no request asked for. */
  requestId: string | null;
}

/**
 * Columns of access_log as LoggedEntry, for `SELECT ${ENTRY_SELECT} FROM access_log l`, derived
 * from the entry's one description (entry-description.ts). The timestamp is formatted in UTC by
 * PostgreSQL so every reader gets the same text.
 */
export { ENTRY_SELECT } from './entry-description.js';

/**
 * An entry as the verifier reads it from the database or an export file: canonical(entry) already
 * made, as UTF-8 bytes straight from the binary COPY's fields (canonical-bytes.ts) or from the
 * export line's own values (canonicalRowOf), so no entry object and no JSON.stringify per row.
 */
export interface CanonicalEntry {
  seq: string;
  /** Left out where only the hash matters (sealed rows); the verifier then reads it from `canonical`. */
  occurredAt?: string;
  /** The text, or its UTF-8 bytes. */
  canonical: string | Uint8Array;
  /** The format the text is in, where the reader knows it (the binary COPY does). */
  format?: CanonicalFormat;
}

/** What the chain can hash: the entry's fields, or its canonical text already rendered. */
export type HashableEntry = LoggedEntry | CanonicalEntry;

/**
 * The canonical formats an entry can be sealed in; each seal records its own
 * (access_log_seal.format), so a later format can come without breaking old chains.
 * 1: the sixteen columns below. 2: the same, then the request id.
 */
export type CanonicalFormat = 1 | 2;

/** The format an entry's stored shape is written in: 2 once it has a request id. */
export const canonicalFormatOf = (entry: { requestId: string | null }): CanonicalFormat =>
  entry.requestId === null ? 1 : 2;

/** What the writer of this process knows of a row it wrote: the canonical text it stored, and its format. */
export interface WrittenEntry {
  canonical: string;
  format: CanonicalFormat;
}

/**
 * The bytes an entry contributes to the chain: a JSON array in a fixed column order. Fixed order
 * instead of a key sort keeps it fast (docs/performance.md) and is unambiguous: JSON quoting separates the
 * values, arrays stay arrays, and null differs from "null". Adding a column means a new canonical
 * version, never a silent change to this one.
 *
 * Version 2 appends the request id, only when the entry has one: entries without (all of version
 * 1's) hash exactly as before, so chains sealed under version 1 still verify, and the array's
 * length tells the versions apart (16 elements, or 17), so neither can pass for the other.
 */
export function canonical(e: LoggedEntry): string {
  const fields: unknown[] = [
    e.seq,
    e.occurredAt,
    e.traceId,
    e.partner,
    e.professional,
    e.purpose,
    e.legalBasis,
    e.action,
    e.caseId,
    e.dataSubjectRef,
    e.fields,
    e.status,
    e.ruleId,
    e.reason,
    e.policyVersion,
    e.emergency,
  ];
  if (e.requestId !== null) fields.push(e.requestId);
  return JSON.stringify(fields);
}

/**
 * entry_hash = SHA-256(prev_hash || canonical(entry)). One buffer and the one-shot crypto.hash:
 * a Hash object per entry costs more than the SHA-256 itself (docs/performance.md).
 */
export function entryHash(prev: Uint8Array, entry: HashableEntry): Buffer {
  return hash('sha256', chainInput(prev, entry), 'buffer');
}

/** The same, as lowercase hex: what the verifier compares, without a second encoding step. */
export function entryHashHex(prev: Uint8Array, entry: HashableEntry): string {
  return hash('sha256', chainInput(prev, entry), 'hex');
}

function chainInput(prev: Uint8Array, entry: HashableEntry): Buffer {
  const text = textOf(entry);
  if (typeof text !== 'string') return Buffer.concat([prev, text]);
  const input = Buffer.allocUnsafe(prev.length + Buffer.byteLength(text));
  input.set(prev, 0);
  input.write(text, prev.length, 'utf8');
  return input;
}

const textOf = (entry: HashableEntry): string | Uint8Array =>
  'canonical' in entry ? entry.canonical : canonical(entry);

/** The format an entry is in, as far as it says: an entry's fields do, bare canonical text does not. */
export const formatOfHashable = (entry: HashableEntry): CanonicalFormat | undefined =>
  'canonical' in entry ? entry.format : canonicalFormatOf(entry);

/** An entry's canonical text as a string, however it came. */
export const canonicalTextOf = (entry: HashableEntry): string => {
  const text = textOf(entry);
  return typeof text === 'string'
    ? text
    : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');
};

/**
 * entryHashHex for a verifier that hashes a million entries in a row: the previous hash comes as
 * the hex the chain is compared in, and one input buffer is reused, so an entry allocates only its
 * result. Buffers per entry made the garbage collector a fifth of verification's time.
 */
export function chainHasher(): (prevHex: string, entry: HashableEntry) => string {
  let input = Buffer.allocUnsafe(16 * 1024);
  return (prevHex, entry) => {
    const text = textOf(entry);
    // Bytes are copied as they are; a UTF-16 code unit is at most 3 bytes of UTF-8.
    const room = 32 + (typeof text === 'string' ? 3 * text.length : text.length);
    if (room > input.length) input = Buffer.allocUnsafe(room);
    if (input.write(prevHex, 0, 32, 'hex') !== 32) throw new TypeError('a chain hash is 32 bytes of hex');
    let length = 32;
    if (typeof text === 'string') length += input.write(text, 32, 'utf8');
    else {
      input.set(text, 32);
      length += text.length;
    }
    return hash('sha256', input.subarray(0, length), 'hex');
  };
}
