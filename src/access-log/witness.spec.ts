import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { newSigningPair } from '../keys/dev-keys.js';
import { gatewayKeyFile, gatewayKeyFromJwk, type GatewayKey } from '../keys/gateway-key.js';
import { run } from '../cli/program.js';
import { AccessLogRepository } from './access-log.repository.js';
import { sealRound } from './access-log.sealer.js';
import type { AccessLogEntry } from './access-log.types.js';
import { ENTRY_SELECT, entryHash, type LoggedEntry } from './chain.js';
import { readChain, readCheckpoints, readPurges } from './chain.repository.js';
import { leafHash, rootOf, verifyConsistency, verifyInclusion } from './merkle.js';
import { latestTreeHead, treeConsistency, treeInclusion } from './tree.js';
import { verifyChain } from './verify.js';
import { FileWitnessStore, witnessedCheckpoints } from './witness.js';

const entry = (i: number): AccessLogEntry => ({
  requestId: null,
  traceId: randomBytes(16).toString('hex'),
  partner: 'wijkteam',
  professional: 'p1',
  purpose: 'uitvoering-plan',
  legalBasis: [],
  action: 'read',
  caseId: null,
  dataSubjectRef: `subject-${i}`,
  fields: ['plan.doelen'],
  status: 'allowed',
  ruleId: 'r',
  reason: `entry ${i}`,
  policyVersion: 'v',
  emergency: false,
});

/**
 * Checkpoints as RFC 9162 tree heads, a witness outside the database, and what it catches, on a
 * real PostgreSQL: the stored tree gives the roots and proofs the RFC's definitions give, the
 * witness accepts only a log that extends what it kept, and verification against its kept
 * checkpoints finds a tail rewritten and resealed, or cut off, even with the database's own newest
 * checkpoints deleted along with it.
 */
describe('Merkle checkpoints and a witness (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dir: string;
  let witnessDir: string;
  let key: GatewayKey;
  let jwksFile: string;
  let env: Record<string, string>;
  const OPTIONS = { checkpointEvery: 100, checkpointIntervalMs: 3_600_000 };

  /** Appends and seals in rounds of 100, so a checkpoint falls every 100 positions. */
  const append = async (from: number, count: number) => {
    for (let at = from; at < from + count; at += 100) {
      await new AccessLogRepository(db.dataSource).append(
        Array.from({ length: 100 }, (_, i) => entry(at + i)),
      );
      while ((await sealRound(db.dataSource, key, OPTIONS)).sealed > 0);
    }
  };
  const leaves = async (): Promise<Buffer[]> =>
    (
      await db.dataSource.query<{ hash: Buffer }[]>(
        `SELECT entry_hash AS hash FROM access_log_seal ORDER BY position`,
      )
    ).map((r) => leafHash(r.hash));
  const witness = () =>
    run(['audit', 'witness', '--log-key', jwksFile, '--dir', witnessDir, '--name', 'fg-rotterdam'], env);

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-witness-'));
    witnessDir = path.join(dir, 'witness');
    const { privateJwk } = await newSigningPair();
    await mkdir(path.join(dir, 'keys'), { recursive: true });
    await writeFile(gatewayKeyFile(path.join(dir, 'keys')), JSON.stringify(privateJwk));
    key = await gatewayKeyFromJwk(privateJwk);
    jwksFile = path.join(dir, 'jwks.json');
    await writeFile(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
    env = { DATABASE_URL: db.url, CONVENANT_DATA_DIR: dir };
    // 600 entries: checkpoints every 100, stored subtrees of 256 and 512 leaves.
    await append(0, 600);
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs tree heads whose roots and proofs are the RFC 9162 ones over the chain links', async () => {
    const all = await leaves();
    const head = (await latestTreeHead(db.dataSource))!;
    expect(head.size).toBe('600');
    expect(head.rootHash).toBe(rootOf(all).toString('hex'));
    const nodes = await db.dataSource.query<{ level: number; n: number }[]>(
      `SELECT level, count(*)::int AS n FROM access_log_merkle_node GROUP BY level ORDER BY level`,
    );
    expect(nodes).toEqual([
      { level: 8, n: 2 },
      { level: 9, n: 1 },
    ]);
    const sizes = (await readCheckpoints(db.dataSource)).map((c) => Number(c.position));
    expect(sizes).toEqual([100, 200, 300, 400, 500, 600]);
    for (const m of sizes) {
      for (const n of sizes.filter((s) => s >= m)) {
        const proof = (await treeConsistency(db.dataSource, m, n)).map((h) => Buffer.from(h, 'hex'));
        expect(verifyConsistency(m, n, rootOf(all, 0, m), rootOf(all, 0, n), proof)).toBe(true);
      }
    }
    for (const position of [1, 256, 257, 513, 599, 600]) {
      const inclusion = await treeInclusion(db.dataSource, position, 600);
      const leaf = leafHash(Buffer.from(inclusion.entryHash, 'hex'));
      const proof = inclusion.proof.map((h) => Buffer.from(h, 'hex'));
      expect(verifyInclusion(position - 1, 600, leaf, proof, rootOf(all))).toBe(true);
    }
    await expect(treeConsistency(db.dataSource, 100, 601)).rejects.toThrow(/newest signed tree size/);
  });

  it('keeps the first checkpoint it sees, then accepts only one that extends it, cosigned', async () => {
    const first = await witness();
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/fg-rotterdam: tree of 600 entries, .*first checkpoint kept/);
    await append(600, 100);
    const second = await witness();
    expect(second.stderr).toBe('');
    expect(second.stdout).toMatch(
      /tree of 700 entries, .*extends the kept tree of 600 entries \(consistency proof checked\)/,
    );
    const kept = await new FileWitnessStore(witnessDir).all();
    expect(kept.map((r) => r.head.size)).toEqual(['600', '700']);
    expect(kept[1]!.cosignature.split('.')).toHaveLength(3);
    const verified = await run(['audit', 'verify', '--witness', witnessDir], env);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/Merkle roots recomputed and matched for 7 checkpoints/);
    expect(verified.stdout).toMatch(/Matched 2 of 2 checkpoints kept by witnesses/);
  });

  it('finds a tail rewritten and resealed with the newest checkpoints deleted, which the database alone cannot', async () => {
    const witnessed = await witnessedCheckpoints(new FileWitnessStore(witnessDir), [key.publicJwk]);
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      for (const t of ['access_log', 'access_log_seal', 'access_log_checkpoint', 'access_log_merkle_node'])
        await runner.query(`ALTER TABLE ${t} DISABLE TRIGGER ${t}_append_only`);
      // The insider changes the entry at position 650, reseals from there and drops the checkpoint after it.
      const [target] = (await runner.query(
        `SELECT seq::text AS seq FROM access_log_seal WHERE position = 650`,
      )) as { seq: string }[];
      await runner.query(`UPDATE access_log SET partner = 'politie' WHERE seq = $1`, [target!.seq]);
      const [start] = (await runner.query(
        `SELECT prev_hash AS prev FROM access_log_seal WHERE position = 650`,
      )) as { prev: Buffer }[];
      let prev = start!.prev;
      const rows = (await runner.query(
        `SELECT s.position::text AS position, ${ENTRY_SELECT} FROM access_log_seal s JOIN access_log l ON l.seq = s.seq
          WHERE s.position >= 650 ORDER BY s.position`,
      )) as (LoggedEntry & { position: string })[];
      for (const { position, ...logged } of rows) {
        const next = entryHash(prev, logged);
        await runner.query(`UPDATE access_log_seal SET entry_hash = $1, prev_hash = $2 WHERE position = $3`, [
          next,
          prev,
          position,
        ]);
        prev = next;
      }
      await runner.query(`DELETE FROM access_log_checkpoint WHERE position >= 650`);
      const input = {
        rows: readChain(runner.manager),
        checkpoints: await readCheckpoints(runner.manager),
        purged: await readPurges(runner.manager),
        publicJwk: key.publicJwk,
      };
      // The database's own checkpoints still agree with the resealed chain.
      expect(await verifyChain(input)).toMatchObject({ ok: true, entries: 700 });
      const report = await verifyChain({ ...input, rows: readChain(runner.manager), witnessed });
      expect(report.failure).toMatchObject({ problem: 'rewritten' });
      // Named as the first position the witness's tree no longer vouches for: at or before 650,
      // after the last checkpoint that still verifies (600), and the range named holds 650.
      const first = Number(report.failure!.position);
      expect(first).toBeGreaterThan(600);
      expect(first).toBeLessThanOrEqual(650);
      const [, to] = /positions \d+–(\d+)/.exec(report.failure!.detail)!;
      expect(Number(to)).toBeGreaterThanOrEqual(650);
      expect(report.failure!.detail).toMatch(
        /witness fg-rotterdam holds the gateway's checkpoint of 700 entries/,
      );
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('finds the end cut off with its checkpoints, and the witness refuses the shorter log (CLI, committed)', async () => {
    await db.dataSource.transaction(async (m) => {
      for (const t of ['access_log', 'access_log_seal', 'access_log_checkpoint', 'access_log_merkle_node'])
        await m.query(`ALTER TABLE ${t} DISABLE TRIGGER ${t}_append_only`);
      await m.query(
        `DELETE FROM access_log WHERE seq IN (SELECT seq FROM access_log_seal WHERE position > 620)`,
      );
      await m.query(`DELETE FROM access_log_seal WHERE position > 620`);
      await m.query(`DELETE FROM access_log_checkpoint WHERE position > 620`);
      for (const t of ['access_log', 'access_log_seal', 'access_log_checkpoint', 'access_log_merkle_node'])
        await m.query(`ALTER TABLE ${t} ENABLE TRIGGER ${t}_append_only`);
    });
    const alone = await run(['audit', 'verify'], env);
    expect(alone.code).toBe(0);
    const verified = await run(['audit', 'verify', '--witness', witnessDir], env);
    expect(verified.code).toBe(1);
    expect(verified.stderr).toMatch(
      /FAILED: truncated at position 621 \(seq -\): witness fg-rotterdam holds a checkpoint of 700 entries signed by the gateway; the chain ends at position 620/,
    );
    const refused = await witness();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /ALARM \(truncated\): .*tree of 600 entries, but this witness holds one of 700/,
    );
    expect((await new FileWitnessStore(witnessDir).latest())!.head.size).toBe('700');
  });
});
