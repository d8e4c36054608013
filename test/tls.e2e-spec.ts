import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash, X509Certificate } from 'node:crypto';
import { decodeJwt } from 'jose';
import { CLIENT_ASSERTION_TYPE } from '../src/auth/client-assertion.js';
import { startTestApp, type TestApp } from './support/app.js';
import { clientAssertion } from './support/tokens.js';

/** Real certificates, made here with openssl: a CA, the gateway's certificate, partner clients. */
function makeCertificates(dir: string): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) =>
    run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  key('ca');
  run(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/CN=convenant test CA',
    '-days',
    '2',
    '-out',
    'ca.pem',
  );
  const signed = (name: string, subject: string, extensions: string, ca = 'ca') => {
    key(name);
    run('req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
    execFileSync('sh', ['-c', `printf '%s\\n' "${extensions}" > ${name}.ext`], { cwd: dir });
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  signed('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1');
  signed('vtrr', '/O=Veilig Thuis Rotterdam Rijnmond/CN=vtrr', 'extendedKeyUsage=clientAuth');
  signed('wijkteam', '/O=Gemeente Rotterdam/CN=wijkteam', 'extendedKeyUsage=clientAuth');
  // A client certificate from another CA: must be refused at the handshake.
  key('rogue-ca');
  run(
    'req',
    '-x509',
    '-new',
    '-key',
    'rogue-ca.key',
    '-subj',
    '/CN=rogue CA',
    '-days',
    '2',
    '-out',
    'rogue-ca.pem',
  );
  signed('rogue', '/CN=vtrr', 'extendedKeyUsage=clientAuth', 'rogue-ca');
}

describe('TLS and client certificates (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE)', () => {
  let dir: string;
  let t: TestApp;
  let port: number;
  const file = (name: string) => readFile(path.join(dir, name));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-tls-'));
    makeCertificates(dir);
    t = await startTestApp({
      env: {
        TLS_CERT_FILE: path.join(dir, 'server.pem'),
        TLS_KEY_FILE: path.join(dir, 'server.key'),
        TLS_CLIENT_CA_FILE: path.join(dir, 'ca.pem'),
      },
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function get(client?: {
    cert: string;
    key: string;
  }): Promise<{ status: number; protocol: string; hsts: string | undefined }> {
    const ca = await file('ca.pem');
    const options = client ? { cert: await file(client.cert), key: await file(client.key) } : {};
    return new Promise((resolve, reject) => {
      const req = https.get(
        { host: '127.0.0.1', port, path: '/health/live', ca, ...options, agent: false },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              protocol: (res.socket as unknown as { getProtocol(): string }).getProtocol(),
              hsts: res.headers['strict-transport-security'],
            }),
          );
        },
      );
      req.on('error', reject);
    });
  }

  it('serves HTTPS to a client with a certificate from the configured CA', async () => {
    const res = await get({ cert: 'vtrr.pem', key: 'vtrr.key' });
    expect(res.status).toBe(200);
    expect(res.protocol).toMatch(/^TLSv1\.[23]$/);
    // Over TLS (and only there) the browser is told to stay on HTTPS.
    expect(res.hsts).toMatch(/^max-age=\d+/);
  });

  it('refuses the handshake without a client certificate, or with one from another CA', async () => {
    await expect(get()).rejects.toThrow();
    await expect(get({ cert: 'rogue.pem', key: 'rogue.key' })).rejects.toThrow();
  });

  /** One HTTPS request over a fresh connection presenting `client`'s certificate. */
  async function call(
    client: string,
    options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const [ca, cert, key] = await Promise.all([file('ca.pem'), file(`${client}.pem`), file(`${client}.key`)]);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          ca,
          cert,
          key,
          agent: false,
          method: options.method ?? 'GET',
          path: options.path,
          headers: options.headers,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
          );
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });
  }

  const tokenRequest = (assertion: string) => ({
    method: 'POST',
    path: '/v1/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
      scope: 'triage',
    }).toString(),
  });

  it('binds access tokens to the partner certificate they were requested with (RFC 8705)', async () => {
    const issued = await call('vtrr', tokenRequest(await clientAssertion(t, { partner: 'vtrr' })));
    expect(issued.status).toBe(200);
    const token = issued.body.access_token as string;
    const der = new X509Certificate(await file('vtrr.pem')).raw;
    const thumbprint = createHash('sha256').update(der).digest('base64url');
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': thumbprint });

    const own = await call('vtrr', {
      path: '/v1/oauth/whoami',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(own).toMatchObject({ status: 200, body: { partner: 'vtrr', certificateThumbprint: thumbprint } });
    // The same token over another partner's (valid) certificate is refused, and logged.
    const stolen = await call('wijkteam', {
      path: '/v1/oauth/whoami',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(stolen.status).toBe(401);
    expect(stolen.body.detail).toMatch(/bound to a client certificate/);
    const [row] = await t.db.dataSource.query<{ status: string }[]>(
      'SELECT status FROM access_log WHERE trace_id = $1',
      [stolen.body.traceId],
    );
    expect(row).toEqual({ status: 'denied' });
  });

  it("refuses a partner's assertion over another partner's certificate", async () => {
    const res = await call('wijkteam', tokenRequest(await clientAssertion(t, { partner: 'vtrr' })));
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/issued to 'wijkteam', not to partner 'vtrr'/);
  });
});
