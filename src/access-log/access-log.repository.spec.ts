import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { AccessLogRepository } from './access-log.repository.js';
import type { AccessLogEntry } from './access-log.types.js';

const entry = (traceId = randomBytes(16).toString('hex')): AccessLogEntry => ({
  requestId: null,
  traceId,
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

const BAD_TRACE = 'f'.repeat(32);

describe('AccessLogRepository group commit (real PostgreSQL)', () => {
  let db: TestDatabase;
  let log: AccessLogRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    log = new AccessLogRepository(db.dataSource);
    // Refuses one marked trace id, so a batch can be made to fail for one request only.
    await db.dataSource.query(`
      CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.trace_id = '${BAD_TRACE}' OR current_setting('test.refuse_all', true) = 'on' THEN
          RAISE EXCEPTION 'refused by test';
        END IF;
        RETURN NEW;
      END $$`);
    await db.dataSource.query(
      `CREATE TRIGGER refuse_marked BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION refuse_marked()`,
    );
  });
  afterEach(async () => {
    await db.dataSource.query(`ALTER DATABASE ${db.name} RESET test.refuse_all`);
    // The log is append-only (migration AccessLogIntegrity); only a test may switch that off to reset.
    await db.dataSource.query(`ALTER TABLE access_log DISABLE TRIGGER access_log_append_only`);
    await db.dataSource.query(`DELETE FROM access_log`);
    await db.dataSource.query(`ALTER TABLE access_log ENABLE TRIGGER access_log_append_only`);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('stores every entry of concurrent requests, in fewer statements than requests', async () => {
    const requests = Array.from({ length: 100 }, () => [entry(), entry(), entry()]);
    await Promise.all(requests.map((entries) => log.append(entries)));
    const [stored] = await db.dataSource.query<{ rows: string; statements: string }[]>(
      // Rows written by one autocommit INSERT share its transaction id.
      `SELECT count(*) AS rows, count(DISTINCT xmin::text) AS statements FROM access_log`,
    );
    expect(Number(stored!.rows)).toBe(300);
    expect(Number(stored!.statements)).toBeLessThan(100);
  });

  it('resolves a caller only after its rows are committed', async () => {
    const traceId = randomBytes(16).toString('hex');
    await log.append([entry(traceId)]);
    const rows = await db.dataSource.query(`SELECT 1 FROM access_log WHERE trace_id = $1`, [traceId]);
    expect(rows).toHaveLength(1);
  });

  it('refuses only the request whose entry fails, not the rest of its batch', async () => {
    const good = Array.from({ length: 20 }, () => [entry()]);
    const outcomes = await Promise.allSettled([
      ...good.map((entries) => log.append(entries)),
      log.append([entry(), entry(BAD_TRACE)]),
      ...good.map(() => log.append([entry()])),
    ]);
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(rejected).toHaveLength(1);
    const [count] = await db.dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM access_log`);
    // The failing request's good entry is not stored either: its entries stand or fall together.
    expect(Number(count!.n)).toBe(40);
  });

  it('fails closed: when the log cannot be written, every caller is refused', async () => {
    await db.dataSource.query(`ALTER DATABASE ${db.name} SET test.refuse_all = 'on'`);
    // New sessions see the setting; drop the pool's existing ones.
    await db.dataSource.destroy();
    await db.dataSource.initialize();
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => log.append([entry()])));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    await db.dataSource.query(`ALTER DATABASE ${db.name} RESET test.refuse_all`);
    await db.dataSource.destroy();
    await db.dataSource.initialize();
    const [count] = await db.dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM access_log`);
    expect(Number(count!.n)).toBe(0);
  });
});
