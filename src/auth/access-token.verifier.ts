import { errors as joseErrors, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/config.js';
import type { Principal } from '../kernel/principal.js';
import { ACCESS_TOKEN_TYP, accessTokenAudience } from './access-token.js';
import { InvalidAccessTokenError } from './auth.errors.js';
import { PROFESSIONAL_PATTERN } from './client-assertion.js';
import { GATEWAY_ALG, GatewayKeyRing, type GatewayKey } from '../keys/gateway-key.js';

/** The cache never holds more verified tokens than this; the oldest entry goes first. */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/** Partner and purpose ids are checked against the convenant by the guard; here only their shape. */
const isId = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= 64;

interface CachedToken {
  principal: Principal;
  /** exp in ms since the epoch. */
  expiresAt: number;
}

/**
 * Verifies the gateway's own access tokens: ES256 only, our issuer and audience, `typ: at+jwt`,
 * and every claim the principal needs. jose verifies on the libuv pool (~155 µs, docs/performance.md),
 * and a token is reused for many requests, so a successful verification is remembered under the
 * token's SHA-256 until the token expires. The first sight of every token is fully checked;
 * a failure is never cached, so a forged token costs a verification each time.
 */
export class AccessTokenVerifier {
  private readonly cache = new Map<string, CachedToken>();
  private readonly issuer: string;
  private readonly audience: string;

  constructor(
    /** A ring (production: current and retired keys, see rotation) or a single key (tests). */
    private readonly key: Pick<GatewayKey, 'publicKey'> | GatewayKeyRing,
    config: Pick<AppConfig, 'publicUrl'>,
    private readonly maxEntries = VERIFIED_TOKEN_CACHE_SIZE,
  ) {
    ({ issuer: this.issuer, audience: this.audience } = accessTokenAudience(config));
  }

  async verify(token: string, now: number = Date.now()): Promise<Principal> {
    const hash = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(hash);
    if (cached) {
      if (cached.expiresAt > now) return cached.principal;
      this.cache.delete(hash);
      throw new InvalidAccessTokenError('The access token has expired; request a new one.');
    }
    let payload;
    try {
      const key = this.key;
      const keyFor =
        key instanceof GatewayKeyRing
          ? (header: { kid?: string }) => key.tokenKey(header.kid, new Date(now))
          : key.publicKey;
      ({ payload } = await jwtVerify(token, keyFor, {
        algorithms: [GATEWAY_ALG],
        issuer: this.issuer,
        audience: this.audience,
        typ: ACCESS_TOKEN_TYP,
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'partner', 'purpose'],
        currentDate: new Date(now),
      }));
    } catch (error) {
      throw new InvalidAccessTokenError(failure(error));
    }
    const { sub, partner, purpose, jti, exp } = payload;
    if (
      typeof sub !== 'string' ||
      !PROFESSIONAL_PATTERN.test(sub) ||
      !isId(partner) ||
      !isId(purpose) ||
      typeof jti !== 'string'
    ) {
      throw new InvalidAccessTokenError(
        'The access token lacks a valid partner, purpose, professional or jti.',
      );
    }
    const bound = (payload.cnf as { 'x5t#S256'?: unknown } | undefined)?.['x5t#S256'];
    const principal: Principal = {
      partner,
      professional: sub,
      purpose,
      tokenId: jti,
      ...(typeof bound === 'string' ? { certificateThumbprint: bound } : {}),
    };
    this.remember(hash, { principal, expiresAt: exp! * 1000 });
    return principal;
  }

  private remember(hash: string, entry: CachedToken): void {
    if (this.cache.size >= this.maxEntries) {
      // Map iterates in insertion order: the first key is the oldest entry.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(hash, entry);
  }

  /** For tests and metrics. */
  get size(): number {
    return this.cache.size;
  }
}

function failure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The access token has expired; request a new one.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'typ')
      return 'The bearer token is not an access token of this gateway (typ must be at+jwt).';
    if (error.claim === 'iss' || error.claim === 'aud')
      return 'The access token was not issued for this gateway.';
    if (error.claim === 'nbf') return 'The access token is not valid yet.';
    return 'The access token lacks a required claim.';
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return 'The access token must be signed with ES256 by this gateway.';
  if (error instanceof joseErrors.JWKSNoMatchingKey)
    return 'The access token was signed with a gateway key that is unknown or rotated out; request a new one.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return "The access token's signature does not verify.";
  if (error instanceof joseErrors.JOSEError) return 'The bearer token is not a valid JWT.';
  throw error;
}
