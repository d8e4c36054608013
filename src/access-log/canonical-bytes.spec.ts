import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { newSigningPair } from '../keys/dev-keys.js';
import { gatewayKeyFromJwk } from '../keys/gateway-key.js';
import { sealRound } from './access-log.sealer.js';
import { canonical, canonicalTextOf, ENTRY_SELECT, type LoggedEntry } from './chain.js';
import { readChainPages, readCheckpoints } from './chain.repository.js';
import { verifyChain, type VerifyRow } from './verify.js';

/**
 * The database verifier hashes canonical(entry) as canonical-bytes.ts writes it from the binary
 * COPY's fields. It must be byte for byte what the sealer hashed (canonical() over ENTRY_SELECT's
 * row), or existing chains stop verifying: compared here over random entries full of what JSON
 * escapes if anything does, NULLs in and around arrays, a two-dimensional array, and timestamps
 * the writer leaves to the text path (before 1970, after 2200).
 */
const ALPHABET = [
  'a',
  'Z',
  '0',
  ' ',
  '"',
  '\\',
  '/',
  "'",
  '\b',
  '\f',
  '\n',
  '\r',
  '\t',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0080',
  'é',
  'ß',
  '€',
  '\u2028',
  '\u2029',
  '\ufeff',
  '😀',
  '𝄞',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  'null',
  '\\u0041',
];
const text = () =>
  Array.from({ length: randomInt(0, 12) }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
const maybe = <T>(value: () => T): T | null => (randomInt(4) === 0 ? null : value());
const list = () => Array.from({ length: randomInt(0, 4) }, () => maybe(text));
/** Microseconds, offsets, and years the byte writer renders itself (1970 to 2200) and some it does not. */
const timestamp = () => {
  const year = randomInt(20) === 0 ? [1901, 1969, 2200, 2345][randomInt(4)]! : 1970 + randomInt(230);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${year}-${two(1 + randomInt(12))}-${two(1 + randomInt(28))} ${two(randomInt(24))}:${two(randomInt(60))}:${two(randomInt(60))}.${randomInt(1_000_000)}+${two(randomInt(12))}:00`;
};

describe('canonical text written from binary COPY fields (readChainPages)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('equals canonical(entry) byte for byte over 2,000 random entries, and the chain verifies', async () => {
    for (let batch = 0; batch < 20; batch++) {
      const params: unknown[] = [];
      const values: string[] = [];
      for (let i = 0; i < 100; i++) {
        const row = [
          timestamp(),
          randomBytes(16).toString('hex'),
          maybe(text),
          maybe(text),
          maybe(text),
          list(),
          text(),
          maybe(randomUUID),
          maybe(text),
          list(),
          randomInt(2) ? 'allowed' : 'denied',
          maybe(text),
          maybe(text),
          maybe(text),
          randomInt(2) === 0,
          maybe(randomUUID),
        ];
        values.push(`(${row.map((value) => (params.push(value), `$${params.length}`)).join(', ')})`);
      }
      await db.dataSource.query(
        `INSERT INTO access_log (occurred_at, trace_id, partner, professional, processing_activity_id, legal_basis,
           action, case_id, data_subject_ref, fields, status, rule_id, reason, policy_version, emergency, request_id)
         VALUES ${values.join(', ')}`,
        params,
      );
    }
    // Two-dimensional arrays: nested JSON arrays, as pg parses them for canonical().
    await db.dataSource.query(
      `INSERT INTO access_log (occurred_at, trace_id, legal_basis, action, fields, status, emergency)
       VALUES (now(), $1, ARRAY[['a', NULL], ['"q"', 'é']], 'read', '{}', 'allowed', false)`,
      [randomBytes(16).toString('hex')],
    );
    const key = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
    while (
      (await sealRound(db.dataSource, key, { checkpointEvery: 500, checkpointIntervalMs: 3_600_000 }))
        .sealed > 0
    );

    const entries = await db.dataSource.query<LoggedEntry[]>(
      `SELECT ${ENTRY_SELECT} FROM access_log l ORDER BY l.seq`,
    );
    const rows: VerifyRow[] = [];
    for await (const page of readChainPages(db.dataSource)) rows.push(...page);
    expect(rows).toHaveLength(2001);
    const bySeq = new Map(rows.map((r) => [r.entry!.seq, r.entry!]));
    expect(entries.map((e) => canonicalTextOf(bySeq.get(e.seq)!))).toEqual(entries.map(canonical));
    // Both ways were taken: bytes from COPY for most, the text path for the far-off timestamps.
    const viaBytes = rows.filter((r) => r.entry && 'canonical' in r.entry).length;
    expect(viaBytes).toBeGreaterThan(1500);
    expect(viaBytes).toBeLessThan(2001);

    const report = await verifyChain({
      rows: readChainPages(db.dataSource),
      checkpoints: await readCheckpoints(db.dataSource),
      publicJwk: key.publicJwk,
    });
    expect(report).toMatchObject({ ok: true, entries: 2001, failure: null });
    // The random data did reach the cases that matter: escapes, nulls inside arrays, empty arrays.
    const all = entries.map(canonical).join('');
    for (const escaped of [
      '\\"',
      '\\\\',
      '\\b',
      '\\f',
      '\\n',
      '\\r',
      '\\t',
      '\\u0001',
      '\\u001f',
      '[null',
      '[]',
      '😀',
      '[["a",null],["\\"q\\"","é"]]',
    ])
      expect(all).toContain(escaped);
  });
});
