import { SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../config/config.js';
import { GATEWAY_ALG, type GatewayKey } from '../keys/gateway-key.js';

/** RFC 9068 §2.1: access tokens are explicitly typed, so no other JWT can pass for one (RFC 8725 §3.11). */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** Issuer and audience of access tokens, from the public URL partners use. */
export function accessTokenAudience(config: Pick<AppConfig, 'publicUrl'>): {
  issuer: string;
  audience: string;
} {
  return { issuer: config.publicUrl, audience: `${config.publicUrl}/v1` };
}

export function tokenEndpoint(config: Pick<AppConfig, 'publicUrl'>): string {
  return `${config.publicUrl}/v1/oauth/token`;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
}

/**
 * Signs access tokens with the gateway key: bound to the partner, the acting professional (`sub`)
 * and one purpose. Used by the token endpoint and by `convenant token`, so both mint the same token.
 */
export class AccessTokenIssuer {
  constructor(
    private readonly key: GatewayKey,
    private readonly config: Pick<AppConfig, 'publicUrl' | 'accessTokenTtlSeconds'>,
  ) {}

  async issue(who: {
    partner: string;
    professional: string;
    purpose: string;
    /** Bind the token to the client certificate it was requested with (RFC 8705 §3). */
    certificateThumbprint?: string | undefined;
  }): Promise<IssuedAccessToken> {
    const { issuer, audience } = accessTokenAudience(this.config);
    const jti = randomBytes(16).toString('base64url');
    const iat = Math.floor(Date.now() / 1000);
    const expiresIn = this.config.accessTokenTtlSeconds;
    const token = await new SignJWT({
      partner: who.partner,
      purpose: who.purpose,
      client_id: who.partner,
      scope: who.purpose,
      ...(who.certificateThumbprint ? { cnf: { 'x5t#S256': who.certificateThumbprint } } : {}),
    })
      .setProtectedHeader({ alg: GATEWAY_ALG, typ: ACCESS_TOKEN_TYP, kid: this.key.kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(who.professional)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(iat + expiresIn)
      .sign(this.key.privateKey);
    return { token, jti, expiresIn };
  }
}
