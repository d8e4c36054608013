import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { Metrics } from '../src/ops/metrics.js';
import { AuthAudit } from '../src/auth/auth-audit.js';
import { bearerCache, bearerFor, clientAssertion, requestToken, type Who } from './support/tokens.js';

/**
 * Input hygiene over the real HTTP stack: NUL characters, invalid UTF-8, deep nesting and
 * duplicate member names are refused with 400 problem+json naming the place, before validation
 * and before any database call, and each refusal leaves exactly one denial in the access log.
 */

interface Problem {
  type: string;
  title: string;
  detail: string;
  errors: { pointer: string; detail: string }[];
}

const VTRR: Who = { partner: 'vtrr', purpose: 'triage' };
const WIJKTEAM_SIGNAL: Who = { partner: 'wijkteam', purpose: 'signalering' };

describe('input hygiene (real server)', () => {
  let t: TestApp;
  let caseId: string;
  const http = () => request(t.app.getHttpServer());
  const as = bearerCache(() => t);
  async function logOf(res: request.Response) {
    return t.db.dataSource.query<{ status: string; action: string; reason: string; fields: string[] }[]>(
      `SELECT status, action, reason, fields FROM access_log WHERE trace_id = $1 ORDER BY seq`,
      [res.headers['x-request-id']],
    );
  }
  async function count(sql: string): Promise<number> {
    const [row] = await t.db.dataSource.query<{ n: string }[]>(sql);
    return Number(row!.n);
  }
  async function expectRefused(res: request.Response, pointers: string[], kind: RegExp): Promise<void> {
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.body as Problem;
    expect(problem.type).toMatch(/unsafe-input$/);
    expect(problem.detail).toMatch(kind);
    expect(problem.errors.map((e) => e.pointer)).toEqual(pointers);
    const rows = await logOf(res);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'denied', fields: [] });
    expect(rows[0]!.reason).toContain('Unsafe input');
  }
  const raw = (method: 'put' | 'post', url: string, body: Buffer | string, bearer: string) =>
    http()[method](url).set('authorization', bearer).set('content-type', 'application/json').send(body);

  beforeAll(async () => {
    t = await startTestApp();
    const res = await http()
      .post('/v1/cases')
      .set('authorization', await as(VTRR))
      .send({ phase: 'acute', persons: [{ role: 'slachtoffer', fields: { 'betrokkenen.naam': 'Anna' } }] });
    expect(res.status).toBe(201);
    caseId = res.body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a NUL character in a field value, a person field and a signal; nothing is written', async () => {
    const before = await count('SELECT count(*) AS n FROM case_field_value');
    const bearer = await as(VTRR);
    await expectRefused(
      await raw(
        'put',
        `/v1/cases/${caseId}/fields`,
        '{"values":[{"field":"casus.vorm-geweld","value":"a\\u0000b"}]}',
        bearer,
      ),
      ['/values/0/value'],
      /NUL/,
    );
    await expectRefused(
      await raw(
        'post',
        '/v1/cases',
        '{"phase":"acute","persons":[{"role":"slachtoffer","fields":{"betrokkenen.naam\\u0000":"x"}}]}',
        bearer,
      ),
      ['/persons/0/fields/betrokkenen.naam\\u0000'],
      /NUL/,
    );
    await expectRefused(
      await raw(
        'post',
        '/v1/signals',
        '{"bsn":"123456782","contact":"tel\\u0000"}',
        await as(WIJKTEAM_SIGNAL),
      ),
      ['/contact'],
      /NUL/,
    );
    expect(await count('SELECT count(*) AS n FROM case_field_value')).toBe(before);
  });

  it('refuses invalid UTF-8 instead of storing U+FFFD', async () => {
    const body = Buffer.concat([
      Buffer.from('{"values":[{"field":"casus.vorm-geweld","value":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}]}'),
    ]);
    // supertest would serialise a Buffer as JSON: send the bytes as they are, with fetch.
    const server = t.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sent = await fetch(`http://127.0.0.1:${port}/v1/cases/${caseId}/fields`, {
      method: 'PUT',
      headers: { authorization: await as(VTRR), 'content-type': 'application/json' },
      body,
    });
    const res = {
      status: sent.status,
      headers: Object.fromEntries(sent.headers),
      body: await sent.json(),
    } as unknown as request.Response;
    await expectRefused(res, ['/values/0/value'], /UTF-8/);
  });

  it('refuses a body nested 5,000 deep with 400, not a stack overflow', async () => {
    const deep = '{"values":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
    const res = await raw('put', `/v1/cases/${caseId}/fields`, deep, await as(VTRR));
    await expectRefused(res, [`/values${'/0'.repeat(31)}`], /nested deeper than 32/);
  });

  it('refuses duplicate member names instead of letting the last one win', async () => {
    await expectRefused(
      await raw(
        'put',
        `/v1/cases/${caseId}/fields`,
        '{"values":[{"field":"casus.vorm-geweld","value":"a","value":"b"}]}',
        await as(VTRR),
      ),
      ['/values/0/value'],
      /duplicate/,
    );
  });

  it('refuses a NUL in a form body at the token endpoint and in a query string, logged as any refusal', async () => {
    const form = await http()
      .post('/v1/oauth/token')
      .set('content-type', 'application/x-www-form-urlencoded')
      .send('grant_type=client_credentials&scope=triage%00');
    await expectRefused(form, ['/scope'], /NUL/);
    expect(form.body.error).toBe('invalid_request');
    expect((await logOf(form))[0]!.action).toBe('authenticate');
    const query = await http()
      .get('/v1/cases?phase=acute%00')
      .set('authorization', await as(VTRR));
    await expectRefused(query, ['query phase'], /NUL/);
  });

  it('still reads well-formed bodies as before', async () => {
    const res = await http()
      .put(`/v1/cases/${caseId}/fields`)
      .set('authorization', await as(VTRR))
      .send({ values: [{ field: 'veiligheid.risicotaxatie', value: 'B-SAFER – “ü” hoog' }] });
    expect(res.status).toBe(200);
  });

  describe('client assertions (RFC 7523, RFC 8725)', () => {
    const audience = () => `${t.config.publicUrl}/v1/oauth/token`;

    it('refuses an assertion that expired 10 s ago with 401, and logs the denial', async () => {
      const assertion = await clientAssertion(t, { partner: 'vtrr', iatOffset: -70, lifetimeSeconds: 60 });
      const res = await requestToken(t, { assertion });
      expect(res.status).toBe(401);
      expect(res.body.detail).toMatch(/expired/);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({
          status: 'denied',
          action: 'authenticate',
          reason: expect.stringMatching(/expired/),
        }),
      ]);
    });

    it('accepts an assertion that expired 2 s ago (within the 5 s leeway)', async () => {
      const assertion = await clientAssertion(t, { partner: 'vtrr', iatOffset: -62, lifetimeSeconds: 60 });
      expect((await requestToken(t, { assertion })).status).toBe(200);
    });

    it('refuses an aud array that names another server next to the token endpoint with 401, logged', async () => {
      const assertion = await clientAssertion(t, {
        partner: 'vtrr',
        claims: { aud: [audience(), 'https://other-gateway.example/token'] },
      });
      const res = await requestToken(t, { assertion });
      expect(res.status).toBe(401);
      expect(res.body.detail).toMatch(/audience must be .* alone/);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({ status: 'denied', action: 'authenticate' }),
      ]);
      const alone = await clientAssertion(t, { partner: 'vtrr', claims: { aud: [audience()] } });
      expect((await requestToken(t, { assertion: alone })).status).toBe(200);
    });
  });

  describe('HSTS', () => {
    it('is not sent over plain HTTP, not even when an untrusted client claims X-Forwarded-Proto: https', async () => {
      const plain = await http().get('/v1/openapi.json');
      expect(plain.headers['strict-transport-security']).toBeUndefined();
      const claimed = await http().get('/v1/openapi.json').set('x-forwarded-proto', 'https');
      expect(claimed.headers['strict-transport-security']).toBeUndefined();
      expect(plain.headers['x-content-type-options']).toBe('nosniff');
    });
  });

  describe('GET /v1/audit/verify', () => {
    it('refuses an inverted range with 400 problem+json naming to, logged', async () => {
      const res = await http()
        .get('/v1/audit/verify?from=50&to=10')
        .set('authorization', await as({ partner: 'fg', purpose: 'toezicht', professional: 'fg-1' }));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((res.body as Problem).errors).toEqual([
        { pointer: '/to', detail: 'to must not be before from' },
      ]);
      expect(await logOf(res)).toEqual([expect.objectContaining({ status: 'denied' })]);
      const ok = await http()
        .get('/v1/audit/verify?from=1&to=1')
        .set('authorization', await as({ partner: 'fg', purpose: 'toezicht', professional: 'fg-1' }));
      expect(ok.status).toBe(200);
    });
  });
});

/**
 * Flood control with tight limits. TRUST_PROXY lets the test speak from several client
 * addresses (X-Forwarded-For), as a proxy in front of the gateway would report them.
 */
describe('flood control (real server)', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());
  const from = (address: string) => ({ 'x-forwarded-for': address });
  async function entries(res: request.Response) {
    return t.db.dataSource.query<{ partner: string | null; reason: string }[]>(
      'SELECT partner, reason FROM access_log WHERE trace_id = $1',
      [res.headers['x-request-id']],
    );
  }
  async function refusalCount(endpoint: string, logged: string): Promise<number> {
    const metric = await t.app
      .get(Metrics)
      .registry.getSingleMetric('convenant_anonymous_refusals_total')!
      .get();
    return (
      metric.values.find((v) => v.labels.endpoint === endpoint && v.labels.logged === logged)?.value ?? 0
    );
  }

  beforeAll(async () => {
    t = await startTestApp({
      env: { TRUST_PROXY: 'true', ANON_RATE_LIMIT: '5', TOKEN_RATE_LIMIT: '3', ANON_REFUSAL_LOG_BUDGET: '2' },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('over a trusted proxy that reports https, sends HSTS', async () => {
    const res = await http().get('/v1/openapi.json').set('x-forwarded-proto', 'https');
    expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
  });

  it('limits the token endpoint per address: the 4th request in a minute gets 429, another address is not affected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await http()
        .post('/v1/oauth/token')
        .set(from('203.0.113.1'))
        .type('form')
        .send('grant_type=client_credentials&client_assertion_type=x&client_assertion=y&scope=triage');
      statuses.push(res.status);
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
    const other = await http()
      .post('/v1/oauth/token')
      .set(from('203.0.113.2'))
      .type('form')
      .send('grant_type=client_credentials');
    expect(other.status).toBe(400);
  });

  it('limits callers without a valid token per address, logs the first refusals, counts and sums up the rest', async () => {
    const individually = await refusalCount('api', 'individually');
    const summarised = await refusalCount('api', 'summarised');
    const answers: request.Response[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(
        await http().get('/v1/cases').set(from('198.51.100.7')).set('authorization', 'Bearer forged'),
      );
    }
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 429]);
    const logged = await Promise.all(answers.map(async (r) => (await entries(r)).length));
    expect(logged).toEqual([1, 1, 0, 0, 0, 0]);
    expect((await refusalCount('api', 'individually')) - individually).toBe(2);
    expect((await refusalCount('api', 'summarised')) - summarised).toBe(4);

    // A refusal that names a case is logged in full, however spent the address's budget.
    const caseId = '00000000-0000-4000-8000-000000000001';
    const named = await http().get(`/v1/cases/${caseId}`).set(from('198.51.100.7'));
    expect(named.status).toBe(429);
    expect(await entries(named)).toHaveLength(1);

    // A valid token counts against its partner, not the address, and its refusals name the partner.
    const bearer = await bearerFor(t, { partner: 'vtrr', purpose: 'triage' });
    const partnerRefusal = await http()
      .get(`/v1/cases/${caseId}`)
      .set(from('198.51.100.7'))
      .set('authorization', bearer);
    expect(partnerRefusal.status).toBe(404);
    expect(await entries(partnerRefusal)).toEqual([expect.objectContaining({ partner: 'vtrr' })]);

    // When the minute is over, one entry sums up what was not logged one by one.
    expect(await t.app.get(AuthAudit).writeSummaries(Date.now() + 61_000)).toBeGreaterThanOrEqual(1);
    const summaries = await t.db.dataSource.query<{ reason: string }[]>(
      `SELECT reason FROM access_log WHERE reason LIKE '%further refusal(s) of API requests%'`,
    );
    expect(summaries).toEqual([{ reason: expect.stringMatching(/^4 further refusal\(s\) of API requests/) }]);
  });
});
