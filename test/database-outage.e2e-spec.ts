import { rm } from 'node:fs/promises';
import pg from 'pg';
import { CLIENT_ASSERTION_TYPE } from '../src/auth/client-assertion.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../src/db/embedded-postgres.js';
import {
  freePort,
  PUBLIC_URL,
  sharedDataDir,
  startGatewayProcess,
  waitUntilReady,
  type GatewayProcess,
} from './support/gateway-process.js';
import { clientAssertion } from './support/tokens.js';

interface Answer {
  at: number;
  status: number;
  traceId: string | null;
  contentType: string | null;
}

/**
 * The database goes away under load and comes back. The gateway must neither crash nor serve
 * anything unlogged meanwhile: it answers 503 (problem+json), readiness goes down while liveness
 * stays up, and it recovers by itself. Every 200 it gave has its access log row.
 *
 * A PostgreSQL server of this test's own (embedded, on a free port) is stopped and started; the
 * machine's shared server is never touched.
 */
describe('database outage under load', () => {
  let dataDir: string;
  let keysDir: string;
  let postgres: RunningPostgres;
  let pgPort: number;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    ({ dataDir, keysDir } = await sharedDataDir('outage-'));
    pgPort = await freePort();
    postgres = await startEmbeddedPostgres({ dataDir, port: pgPort, database: 'convenant' });
    gateway = startGatewayProcess(
      { DATABASE_URL: postgres.url, CONVENANT_DATA_DIR: dataDir, SEAL_INTERVAL_MS: '100' },
      await freePort(),
    );
    await waitUntilReady(gateway);
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await postgres?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 while the database is down, recovers without a restart, and logs every 200', async () => {
    const assertion = await clientAssertion(
      { config: { keysDir, publicUrl: PUBLIC_URL } },
      { partner: 'vtrr' },
    );
    const tokenRes = await fetch(`${gateway.url}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: assertion,
        scope: 'triage',
      }),
    });
    expect(tokenRes.status).toBe(200);
    const authorization = `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}`;
    const created = await fetch(`${gateway.url}/v1/cases`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ phase: 'acute', persons: [{ role: 'slachtoffer' }] }),
    });
    expect(created.status).toBe(201);
    const caseId = ((await created.json()) as { id: string }).id;

    // Bounded load: 6 workers, at most 6,000 requests, until told to stop (a few seconds).
    const answers: Answer[] = [];
    let running = true;
    const worker = async () => {
      while (running && answers.length < 6000) {
        const at = Date.now();
        try {
          const res = await fetch(`${gateway.url}/v1/cases/${caseId}`, { headers: { authorization } });
          await res.arrayBuffer();
          answers.push({
            at,
            status: res.status,
            traceId: res.headers.get('x-request-id'),
            contentType: res.headers.get('content-type'),
          });
        } catch {
          answers.push({ at, status: 0, traceId: null, contentType: null });
        }
      }
    };
    const load = Promise.all(Array.from({ length: 6 }, worker));
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    await sleep(1000);
    const stoppedAt = Date.now();
    await postgres.stop();
    await sleep(2500);
    const ready = await fetch(`${gateway.url}/health/ready`);
    const live = await fetch(`${gateway.url}/health/live`);
    const metricsWhileDown = await (await fetch(`${gateway.url}/metrics`)).text();
    const restartedAt = Date.now();
    postgres = await startEmbeddedPostgres({ dataDir, port: pgPort, database: 'convenant' });

    // Recovery is the gateway's own doing: wait (bounded) for 200s to come back, then a bit more.
    const recoveryDeadline = Date.now() + 20_000;
    while (Date.now() < recoveryDeadline && !answers.some((a) => a.at > restartedAt && a.status === 200)) {
      await sleep(100);
    }
    await sleep(1000);
    running = false;
    await load;

    expect(gateway.child.exitCode).toBeNull();
    expect(ready.status).toBe(503);
    expect(live.status).toBe(200);
    expect(metricsWhileDown).toMatch(/^convenant_database_up 0$/m);

    const before = answers.filter((a) => a.at < stoppedAt - 200);
    const down = answers.filter((a) => a.at > stoppedAt + 500 && a.at < restartedAt);
    const after = answers.filter((a) => a.at > restartedAt && a.status === 200);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((a) => a.status === 200)).toBe(true);
    expect(down.length).toBeGreaterThan(0);
    expect(down.every((a) => a.status === 503)).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    // Nothing but 200 and 503 at any time: no crash, no 500, no dropped connection.
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    for (const a of answers.filter((x) => x.status === 503)) {
      expect(a.contentType).toContain('application/problem+json');
    }
    expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200);
    // The refusal is in the gateway's own log under the trace id the client got (OTLP field name).
    const lastRefused = answers.filter((a) => a.status === 503).at(-1)!;
    expect(gateway.output()).toContain(`"traceId":"${lastRefused.traceId}"`);

    const ok = answers.filter((a) => a.status === 200).map((a) => a.traceId!);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ trace_id: string }>(
        `SELECT DISTINCT trace_id FROM access_log WHERE trace_id = ANY($1) AND status = 'allowed'`,
        [ok],
      );
      expect(new Set(rows.map((r) => r.trace_id))).toEqual(new Set(ok));
    } finally {
      await client.end();
    }
  }, 90_000);
});
