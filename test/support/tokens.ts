import { importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { readDevPrivateKey } from '../../src/keys/dev-keys.js';
import { CLIENT_ASSERTION_TYPE } from '../../src/auth/client-assertion.js';
import type { TestApp } from './app.js';

/**
 * Real tokens for e2e specs: a client assertion signed with the partner's demo private key
 * (startTestApp writes demo keys into the app's data folder), exchanged at POST /v1/oauth/token.
 *
 *   const token = await accessTokenFor(t, { partner: 'vtrr', purpose: 'triage' });
 *   await request(t.app.getHttpServer()).get(...).set('authorization', `Bearer ${token}`);
 */

export interface Who {
  partner: string;
  purpose: string;
  /** Opaque id of the acting professional; default `<partner>-professional-1`. */
  professional?: string;
}

/** Performs the real token flow and returns the access token; fails the test on a non-200. */
export async function accessTokenFor(t: TestApp, who: Who): Promise<string> {
  const res = await requestToken(t, {
    assertion: await clientAssertion(t, { partner: who.partner, professional: who.professional }),
    purpose: who.purpose,
  });
  if (res.status !== 200) {
    throw new Error(
      `Token request for ${who.partner}/${who.purpose} failed: ${res.status} ${JSON.stringify(res.body)}`,
    );
  }
  return (res.body as { access_token: string }).access_token;
}

/** `Authorization` header value for `who`. */
export async function bearerFor(t: TestApp, who: Who): Promise<string> {
  return `Bearer ${await accessTokenFor(t, who)}`;
}

/**
 * A spec's `as(who)`: one bearer per partner and purpose for the app `app()` returns, signed on
 * first use and reused after (the app is started in beforeAll, hence the getter).
 */
export function bearerCache(app: () => TestApp): (who: Who) => Promise<string> {
  const bearers = new Map<string, string>();
  return async (who) => {
    const key = `${who.partner}/${who.purpose}`;
    if (!bearers.has(key)) bearers.set(key, await bearerFor(app(), who));
    return bearers.get(key)!;
  };
}

/** POST /v1/oauth/token as a form, with the usual parameters unless overridden (null drops one). */
export function requestToken(
  t: TestApp,
  options: { assertion: string; purpose?: string; params?: Record<string, string | null> },
): request.Test {
  const params: Record<string, string | null> = {
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: options.assertion,
    scope: options.purpose ?? 'triage',
    ...options.params,
  };
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== null) form.append(name, value);
  return request(t.app.getHttpServer())
    .post('/v1/oauth/token')
    .set('content-type', 'application/x-www-form-urlencoded')
    .send(form.toString());
}

export interface AssertionOptions {
  partner: string;
  professional?: string | undefined;
  /** Claims to set or override (e.g. { aud: 'elsewhere', exp: … }); `undefined` values remove a claim. */
  claims?: Record<string, unknown>;
  /** Header parameters to set or override (e.g. { kid: 'unknown' }). */
  header?: Record<string, unknown>;
  /** Sign with this key instead of the partner's demo key (must fit `header.alg`). */
  key?: JWK | CryptoKey | Uint8Array;
  /** Seconds added to now for iat (negative: in the past). */
  iatOffset?: number;
  /** exp − iat, default 60 s. */
  lifetimeSeconds?: number;
}

/** A client assertion as a partner system would sign it, with every knob a security test needs. */
export async function clientAssertion(
  t: { config: Pick<TestApp['config'], 'keysDir' | 'publicUrl'> },
  options: AssertionOptions,
): Promise<string> {
  const privateJwk = await readDevPrivateKey(options.partner, t.config.keysDir);
  const iat = Math.floor(Date.now() / 1000) + (options.iatOffset ?? 0);
  const payload: JWTPayload = {
    iss: options.partner,
    sub: options.partner,
    aud: `${t.config.publicUrl}/v1/oauth/token`,
    iat,
    exp: iat + (options.lifetimeSeconds ?? 60),
    jti: randomBytes(16).toString('base64url'),
    professional: options.professional ?? `${options.partner}-professional-1`,
  };
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (value === undefined) delete payload[name];
    else payload[name] = value;
  }
  const header = { alg: 'ES256', typ: 'JWT', kid: privateJwk.kid, ...options.header };
  const key = options.key ?? (await importJWK(privateJwk, 'ES256'));
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

/** An unsigned JWT (`alg: none`), which the gateway must never accept. */
export function unsignedJwt(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.`;
}
