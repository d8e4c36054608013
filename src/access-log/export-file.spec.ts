import { randomBytes, randomInt } from 'node:crypto';
import { canonical, entryHashHex, GENESIS, type LoggedEntry } from './chain.js';
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
});

const sealOf = (e: LoggedEntry, position: number): Seal => ({
  position: String(position),
  seq: e.seq,
  entryHash: entryHashHex(GENESIS, e),
  prevHash: GENESIS.toString('hex'),
  sealedAt: e.occurredAt,
});

describe('reading an export line without a full JSON.parse (canonicalRowOf)', () => {
  it('gives the canonical text canonical() gives, over 2,000 random sealed entries', () => {
    for (let n = 1; n <= 2000; n++) {
      const e = entry(n);
      const seal = sealOf(e, n);
      const row = canonicalRowOf(entryLine({ entry: e, seal }).trimEnd());
      expect(row).toEqual({ entry: { seq: e.seq, occurredAt: e.occurredAt, canonical: canonical(e) }, seal });
    }
  });

  it('declines whatever it cannot vouch for, so the full parse judges it as before', () => {
    const e = entry(1);
    const seal = sealOf(e, 1);
    const line = entryLine({ entry: e, seal }).trimEnd();
    // Altered after sealing: no match with its own seal.
    expect(canonicalRowOf(line.replace(`"seq":"1"`, `"seq":"2"`))).toBeNull();
    // Not yet sealed, a purged position's seal line, another field order (in the entry, in the seal).
    expect(canonicalRowOf(entryLine({ entry: e, seal: null }).trimEnd())).toBeNull();
    expect(canonicalRowOf(entryLine({ entry: null, seal }).trimEnd())).toBeNull();
    expect(
      canonicalRowOf(line.replace('{"type":"entry","seq":"1",', '{"seq":"1","type":"entry",')),
    ).toBeNull();
    // The same values with other (valid) escapes: the full parse still finds them intact.
    const reencoded = line.replace(`"seq":"1"`, `"seq":"\\u0031"`);
    expect(canonicalRowOf(reencoded)).toBeNull();
    const parsed = rowOf(parseLine(reencoded))!;
    expect(entryHashHex(GENESIS, parsed.entry!)).toBe(seal.entryHash);
  });
});
