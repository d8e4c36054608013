import { decodeJwt } from 'jose';
import { AccessTokenIssuer } from './access-token.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { InvalidAccessTokenError } from './auth.errors.js';
import { newSigningPair } from '../keys/dev-keys.js';
import { gatewayKeyFromJwk, type GatewayKey } from '../keys/gateway-key.js';

const config = { publicUrl: 'https://gateway.example', accessTokenTtlSeconds: 60 };
const who = { partner: 'vtrr', professional: 'p1', purpose: 'triage' };

async function gatewayKey(): Promise<GatewayKey> {
  return gatewayKeyFromJwk((await newSigningPair()).privateJwk);
}

describe('AccessTokenVerifier', () => {
  let key: GatewayKey;
  let issuer: AccessTokenIssuer;

  beforeAll(async () => {
    key = await gatewayKey();
    issuer = new AccessTokenIssuer(key, config);
  });

  it('verifies what the issuer signs and returns the principal', async () => {
    const { token, jti } = await issuer.issue(who);
    const sut = new AccessTokenVerifier(key, config);
    await expect(sut.verify(token)).resolves.toEqual({ ...who, tokenId: jti });
  });

  it('refuses a token signed by another gateway key', async () => {
    const { token } = await new AccessTokenIssuer(await gatewayKey(), config).issue(who);
    await expect(new AccessTokenVerifier(key, config).verify(token)).rejects.toThrow(
      /signature does not verify/,
    );
  });

  it('refuses a token issued for another public URL', async () => {
    const { token } = await new AccessTokenIssuer(key, {
      ...config,
      publicUrl: 'https://other.example',
    }).issue(who);
    await expect(new AccessTokenVerifier(key, config).verify(token)).rejects.toThrow(
      /not issued for this gateway/,
    );
  });

  it('answers a cached token from the cache, but never past its exp', async () => {
    const { token } = await issuer.issue(who);
    const sut = new AccessTokenVerifier(key, config);
    await sut.verify(token);
    expect(sut.size).toBe(1);
    const exp = decodeJwt(token).exp! * 1000;
    await expect(sut.verify(token, exp - 1)).resolves.toMatchObject(who);
    await expect(sut.verify(token, exp)).rejects.toThrow(InvalidAccessTokenError);
    expect(sut.size).toBe(0);
  });

  it('checks a token with a flipped signature byte on first sight, even after the genuine one was cached', async () => {
    const { token } = await issuer.issue(who);
    const sut = new AccessTokenVerifier(key, config);
    await sut.verify(token);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const forged = `${token.slice(0, -2)}${last}${token.at(-1)}`;
    await expect(sut.verify(forged)).rejects.toThrow(InvalidAccessTokenError);
  });

  it('keeps the cache bounded, evicting the oldest entry', async () => {
    const sut = new AccessTokenVerifier(key, config, 2);
    const tokens = await Promise.all([issuer.issue(who), issuer.issue(who), issuer.issue(who)]);
    for (const { token } of tokens) await sut.verify(token);
    expect(sut.size).toBe(2);
  });
});
