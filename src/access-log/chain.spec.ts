import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { newSigningPair } from '../keys/dev-keys.js';
import { gatewayKeyFromJwk, type GatewayKey } from '../keys/gateway-key.js';
import { INSERT_COLUMNS } from './access-log.repository.js';
import { signCheckpoint } from './access-log.sealer.js';
import { canonical, canonicalFormatOf, ENTRY_SELECT, entryHash, GENESIS, type LoggedEntry } from './chain.js';
import { ENTRY_COLUMNS } from './entry-description.js';
import { verifyChain, type ChainRow, type Checkpoint } from './verify.js';

/** The access_log columns ENTRY_SELECT reads, in its order (`l.<column>`). */
const selected = [...ENTRY_SELECT.matchAll(/\bl\.(\w+)/g)].map((m) => m[1]!);

const entry = (n: number): LoggedEntry => ({
  seq: String(n),
  occurredAt: `2026-12-01T10:00:0${n}.123456Z`,
  traceId: String(n).repeat(32).slice(0, 32),
  partner: `partner-${n}`,
  professional: `professional-${n}`,
  purpose: `purpose-${n}`,
  legalBasis: [`basis-${n}`],
  action: `action-${n}`,
  caseId: `case-${n}`,
  dataSubjectRef: `subject-${n}`,
  fields: [`field-${n}`],
  status: `status-${n}`,
  ruleId: `rule-${n}`,
  reason: `reason-${n}`,
  policyVersion: `version-${n}`,
  emergency: n % 2 === 0,
  requestId: `request-${n}`,
});

describe('the chain covers every column of the access log', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('reads exactly the columns the table has and an insert writes, plus seq and occurred_at', async () => {
    const table = await db.dataSource.query<{ column_name: string }[]>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'access_log' ORDER BY ordinal_position`,
    );
    expect(selected).toEqual(table.map((c) => c.column_name));
    expect(selected).toEqual(['seq', 'occurred_at', ...INSERT_COLUMNS]);
  });

  it('hashes in the order of the entry description, with the types the table has', async () => {
    const e = entry(4);
    expect(JSON.parse(canonical(e))).toEqual(ENTRY_COLUMNS.map((c) => e[c.key as keyof LoggedEntry]));
    const table = await db.dataSource.query<{ column_name: string; type: string }[]>(
      `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a WHERE a.attrelid = 'access_log'::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
    );
    const types: Record<string, string> = { 'text[]': 'text[]', timestamptz: 'timestamp with time zone' };
    expect(table).toEqual(
      ENTRY_COLUMNS.map((c) => ({ column_name: c.column, type: types[c.sqlType] ?? c.sqlType })),
    );
    // Format 1 hashes the columns before the request id; format 2 adds it.
    expect(ENTRY_COLUMNS.filter((c) => c.since === 2).map((c) => c.key)).toEqual(['requestId']);
    expect(canonicalFormatOf(e)).toBe(2);
    expect(canonicalFormatOf({ ...e, requestId: null })).toBe(1);
  });

  it('hashes every field of an entry, in the order ENTRY_SELECT reads them', () => {
    const e = entry(3);
    expect(JSON.parse(canonical(e))).toEqual(Object.values(e));
    expect(Object.keys(e)).toHaveLength(selected.length);
    // Changing any one field changes the hash.
    const base = entryHash(GENESIS, e).toString('hex');
    for (const key of Object.keys(e) as (keyof LoggedEntry)[]) {
      const changed = { ...e, [key]: typeof e[key] === 'boolean' ? !e[key] : ['x'] };
      expect(entryHash(GENESIS, changed).toString('hex')).not.toBe(base);
    }
  });

  it('leaves a null request id out (canonical version 1), so entries sealed before it hash as they did', () => {
    const e = { ...entry(4), requestId: null };
    const v1 = JSON.parse(canonical(e)) as unknown[];
    expect(v1).toHaveLength(selected.length - 1);
    expect(v1).toEqual(Object.values(e).slice(0, -1));
    expect(canonical(e)).not.toBe(canonical({ ...e, requestId: 'null' }));
  });
});

describe('verifying across a rotation of the gateway key', () => {
  let a: GatewayKey;
  let b: GatewayKey;
  const rows: ChainRow[] = [];
  const checkpoints: Checkpoint[] = [];

  beforeAll(async () => {
    a = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
    b = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
    let head: Buffer = GENESIS;
    for (let n = 1; n <= 4; n++) {
      const e = entry(n);
      const hash = entryHash(head, e);
      const position = String(n);
      rows.push({
        entry: e,
        seal: {
          position,
          seq: e.seq,
          entryHash: hash.toString('hex'),
          prevHash: head.toString('hex'),
          sealedAt: e.occurredAt,
        },
      });
      head = hash;
      if (n % 2 === 0) {
        // Checkpoint 2 signed before the rotation (key a), checkpoint 4 after it (key b).
        const key = n === 2 ? a : b;
        checkpoints.push(await signCheckpoint(key, position, head.toString('hex')));
      }
    }
  });

  it('verifies with the key set holding both keys, each checkpoint by its kid', async () => {
    const report = await verifyChain({ rows, checkpoints, publicJwk: [b.publicJwk, a.publicJwk] });
    expect(report).toMatchObject({ ok: true, entries: 4, checkpoints: 2, anchored: '4', unanchored: 0 });
  });

  it('takes range bounds beyond what a double holds exactly as "to the end"', async () => {
    const keys = [b.publicJwk, a.publicJwk];
    const report = await verifyChain({ rows, checkpoints, publicJwk: keys, to: 999_999_999_999_999_999n });
    expect(report).toMatchObject({ ok: true, entries: 4, checkpoints: 2 });
    const beyond = await verifyChain({ rows, checkpoints, publicJwk: keys, from: 10n ** 17n });
    expect(beyond).toMatchObject({ ok: true, entries: 0 });
  });

  it('fails at the first checkpoint whose key is not in the set', async () => {
    const report = await verifyChain({ rows, checkpoints, publicJwk: [b.publicJwk] });
    expect(report.failure).toMatchObject({ problem: 'checkpoint-signature', position: '2' });
  });
});
