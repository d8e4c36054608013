import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AppConfig } from '../config/config.js';
import { loadEnforceable } from '../kernel/policy.registry.js';
import type { CompiledConvenant } from '../policy/compile.js';
import type { Partner } from '../policy/model.js';
import { ensureDevKeys, generateDevKeys, newSigningPair } from './dev-keys.js';
import { gatewayKeyFile, loadGatewayKey } from './gateway-key.js';
import {
  checkPublicKeySet,
  localJwksCandidates,
  PartnerKeys,
  PartnerKeysUnavailableError,
} from './partner-keys.js';

const compiled = loadEnforceable(path.resolve('test/fixtures/policies/minimal'));
const vtrr = compiled.partner('vtrr');

function configFor(keysDir: string, env: AppConfig['env'] = 'test'): AppConfig {
  return { keysDir, env } as AppConfig;
}

describe('checkPublicKeySet', () => {
  it('accepts public asymmetric keys with a kid', async () => {
    const { publicJwk } = await newSigningPair();
    expect(checkPublicKeySet('vtrr', { keys: [publicJwk] })).toEqual({ keys: [publicJwk] });
  });

  it('refuses the whole set for a symmetric key, private material, a missing kid or no keys', async () => {
    const { publicJwk, privateJwk } = await newSigningPair();
    const bad = [
      { keys: [] },
      { keys: [publicJwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }] },
      { keys: [privateJwk] },
      { keys: [{ ...publicJwk, kid: undefined }] },
      [publicJwk],
    ];
    for (const set of bad) expect(() => checkPublicKeySet('vtrr', set)).toThrow(PartnerKeysUnavailableError);
  });
});

describe('localJwksCandidates', () => {
  it('looks in the convenant folder, then (not in production) in the data folder', () => {
    const inConvenant = path.resolve(compiled.convenant.dir, 'keys/vtrr.jwks.json');
    expect(localJwksCandidates(compiled.convenant, vtrr, '/data/keys', { allowDataDir: true })).toEqual([
      inConvenant,
      '/data/keys/vtrr.jwks.json',
    ]);
    expect(localJwksCandidates(compiled.convenant, vtrr, '/data/keys', { allowDataDir: false })).toEqual([
      inConvenant,
    ]);
  });
});

describe('PartnerKeys and demo keys (files)', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-keys-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes demo pairs with the private half 0600, keeps them, and replaces them only with force', async () => {
    const first = await generateDevKeys(compiled.convenant.partners, dir);
    expect(first.map((k) => [k.partner, k.created])).toEqual([
      ['vtrr', true],
      ['wijkteam', true],
    ]);
    expect((await stat(first[0]!.privateFile)).mode & 0o777).toBe(0o600);
    const again = await generateDevKeys(compiled.convenant.partners, dir);
    expect(again.every((k) => !k.created)).toBe(true);
    expect((await ensureDevKeys(compiled.convenant, dir)).length).toBe(0);
    const forced = await generateDevKeys(compiled.convenant.partners, dir, { force: true });
    expect(forced.every((k) => k.created)).toBe(true);
  });

  it('resolves a demo key outside production, and never in production', async () => {
    const [files] = await generateDevKeys([vtrr], dir);
    const publicSet = JSON.parse(await readFile(files!.publicFile, 'utf8')) as {
      keys: { kid: string }[];
    };
    const resolver = await new PartnerKeys(configFor(dir)).resolverFor(compiled, vtrr);
    await expect(
      resolver({ alg: 'ES256', kid: publicSet.keys[0]!.kid }, { payload: '', signature: '' }),
    ).resolves.toBeDefined();
    await expect(new PartnerKeys(configFor(dir, 'production')).resolverFor(compiled, vtrr)).rejects.toThrow(
      /no JWKS file found/,
    );
  });

  it('does not cache a missing key file, so keys placed later are found', async () => {
    const sut = new PartnerKeys(configFor(dir));
    await expect(sut.resolverFor(compiled, vtrr)).rejects.toThrow(PartnerKeysUnavailableError);
    await generateDevKeys([vtrr], dir);
    await expect(sut.resolverFor(compiled, vtrr)).resolves.toBeDefined();
  });

  it('refuses a key file that is not JSON', async () => {
    await writeFile(path.join(dir, 'vtrr.jwks.json'), 'not json');
    await expect(new PartnerKeys(configFor(dir)).resolverFor(compiled, vtrr)).rejects.toThrow(
      /not valid JSON/,
    );
  });

  it('makes the gateway key once (0600) and reads the same key on every start, also when two start at once', async () => {
    const keysDir = path.join(dir, 'keys');
    const [a, b] = await Promise.all([loadGatewayKey(keysDir), loadGatewayKey(keysDir)]);
    expect(a.kid).toBe(b.kid);
    expect((await stat(gatewayKeyFile(keysDir))).mode & 0o777).toBe(0o600);
    expect((await loadGatewayKey(keysDir)).kid).toBe(a.kid);
    expect(a.publicJwk).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
      kid: a.kid,
      alg: 'ES256',
      use: 'sig',
    });
  });
});

describe('PartnerKeys (jwks_uri)', () => {
  let server: Server;
  let uri: string;
  let kid: string;
  let served = 0;

  beforeAll(async () => {
    const { publicJwk } = await newSigningPair();
    kid = publicJwk.kid!;
    server = createServer((_req, res) => {
      served++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const remotePartner = (): { partner: Partner; compiled: CompiledConvenant } => ({
    partner: { ...vtrr, keys: { jwksUri: uri } },
    compiled,
  });

  it('fetches a published JWKS once and serves later look-ups from its cache', async () => {
    const sut = new PartnerKeys(configFor('/nonexistent'));
    const { partner } = remotePartner();
    const header = { alg: 'ES256', kid };
    const token = { payload: '', signature: '' };
    await expect((await sut.resolverFor(compiled, partner))(header, token)).resolves.toBeDefined();
    await expect((await sut.resolverFor(compiled, partner))(header, token)).resolves.toBeDefined();
    expect(served).toBe(1);
  });

  it('refuses a plain-HTTP jwks_uri in production', async () => {
    const { partner } = remotePartner();
    await expect(
      new PartnerKeys(configFor('/nonexistent', 'production')).resolverFor(compiled, partner),
    ).rejects.toThrow(/must use https in production/);
  });
});
