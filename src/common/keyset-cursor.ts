import { InvalidRequestError } from './problem.js';

const ISO_UTC_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * An opaque keyset-pagination cursor: the time (UTC, microseconds) and the tie-breaking key of the
 * last row on a page. Decoding checks both strictly, so a client-made cursor can never reach SQL
 * as anything but a timestamp and a key of the expected shape.
 */
export function encodeKeysetCursor(at: string, key: string): string {
  return Buffer.from(JSON.stringify([at, key]), 'utf8').toString('base64url');
}

export function decodeKeysetCursor(cursor: string, keyPattern: RegExp): { at: string; key: string } {
  const invalid = () =>
    new InvalidRequestError([{ pointer: 'cursor', detail: 'cursor must be a nextCursor this API returned' }]);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 2 ||
    typeof decoded[0] !== 'string' ||
    typeof decoded[1] !== 'string' ||
    !ISO_UTC_MICROS.test(decoded[0]) ||
    !keyPattern.test(decoded[1])
  ) {
    throw invalid();
  }
  return { at: decoded[0], key: decoded[1] };
}
