import { randomBytes } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { newSigningPair } from '../keys/dev-keys.js';
import { gatewayKeyFromJwk, type GatewayKey } from '../keys/gateway-key.js';
import { AccessLogRepository } from './access-log.repository.js';
import { sealRound, SealerMemory } from './access-log.sealer.js';
import type { AccessLogEntry } from './access-log.types.js';
import { readChain, readChainPages, readCheckpoints } from './chain.repository.js';
import { inSegments } from '../../test/support/verify-segments.js';
import { verifyChain, type VerifyReport } from './verify.js';

const entry = (reason = 'test'): AccessLogEntry => ({
  requestId: null,
  traceId: randomBytes(16).toString('hex'),
  partner: 'wijkteam',
  professional: 'p1',
  purpose: 'uitvoering-plan',
  legalBasis: ['avg-6-1-e', 'wmo "4.1.1", quoted'],
  action: 'read',
  caseId: null,
  dataSubjectRef: 'subject-1',
  fields: ['plan.doelen', 'plan,acties'],
  status: 'allowed',
  ruleId: 'r',
  reason,
  policyVersion: 'v',
  emergency: false,
});

const OPTIONS = { checkpointEvery: 5, checkpointIntervalMs: 3_600_000 };

describe('access log hash chain and checkpoints (real PostgreSQL)', () => {
  let db: TestDatabase;
  let log: AccessLogRepository;
  let key: GatewayKey;

  const seal = async () => {
    while ((await sealRound(db.dataSource, key, OPTIONS)).sealed > 0);
  };
  const verify = async (): Promise<VerifyReport> =>
    verifyChain({
      rows: readChain(db.dataSource),
      checkpoints: await readCheckpoints(db.dataSource),
      publicJwk: key.publicJwk,
    });
  /** Tampers as a superuser who has switched the append-only triggers off, as an attacker could. */
  const tamper = async (statements: string[]) => {
    const tables = ['access_log', 'access_log_seal', 'access_log_checkpoint'];
    const runner: QueryRunner = db.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      for (const t of tables) await runner.query(`ALTER TABLE ${t} DISABLE TRIGGER ${t}_append_only`);
      for (const s of statements) await runner.query(s);
      // Rolled back after verifying: each test tampers with the same pristine chain.
      return runner;
    } catch (error) {
      await runner.rollbackTransaction();
      await runner.release();
      throw error;
    }
  };
  const verifyTampered = async (statements: string[]): Promise<VerifyReport> => {
    const runner = await tamper(statements);
    try {
      const checkpoints = await readCheckpoints(runner.manager);
      const report = await verifyChain({
        rows: readChain(runner.manager),
        checkpoints,
        publicJwk: key.publicJwk,
      });
      // The API and the CLI read the chain from binary COPY, in pages: same verdict.
      const fast = await verifyChain({
        rows: readChainPages(runner.manager),
        checkpoints,
        publicJwk: key.publicJwk,
      });
      expect(fast).toEqual(report);
      // And in segments between checkpoints, as the worker threads verify a long chain: same verdict.
      expect(await inSegments(runner.manager, { checkpoints, purged: [], publicJwk: key.publicJwk })).toEqual(
        report,
      );
      return report;
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    log = new AccessLogRepository(db.dataSource);
    key = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
    // Sealed in rounds of 5, 5 and 2: a checkpoint is due once 5 entries are past the last one.
    for (const round of [5, 5, 2]) {
      for (let i = 0; i < round; i++) await log.append([entry(`entry ${i}`)]);
      await seal();
    }
  });
  afterAll(async () => {
    await db.drop();
  });

  it('seals every entry once, with a signed checkpoint every N, and verifies', async () => {
    const report = await verify();
    expect(report).toMatchObject({ ok: true, entries: 12, checkpoints: 2, pending: 0, failure: null });
    const cps = await readCheckpoints(db.dataSource);
    expect(cps.map((c) => c.position)).toEqual(['5', '10']);
  });

  it('leaves new entries pending until the next round', async () => {
    await log.append([entry('late')]);
    expect(await verify()).toMatchObject({ ok: true, pending: 1 });
    await seal();
    expect(await verify()).toMatchObject({ ok: true, entries: 13, pending: 0 });
  });

  describe('detects tampering by a superuser with the triggers off, at the first bad entry', () => {
    it('an altered field', async () => {
      const report = await verifyTampered([`UPDATE access_log SET partner = 'politie' WHERE seq = 7`]);
      expect(report.failure).toMatchObject({ problem: 'altered', position: '7', seq: '7' });
      expect(report.entries).toBe(6);
    });

    it('a seal whose canonical format was changed', async () => {
      const report = await verifyTampered([`UPDATE access_log_seal SET format = 2 WHERE position = 7`]);
      expect(report.failure).toMatchObject({ problem: 'chain-broken', position: '7', seq: '7' });
      expect(report.failure?.detail).toMatch(/format 2.*format 1/);
    });

    it('a deleted entry (its seal left behind)', async () => {
      const report = await verifyTampered([`DELETE FROM access_log WHERE seq = 7`]);
      expect(report.failure).toMatchObject({ problem: 'removed', position: '7', seq: '7' });
    });

    it('a seal moved far beyond the end (read ahead in pages, the gap is jumped over)', async () => {
      const report = await verifyTampered([
        `UPDATE access_log_seal SET position = 1000000 WHERE position = 12`,
      ]);
      expect(report.failure).toMatchObject({ problem: 'removed', position: '12' });
      expect(report.entries).toBe(11);
    });

    it('a seal pointed at a seq far out of range (read by list, not by a seq range)', async () => {
      const report = await verifyTampered([
        `UPDATE access_log_seal SET seq = 9000000000000000000 WHERE position = 8`,
      ]);
      expect(report.failure).toMatchObject({ problem: 'removed', position: '8', seq: '9000000000000000000' });
    });

    it('a deleted entry and its seal (a gap in positions)', async () => {
      const report = await verifyTampered([
        `DELETE FROM access_log WHERE seq = 7`,
        `DELETE FROM access_log_seal WHERE seq = 7`,
      ]);
      expect(report.failure).toMatchObject({ problem: 'removed', position: '7' });
    });

    it('entries cut off the end, under a checkpoint', async () => {
      const report = await verifyTampered([
        `DELETE FROM access_log WHERE seq >= 9`,
        `DELETE FROM access_log_seal WHERE seq >= 9`,
      ]);
      expect(report.failure).toMatchObject({ problem: 'removed', position: '9' });
    });

    it('an inserted entry that the chain skipped', async () => {
      const report = await verifyTampered([
        `INSERT INTO access_log (seq, occurred_at, trace_id, action, status)
           OVERRIDING SYSTEM VALUE VALUES (0, '2026-01-01T00:00:00Z', '${'a'.repeat(32)}', 'read', 'allowed')`,
      ]);
      expect(report.failure).toMatchObject({ problem: 'inserted', position: null, seq: '0' });
    });

    it("an entry put in beside a sealed one, with the sealed one's seq (the key is seq and time)", async () => {
      const report = await verifyTampered([
        `INSERT INTO access_log (seq, occurred_at, trace_id, partner, action, status)
           OVERRIDING SYSTEM VALUE
         SELECT seq, occurred_at + interval '1 second', trace_id, 'politie', action, status FROM access_log WHERE seq = 6`,
      ]);
      expect(report.failure).toMatchObject({ problem: 'inserted', position: '6', seq: '6' });
      expect(report.entries).toBe(5);
    });

    it('two entries reordered', async () => {
      const report = await verifyTampered([
        `UPDATE access_log_seal SET seq = -1 WHERE position = 3`,
        `UPDATE access_log_seal SET seq = 3 WHERE position = 4`,
        `UPDATE access_log_seal SET seq = 4 WHERE position = 3`,
      ]);
      expect(report.failure).toMatchObject({ problem: 'reordered', position: '3', seq: '4' });
    });

    it('a checkpoint whose stored head was changed', async () => {
      const report = await verifyTampered([
        `UPDATE access_log_checkpoint SET chain_head = sha256('x') WHERE position = 5`,
      ]);
      expect(report.failure).toMatchObject({ problem: 'checkpoint-signature', position: '5' });
    });

    it('an alteration with every later seal recomputed: the signed checkpoint still catches it', async () => {
      const runner = await tamper([`UPDATE access_log SET reason = 'rewritten' WHERE seq = 7`]);
      try {
        const { entryHash } = await import('./chain.js');
        let head: Buffer | null = null;
        for await (const row of readChain(runner.manager)) {
          if (!row.seal || !row.entry) continue;
          if (BigInt(row.seal.position) < 7n) continue;
          head ??= Buffer.from(row.seal.prevHash, 'hex');
          const hash = entryHash(head, row.entry);
          await runner.query(
            `UPDATE access_log_seal SET prev_hash = $1, entry_hash = $2 WHERE position = $3`,
            [head, hash, row.seal.position],
          );
          head = hash;
        }
        const report = await verifyChain({
          rows: readChain(runner.manager),
          checkpoints: await readCheckpoints(runner.manager),
          publicJwk: key.publicJwk,
        });
        expect(report.failure).toMatchObject({ problem: 'checkpoint-head', position: '10' });
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
    });
  });

  it('seals a row that commits after later rows were sealed, exactly once', async () => {
    const slow = db.dataSource.createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    await log.append([entry('slow')], slow.manager);
    const [slowRow] = (await slow.query(`SELECT max(seq)::text AS seq FROM access_log`)) as { seq: string }[];
    const slowSeq = slowRow!.seq;
    await log.append([entry('fast 1'), entry('fast 2')]);
    await seal();
    await slow.commitTransaction();
    await slow.release();
    await seal();
    const report = await verify();
    expect(report).toMatchObject({ ok: true, pending: 0 });
    const [counts] = await db.dataSource.query<
      {
        logged: number;
        sealed: number;
        slow_position: string;
        last_position: string;
      }[]
    >(
      `
      SELECT (SELECT count(*) FROM access_log)::int AS logged,
             (SELECT count(*) FROM access_log_seal)::int AS sealed,
             (SELECT position::text FROM access_log_seal WHERE seq = $1) AS slow_position,
             (SELECT max(position)::text FROM access_log_seal) AS last_position`,
      [slowSeq],
    );
    expect(counts!.sealed).toBe(counts!.logged);
    // Sealed last, after the rows with higher seq that committed before it.
    expect(counts!.slow_position).toBe(counts!.last_position);
  });

  it('with a memory, seals late commits at its next search of the window, not every round', async () => {
    const memory = new SealerMemory();
    const withMemory = { ...OPTIONS, memory, writtenAs: (seq: string) => log.writtenAs(seq) };
    const sealWithMemory = async () => {
      while ((await sealRound(db.dataSource, key, withMemory)).sealed > 0);
    };
    await sealWithMemory();
    expect(memory.searchedAt).toBeGreaterThan(Date.now() - 60_000);
    const slow = db.dataSource.createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    await log.append([entry('slow with memory')], slow.manager);
    await log.append([entry('fast with memory')]);
    await sealWithMemory();
    await slow.commitTransaction();
    await slow.release();
    // Rounds between searches take only what lies above the highest sealed seq.
    await sealWithMemory();
    const unsealed = async () =>
      (
        await db.dataSource.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM access_log l
            WHERE NOT EXISTS (SELECT 1 FROM access_log_seal s WHERE s.seq = l.seq)`,
        )
      )[0]!.n;
    expect(await unsealed()).toBe(1);
    // The next search (due every FULL_SEARCH_MS) finds it.
    memory.searchedAt = Number.NEGATIVE_INFINITY;
    await sealWithMemory();
    expect(await unsealed()).toBe(0);
    expect(await verify()).toMatchObject({ ok: true, pending: 0 });
    // Each seal names the canonical format it hashed: these entries have no request id, format 1.
    const formats = await db.dataSource.query<{ format: number | null }[]>(
      `SELECT DISTINCT format FROM access_log_seal`,
    );
    expect(formats).toEqual([{ format: 1 }]);
  });
});
