import { randomBytes } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { newSigningPair } from '../keys/dev-keys.js';
import { gatewayKeyFromJwk, type GatewayKey } from '../keys/gateway-key.js';
import { AccessLogRepository } from './access-log.repository.js';
import { sealRound } from './access-log.sealer.js';
import type { AccessLogEntry } from './access-log.types.js';
import { readChain, readCheckpoints } from './chain.repository.js';
import { verifyChain } from './verify.js';

const entry = (reason: string): AccessLogEntry => ({
  requestId: null,
  traceId: randomBytes(16).toString('hex'),
  partner: 'vtrr',
  professional: 'vtrr-pro-1',
  purpose: 'triage',
  legalBasis: ['wmo-4-1-1'],
  action: 'read',
  caseId: null,
  dataSubjectRef: 'p_subject',
  fields: ['veiligheid.risiconiveau'],
  status: 'allowed',
  ruleId: 'r',
  reason,
  policyVersion: 'v',
  emergency: false,
});

/**
 * An insider with the application's own database role, or one who edits a row before the sealer
 * gets to it: the position comes only from the database, and what the writer stored is what is
 * sealed. Real PostgreSQL, the real roles of the migrations.
 */
describe('the access log against an insider (real PostgreSQL)', () => {
  let db: TestDatabase;
  let key: GatewayKey;

  beforeAll(async () => {
    db = await createTestDatabase();
    key = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
  });
  afterAll(async () => {
    await db.drop();
  });

  /** Runs `sql` as convenant_app (SET ROLE, as a login role that is a member of it would). */
  async function asApp<T>(sql: string, params: unknown[] = []): Promise<T> {
    const runner: QueryRunner = db.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SET ROLE convenant_app`);
      return (await runner.query(sql, params)) as T;
    } finally {
      await runner.query(`RESET ROLE`);
      await runner.release();
    }
  }

  describe('as convenant_app', () => {
    it('may append an entry, the position and time coming from the database', async () => {
      const [row] = await asApp<{ seq: string }[]>(
        `INSERT INTO access_log (trace_id, action, status, request_id) VALUES ($1, 'read', 'denied', gen_random_uuid())
         RETURNING seq::text`,
        [randomBytes(16).toString('hex')],
      );
      expect(row!.seq).toMatch(/^\d+$/);
    });

    it('may not choose a seq, not even into a gap a rolled-back insert left', async () => {
      const runner = db.dataSource.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      const [gap] = (await runner.query(
        `INSERT INTO access_log (trace_id, action, status) VALUES ($1, 'read', 'denied') RETURNING seq::text AS seq`,
        [randomBytes(16).toString('hex')],
      )) as { seq: string }[];
      await runner.rollbackTransaction();
      await runner.release();
      await expect(
        asApp(
          `INSERT INTO access_log (seq, trace_id, action, status) OVERRIDING SYSTEM VALUE
           VALUES ($1, $2, 'read', 'allowed')`,
          [gap!.seq, randomBytes(16).toString('hex')],
        ),
      ).rejects.toThrow(/permission denied/);
      const [found] = await db.dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM access_log WHERE seq = $1`,
        [gap!.seq],
      );
      expect(found!.n).toBe('0');
    });

    it('may not back-date an entry', async () => {
      await expect(
        asApp(
          `INSERT INTO access_log (occurred_at, trace_id, action, status) VALUES (now() - interval '1 hour', $1, 'read', 'allowed')`,
          [randomBytes(16).toString('hex')],
        ),
      ).rejects.toThrow(/permission denied/);
    });

    it('may not change or delete an entry', async () => {
      await expect(asApp(`UPDATE access_log SET reason = 'x'`)).rejects.toThrow(
        /permission denied|append-only/,
      );
      await expect(asApp(`DELETE FROM access_log`)).rejects.toThrow(/permission denied|append-only/);
    });
  });

  it('a row altered after its write and before its seal is sealed as written, and verification names it', async () => {
    const log = new AccessLogRepository(db.dataSource);
    await log.append([entry('first'), entry('second'), entry('third')]);
    const [second] = await db.dataSource.query<{ seq: string }[]>(
      `SELECT seq::text AS seq FROM access_log WHERE reason = 'second'`,
    );
    // An attacker with the owner's rights, between the write and the sealer's next round.
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query(`ALTER TABLE access_log DISABLE TRIGGER access_log_append_only`);
      await runner.query(`UPDATE access_log SET reason = 'nothing to see' WHERE seq = $1`, [second!.seq]);
      await runner.query(`ALTER TABLE access_log ENABLE TRIGGER access_log_append_only`);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }

    const options = {
      writtenAs: (seq: string) => log.writtenAs(seq),
      checkpointEvery: 1000,
      checkpointIntervalMs: 3_600_000,
      forceCheckpoint: true,
    };
    while ((await sealRound(db.dataSource, key, options)).sealed > 0);
    const [sealed] = await db.dataSource.query<{ position: string }[]>(
      `SELECT position::text AS position FROM access_log_seal WHERE seq = $1`,
      [second!.seq],
    );
    const report = await verifyChain({
      rows: readChain(db.dataSource),
      checkpoints: await readCheckpoints(db.dataSource),
      publicJwk: key.publicJwk,
    });
    expect(report.ok).toBe(false);
    expect(report.failure).toMatchObject({
      problem: 'altered',
      position: sealed!.position,
      seq: second!.seq,
    });
  });
});
