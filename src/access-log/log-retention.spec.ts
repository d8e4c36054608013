import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { verifiableExportLines } from '../audit/verifiable-export.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { REAL_CONVENANT } from '../../test/support/app.js';
import { newSigningPair } from '../keys/dev-keys.js';
import { gatewayKeyFromJwk, type GatewayKey } from '../keys/gateway-key.js';
import { run as cli } from '../cli/program.js';
import { AccessLogRepository } from './access-log.repository.js';
import { sealRound } from './access-log.sealer.js';
import { readChain, readChainPages, readCheckpoints, readPurges } from './chain.repository.js';
import { inSegments } from '../../test/support/verify-segments.js';
import { AccessLogRetention, purgeDigest, type LogRetentionPolicy } from './log-retention.js';
import { verifyChain, type VerifyReport } from './verify.js';
import { withPurgeCheck } from './verify-purges.js';
import type { QueryRunner } from 'typeorm';
import { ENTRY_SELECT, entryHash, type LoggedEntry } from './chain.js';
import type { Queryable } from './chain.repository.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const POLICY: LogRetentionPolicy = {
  version: '2026.1-test',
  purposes: [{ id: 'triage', logRetention: 'P1Y' }, { id: 'casusoverleg' }],
  defaultRetention: 'P5Y',
};

/**
 * Retention of the access log on a real PostgreSQL: only expired, sealed entries go, the run is
 * recorded, the chain still verifies across the purged positions, and tampering still shows.
 */
describe('AccessLogRetention (real PostgreSQL)', () => {
  let db: TestDatabase;
  let key: GatewayKey;
  let retention: AccessLogRetention;
  const seqOf: Record<string, string> = {};

  async function insert(label: string, occurredAt: string, purpose: string | null): Promise<void> {
    const [row] = await db.dataSource.query<{ seq: string }[]>(
      `INSERT INTO access_log (occurred_at, trace_id, partner, professional, processing_activity_id, action, status, reason)
       VALUES ($1, $2, 'vtrr', 'p1', $3, 'read', 'allowed', $4) RETURNING seq::text AS seq`,
      [occurredAt, randomBytes(16).toString('hex'), purpose, label],
    );
    seqOf[label] = row!.seq;
  }
  /** The multirange text PostgreSQL gives for these entries' seqs (none of them adjacent here). */
  const spans = (...labels: string[]) =>
    `{${labels.map((l) => `[${seqOf[l]},${BigInt(seqOf[l]!) + 1n})`).join(',')}}`;
  const verify = async (source: Queryable = db.dataSource): Promise<VerifyReport> => {
    const checkpoints = await readCheckpoints(source);
    const chain = await verifyChain({
      rows: readChain(source),
      checkpoints,
      purged: await readPurges(source),
      publicJwk: key.publicJwk,
      now: NOW,
    });
    return withPurgeCheck(chain, source, checkpoints, key.publicJwk);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    key = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
    retention = new AccessLogRetention(db.dataSource, new AccessLogRepository(db.dataSource), () => POLICY);
    // Interleaved, so the purged positions are scattered through the chain.
    await insert('no-purpose-2020', '2020-03-01T10:00:00Z', null);
    await insert('triage-2024-a', '2024-02-01T10:00:00Z', 'triage');
    await insert('casusoverleg-2024', '2024-02-02T10:00:00Z', 'casusoverleg');
    await insert('triage-2024-b', '2024-02-03T10:00:00Z', 'triage');
    await insert('unknown-purpose-2024', '2024-02-04T10:00:00Z', 'vervallen-doel');
    await insert('triage-2026', '2026-05-01T10:00:00Z', 'triage');
    await insert('triage-2024-c', '2024-02-05T10:00:00Z', 'triage');
    // Signed in 2021, as a gateway running then would have: the checkpoint shows the entries existed
    // before their cut-offs, which both the database's guard and verification require of a purge.
    await sealRound(db.dataSource, key, {
      checkpointEvery: 3,
      checkpointIntervalMs: 60_000,
      clock: () => new Date('2021-01-01T00:00:00Z'),
    });
    await sealRound(db.dataSource, key, {
      checkpointEvery: 3,
      checkpointIntervalMs: 60_000,
      forceCheckpoint: true,
    });
    // Expired, but not sealed yet: retention must leave it for the sealer.
    await insert('triage-2024-unsealed', '2024-02-06T10:00:00Z', 'triage');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('plans exactly what expired, per purpose, and removes nothing', async () => {
    const plan = await retention.plan(NOW);
    expect(plan).toEqual({
      now: NOW.toISOString(),
      total: 4,
      items: [
        {
          purpose: null,
          retention: 'P5Y',
          cutoff: '2021-06-01T00:00:00.000000Z',
          count: 1,
          fromSeq: seqOf['no-purpose-2020'],
          toSeq: seqOf['no-purpose-2020'],
          seqs: spans('no-purpose-2020'),
        },
        {
          purpose: 'triage',
          retention: 'P1Y',
          cutoff: '2025-06-01T00:00:00.000000Z',
          count: 3,
          fromSeq: seqOf['triage-2024-a'],
          toSeq: seqOf['triage-2024-c'],
          seqs: spans('triage-2024-a', 'triage-2024-b', 'triage-2024-c'),
        },
      ],
    });
    const [row] = await db.dataSource.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM access_log`);
    expect(row!.n).toBe(8);
  });

  it('lists in the dry run of the CLI what it would remove, with the default retention of the real convenant', async () => {
    const result = await cli(['audit', 'purge', '--dry-run'], {
      DATABASE_URL: db.url,
      CONVENANT_POLICY_DIR: REAL_CONVENANT,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // Against today's date and P5Y for every purpose of the real convenant (none sets log_retention).
    expect(result.stdout).toMatch(/^Would remove 1 access log entries expired at /);
    expect(result.stdout).toMatch(/\(none\)\s+P5Y/);
  });

  it('removes what the plan listed, records the run, and logs itself', async () => {
    const plan = await retention.plan(NOW);
    const result = await retention.run(NOW);
    expect(result.items).toEqual(plan.items);
    expect(result.runId).toEqual(expect.any(String));
    const left = await db.dataSource.query<{ reason: string }[]>(
      `SELECT reason FROM access_log WHERE action = 'read' ORDER BY seq`,
    );
    expect(left.map((r) => r.reason)).toEqual([
      'casusoverleg-2024',
      'unknown-purpose-2024',
      'triage-2026',
      'triage-2024-unsealed',
    ]);
    expect(await readPurges(db.dataSource)).toEqual([
      {
        runId: result.runId,
        purpose: null,
        fromSeq: seqOf['no-purpose-2020'],
        toSeq: seqOf['no-purpose-2020'],
        count: '1',
        seqs: spans('no-purpose-2020'),
      },
      {
        runId: result.runId,
        purpose: 'triage',
        fromSeq: seqOf['triage-2024-a'],
        toSeq: seqOf['triage-2024-c'],
        count: '3',
        seqs: spans('triage-2024-a', 'triage-2024-b', 'triage-2024-c'),
      },
    ]);
    const [own] = await db.dataSource.query<{ reason: string; professional: string }[]>(
      `SELECT reason, professional FROM access_log WHERE action = 'purge' AND trace_id = $1`,
      [result.traceId],
    );
    expect(own).toEqual({
      professional: 'convenant-retention',
      reason: expect.stringMatching(
        /removed 4 entries: \(no purpose\) 1 .*; triage 3 \(seq \d+-\d+, older than P1Y\)/,
      ),
    });
    // Nothing else may delete, even after a purge.
    await expect(db.dataSource.query(`DELETE FROM access_log_purge`)).rejects.toThrow(/append-only/);
    expect((await retention.plan(NOW)).total).toBe(0);
  });

  it('still verifies, naming the purged positions and the run behind them', async () => {
    await sealRound(db.dataSource, key, {
      checkpointEvery: 3,
      checkpointIntervalMs: 60_000,
      forceCheckpoint: true,
    });
    const report = await verify();
    expect(report.failure).toBeNull();
    expect(report).toMatchObject({ ok: true, purged: 4, pending: 0 });
    expect(report.purgedRanges.map((r) => r.purpose)).toEqual([null, 'triage']);
  });

  it('exports the purged log as a file that verifies offline, naming the run', async () => {
    let text = '';
    for await (const chunk of verifiableExportLines(db.dataSource, {})) text += chunk;
    expect(text).toMatch(/^\{"type":"seal"/m);
    expect(text).toMatch(/^\{"type":"purge"/m);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-purged-'));
    try {
      await writeFile(path.join(dir, 'log.ndjson'), text);
      await writeFile(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [key.publicJwk] }));
      const result = await cli(
        ['audit', 'verify', '--file', path.join(dir, 'log.ndjson'), '--key', path.join(dir, 'jwks.json')],
        {},
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Purged by retention run \d+: 3 entries \(purpose triage/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('still detects tampering after a purge: a removed entry, and an altered one', async () => {
    const tamper = async (sql: string): Promise<VerifyReport> => {
      const runner = db.dataSource.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      try {
        await runner.query(`ALTER TABLE access_log DISABLE TRIGGER access_log_append_only`);
        await runner.query(sql);
        const input = {
          checkpoints: await readCheckpoints(runner.manager),
          purged: await readPurges(runner.manager),
          publicJwk: key.publicJwk,
          now: NOW,
        };
        const report = await verifyChain({ ...input, rows: readChain(runner.manager) });
        // The API and the CLI read the chain from binary COPY, in pages, and in segments: same verdict.
        expect(await verifyChain({ ...input, rows: readChainPages(runner.manager) })).toEqual(report);
        expect(await inSegments(runner.manager, input)).toEqual(report);
        return report;
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
    };
    const removed = await tamper(`DELETE FROM access_log WHERE reason = 'triage-2026'`);
    expect(removed.failure).toMatchObject({ problem: 'removed', seq: seqOf['triage-2026'] });
    const altered = await tamper(
      `UPDATE access_log SET partner = 'politie' WHERE reason = 'casusoverleg-2024'`,
    );
    expect(altered.failure).toMatchObject({ problem: 'altered', seq: seqOf['casusoverleg-2024'] });
  });

  describe('an insider with the retention role, or the database owner', () => {
    /** Runs `work` in a transaction that is rolled back: every test starts from the same log. */
    const rolledBack = async (work: (runner: QueryRunner) => Promise<void>) => {
      const runner = db.dataSource.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      try {
        await work(runner);
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
    };
    const positionOf = async (source: Queryable, label: string) => {
      const [row] = (await source.query(
        `SELECT s.position::text AS position FROM access_log_seal s WHERE s.seq = $1`,
        [seqOf[label]],
      )) as { position: string }[];
      return row!.position;
    };
    /** Records a purge run of one entry as the retention tables hold them, as an insider would. */
    const fakeRun = async (runner: QueryRunner, label: string, retention: string, cutoff: string) => {
      const traceId = randomBytes(16).toString('hex');
      const [run] = (await runner.query(
        `INSERT INTO access_log_purge_run (ran_at, removed, trace_id, policy_version)
         VALUES (now(), 1, $1, $2) RETURNING run_id::text AS "runId"`,
        [traceId, POLICY.version],
      )) as { runId: string }[];
      const seq = seqOf[label]!;
      const record = {
        purpose: 'triage',
        retention,
        cutoff,
        count: 1,
        fromSeq: seq,
        toSeq: seq,
        seqs: `{[${seq},${BigInt(seq) + 1n})}`,
      };
      await runner.query(
        `INSERT INTO access_log_purge (run_id, purpose, retention, cutoff, count, from_seq, to_seq, seqs)
         VALUES ($1, $2, $3, $4, 1, $5, $5, $6::int8multirange)`,
        [run!.runId, 'triage', retention, cutoff, seq, record.seqs],
      );
      return { traceId, runId: run!.runId, record };
    };
    /** Appends and seals, as the sealer would, a row written inside the rolled-back transaction. */
    const sealHere = async (runner: QueryRunner, seq: string) => {
      const [last] = (await runner.query(
        `SELECT position, entry_hash AS hash FROM access_log_seal ORDER BY position DESC LIMIT 1`,
      )) as { position: string; hash: Buffer }[];
      const [logged] = (await runner.query(`SELECT ${ENTRY_SELECT} FROM access_log l WHERE l.seq = $1`, [
        seq,
      ])) as LoggedEntry[];
      await runner.query(
        `INSERT INTO access_log_seal (position, seq, entry_hash, prev_hash) VALUES ($1, $2, $3, $4)`,
        [String(BigInt(last!.position) + 1n), seq, entryHash(last!.hash, logged!), last!.hash],
      );
    };

    it('cannot delete, as convenant_retention, an entry that has not expired or no old checkpoint covers', async () => {
      await insert('triage-2019-unsealed', '2019-01-01T10:00:00Z', 'triage');
      for (const sql of [
        `DELETE FROM access_log WHERE reason = 'triage-2026'`,
        `DELETE FROM access_log WHERE reason = 'triage-2019-unsealed'`,
        `DELETE FROM access_log`,
      ]) {
        await rolledBack(async (runner) => {
          await runner.query(`SET LOCAL ROLE convenant_retention`);
          await expect(runner.query(sql)).rejects.toThrow(/has not expired/);
        });
      }
    });

    it('a recorded purge whose entry is not in the chain fails, naming the first purged position', async () => {
      await rolledBack(async (runner) => {
        const position = await positionOf(runner, 'triage-2026');
        await runner.query(`ALTER TABLE access_log DISABLE TRIGGER access_log_append_only`);
        await runner.query(`DELETE FROM access_log WHERE reason = 'triage-2026'`);
        await fakeRun(runner, 'triage-2026', 'P1Y', '2025-06-01T00:00:00.000000Z');
        const report = await verify(runner.manager);
        expect(report.failure).toMatchObject({
          problem: 'purge-unrecorded',
          position,
          seq: seqOf['triage-2026'],
        });
      });
    });

    it('a purge entry forged to match fails too: no checkpoint signed before the cut-off covers a young entry', async () => {
      // A young entry, sealed under a checkpoint signed today.
      await insert('triage-today', new Date().toISOString(), 'triage');
      await sealRound(db.dataSource, key, { checkpointEvery: 1, checkpointIntervalMs: 60_000 });
      await rolledBack(async (runner) => {
        const position = await positionOf(runner, 'triage-today');
        await runner.query(`ALTER TABLE access_log DISABLE TRIGGER access_log_append_only`);
        await runner.query(`DELETE FROM access_log WHERE reason = 'triage-today'`);
        const { traceId, runId, record } = await fakeRun(
          runner,
          'triage-today',
          'P1Y',
          '2025-06-01T00:00:00.000000Z',
        );
        const [entry] = (await runner.query(
          `INSERT INTO access_log (trace_id, professional, action, status, reason, policy_version)
           VALUES ($1, 'convenant-retention', 'purge', 'allowed', $2, $3) RETURNING seq::text AS seq`,
          [
            traceId,
            `Access log retention run ${runId}: removed 1 entries. Records sha256:${purgeDigest([record])}`,
            POLICY.version,
          ],
        )) as { seq: string }[];
        await sealHere(runner, entry!.seq);
        const report = await verify(runner.manager);
        expect(report.failure).toMatchObject({
          problem: 'purge-early',
          position,
          seq: seqOf['triage-today'],
        });
        expect(report.failure!.detail).toMatch(
          /no checkpoint signed before the cut-off 2025-06-01T00:00:00.000000Z covers it/,
        );
      });
    });
  });
});
