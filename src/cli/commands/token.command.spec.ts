import { createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AccessTokenVerifier } from '../../auth/access-token.verifier.js';
import { verifyClientAssertion } from '../../auth/client-assertion.js';
import { loadGatewayKey } from '../../keys/gateway-key.js';
import { loadConfig } from '../../config/config.js';
import { loadEnforceable } from '../../kernel/policy.registry.js';
import { writeGatewayFile } from '../../ops/gateway-file.js';
import { run } from '../program.js';

describe('convenant keys --dev and convenant token', () => {
  let dataDir: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'convenant-cli-'));
    env = { CONVENANT_DATA_DIR: dataDir, PUBLIC_URL: 'https://gateway.example' };
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keys --dev writes a pair per partner, and keeps them on a second run', async () => {
    const first = await run(['keys', '--dev'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^wrote vtrr +\S+vtrr\.jwks\.json, \S+vtrr\.private\.jwk\.json$/m);
    const second = await run(['keys', '--dev'], env);
    expect(second.stdout).toMatch(/^kept {2}vtrr/m);
    expect(second.stdout).toContain('--force replaces them');
  });

  it('keys without --dev, or in production, refuses', async () => {
    expect((await run(['keys'], env)).code).toBe(1);
    const production = await run(['keys', '--dev'], {
      ...env,
      NODE_ENV: 'production',
      BSN_HMAC_KEY: 'a'.repeat(43),
      BSN_ENCRYPTION_KEY: 'b'.repeat(43),
    });
    expect(production.code).toBe(1);
    expect(production.stderr).toContain('never made in production');
  });

  it('token prints only an access token, which the gateway verifier accepts', async () => {
    const result = await run(
      ['token', '--partner', 'vtrr', '--purpose', 'triage', '--professional', 'p1'],
      env,
    );
    expect(result.code).toBe(0);
    const token = result.stdout.trim();
    expect(result.stdout).toBe(`${token}\n`);
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const config = loadConfig(env);
    const verifier = new AccessTokenVerifier(await loadGatewayKey(config.keysDir), config);
    await expect(verifier.verify(token)).resolves.toMatchObject({
      partner: 'vtrr',
      professional: 'p1',
      purpose: 'triage',
    });
  });

  it("token --officer prints a token for the convenant's officer partner and purpose toezicht", async () => {
    const result = await run(['token', '--officer'], env);
    expect(result.code).toBe(0);
    const config = loadConfig(env);
    const verifier = new AccessTokenVerifier(await loadGatewayKey(config.keysDir), config);
    await expect(verifier.verify(result.stdout.trim())).resolves.toMatchObject({
      partner: 'fg',
      professional: 'fg-officer-1',
      purpose: 'toezicht',
    });
    const named = await run(['token', '--officer', '--professional', 'fg-7'], env);
    await expect(verifier.verify(named.stdout.trim())).resolves.toMatchObject({ professional: 'fg-7' });
    expect((await run(['token', '--officer', '--partner', 'vtrr'], env)).code).toBe(1);
    expect((await run(['token', '--partner', 'vtrr', '--purpose', 'triage'], env)).code).toBe(1);
  });

  it('token --assertion prints a client assertion that verifies against the demo public keys', async () => {
    const result = await run(
      [
        'token',
        '--partner',
        'politie',
        '--purpose',
        'signalering',
        '--professional',
        'agent-7',
        '--assertion',
      ],
      env,
    );
    expect(result.code).toBe(0);
    const assertion = result.stdout.trim();
    const config = loadConfig(env);
    const jwks = JSON.parse(await readFile(path.join(config.keysDir, 'politie.jwks.json'), 'utf8'));
    const verified = await verifyClientAssertion(assertion, {
      compiled: loadEnforceable(config.policyDir),
      audience: 'https://gateway.example/v1/oauth/token',
      keysFor: () => Promise.resolve(createLocalJWKSet(jwks)),
    });
    expect(verified).toMatchObject({ professional: 'agent-7', purpose: 'signalering' });
    expect(decodeProtectedHeader(assertion).kid).toBe(jwks.keys[0].kid);
  });

  it('token refuses what the token endpoint refuses, with a sentence', async () => {
    const notRegistered = await run(
      ['token', '--partner', 'politie', '--purpose', 'triage', '--professional', 'p1'],
      env,
    );
    expect(notRegistered).toMatchObject({ code: 1, stdout: '' });
    expect(notRegistered.stderr).toContain("Partner 'politie' is not registered for purpose 'triage'");
    const unknown = await run(
      ['token', '--partner', 'nobody', '--purpose', 'triage', '--professional', 'p1'],
      env,
    );
    expect(unknown.stderr).toContain("'nobody' is not a partner in the convenant");
    const badProfessional = await run(
      ['token', '--partner', 'vtrr', '--purpose', 'triage', '--professional', 'Jan de Vries'],
      env,
    );
    expect(badProfessional.code).toBe(1);
  });

  describe('finds the gateway the token is for', () => {
    const verifierFor = async (publicUrl: string) => {
      const config = { ...loadConfig({ CONVENANT_DATA_DIR: dataDir }), publicUrl };
      return new AccessTokenVerifier(await loadGatewayKey(config.keysDir), config);
    };
    const args = ['token', '--partner', 'vtrr', '--purpose', 'triage', '--professional', 'p1'];

    it("from a running gateway's note in the data folder, with its convenant folder", async () => {
      const second = path.resolve('policies/vh-twente');
      await writeGatewayFile({ dataDir, publicUrl: 'http://127.0.0.1:3917', policyDir: second });
      // vh-twente has no vtrr: the gateway's convenant is the one the token is checked against.
      const refused = await run(args, { CONVENANT_DATA_DIR: dataDir });
      expect(refused.code).toBe(1);
      const result = await run(
        ['token', '--partner', 'politie-on', '--purpose', 'radicalisering', '--professional', 'p1'],
        { CONVENANT_DATA_DIR: dataDir },
      );
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      const verifier = await verifierFor('http://127.0.0.1:3917');
      await expect(verifier.verify(result.stdout.trim())).resolves.toMatchObject({ partner: 'politie-on' });
      await expect(
        (await verifierFor('http://127.0.0.1:3000')).verify(result.stdout.trim()),
      ).rejects.toThrow();
    });

    it('from --gateway, before the environment and the note', async () => {
      await writeGatewayFile({
        dataDir,
        publicUrl: 'http://127.0.0.1:3917',
        policyDir: path.resolve('policies/zvh-rotterdam-rijnmond'),
      });
      const result = await run([...args, '--gateway', 'https://gw.example.nl/v1/'], env);
      expect(result.code).toBe(0);
      const verifier = await verifierFor('https://gw.example.nl');
      await expect(verifier.verify(result.stdout.trim())).resolves.toMatchObject({ partner: 'vtrr' });
      const bad = await run([...args, '--gateway', 'gw.example.nl'], env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('--gateway must be');
    });

    it('from PORT as set, before the note', async () => {
      await writeGatewayFile({
        dataDir,
        publicUrl: 'http://127.0.0.1:3917',
        policyDir: path.resolve('policies/zvh-rotterdam-rijnmond'),
      });
      const result = await run(args, { CONVENANT_DATA_DIR: dataDir, PORT: '3555' });
      expect(result.code).toBe(0);
      const verifier = await verifierFor('http://127.0.0.1:3555');
      await expect(verifier.verify(result.stdout.trim())).resolves.toMatchObject({ partner: 'vtrr' });
    });

    it('says on stderr what to set when nothing names the gateway, or its process is gone', async () => {
      const none = await run(args, { CONVENANT_DATA_DIR: dataDir });
      expect(none.code).toBe(0);
      expect(none.stderr).toContain('no running gateway has left its address in');
      expect(none.stderr).toContain('this token is for http://127.0.0.1:3000');
      expect(none.stderr).toMatch(/set PUBLIC_URL \(or PORT\).*or pass --gateway <url>/);
      await writeFile(
        path.join(dataDir, 'gateway.json'),
        JSON.stringify({
          publicUrl: 'http://127.0.0.1:3917',
          policyDir: '/x',
          pid: 2 ** 22 + 7,
          startedAt: '2026-01-01T00:00:00Z',
        }),
      );
      const stale = await run(args, { CONVENANT_DATA_DIR: dataDir });
      expect(stale.code).toBe(0);
      expect(stale.stderr).toMatch(/process 4194311\) is no longer running/);
      const verifier = await verifierFor('http://127.0.0.1:3000');
      await expect(verifier.verify(stale.stdout.trim())).resolves.toMatchObject({ partner: 'vtrr' });
    });
  });
});
