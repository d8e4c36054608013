import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import {
  CANONICAL_SELECT,
  canonical,
  ENTRY_SELECT,
  entryHashHex,
  GENESIS,
  type CanonicalEntry,
  type LoggedEntry,
} from './chain.js';

/**
 * The database verifier hashes PostgreSQL's rendering of canonical(entry) (CANONICAL_SELECT). It
 * must be byte for byte what the sealer hashed, or existing chains stop verifying: compared here
 * over random entries full of what JSON escapes differently if anything does.
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

describe('canonical text rendered by PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('equals canonical(entry) byte for byte over 2,000 random entries', async () => {
    for (let batch = 0; batch < 20; batch++) {
      const params: unknown[] = [];
      const values: string[] = [];
      for (let i = 0; i < 100; i++) {
        const row = [
          // Microseconds, time zones and years far from now, as PostgreSQL stores them.
          `${2000 + randomInt(60)}-0${1 + randomInt(9)}-1${randomInt(10)} 0${randomInt(10)}:${10 + randomInt(50)}:${10 + randomInt(50)}.${randomInt(1_000_000)}+0${randomInt(10)}:00`,
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
        ];
        values.push(`(${row.map((value) => (params.push(value), `$${params.length}`)).join(', ')})`);
      }
      await db.dataSource.query(
        `INSERT INTO access_log (occurred_at, trace_id, partner, professional, processing_activity_id, legal_basis,
           action, case_id, data_subject_ref, fields, status, rule_id, reason, policy_version, emergency)
         VALUES ${values.join(', ')}`,
        params,
      );
    }
    const entries = await db.dataSource.query<LoggedEntry[]>(
      `SELECT ${ENTRY_SELECT} FROM access_log l ORDER BY l.seq`,
    );
    const rendered = await db.dataSource.query<CanonicalEntry[]>(
      `SELECT ${CANONICAL_SELECT} FROM access_log l ORDER BY l.seq`,
    );
    expect(rendered).toHaveLength(2000);
    expect(rendered.map((r) => r.canonical)).toEqual(entries.map(canonical));
    expect(rendered.map((r) => [r.seq, r.occurredAt])).toEqual(entries.map((e) => [e.seq, e.occurredAt]));
    // And so the hash: what the verifier computes from either form is the same.
    expect(entryHashHex(GENESIS, rendered[0]!)).toBe(entryHashHex(GENESIS, entries[0]!));
    // The random data did reach the cases that matter: escapes, nulls inside arrays, empty arrays.
    const all = rendered.map((r) => r.canonical).join('');
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
      'null',
      '[]',
      '😀',
    ])
      expect(all).toContain(escaped);
  });
});
