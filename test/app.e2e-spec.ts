import { API_VERSION } from '../src/openapi.js';
import { readFile, writeFile } from 'node:fs/promises';
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';

describe('gateway over HTTP', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('GET /health reports the database, the convenant version in force and uptime', async () => {
    const res = await request(t.app.getHttpServer()).get('/health').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info.database.status).toBe('up');
    expect(res.body.info.convenant).toEqual({
      status: 'up',
      id: 'zvh-rotterdam-rijnmond',
      version: expect.stringMatching(/^2026\.\d+\+[0-9a-f]{12}$/),
    });
    expect(res.body.info.process.uptimeSeconds).toEqual(expect.any(Number));
  });

  it('records the enforced convenant version with its source text', async () => {
    const health = await request(t.app.getHttpServer()).get('/health').expect(200);
    const rows = await t.db.dataSource.query<{ version: string; sources: Record<string, string> }[]>(
      'SELECT version, sources FROM policy_version',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.version).toBe(health.body.info.convenant.version);
    expect(Object.keys(rows[0]!.sources).length).toBeGreaterThan(0);
    for (const text of Object.values(rows[0]!.sources)) expect(text).toContain('yaml-language-server');
  });

  it('serves the OpenAPI 3.1 document, identical to the committed openapi.json', async () => {
    const res = await request(t.app.getHttpServer()).get('/v1/openapi.json').expect(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.paths['/health']).toBeDefined();
    // NL API Design Rules /core/version-header: the full version in a header, the same as info.version.
    expect(res.headers['api-version']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(res.body.info.version).toBe(res.headers['api-version']);
    const generated = `${JSON.stringify(res.body, null, 2)}\n`;
    if (process.env.UPDATE_OPENAPI === '1') await writeFile('openapi.json', generated);
    // A changed API must be committed with its document: run `npm run openapi` and review the diff.
    expect(await readFile('openapi.json', 'utf8')).toBe(generated);
  });

  it('answers unknown routes with problem+json carrying the trace id', async () => {
    const res = await request(t.app.getHttpServer()).get('/v1/does-not-exist?bsn=123456782').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['api-version']).toBe(API_VERSION);
    expect(res.body).toMatchObject({ status: 404, title: 'Not found', instance: '/v1/does-not-exist' });
    expect(res.body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers['x-request-id']).toBe(res.body.traceId);
    expect(JSON.stringify(res.body)).not.toContain('123456782');
  });

  it('carries an incoming W3C traceparent through as the trace id', async () => {
    const res = await request(t.app.getHttpServer())
      .get('/health')
      .set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
      .expect(200);
    expect(res.headers['x-request-id']).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    // Returned as a traceparent of the same trace, with the gateway's own span id.
    expect(res.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(res.headers.traceparent).not.toContain('00f067aa0ba902b7');
  });
});
