import { rm } from 'node:fs/promises';
import { CLIENT_ASSERTION_TYPE } from '../src/auth/client-assertion.js';
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
 * The gateway's own log holds no personal data: the gateway runs as operators run it, logging at
 * trace level; markers are planted in every kind of input (body values and member names, headers,
 * query strings, paths, tokens and assertions, a BSN, a professional id), database errors are
 * forced on the statements that carry them, and the whole output is searched for every marker.
 */

/** A valid BSN (11-test) that appears nowhere else. */
const BSN = '111222333';
const M = {
  body: 'mrkBodyValue7Q',
  name: 'mrkNameAnna9Z',
  key: 'mrkMemberName4K',
  header: 'mrkHeader5W',
  cookie: 'mrkCookie2J',
  agent: 'mrkAgent6T',
  query: 'mrkQuery8P',
  path: 'mrkPath3X',
  dbValue: 'mrkDbFailure1V',
  professional: 'mrkProf-77',
  reason: 'mrkReason Na het gesprek met mevrouw is de situatie veranderd.',
};

describe("the gateway's own log carries no personal data (markers in every input, forced database errors)", () => {
  let db: TestDatabase;
  let dataDir: string;
  let keysDir: string;
  let gateway: GatewayProcess;
  let log = '';
  const secrets: string[] = [];

  const call = (path: string, init: RequestInit & { bearer?: string } = {}) =>
    fetch(`${gateway.url}${path}`, {
      ...init,
      headers: {
        'user-agent': M.agent,
        cookie: `session=${M.cookie}`,
        'x-marker': M.header,
        ...(init.bearer ? { authorization: `Bearer ${init.bearer}` } : {}),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });

  async function token(partner: string, purpose: string, professional: string): Promise<string> {
    const assertion = await clientAssertion(
      { config: { keysDir, publicUrl: PUBLIC_URL } },
      { partner, professional },
    );
    secrets.push(assertion);
    const res = await fetch(`${gateway.url}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: assertion,
        scope: purpose,
      }),
    });
    expect(res.status).toBe(200);
    const access = ((await res.json()) as { access_token: string }).access_token;
    secrets.push(access);
    return access;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    ({ dataDir, keysDir } = await sharedDataDir('log-hygiene-'));
    gateway = startGatewayProcess(
      { DATABASE_URL: db.url, CONVENANT_DATA_DIR: dataDir, LOG_LEVEL: 'trace', DEMO: 'false' },
      await freePort(),
    );
    gateway.child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    gateway.child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    await waitUntilReady(gateway);
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('plants markers everywhere, forces database errors, and finds none of them in the log', async () => {
    const vtrr = await token('vtrr', 'triage', M.professional);

    // Body values, names, a BSN and a member name, on the way in.
    const created = await call('/v1/cases', {
      method: 'POST',
      bearer: vtrr,
      body: JSON.stringify({
        phase: 'acute',
        persons: [{ role: 'slachtoffer', bsn: BSN, fields: { 'betrokkenen.naam': M.name } }],
        fields: { 'veiligheid.risicotaxatie': M.body },
      }),
    });
    expect(created.status).toBe(201);
    const caseId = ((await created.json()) as { id: string }).id;
    expect((await call(`/v1/cases/${caseId}`, { bearer: vtrr })).status).toBe(200);
    const unknownMember = await call(`/v1/cases/${caseId}/fields`, {
      method: 'PUT',
      bearer: vtrr,
      body: JSON.stringify({ values: [{ field: 'plan.doelen', value: M.body, [M.key]: 1 }] }),
    });
    expect(unknownMember.status).toBe(400);

    // Query strings, paths and headers, on routes that exist and routes that do not.
    expect((await call(`/v1/cases?phase=${M.query}`, { bearer: vtrr })).status).toBe(400);
    expect((await call(`/v1/cases/${M.path}`, { bearer: vtrr })).status).toBe(400);
    expect((await call(`/v1/${M.path}?q=${M.query}`)).status).toBe(404);
    expect((await call(`/v1/cases?access_token=${vtrr}`)).status).toBe(400);
    expect((await call('/v1/cases', { bearer: `${vtrr.slice(0, -4)}AAAA` })).status).toBe(401);

    // A database error on a statement carrying a field value: the row's values are in the error.
    await db.dataSource.query(
      `ALTER TABLE case_field_value ADD CONSTRAINT marker_guard CHECK (value::text NOT LIKE '%mrkDb%')`,
    );
    const failedWrite = await call(`/v1/cases/${caseId}/fields`, {
      method: 'PUT',
      bearer: vtrr,
      body: JSON.stringify({
        values: [{ field: 'veiligheid.risicotaxatie', value: M.dbValue, reason: M.reason }],
      }),
    });
    expect(failedWrite.status).toBe(500);

    // A failed access log write: its parameters hold the professional id and the subject refs.
    const second = await call('/v1/cases', {
      method: 'POST',
      bearer: vtrr,
      body: JSON.stringify({
        phase: 'acute',
        persons: [{ role: 'kind', fields: { 'betrokkenen.naam': M.name } }],
      }),
    });
    const secondId = ((await second.json()) as { id: string }).id;
    await db.dataSource.query(
      `ALTER TABLE access_log ADD CONSTRAINT marker_guard CHECK (NOT (action = 'read' AND case_id = '${secondId}'))`,
    );
    const failedLog = await call(`/v1/cases/${secondId}`, { bearer: vtrr });
    expect(failedLog.status).toBe(503);
    await db.dataSource.query(`ALTER TABLE access_log DROP CONSTRAINT marker_guard`);
    await db.dataSource.query(`ALTER TABLE case_field_value DROP CONSTRAINT marker_guard`);

    // Let the last lines reach the pipe, then stop the process so its shutdown lines are in too.
    await new Promise((r) => setTimeout(r, 300));
    expect(await gateway.stop()).toBe(0);

    // The log did record these requests (so the search below could have found something).
    expect(log).toMatch(/"route":"\/v1\/cases\/:id"/);
    expect(log).toMatch(/Statement failed \(SQLSTATE 23514\)/);
    expect(log).toMatch(/"code":"23514"/);
    const found = [...Object.values(M), BSN, ...secrets].filter((marker) => log.includes(marker));
    expect(found).toEqual([]);
    // Nor a piece of a token long enough to replay or correlate.
    for (const secret of secrets) {
      for (const part of secret.split('.').filter((p) => p.length >= 16)) expect(log).not.toContain(part);
    }
  }, 60_000);
});
