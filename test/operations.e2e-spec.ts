import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { bearerFor } from './support/tokens.js';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** What an operator and a browser see of the gateway: metrics, health, headers, CORS, rate limits. */
describe('operations and hardening over HTTP', () => {
  describe('with the defaults', () => {
    let t: TestApp;
    const http = () => request(t.app.getHttpServer());

    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('exposes Prometheus metrics by route template and by partner/purpose/outcome, without ids', async () => {
      const vtrr = await bearerFor(t, { partner: 'vtrr', purpose: 'triage' });
      const created = await http()
        .post('/v1/cases')
        .set('authorization', vtrr)
        .send({ phase: 'acute', persons: [{ role: 'slachtoffer' }] })
        .expect(201);
      const caseId = (created.body as { id: string }).id;
      await http().get(`/v1/cases/${caseId}`).set('authorization', vtrr).expect(200);
      await http().get(`/v1/cases/${caseId}`).set('authorization', 'Bearer forged').expect(401);

      const res = await http().get('/metrics').expect(200);
      expect(res.headers['content-type']).toContain('text/plain');
      const text = res.text;
      expect(text).toMatch(
        /^convenant_http_requests_total\{method="GET",route="\/v1\/cases\/:id",status_class="2xx"\} 1$/m,
      );
      expect(text).toMatch(
        /^convenant_http_requests_total\{method="GET",route="\/v1\/cases\/:id",status_class="4xx"\} 1$/m,
      );
      expect(text).toMatch(
        /^convenant_decisions_total\{partner="vtrr",purpose="triage",action="read",outcome="allowed"\} [1-9]\d*$/m,
      );
      // The forged token's claimed partner is not believed: it counts as unknown.
      expect(text).toMatch(
        /^convenant_decisions_total\{partner="unknown",purpose="unknown",action="read",outcome="denied"\} 1$/m,
      );
      expect(text).toMatch(/^convenant_access_log_write_seconds_count\{result="ok"\} [1-9]\d*$/m);
      expect(text).toMatch(/^convenant_db_pool_max 20$/m);
      expect(text).toMatch(/^convenant_db_pool_connections [1-9]\d*$/m);
      expect(text).toMatch(/^convenant_database_up 1$/m);
      expect(text).toMatch(/^convenant_access_log_unsealed_entries \d+$/m);
      expect(text).toMatch(/^convenant_access_log_oldest_unsealed_seconds [\d.e-]+$/m);
      expect(text).toMatch(
        /^convenant_policy_info\{convenant="zvh-rotterdam-rijnmond",version="2026\.\d+\+[0-9a-f]{12}"\} 1$/m,
      );
      expect(text).toMatch(/^process_cpu_seconds_total /m);
      expect(text).not.toMatch(UUID);
      expect(text).not.toContain(caseId);
    });

    it('tells liveness from readiness, and keeps /health', async () => {
      const live = await http().get('/health/live').expect(200);
      expect(live.body).toMatchObject({ status: 'ok', info: { process: { status: 'up' } } });
      const ready = await http().get('/health/ready').expect(200);
      expect(ready.body.info).toMatchObject({
        lifecycle: { status: 'up', draining: false },
        database: { status: 'up' },
        migrations: { status: 'up', pending: 0 },
        convenant: { status: 'up', id: 'zvh-rotterdam-rijnmond' },
      });
      await http().get('/health').expect(200);
    });

    it('sends security headers, and no CORS headers to any origin', async () => {
      const res = await http()
        .get('/v1/oauth/whoami')
        .set('origin', 'https://evil.example')
        .set('authorization', await bearerFor(t, { partner: 'vtrr', purpose: 'triage' }))
        .expect(200);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      // Plain HTTP: no HSTS (RFC 6797 §7.2); test/tls.e2e-spec.ts sees it over TLS.
      expect(res.headers['strict-transport-security']).toBeUndefined();
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await http()
        .options('/v1/cases')
        .set('origin', 'https://evil.example')
        .set('access-control-request-method', 'GET');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('refuses a body over the limit with 413 problem+json', async () => {
      const res = await http()
        .post('/v1/cases')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ phase: 'acute', filler: 'x'.repeat(300 * 1024) }))
        .expect(413);
      expect(res.headers['content-type']).toContain('application/problem+json');
    });
  });

  describe('CORS_ORIGINS', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { CORS_ORIGINS: 'https://fg.example.nl, https://zvh.example.nl' } });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('answers a listed origin, and only that one', async () => {
      const listed = await request(t.app.getHttpServer())
        .options('/v1/cases')
        .set('origin', 'https://fg.example.nl')
        .set('access-control-request-method', 'GET')
        .set('access-control-request-headers', 'authorization');
      expect(listed.status).toBe(204);
      expect(listed.headers['access-control-allow-origin']).toBe('https://fg.example.nl');
      expect(listed.headers['access-control-allow-headers']).toContain('authorization');
      const other = await request(t.app.getHttpServer())
        .options('/v1/cases')
        .set('origin', 'https://evil.example')
        .set('access-control-request-method', 'GET');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('RATE_LIMIT_PER_MINUTE', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3', ANON_RATE_LIMIT: '1' } });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('limits each partner on its own, answers 429 problem+json, and logs the refusal', async () => {
      const http = () => request(t.app.getHttpServer());
      // Two token requests: counted by address at the token endpoint (TOKEN_RATE_LIMIT), apart.
      const vtrr = await bearerFor(t, { partner: 'vtrr', purpose: 'triage' });
      const wijkteam = await bearerFor(t, { partner: 'wijkteam', purpose: 'uitvoering-plan' });
      for (let i = 0; i < 3; i++) await http().get('/v1/oauth/whoami').set('authorization', vtrr).expect(200);
      const limited = await http().get('/v1/oauth/whoami').set('authorization', vtrr).expect(429);
      expect(limited.headers['content-type']).toContain('application/problem+json');
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
      expect(limited.body).toMatchObject({
        status: 429,
        title: 'Too many requests',
        type: expect.stringContaining('rate-limited') as string,
      });
      const [row] = await t.db.dataSource.query<{ status: string; reason: string }[]>(
        'SELECT status, reason FROM access_log WHERE trace_id = $1',
        [limited.headers['x-request-id']],
      );
      expect(row).toMatchObject({
        status: 'denied',
        reason: expect.stringContaining('Too many requests') as string,
      });
      // Another partner has its own budget; operations paths are never limited.
      await http().get('/v1/oauth/whoami').set('authorization', wijkteam).expect(200);
      for (let i = 0; i < 5; i++) await http().get('/health/live').expect(200);
      // A bearer that does not verify counts against the address (ANON_RATE_LIMIT, here 1).
      await http().get('/v1/oauth/whoami').set('authorization', 'Bearer forged').expect(401);
      await http().get('/v1/oauth/whoami').set('authorization', 'Bearer forged').expect(429);
    });
  });
});
