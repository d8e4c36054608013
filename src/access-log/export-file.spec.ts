import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { CanonicalWriter } from './canonical-bytes.js';
import {
  canonical,
  canonicalFormatOf,
  canonicalTextOf,
  entryHashHex,
  GENESIS,
  type LoggedEntry,
} from './chain.js';
import { canonicalRowOf, entryLine, parseLine, rowOf } from './export-file.js';
import type { Seal } from './verify.js';

/** Strings with everything JSON escapes, and text that looks like the line's own keys. */
const PIECES = [
  'a',
  ' ',
  '"',
  '\\',
  '\\"',
  '\n',
  '\t',
  '\u0001',
  '\u2028',
  '😀',
  ',"traceId":"',
  '"],"fields":["',
  'null',
];
const text = () => Array.from({ length: randomInt(0, 8) }, () => PIECES[randomInt(PIECES.length)]).join('');
const maybe = (): string | null => (randomInt(4) === 0 ? null : text());
const list = () => Array.from({ length: randomInt(0, 4) }, text);

const entry = (n: number): LoggedEntry => ({
  seq: String(n),
  occurredAt: `2026-12-01T10:00:00.${String(n).padStart(6, '0')}Z`,
  traceId: randomBytes(16).toString('hex'),
  partner: maybe(),
  professional: maybe(),
  purpose: maybe(),
  legalBasis: list(),
  action: text(),
  caseId: maybe(),
  dataSubjectRef: maybe(),
  fields: list(),
  status: randomInt(2) ? 'allowed' : 'denied',
  ruleId: maybe(),
  reason: maybe(),
  policyVersion: maybe(),
  emergency: randomInt(2) === 0,
  requestId: randomInt(2) === 0 ? null : randomUUID(),
});

/** An entry whose strings need no escape in JSON: lines the fast reading answers for. */
const PLAIN_PIECES = ['a', ' ', 'é', '\u2028', '😀', 'null', ',traceId:', '],[', '{}', 'true'];
const plain = () =>
  Array.from({ length: randomInt(0, 8) }, () => PLAIN_PIECES[randomInt(PLAIN_PIECES.length)]).join('');
const plainEntry = (n: number): LoggedEntry => ({
  ...entry(n),
  partner: randomInt(4) === 0 ? null : plain(),
  action: plain(),
  reason: randomInt(4) === 0 ? null : plain(),
  legalBasis: Array.from({ length: randomInt(0, 4) }, plain),
  fields: Array.from({ length: randomInt(0, 4) }, plain),
  professional: plain(),
  purpose: plain(),
  caseId: plain(),
  dataSubjectRef: plain(),
  ruleId: plain(),
  policyVersion: plain(),
});

const sealOf = (e: LoggedEntry, position: number): Seal => ({
  position: String(position),
  seq: e.seq,
  entryHash: entryHashHex(GENESIS, e),
  prevHash: GENESIS.toString('hex'),
  sealedAt: e.occurredAt,
  // Files from before seals named their format have none; seals made before then say null.
  ...[{}, { format: null }, { format: canonicalFormatOf(e) }][position % 3],
});

/** The canonical text the fast reading gives for a line, or null where it declines. */
const fastText = (line: string): string | null => {
  const row = canonicalRowOf(Buffer.from(line, 'utf8'), new CanonicalWriter(256));
  if (row === null) return null;
  expect(row.entry).not.toBeNull();
  return canonicalTextOf(row.entry!);
};
/** What the full parse makes of the same line: the judge the fast reading must agree with. */
const slowText = (line: string): string => canonical(rowOf(parseLine(line))!.entry as LoggedEntry);

describe('reading an export line without a full JSON.parse (canonicalRowOf)', () => {
  it('gives what the full parse gives wherever it answers, and answers for every line without escapes', () => {
    let answered = 0;
    let declined = 0;
    for (let n = 1; n <= 3000; n++) {
      const e = n % 2 === 0 ? entry(n) : plainEntry(n);
      const seal = sealOf(e, n);
      const line = entryLine({ entry: e, seal }).trimEnd();
      const fast = canonicalRowOf(Buffer.from(line, 'utf8'), new CanonicalWriter(256));
      if (fast === null) {
        // It declines only lines with an escape in them.
        expect(line).toContain('\\');
        declined++;
        continue;
      }
      answered++;
      expect(fast.entry!.seq).toBe(e.seq);
      expect(fast.seal).toEqual({
        position: seal.position,
        seq: seal.seq,
        entryHash: seal.entryHash,
        prevHash: seal.prevHash,
        ...(seal.format === undefined ? {} : { format: seal.format }),
      });
      expect(canonicalTextOf(fast.entry!)).toBe(canonical(e));
      expect(canonicalTextOf(fast.entry!)).toBe(slowText(line));
    }
    expect(answered).toBeGreaterThan(1000);
    expect(declined).toBeGreaterThan(500);
  });

  it('reads an altered line as the full parse does, so the verifier judges it the same way', () => {
    const e = plainEntry(1);
    const line = entryLine({ entry: e, seal: sealOf(e, 1) }).trimEnd();
    const altered = line
      .replace(`"seq":"1"`, `"seq":"2"`)
      .replace('"outcome":"allowed"', '"outcome":"denied"');
    expect(fastText(altered)).toBe(slowText(altered));
    expect(fastText(altered)).not.toBe(canonical(e));
  });

  it('declines whatever it cannot read exactly, so the full parse judges it', () => {
    const e = plainEntry(1);
    const seal = sealOf(e, 1);
    const line = entryLine({ entry: e, seal }).trimEnd();
    // Not yet sealed, a purged position's seal line, another field order (in the entry, in the seal).
    expect(fastText(entryLine({ entry: e, seal: null }).trimEnd())).toBeNull();
    expect(fastText(entryLine({ entry: null, seal }).trimEnd())).toBeNull();
    expect(fastText(line.replace('{"type":"entry","seq":"1",', '{"seq":"1","type":"entry",'))).toBeNull();
    expect(fastText(line.replace('{"position":"1","seq":"1"', '{"seq":"1","position":"1"'))).toBeNull();
    // A seq that is not a string, whitespace between tokens, a value of another type.
    expect(fastText(line.replace(`"seq":"1"`, `"seq":1`))).toBeNull();
    expect(fastText(line.replace(`"seq":"1",`, `"seq": "1",`))).toBeNull();
    expect(fastText(line.replace(/"emergency":(true|false)/, '"emergency":0'))).toBeNull();
    // The same values with other (valid) escapes: declined, and the full parse still finds them intact.
    const reencoded = line.replace(`"seq":"1"`, `"seq":"\\u0031"`);
    expect(fastText(reencoded)).toBeNull();
    expect(entryHashHex(GENESIS, rowOf(parseLine(reencoded))!.entry!)).toBe(seal.entryHash);
    // Bytes that are not UTF-8: the full parse reads them as U+FFFD, so the fast one leaves them to it.
    const bytes = Buffer.from(line.replace('"action":"', '"action":"\u00ff'), 'latin1');
    expect(canonicalRowOf(bytes, new CanonicalWriter(256))).toBeNull();
  });
});
