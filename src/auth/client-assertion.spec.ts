import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { loadEnforceable } from '../kernel/policy.registry.js';
import { InvalidClientError, InvalidTokenRequestError } from './auth.errors.js';
import { verifyClientAssertion, type AssertionCheck, type AssertionContext } from './client-assertion.js';
import { PartnerKeysUnavailableError } from '../keys/partner-keys.js';

const compiled = loadEnforceable(path.resolve('test/fixtures/policies/minimal'));
const AUDIENCE = 'https://gateway.example/v1/oauth/token';

interface Pair {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function pair(alg: string, options: { crv?: string } = {}): Promise<Pair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options });
  const jwk = await exportJWK(publicKey);
  return { privateKey, publicJwk: { ...jwk, alg, kid: await calculateJwkThumbprint(jwk) } };
}

function checkWith(keys: JWK[]): AssertionCheck {
  const resolver = createLocalJWKSet({ keys });
  return { compiled, audience: AUDIENCE, keysFor: () => Promise.resolve(resolver) };
}

async function sign(
  key: Pair,
  options: { claims?: Record<string, unknown>; header?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: 'vtrr',
    sub: 'vtrr',
    aud: AUDIENCE,
    iat: now,
    exp: now + 60,
    jti: randomBytes(16).toString('base64url'),
    professional: 'p1',
    ...options.claims,
  })
    .setProtectedHeader({ alg: key.publicJwk.alg!, kid: key.publicJwk.kid!, ...options.header })
    .sign(key.privateKey);
}

describe('verifyClientAssertion', () => {
  it.each([
    ['ES256', {}],
    ['ES384', {}],
    ['EdDSA', { crv: 'Ed25519' }],
    ['PS256', {}],
    ['RS256', {}],
  ])('accepts %s, the asymmetric algorithms of the allowlist', async (alg, options) => {
    const key = await pair(alg, options);
    const verified = await verifyClientAssertion(await sign(key), checkWith([key.publicJwk]));
    expect(verified).toMatchObject({ partner: { id: 'vtrr' }, professional: 'p1' });
    expect(verified.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('fills the context as facts are established: partner from the claim, professional after the signature', async () => {
    const key = await pair('ES256');
    const other = await pair('ES256');
    const context: AssertionContext = {};
    await expect(
      verifyClientAssertion(
        await sign(other, { header: { kid: key.publicJwk.kid } }),
        checkWith([key.publicJwk]),
        context,
      ),
    ).rejects.toThrow(InvalidClientError);
    expect(context).toEqual({ partner: 'vtrr' });

    const ok: AssertionContext = {};
    await verifyClientAssertion(await sign(key), checkWith([key.publicJwk]), ok);
    expect(ok).toEqual({ partner: 'vtrr', professional: 'p1' });
  });

  it('accepts a UUID jti and refuses one under 128 bits', async () => {
    const key = await pair('ES256');
    const check = checkWith([key.publicJwk]);
    await expect(
      verifyClientAssertion(await sign(key, { claims: { jti: randomUUID() } }), check),
    ).resolves.toBeDefined();
    await expect(
      verifyClientAssertion(await sign(key, { claims: { jti: 'A'.repeat(21) } }), check),
    ).rejects.toThrow(/128 random bits/);
  });

  it('refuses critical header parameters, before any key is touched', async () => {
    const key = await pair('ES256');
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const jwt = `${part({ alg: 'ES256', kid: key.publicJwk.kid, crit: ['x-extra'], 'x-extra': 1 })}.${part({ iss: 'vtrr' })}.c2ln`;
    await expect(verifyClientAssertion(jwt, checkWith([key.publicJwk]))).rejects.toThrow(/critical header/);
  });

  it('refuses a non-string purpose claim', async () => {
    const key = await pair('ES256');
    await expect(
      verifyClientAssertion(await sign(key, { claims: { purpose: ['triage'] } }), checkWith([key.publicJwk])),
    ).rejects.toThrow(/'purpose' claim must be a string/);
  });

  it('turns unavailable partner keys into a 401 with a sentence for the operator', async () => {
    const key = await pair('ES256');
    const check: AssertionCheck = {
      compiled,
      audience: AUDIENCE,
      keysFor: () => Promise.reject(new PartnerKeysUnavailableError('vtrr', 'no JWKS file found.')),
    };
    await expect(verifyClientAssertion(await sign(key), check)).rejects.toThrow(
      /No public keys are available for partner 'vtrr'/,
    );
  });

  it('refuses something that is not a compact JWS with 400, not 401', async () => {
    const check = checkWith([]);
    for (const jwt of ['abc', 'a.b', 'a.b.c.d.e', '%%%.x.y']) {
      await expect(verifyClientAssertion(jwt, check)).rejects.toThrow(InvalidTokenRequestError);
    }
    await expect(verifyClientAssertion('e30.e30.', check)).rejects.toThrow(InvalidClientError);
  });

  it('never asks for keys when the algorithm is not allowed', async () => {
    let asked = 0;
    const keysFor = () => {
      asked++;
      return Promise.reject(new Error('keys were asked for'));
    };
    const jwt = await new SignJWT({ iss: 'vtrr', sub: 'vtrr' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k' })
      .sign(new Uint8Array(32));
    await expect(verifyClientAssertion(jwt, { compiled, audience: AUDIENCE, keysFor })).rejects.toThrow(
      /'HS256'/,
    );
    expect(asked).toBe(0);
  });

  it('checks time claims with a 5 s leeway by default, configurable', async () => {
    const key = await pair('ES256');
    const check = checkWith([key.publicJwk]);
    const now = Math.floor(Date.now() / 1000);
    const expiredAgo = (s: number) => sign(key, { claims: { iat: now - 60 - s, exp: now - s } });
    await expect(verifyClientAssertion(await expiredAgo(10), check)).rejects.toThrow(/has expired/);
    await expect(verifyClientAssertion(await expiredAgo(3), check)).resolves.toBeDefined();
    await expect(
      verifyClientAssertion(await sign(key, { claims: { iat: now + 10, exp: now + 70 } }), check),
    ).rejects.toThrow(/issued in the future/);
    await expect(
      verifyClientAssertion(await expiredAgo(10), { ...check, clockLeewaySeconds: 15 }),
    ).resolves.toBeDefined();
  });

  it('accepts aud as the token endpoint or an array holding only it; refuses an array naming another server too', async () => {
    const key = await pair('ES256');
    const check = checkWith([key.publicJwk]);
    await expect(
      verifyClientAssertion(await sign(key, { claims: { aud: [AUDIENCE] } }), check),
    ).resolves.toBeDefined();
    for (const aud of [
      [AUDIENCE, 'https://elsewhere.example/token'],
      ['https://elsewhere.example/token', AUDIENCE],
    ]) {
      await expect(verifyClientAssertion(await sign(key, { claims: { aud } }), check)).rejects.toThrow(
        /audience must be .* alone/,
      );
    }
  });
});
