import { decodeJwt, decodeProtectedHeader } from 'jose';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { AccessTokenIssuer } from '../src/auth/access-token.js';
import { AccessTokenVerifier } from '../src/auth/access-token.verifier.js';
import {
  gatewayKeyFile,
  loadGatewayKeyRing,
  retiredGatewayKeysFile,
  rotateGatewayKey,
} from '../src/keys/gateway-key.js';
import { run } from '../src/cli/program.js';
import { startTestApp, type TestApp } from './support/app.js';
import { accessTokenFor } from './support/tokens.js';

/**
 * Rotating the gateway's signing key with two instances on one keys folder, as in the compose
 * file: `convenant gateway-key rotate`, then one instance restarted. Tokens signed before keep
 * working until they expire, tokens after are signed under the new key and accepted by the
 * instance not yet restarted, and the published JWKS holds both keys.
 */
describe('gateway signing key rotation', () => {
  let dataDir: string;
  let before: TestApp;
  let after: TestApp | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'convenant-rotation-'));
    before = await startTestApp({ dataDir });
  });
  afterAll(async () => {
    await after?.app.close();
    await before?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const whoami = (t: TestApp, token: string) =>
    request(t.app.getHttpServer()).get('/v1/oauth/whoami').set('authorization', `Bearer ${token}`);

  it('overlaps: old tokens pass on the restarted instance, new ones on the old instance, JWKS has both', async () => {
    const who = { partner: 'vtrr', purpose: 'triage' };
    const oldToken = await accessTokenFor(before, who);
    const oldKid = decodeProtectedHeader(oldToken).kid;

    const env = { NODE_ENV: 'test', CONVENANT_DATA_DIR: dataDir };
    const rotated = await run(['gateway-key', 'rotate'], env);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain(`retired  ${oldKid}`);
    // The new private key replaced the old one, 0600; the retired file holds public halves only.
    expect((await stat(gatewayKeyFile(path.join(dataDir, 'keys')))).mode & 0o777).toBe(0o600);
    const retiredText = await readFile(retiredGatewayKeysFile(path.join(dataDir, 'keys')), 'utf8');
    expect(JSON.parse(retiredText)).toEqual({
      keys: [expect.objectContaining({ kid: oldKid, accept_tokens_until: expect.any(String) })],
    });
    expect(retiredText).not.toContain('"d"');

    // One instance restarted: it signs under the new key.
    after = await startTestApp({ dataDir, db: before.db });
    const newToken = await accessTokenFor(after, who);
    const newKid = decodeProtectedHeader(newToken).kid;
    expect(newKid).not.toBe(oldKid);
    expect(rotated.stdout).toContain(`current  ${newKid}`);

    expect((await whoami(after, oldToken)).status).toBe(200);
    // The instance not yet restarted has never seen the new key: it reads the folder on the unknown kid.
    expect((await whoami(before, newToken)).status).toBe(200);
    expect((await whoami(before, oldToken)).status).toBe(200);

    const jwks = await request(after.app.getHttpServer()).get('/v1/audit/keys').expect(200);
    expect((jwks.body as { keys: { kid: string; d?: string }[] }).keys.map((k) => k.kid)).toEqual([
      newKid,
      oldKid,
    ]);
    expect((jwks.body as { keys: { d?: string }[] }).keys.every((k) => k.d === undefined)).toBe(true);
    const printed = await run(['gateway-key', 'jwks'], env);
    expect(JSON.parse(printed.stdout)).toEqual(jwks.body);
  });

  it('accepts an old token until it expires, and none under a retired key past the overlap', async () => {
    const keysDir = path.join(dataDir, 'keys');
    const config = { publicUrl: before.config.publicUrl, accessTokenTtlSeconds: 900 };
    const ringBefore = await loadGatewayKeyRing(keysDir);
    const old = await new AccessTokenIssuer(ringBefore.current, config).issue({
      partner: 'vtrr',
      professional: 'vtrr-professional-1',
      purpose: 'triage',
    });
    const issuedAt = Date.now();
    await rotateGatewayKey(keysDir, { now: new Date(issuedAt), overlapSeconds: 1800 });
    const ring = await loadGatewayKeyRing(keysDir);
    expect(ring.current.kid).not.toBe(ringBefore.current.kid);
    const exp = decodeJwt(old.token).exp! * 1000;
    // A fresh verifier per check: a verified token is cached, which would hide the key decision.
    const verify = (at: number) => new AccessTokenVerifier(ring, config).verify(old.token, at);
    await expect(verify(exp - 1000)).resolves.toMatchObject({ partner: 'vtrr' });
    await expect(verify(exp + 1000)).rejects.toThrow(/expired/);

    // Rotated with an overlap shorter than the token's life (an emergency): refused once it ends.
    const second = await new AccessTokenIssuer(ring.current, config).issue({
      partner: 'vtrr',
      professional: 'vtrr-professional-1',
      purpose: 'triage',
    });
    await rotateGatewayKey(keysDir, { now: new Date(issuedAt), overlapSeconds: 60 });
    const ring3 = await loadGatewayKeyRing(keysDir);
    const check = (at: number) => new AccessTokenVerifier(ring3, config).verify(second.token, at);
    await expect(check(issuedAt + 30_000)).resolves.toMatchObject({ partner: 'vtrr' });
    await expect(check(issuedAt + 120_000)).rejects.toThrow(/rotated out/);
    // Every key stays published: checkpoints signed under each must keep verifying.
    expect(ring3.publicJwks()).toHaveLength(4);
  });
});
