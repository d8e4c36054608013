import Fastify, { type FastifyInstance } from 'fastify';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OFFICER_PAGE_CSP, registerOfficerPage } from './officer-page.js';

interface Answer {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP request with the path sent as written (no URL normalisation, unlike fetch). */
async function get(
  app: FastifyInstance,
  rawPath: string,
  headers: http.OutgoingHttpHeaders = {},
): Promise<Answer> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: rawPath, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

describe('registerOfficerPage (real HTTP on loopback)', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-web-'));
    await mkdir(path.join(dir, 'assets'));
    await writeFile(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    await writeFile(path.join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    await writeFile(path.join(dir, 'secret.txt'), 'not a page file');
    app = Fastify();
    registerOfficerPage(app, dir);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves hashed assets for good and the page for every other /fg/ path, with the CSP', async () => {
    const asset = await get(app, '/fg/assets/index-abc.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const page = await get(app, '/fg/doorbraken?x=1');
    expect(page.body).toBe('<!doctype html><div id="root"></div>');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toBe(OFFICER_PAGE_CSP);
    const again = await get(app, '/fg/', { 'if-none-match': String(page.headers.etag) });
    expect(again.statusCode).toBe(304);
  });

  it('never reaches past the built files: unknown assets are 404, other files and paths get the page', async () => {
    expect((await get(app, '/fg/assets/gone.js')).statusCode).toBe(404);
    for (const url of ['/fg/secret.txt', '/fg/../package.json', '/fg/%2e%2e/%2e%2e/etc/passwd']) {
      const res = await get(app, url);
      expect(res.body).not.toContain('not a page file');
      expect(res.body).not.toContain('root:');
    }
  });

  it('says how to build the page when it is not built', async () => {
    const bare = Fastify();
    registerOfficerPage(bare, path.join(dir, 'missing'));
    const res = await get(bare, '/fg/');
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    await bare.close();
  });
});
