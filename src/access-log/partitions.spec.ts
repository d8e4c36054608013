import { randomBytes } from 'node:crypto';
import { MIGRATIONS } from '../../migrations/index.js';
import { AccessLogPartitions1763900007000 } from '../../migrations/1763900007000-access-log-partitions.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { newSigningPair } from '../keys/dev-keys.js';
import { gatewayKeyFromJwk } from '../keys/gateway-key.js';
import { sealRound } from './access-log.sealer.js';
import { readChain, readCheckpoints } from './chain.repository.js';
import { verifyChain } from './verify.js';

/**
 * The partitioning migration on a log that already holds rows: they move with their seq into
 * their months, the chain sealed before still verifies, and the identity carries on after them.
 */
describe('AccessLogPartitions migration moves existing rows (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('keeps every row, seq and seal, and new rows continue the sequence', async () => {
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    const at = MIGRATIONS.indexOf(AccessLogPartitions1763900007000);
    try {
      for (const Migration of MIGRATIONS.slice(0, at)) await new Migration().up(runner);
      for (const when of ['2025-01-15T10:00:00Z', '2025-03-02T23:59:59.123456Z', null]) {
        await runner.query(
          `INSERT INTO access_log (occurred_at, trace_id, partner, action, status, reason)
           VALUES (coalesce($1::timestamptz, clock_timestamp()), $2, 'vtrr', 'read', 'allowed', 'before partitioning')`,
          [when, randomBytes(16).toString('hex')],
        );
      }
      // A gap in the sequence (a rolled-back insert) must survive too.
      await runner.query(`SELECT nextval('access_log_seq_seq')`);
      const key = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
      // Sealed before partitioning; the checkpoint after, once the Merkle tree's table exists.
      // Today's sealer reads request_id (a later migration): lent for the round, null in every
      // row, so the rows hash as version 1 entries, as they did when this migration was new. It
      // also records each seal's format (a later migration still): lent the same way.
      await runner.query(`ALTER TABLE access_log ADD COLUMN request_id uuid`);
      await runner.query(`ALTER TABLE access_log_seal ADD COLUMN format smallint`);
      await sealRound(db.dataSource, key, { checkpointEvery: 1000, checkpointIntervalMs: 3_600_000 });
      await runner.query(`ALTER TABLE access_log DROP COLUMN request_id`);
      await runner.query(`ALTER TABLE access_log_seal DROP COLUMN format`);
      const before = await runner.query(
        `SELECT seq::text, occurred_at::text, reason FROM access_log ORDER BY seq`,
      );

      for (const Migration of MIGRATIONS.slice(at)) await new Migration().up(runner);
      await sealRound(db.dataSource, key, {
        checkpointEvery: 1,
        checkpointIntervalMs: 60_000,
        forceCheckpoint: true,
      });

      const after = (await runner.query(
        `SELECT seq::text, occurred_at::text, reason, tableoid::regclass::text AS partition FROM access_log ORDER BY seq`,
      )) as { seq: string; partition: string }[];
      expect(after.map(({ partition: _p, ...row }) => row)).toEqual(before);
      expect(after.map((r) => r.partition).slice(0, 2)).toEqual(['access_log_2025_01', 'access_log_2025_03']);
      expect(after.map((r) => r.partition)).not.toContain('access_log_default');
      const report = await verifyChain({
        rows: readChain(db.dataSource),
        checkpoints: await readCheckpoints(db.dataSource),
        publicJwk: key.publicJwk,
      });
      expect(report).toMatchObject({ ok: true, entries: 3, checkpoints: 1 });
      const [next] = (await runner.query(
        `INSERT INTO access_log (trace_id, action, status) VALUES ($1, 'read', 'denied') RETURNING seq::text`,
        [randomBytes(16).toString('hex')],
      )) as { seq: string }[];
      expect(next!.seq).toBe('5');
    } finally {
      await runner.release();
    }
  });
});
