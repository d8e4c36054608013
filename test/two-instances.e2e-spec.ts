import { readFile, rm } from 'node:fs/promises';
import type { JWK } from 'jose';
import { readChain, readCheckpoints } from '../src/access-log/chain.repository.js';
import { verifyChain } from '../src/access-log/verify.js';
import { CLIENT_ASSERTION_TYPE } from '../src/auth/client-assertion.js';
import { gatewayKeyFile, gatewayKeyFromJwk } from '../src/keys/gateway-key.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import {
  freePort,
  PUBLIC_URL,
  sharedDataDir,
  startGatewayProcess,
  waitUntilReady,
  type GatewayProcess,
} from './support/gateway-process.js';
import { clientAssertion } from './support/tokens.js';

/**
 * Two gateway processes on one database behind (what would be) a load balancer: nothing they
 * share lives in their memory. Replay protection, the access log's hash chain and the convenant
 * version are one across both, whichever instance a request reaches.
 */
describe('two gateway instances on one PostgreSQL', () => {
  let db: TestDatabase;
  let dataDir: string;
  let keysDir: string;
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    ({ dataDir, keysDir } = await sharedDataDir('two-instances-'));
    const env = { DATABASE_URL: db.url, CONVENANT_DATA_DIR: dataDir, SEAL_INTERVAL_MS: '50' };
    // Started together on an empty database: they take turns migrating (advisory lock).
    a = startGatewayProcess(env, await freePort());
    b = startGatewayProcess(env, await freePort());
    await Promise.all([waitUntilReady(a), waitUntilReady(b)]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const keys = () => ({ config: { keysDir, publicUrl: PUBLIC_URL } });

  async function token(gateway: GatewayProcess, assertion: string, purpose: string): Promise<Response> {
    return fetch(`${gateway.url}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: assertion,
        scope: purpose,
      }),
    });
  }

  async function bearer(gateway: GatewayProcess, partner: string, purpose: string): Promise<string> {
    const res = await token(gateway, await clientAssertion(keys(), { partner }), purpose);
    expect(res.status).toBe(200);
    return `Bearer ${((await res.json()) as { access_token: string }).access_token}`;
  }

  it('refuses on one instance a client assertion already used on the other', async () => {
    const assertion = await clientAssertion(keys(), { partner: 'vtrr' });
    expect((await token(a, assertion, 'triage')).status).toBe(200);
    const replay = await token(b, assertion, 'triage');
    expect(replay.status).toBe(401);
    expect(replay.headers.get('content-type')).toContain('application/problem+json');
    expect(((await replay.json()) as { detail: string }).detail).toMatch(/used before/);
  });

  it('enforces the same convenant version on both', async () => {
    const versions = await Promise.all(
      [a, b].map(async (g) => {
        const health = (await (await fetch(`${g.url}/health`)).json()) as {
          info: { convenant: { version: string } };
        };
        return health.info.convenant.version;
      }),
    );
    expect(versions[0]).toMatch(/^2026\.\d+\+[0-9a-f]{12}$/);
    expect(versions[1]).toBe(versions[0]);
    const rows = await db.dataSource.query<{ version: string }[]>('SELECT version FROM policy_version');
    expect(rows).toEqual([{ version: versions[0] }]);
  });

  it('serves traffic through both into one unbroken, sealed log chain', async () => {
    // A token issued by one instance is honoured by the other (one signing key, shared).
    const vtrr = await bearer(a, 'vtrr', 'triage');
    const created = await fetch(`${b.url}/v1/cases`, {
      method: 'POST',
      headers: { authorization: vtrr, 'content-type': 'application/json' },
      body: JSON.stringify({ phase: 'acute', persons: [{ role: 'slachtoffer' }, { role: 'kind' }] }),
    });
    expect(created.status).toBe(201);
    const caseId = ((await created.json()) as { id: string }).id;

    const traceIds: string[] = [];
    const answers = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const res = await fetch(`${(i % 2 === 0 ? a : b).url}/v1/cases/${caseId}`, {
          headers: { authorization: vtrr },
        });
        traceIds.push(res.headers.get('x-request-id')!);
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(answers.every((status) => status === 200)).toBe(true);
    const [logged] = await db.dataSource.query<{ traces: number }[]>(
      `SELECT count(DISTINCT trace_id)::int AS traces FROM access_log WHERE trace_id = ANY($1)`,
      [traceIds],
    );
    expect(logged!.traces).toBe(60);

    // Stopping both seals everything and writes a final checkpoint; the chain verifies whole.
    expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0]);
    const key = await gatewayKeyFromJwk(JSON.parse(await readFile(gatewayKeyFile(keysDir), 'utf8')) as JWK);
    const report = await verifyChain({
      rows: readChain(db.dataSource),
      checkpoints: await readCheckpoints(db.dataSource),
      publicJwk: key.publicJwk,
    });
    const [counts] = await db.dataSource.query<{ logged: number; sealed: number; checkpointed: number }[]>(`
      SELECT (SELECT count(*) FROM access_log)::int AS logged,
             (SELECT count(*) FROM access_log_seal)::int AS sealed,
             (SELECT coalesce(max(position), 0)::int FROM access_log_checkpoint) AS checkpointed`);
    expect(report).toMatchObject({ ok: true, pending: 0, failure: null });
    expect(counts!.logged).toBeGreaterThan(60);
    expect(counts).toEqual({ logged: counts!.logged, sealed: counts!.logged, checkpointed: counts!.logged });
    expect(report.entries).toBe(counts!.logged);
  }, 60_000);
});
