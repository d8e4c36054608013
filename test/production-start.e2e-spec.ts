import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLIENT_ASSERTION_TYPE } from '../src/auth/client-assertion.js';
import { newSigningPair } from '../src/keys/dev-keys.js';
import { gatewayKeyFile, gatewayKeyFromJwk } from '../src/keys/gateway-key.js';
import { run } from '../src/cli/program.js';
import { freePort } from '../src/common/free-port.js';
import { REAL_CONVENANT } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import {
  PUBLIC_URL,
  startGatewayProcess,
  waitUntilReady,
  type GatewayProcess,
} from './support/gateway-process.js';

/**
 * The first start in production, as docs/operations.md describes it: NODE_ENV=production, the
 * gateway's signing key provisioned as a file, partners' public keys registered in the convenant
 * folder (each made by the partner with `convenant partner-key new`), no demo anything. The first
 * privacy officer then gets a token with the officer's own key and verifies the log.
 */
describe('production: first start with mounted keys', () => {
  let root: string;
  let db: TestDatabase;
  let gateway: GatewayProcess;
  let policyDir: string;
  let dataDir: string;
  let provisionedKid: string;
  const partnerSide: Record<string, string> = {};

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'convenant-production-'));
    // The folder must carry the convenant's id as its name.
    policyDir = path.join(root, 'zvh-rotterdam-rijnmond');
    dataDir = path.join(root, 'data');
    await cp(REAL_CONVENANT, policyDir, { recursive: true });
    // Onboarding: the privacy officers' organisation (fg) and one partner make their own pairs and
    // hand over only the public JWKS, which is registered in the convenant folder.
    for (const partner of ['fg', 'vtrr']) {
      partnerSide[partner] = path.join(root, `at-${partner}`);
      const made = await run(['partner-key', 'new', partner, '--out', partnerSide[partner]], {});
      expect(made.code).toBe(0);
      await mkdir(path.join(policyDir, 'keys'), { recursive: true });
      await cp(
        path.join(partnerSide[partner], `${partner}.jwks.json`),
        path.join(policyDir, 'keys', `${partner}.jwks.json`),
      );
    }
    // The gateway's signing key, provisioned as a file (a secret or a volume in the compose file).
    const { privateJwk } = await newSigningPair();
    provisionedKid = (await gatewayKeyFromJwk(privateJwk)).kid;
    await mkdir(path.join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
    await writeFile(gatewayKeyFile(path.join(dataDir, 'keys')), JSON.stringify(privateJwk), { mode: 0o600 });

    db = await createTestDatabase();
    gateway = startGatewayProcess(
      {
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        CONVENANT_POLICY_DIR: policyDir,
        CONVENANT_DATA_DIR: dataDir,
        BSN_HMAC_KEY: randomBytes(32).toString('base64'),
        BSN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      },
      await freePort(),
    );
    await waitUntilReady(gateway);
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  async function token(partner: string, purpose: string, professional: string) {
    const assertion = await run(
      [
        'partner-key',
        'assertion',
        '--key',
        path.join(partnerSide[partner] ?? root, `${partner}.private.jwk.json`),
        '--partner',
        partner,
        '--professional',
        professional,
        '--audience',
        `${PUBLIC_URL}/v1/oauth/token`,
      ],
      {},
    );
    return fetch(`${gateway.url}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: assertion.stdout.trim(),
        scope: purpose,
      }),
    });
  }

  it('signs with the provisioned gateway key and publishes it', async () => {
    const res = await fetch(`${gateway.url}/v1/audit/keys`);
    expect(((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual([
      provisionedKid,
    ]);
    expect(res.headers.get('api-version')).toMatch(/^\d+\.\d+\.\d+$/);
    // Production makes no demo keys and keeps /metrics off the API port.
    expect(await readdir(path.join(dataDir, 'keys'))).toEqual(['gateway.private.jwk.json']);
    expect((await stat(path.join(dataDir, 'keys'))).mode & 0o777).toBe(0o700);
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(404);
  });

  it('lets the first privacy officer in with the officer key registered in the convenant', async () => {
    const res = await token('fg', 'toezicht', 'fg-officer-1');
    expect(res.status).toBe(200);
    const { access_token: accessToken } = (await res.json()) as { access_token: string };
    const verified = await fetch(`${gateway.url}/v1/audit/verify`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ ok: true });
  });

  it('serves a partner whose public key is registered, and no partner whose key is not', async () => {
    const vtrr = await token('vtrr', 'triage', 'vtrr-professional-1');
    expect(vtrr.status).toBe(200);
    // politie made no pair and registered nothing: a key of its own, however valid, is not trusted.
    partnerSide.politie = path.join(root, 'at-politie');
    expect((await run(['partner-key', 'new', 'politie', '--out', partnerSide.politie], {})).code).toBe(0);
    const politie = await token('politie', 'signalering', 'politie-professional-1');
    expect(politie.status).toBe(401);
    expect(await readFile(path.join(partnerSide.politie, 'politie.jwks.json'), 'utf8')).not.toContain('"d"');
  });
});
