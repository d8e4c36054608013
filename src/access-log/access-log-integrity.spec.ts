import { randomBytes } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { AccessLogRepository } from './access-log.repository.js';
import type { AccessLogEntry } from './access-log.types.js';

const entry = (): AccessLogEntry => ({
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

  it('lets the retention role delete, and nobody else', async () => {
    await asRole(db, 'convenant_retention', async (runner) => {
      await runner.query(`DELETE FROM access_log WHERE seq = (SELECT min(seq) FROM access_log)`);
    });
    expect(await count()).toBe(2);
    await expect(db.dataSource.query(`DELETE FROM access_log`)).rejects.toThrow(/append-only/);
  });
});
