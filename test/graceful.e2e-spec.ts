import { rm } from 'node:fs/promises';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import {
  freePort,
  sharedDataDir,
  startGatewayProcess,
  waitUntilReady,
  type GatewayProcess,
} from './support/gateway-process.js';

/**
 * Start-up and shutdown as an operator sees them: a stale schema is refused under
 * MIGRATIONS=check; SIGTERM takes readiness down first, lets requests finish, and leaves the
 * access log sealed and checkpointed before the process exits 0.
 */
describe('gateway process start-up and graceful shutdown', () => {
  let db: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    ({ dataDir } = await sharedDataDir('graceful-'));
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses to serve while migrations are pending (MIGRATIONS=check), naming them and the command', async () => {
    const gateway = startGatewayProcess(
      { DATABASE_URL: db.url, CONVENANT_DATA_DIR: dataDir, MIGRATIONS: 'check' },
      await freePort(),
    );
    expect(await gateway.exited).toBe(1);
    expect(gateway.output()).toContain(
      'migration(s) pending (PolicyVersions1763900000000, AccessLog1763900001000',
    );
    expect(gateway.output()).toContain('convenant db migrate');
    const [row] = await db.dataSource.query<{ present: boolean }[]>(
      `SELECT to_regclass('access_log') IS NOT NULL AS present`,
    );
    expect(row!.present).toBe(false);
  }, 60_000);

  it('on SIGTERM: readiness down, in-flight requests finish, the log is sealed, exit 0', async () => {
    const metricsPort = await freePort();
    let gateway: GatewayProcess | undefined = startGatewayProcess(
      {
        DATABASE_URL: db.url,
        CONVENANT_DATA_DIR: dataDir,
        // No timed sealing during the test: whatever is sealed at the end, the shutdown sealed.
        SEAL_INTERVAL_MS: '3600000',
        CHECKPOINT_EVERY: '1000000',
        CHECKPOINT_INTERVAL_MS: '3600000',
        SHUTDOWN_DELAY_MS: '1000',
        METRICS_PORT: String(metricsPort),
        // Every refused request must leave its own row here, so flood control stays out of the way.
        ANON_RATE_LIMIT: '1000000',
        ANON_REFUSAL_LOG_BUDGET: '1000000',
      },
      await freePort(),
    );
    try {
      await waitUntilReady(gateway);
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('convenant_db_pool_connections');
      // With METRICS_PORT the API port does not serve them.
      expect((await fetch(`${gateway.url}/metrics`)).status).toBe(404);

      // Requests that leave access log rows (refused tokens: one denial each), sent until the
      // server stops accepting: each answered one must have its row, sealed.
      const answers: { status: number; traceId: string | null }[] = [];
      let refused = 0;
      const target = gateway;
      const worker = async () => {
        for (let i = 0; i < 2000; i++) {
          try {
            const res = await fetch(`${target.url}/v1/oauth/whoami`, {
              headers: { authorization: 'Bearer not-a-token' },
            });
            await res.arrayBuffer();
            answers.push({ status: res.status, traceId: res.headers.get('x-request-id') });
          } catch {
            refused++;
            return;
          }
        }
      };
      const load = Promise.all(Array.from({ length: 4 }, worker));
      await new Promise((r) => setTimeout(r, 500));
      gateway.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      const ready = await fetch(`${gateway.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(JSON.stringify(await ready.json())).toContain('"draining":true');
      expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);

      expect(await gateway.exited).toBe(0);
      gateway = undefined;
      await load;
      expect(refused).toBe(4);
      const answered = answers.filter((a) => a.status === 401).map((a) => a.traceId!);
      expect(answered.length).toBeGreaterThan(20);
      // Fastify answers 503 to a request that arrives on an open connection while closing.
      expect(answers.filter((a) => a.status !== 401 && a.status !== 503)).toEqual([]);

      const [counts] = await db.dataSource.query<
        { answered: number; unsealed: number; logged: number; checkpointed: number }[]
      >(
        `SELECT (SELECT count(DISTINCT trace_id) FROM access_log WHERE trace_id = ANY($1))::int AS answered,
                (SELECT count(*) FROM access_log l
                  WHERE NOT EXISTS (SELECT 1 FROM access_log_seal s WHERE s.seq = l.seq))::int AS unsealed,
                (SELECT count(*) FROM access_log)::int AS logged,
                (SELECT coalesce(max(position), 0) FROM access_log_checkpoint)::int AS checkpointed`,
        [answered],
      );
      expect(counts).toEqual({
        answered: answered.length,
        unsealed: 0,
        logged: counts!.logged,
        checkpointed: counts!.logged,
      });
    } finally {
      await gateway?.stop();
    }
  }, 90_000);
});
