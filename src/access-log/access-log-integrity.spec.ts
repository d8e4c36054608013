import { randomBytes } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { newSigningPair } from '../keys/dev-keys.js';
import { gatewayKeyFromJwk } from '../keys/gateway-key.js';
import { AccessLogRepository } from './access-log.repository.js';
import { sealRound } from './access-log.sealer.js';
import type { AccessLogEntry } from './access-log.types.js';

const entry = (): AccessLogEntry => ({
  requestId: null,
  traceId: randomBytes(16).toString('hex'),
  partner: 'wijkteam',
  professional: 'p1',
  purpose: 'uitvoering-plan',
  legalBasis: ['avg-6-1-e'],
  action: 'read',
  caseId: null,
  dataSubjectRef: null,
  fields: ['plan.doelen'],
  status: 'allowed',
  ruleId: 'r',
  reason: 'test',
  policyVersion: 'v',
  emergency: false,
});

/** Runs `work` on one connection as `role` (tests connect as superuser, who may SET ROLE to any role). */
async function asRole<T>(
  db: TestDatabase,
  role: string,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<T> {
  const runner = db.dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SET ROLE ${role}`);
    return await work(runner);
  } finally {
    await runner.query(`RESET ROLE`);
    await runner.release();
  }
}

describe('access_log is append-only in the database (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    await new AccessLogRepository(db.dataSource).append([entry(), entry()]);
  });
  afterAll(async () => {
    await db.drop();
  });

  const count = async (): Promise<number> => {
    const [row] = await db.dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM access_log`);
    return Number(row!.n);
  };

  it('refuses UPDATE, DELETE and TRUNCATE even for a superuser', async () => {
    const [me] = await db.dataSource.query<{ su: boolean }[]>(
      `SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user`,
    );
    expect(me!.su).toBe(true);
    await expect(db.dataSource.query(`UPDATE access_log SET reason = 'rewritten'`)).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(db.dataSource.query(`DELETE FROM access_log`)).rejects.toThrow(
      /append-only: DELETE refused/,
    );
    await expect(db.dataSource.query(`TRUNCATE access_log`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect(await count()).toBe(2);
  });

  it('lets convenant_app insert and read, but not update or delete', async () => {
    await asRole(db, 'convenant_app', async (runner) => {
      const repository = new AccessLogRepository(db.dataSource);
      await repository.append([entry()], runner.manager);
      const rows = (await runner.query(`SELECT seq FROM access_log`)) as unknown[];
      expect(rows).toHaveLength(3);
      // The grant refuses before the trigger runs: the role lacks the privilege outright.
      await expect(runner.query(`UPDATE access_log SET reason = 'x'`)).rejects.toThrow(/permission denied/);
      await expect(runner.query(`DELETE FROM access_log`)).rejects.toThrow(/permission denied/);
      await expect(runner.query(`TRUNCATE access_log`)).rejects.toThrow(/permission denied/);
    });
    expect(await count()).toBe(3);
  });

  it('lets the retention role delete an expired entry, and nobody else', async () => {
    // Expired: older than the retention in force, and under a checkpoint signed before its cut-off.
    const [old] = await db.dataSource.query<{ seq: string }[]>(
      `INSERT INTO access_log (occurred_at, trace_id, action, status)
       VALUES ('2019-01-01T00:00:00Z', $1, 'read', 'allowed') RETURNING seq::text AS seq`,
      [randomBytes(16).toString('hex')],
    );
    const key = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
    await sealRound(db.dataSource, key, {
      checkpointEvery: 1,
      checkpointIntervalMs: 60_000,
      clock: () => new Date('2019-06-01T00:00:00Z'),
    });
    await db.dataSource.query(
      `INSERT INTO access_log_retention_period (policy_version, purpose, retention) VALUES ('test', NULL, 'P1Y')`,
    );
    await asRole(db, 'convenant_retention', async (runner) => {
      await expect(runner.query(`DELETE FROM access_log WHERE seq <> $1`, [old!.seq])).rejects.toThrow(
        /has not expired/,
      );
      await runner.query(`DELETE FROM access_log WHERE seq = $1`, [old!.seq]);
    });
    expect(await count()).toBe(3);
    await expect(db.dataSource.query(`DELETE FROM access_log`)).rejects.toThrow(/append-only/);
  });

  describe('monthly partitions', () => {
    const month = (offset: number) => {
      const now = new Date();
      const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
      return `access_log_${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
    };

    it('has this month, the next and a DEFAULT partition, and puts new rows in this month', async () => {
      const partitions = await db.dataSource.query<{ name: string }[]>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'access_log'::regclass ORDER BY 1`,
      );
      expect(partitions.map((p) => p.name)).toEqual(
        expect.arrayContaining([month(0), month(1), 'access_log_default']),
      );
      const [row] = await db.dataSource.query<{ partition: string }[]>(
        `SELECT tableoid::regclass::text AS partition FROM access_log ORDER BY seq DESC LIMIT 1`,
      );
      expect(row!.partition).toBe(month(0));
    });

    it('refuses UPDATE, DELETE and TRUNCATE addressed to a partition directly, DEFAULT included', async () => {
      for (const partition of [month(0), 'access_log_default']) {
        await expect(db.dataSource.query(`UPDATE ${partition} SET reason = 'x'`)).rejects.toThrow(
          /append-only/,
        );
        await expect(db.dataSource.query(`DELETE FROM ${partition}`)).rejects.toThrow(/append-only/);
        await expect(db.dataSource.query(`TRUNCATE ${partition}`)).rejects.toThrow(/append-only/);
      }
      expect(await count()).toBe(3);
    });

    it('creates months ahead idempotently, each protected against TRUNCATE', async () => {
      const [first] = await db.dataSource.query<{ created: number }[]>(
        `SELECT access_log_ensure_partitions(3) AS created`,
      );
      expect(first!.created).toBe(2);
      const [again] = await db.dataSource.query<{ created: number }[]>(
        `SELECT access_log_ensure_partitions(3) AS created`,
      );
      expect(again!.created).toBe(0);
      await expect(db.dataSource.query(`TRUNCATE ${month(3)}`)).rejects.toThrow(/append-only/);
    });

    it('takes a row of a month without partition into DEFAULT, and then leaves that month there', async () => {
      await db.dataSource.query(
        `INSERT INTO access_log (occurred_at, trace_id, action, status) VALUES ('2001-05-06T07:08:09Z', $1, 'read', 'denied')`,
        [randomBytes(16).toString('hex')],
      );
      const [row] = await db.dataSource.query<{ partition: string }[]>(
        `SELECT tableoid::regclass::text AS partition FROM access_log WHERE occurred_at < '2002-01-01'`,
      );
      expect(row!.partition).toBe('access_log_default');
      const [made] = await db.dataSource.query<{ made: boolean }[]>(
        `SELECT access_log_create_partition('2001-05-01') AS made`,
      );
      expect(made!.made).toBe(false);
    });
  });
});
