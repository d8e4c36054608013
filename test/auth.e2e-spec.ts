import {
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import request from 'supertest';
import { generateDevKeys } from '../src/keys/dev-keys.js';
import { gatewayKeyFile } from '../src/keys/gateway-key.js';
import { PolicyRegistry } from '../src/kernel/policy.registry.js';
import type { CompiledConvenant } from '../src/policy/index.js';
import { EXAMPLE_CONVENANTS, startTestApp, type TestApp } from './support/app.js';
import { casePairs } from './support/convenant-choices.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { accessTokenFor, clientAssertion, requestToken, unsignedJwt, type Who } from './support/tokens.js';

interface LogRow {
  partner: string | null;
  professional: string | null;
  processing_activity_id: string | null;
  action: string;
  case_id: string | null;
  status: string;
  reason: string | null;
  policy_version: string | null;
}

const PROBLEM_KEYS = ['type', 'title', 'status', 'detail', 'instance', 'traceId', 'error', 'errors'];

/**
 * The partners and purposes a spec needs, chosen from the convenant in force: `first` is its first
 * (partner, purpose) pair, `second` a pair of another partner that is not registered for `first`'s
 * purpose, `otherPurpose` a purpose of the convenant other than `first`'s.
 */
interface AuthChoices {
  first: Required<Pick<Who, 'partner' | 'purpose'>>;
  second: Required<Pick<Who, 'partner' | 'purpose'>>;
  otherPurpose: string;
}

function authChoices(compiled: CompiledConvenant): AuthChoices {
  const pairs = casePairs(compiled);
  const first = pairs[0];
  const second = pairs.find(
    (w) =>
      w.partner !== first?.partner && !compiled.partner(w.partner).purposes.includes(first?.purpose ?? ''),
  );
  const otherPurpose = compiled.convenant.purposes.find((u) => u.id !== first?.purpose)?.id;
  if (!first || !second || !otherPurpose)
    throw new Error(`${compiled.convenant.id} offers no two partners with different purposes`);
  return { first, second, otherPurpose };
}

/**
 * The security matrix of partner authentication, over real HTTP with real keys: every refusal is
 * checked for its status, its problem+json shape, its WWW-Authenticate challenge (401), that it
 * carries no token or data, and that exactly one denial row for it is in the access log.
 */
describe.each(EXAMPLE_CONVENANTS)('partner authentication over HTTP on $name', ({ dir }) => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;
  let compiled: CompiledConvenant;
  /** The first pair's partner and purpose, another partner (not registered for PURPOSE) and its pair. */
  let PARTNER: string;
  let PURPOSE: string;
  let OTHER: Who;
  let OTHER_PURPOSE: string;

  beforeAll(async () => {
    t = await startTestApp({ policyDir: dir });
    server = t.app.getHttpServer();
    compiled = t.app.get(PolicyRegistry).current();
    const choices = authChoices(compiled);
    PARTNER = choices.first.partner;
    PURPOSE = choices.first.purpose;
    OTHER = choices.second;
    OTHER_PURPOSE = choices.otherPurpose;
  });
  afterAll(async () => {
    await t.close();
  });

  async function logRows(traceId: string): Promise<LogRow[]> {
    return t.db.dataSource.query<LogRow[]>(
      `SELECT partner, professional, processing_activity_id, action, case_id, status, reason, policy_version
         FROM access_log WHERE trace_id = $1`,
      [traceId],
    );
  }

  /** Asserts a refusal end to end and returns its one log row. */
  async function expectRefused(
    res: request.Response,
    status: number,
    expected: { slug: string; action?: string; partner?: string | null; detail?: RegExp; challenge?: RegExp },
  ): Promise<LogRow> {
    expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { status } });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe(`https://convenant.dev/problems/${expected.slug}`);
    expect(Object.keys(res.body).every((key) => PROBLEM_KEYS.includes(key))).toBe(true);
    expect(JSON.stringify(res.body)).not.toMatch(/access_token|eyJ/);
    if (expected.detail) expect(res.body.detail).toMatch(expected.detail);
    if (status === 401) {
      expect(res.headers['www-authenticate']).toMatch(
        expected.challenge ?? /^Bearer realm="convenant", error="/,
      );
    } else {
      expect(res.headers['www-authenticate']).toBeUndefined();
    }
    const rows = await logRows(res.body.traceId);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({
      status: 'denied',
      action: expected.action ?? 'authenticate',
      reason: res.body.detail,
    });
    expect(row.policy_version).toBe(compiled.version);
    if (expected.partner !== undefined) expect(row.partner).toBe(expected.partner);
    return row;
  }

  const gatewayJwk = async (): Promise<JWK> =>
    JSON.parse(await readFile(gatewayKeyFile(t.config.keysDir), 'utf8')) as JWK;

  /** An access token as the gateway would sign it, with claims and header overridable. */
  async function craftAccessToken(
    overrides: { claims?: Record<string, unknown>; header?: Record<string, unknown> } = {},
    key?: CryptoKey | Uint8Array,
  ): Promise<string> {
    const jwk = await gatewayJwk();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: t.config.publicUrl,
      aud: `${t.config.publicUrl}/v1`,
      sub: 'p1',
      partner: PARTNER,
      purpose: PURPOSE,
      client_id: PARTNER,
      jti: randomBytes(16).toString('base64url'),
      iat: now,
      exp: now + 60,
      ...overrides.claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid, ...overrides.header })
      .sign(key ?? (await importJWK(jwk, 'ES256')));
  }

  describe('POST /v1/oauth/token', () => {
    it('issues an ES256 at+jwt access token bound to partner, professional and purpose, and logs it', async () => {
      const res = await requestToken(t, {
        assertion: await clientAssertion(t, { partner: PARTNER, professional: 'p1' }),
        purpose: PURPOSE,
      }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: t.config.accessTokenTtlSeconds,
        scope: PURPOSE,
      });
      const header = decodeProtectedHeader(res.body.access_token);
      expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: (await gatewayJwk()).kid });
      const claims = decodeJwt(res.body.access_token);
      expect(claims).toMatchObject({
        iss: t.config.publicUrl,
        aud: `${t.config.publicUrl}/v1`,
        sub: 'p1',
        partner: PARTNER,
        purpose: PURPOSE,
        client_id: PARTNER,
      });
      expect(claims.exp! - claims.iat!).toBe(t.config.accessTokenTtlSeconds);
      expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);

      const rows = await logRows(res.headers['x-request-id']!);
      expect(rows).toEqual([
        expect.objectContaining({
          status: 'allowed',
          action: 'authenticate',
          partner: PARTNER,
          professional: 'p1',
          processing_activity_id: PURPOSE,
          reason: `Access token ${claims.jti} issued for purpose '${PURPOSE}'.`,
        }),
      ]);

      const whoami = await request(server)
        .get('/v1/oauth/whoami')
        .set('authorization', `Bearer ${res.body.access_token}`)
        .expect(200);
      expect(whoami.headers['cache-control']).toBe('no-store');
      expect(whoami.body).toEqual({
        partner: PARTNER,
        professional: 'p1',
        purpose: PURPOSE,
        tokenId: claims.jti,
      });
    });

    it('accepts the request as JSON too', async () => {
      const res = await request(server)
        .post('/v1/oauth/token')
        .send({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await clientAssertion(t, { partner: OTHER.partner }),
          scope: OTHER.purpose,
        })
        .expect(200);
      expect(res.body.scope).toBe(OTHER.purpose);
    });

    it('refuses alg none (401), naming the claimed partner in the log', async () => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = unsignedJwt(
        { alg: 'none', typ: 'JWT' },
        {
          iss: PARTNER,
          sub: PARTNER,
          aud: `${t.config.publicUrl}/v1/oauth/token`,
          iat: now,
          exp: now + 60,
          jti: randomBytes(16).toString('base64url'),
          professional: 'p1',
        },
      );
      const res = await requestToken(t, { assertion, purpose: PURPOSE });
      const row = await expectRefused(res, 401, {
        slug: 'invalid-client',
        partner: PARTNER,
        detail: /'none'/,
      });
      expect(row.professional).toBeNull();
    });

    it("refuses HS256 signed with the partner's public key as the secret (key confusion)", async () => {
      const jwks = JSON.parse(await readFile(`${t.config.keysDir}/${PARTNER}.jwks.json`, 'utf8')) as {
        keys: JWK[];
      };
      const publicJwk = jwks.keys[0]!;
      const pem = await exportSPKI((await importJWK(publicJwk, 'ES256', { extractable: true })) as CryptoKey);
      for (const secret of [
        new TextEncoder().encode(pem),
        new TextEncoder().encode(JSON.stringify(publicJwk)),
      ]) {
        const assertion = await clientAssertion(t, {
          partner: PARTNER,
          header: { alg: 'HS256' },
          key: secret,
        });
        const res = await requestToken(t, { assertion, purpose: PURPOSE });
        await expectRefused(res, 401, { slug: 'invalid-client', partner: PARTNER, detail: /'HS256'/ });
      }
    });

    it('refuses an expired assertion', async () => {
      const assertion = await clientAssertion(t, { partner: PARTNER, iatOffset: -200, lifetimeSeconds: 120 });
      await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        partner: PARTNER,
        detail: /expired/,
      });
    });

    it('refuses an assertion that is not valid yet (nbf), or issued in the future (iat)', async () => {
      const nbf = Math.floor(Date.now() / 1000) + 120;
      const early = await clientAssertion(t, { partner: PARTNER, claims: { nbf } });
      await expectRefused(await requestToken(t, { assertion: early, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        detail: /not valid yet/,
      });
      const future = await clientAssertion(t, { partner: PARTNER, iatOffset: 120 });
      await expectRefused(await requestToken(t, { assertion: future, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        detail: /issued in the future/,
      });
    });

    it('refuses a lifetime (exp − iat) over 5 minutes', async () => {
      const assertion = await clientAssertion(t, { partner: PARTNER, lifetimeSeconds: 301 });
      await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        partner: PARTNER,
        detail: /lives 301 s/,
      });
    });

    it('refuses an assertion without exp, iat or jti', async () => {
      for (const claim of ['exp', 'iat', 'jti']) {
        const assertion = await clientAssertion(t, { partner: PARTNER, claims: { [claim]: undefined } });
        await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 401, {
          slug: 'invalid-client',
        });
      }
    });

    it('refuses a wrong audience', async () => {
      for (const aud of [`${t.config.publicUrl}/v1`, 'https://elsewhere.example/v1/oauth/token']) {
        const assertion = await clientAssertion(t, { partner: PARTNER, claims: { aud } });
        await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 401, {
          slug: 'invalid-client',
          partner: PARTNER,
          detail: /audience must be/,
        });
      }
    });

    it('refuses an issuer that is no partner, and logs no partner for it', async () => {
      const iss = 'x'.repeat(300);
      const assertion = await clientAssertion(t, { partner: PARTNER, claims: { iss, sub: iss } });
      const row = await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        partner: null,
        detail: /issuer is not a partner/,
      });
      expect(row.reason).not.toContain('xxx');
    });

    it("refuses one partner's key used to claim another partner (unknown kid for that partner)", async () => {
      // Signed with the first partner's key and kid, claiming to be the other partner.
      const assertion = await clientAssertion(t, {
        partner: PARTNER,
        claims: { iss: OTHER.partner, sub: OTHER.partner },
      });
      await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        partner: OTHER.partner,
        detail: new RegExp(`kid does not name one key of partner '${OTHER.partner}'`),
      });
    });

    it('refuses sub different from iss', async () => {
      const assertion = await clientAssertion(t, { partner: PARTNER, claims: { sub: 'someone' } });
      await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        detail: /iss and sub must both be the partner id/,
      });
    });

    it('refuses an unknown kid, and a missing kid', async () => {
      const unknown = await clientAssertion(t, {
        partner: PARTNER,
        header: { kid: `not-a-key-of-${PARTNER}` },
      });
      await expectRefused(await requestToken(t, { assertion: unknown, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        partner: PARTNER,
        detail: /kid does not name one key/,
      });
      const missing = await clientAssertion(t, { partner: PARTNER, header: { kid: undefined } });
      await expectRefused(await requestToken(t, { assertion: missing, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        detail: /must name its key with 'kid'/,
      });
    });

    it("refuses a signature by another key under the partner's kid", async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const assertion = await clientAssertion(t, { partner: PARTNER, key: privateKey });
      await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        partner: PARTNER,
        detail: /signature does not verify/,
      });
    });

    it('refuses a replayed assertion (same jti) on the same instance', async () => {
      const assertion = await clientAssertion(t, { partner: PARTNER });
      await requestToken(t, { assertion, purpose: PURPOSE }).expect(200);
      await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 401, {
        slug: 'invalid-client',
        partner: PARTNER,
        detail: /used before/,
      });
    });

    it('refuses a jti under 128 bits, and a missing or malformed professional', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ jti: 'short-jti-1234' }, /128 random bits/],
        [{ professional: undefined }, /'professional' claim/],
        [{ professional: 'Jan de Vries' }, /'professional' claim/],
        [{ professional: 'p'.repeat(65) }, /'professional' claim/],
      ];
      for (const [claims, detail] of cases) {
        const assertion = await clientAssertion(t, { partner: PARTNER, claims });
        await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 401, {
          slug: 'invalid-client',
          detail,
        });
      }
    });

    it('refuses a purpose that is not in the convenant (403)', async () => {
      const assertion = await clientAssertion(t, { partner: PARTNER, professional: 'p1' });
      const row = await expectRefused(await requestToken(t, { assertion, purpose: 'marketing' }), 403, {
        slug: 'purpose-not-allowed',
        partner: PARTNER,
        detail: /Purpose 'marketing' is not in the convenant/,
      });
      expect(row).toMatchObject({ professional: 'p1', processing_activity_id: null });
    });

    it('refuses a purpose the partner is not registered for (403)', async () => {
      const assertion = await clientAssertion(t, { partner: OTHER.partner, professional: 'agent-7' });
      const res = await requestToken(t, { assertion, purpose: PURPOSE });
      expect(res.body.error).toBe('invalid_scope');
      const row = await expectRefused(res, 403, {
        slug: 'purpose-not-allowed',
        partner: OTHER.partner,
        detail: new RegExp(`not registered for purpose '${PURPOSE}'`),
      });
      expect(row).toMatchObject({ professional: 'agent-7', processing_activity_id: PURPOSE });
    });

    it('refuses a scope that differs from the purpose the partner signed', async () => {
      const assertion = await clientAssertion(t, { partner: PARTNER, claims: { purpose: OTHER_PURPOSE } });
      await expectRefused(await requestToken(t, { assertion, purpose: PURPOSE }), 403, {
        slug: 'purpose-not-allowed',
        detail: /differs from the 'purpose'/,
      });
    });

    it('refuses malformed requests with 400 and logs them', async () => {
      const good = await clientAssertion(t, { partner: PARTNER });
      const cases: [Record<string, string | null>, RegExp][] = [
        [{ grant_type: 'password' }, /client_credentials/],
        [{ client_assertion_type: 'urn:other' }, /client_assertion_type/],
        [{ client_assertion: null }, /client_assertion is missing/],
        [{ client_assertion: 'not-a-jwt' }, /compact form/],
        [{ scope: null }, /scope is missing/],
        [{ scope: `${PURPOSE} ${OTHER_PURPOSE}` }, /exactly one purpose/],
      ];
      for (const [params, detail] of cases) {
        const res = await requestToken(t, { assertion: good, purpose: PURPOSE, params });
        await expectRefused(res, 400, { slug: 'invalid-token-request', detail });
      }
    });

    it('refuses a client assertion in the query string (400), before reading the body', async () => {
      const assertion = await clientAssertion(t, { partner: PARTNER });
      const res = await requestToken(t, { assertion, purpose: PURPOSE }).query({
        client_assertion: assertion,
      });
      await expectRefused(res, 400, { slug: 'token-in-url', detail: /never accepted in URLs/ });
    });
  });

  describe('access-token guard (GET /v1/oauth/whoami)', () => {
    const whoami = (authorization?: string, query?: Record<string, string>) => {
      const req = request(server).get('/v1/oauth/whoami');
      if (query) void req.query(query);
      return authorization === undefined ? req : req.set('authorization', authorization);
    };

    it('refuses a missing token with a bare Bearer challenge', async () => {
      const res = await whoami();
      expect(res.headers['www-authenticate']).toBe('Bearer realm="convenant"');
      await expectRefused(res, 401, {
        slug: 'unauthenticated',
        action: 'read',
        challenge: /^Bearer realm="convenant"$/,
      });
    });

    it('refuses a token in the query string (400), even next to a valid header', async () => {
      const token = await accessTokenFor(t, { partner: PARTNER, purpose: PURPOSE });
      for (const query of [{ access_token: token }, { q: token }] as Record<string, string>[]) {
        const res = await whoami(`Bearer ${token}`, query);
        await expectRefused(res, 400, { slug: 'token-in-url', action: 'read', partner: null });
      }
    });

    it('refuses other schemes and garbage', async () => {
      await expectRefused(await whoami('Basic dnRycjpzZWNyZXQ='), 401, {
        slug: 'invalid-token',
        action: 'read',
      });
      await expectRefused(await whoami('Bearer not.a.jwt'), 401, { slug: 'invalid-token', action: 'read' });
    });

    it('refuses an expired access token', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await craftAccessToken({ claims: { iat: now - 600, exp: now - 300 } });
      await expectRefused(await whoami(`Bearer ${token}`), 401, {
        slug: 'invalid-token',
        action: 'read',
        detail: /expired/,
        challenge:
          /^Bearer realm="convenant", error="invalid_token", error_description="The access token has expired/,
      });
    });

    it('refuses wrong audience, wrong issuer and a missing typ', async () => {
      const cases = [
        { claims: { aud: `${t.config.publicUrl}/v1/oauth/token` } },
        { claims: { iss: 'https://elsewhere.example' } },
        { header: { typ: 'JWT' } },
      ];
      for (const overrides of cases) {
        await expectRefused(await whoami(`Bearer ${await craftAccessToken(overrides)}`), 401, {
          slug: 'invalid-token',
          action: 'read',
        });
      }
    });

    it('refuses alg none, HS256 with the gateway public key, and a token signed by a partner key', async () => {
      const jwk = await gatewayJwk();
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: t.config.publicUrl,
        aud: `${t.config.publicUrl}/v1`,
        sub: 'p1',
        partner: PARTNER,
        purpose: PURPOSE,
        jti: 'x'.repeat(22),
        iat: now,
        exp: now + 60,
      };
      const none = unsignedJwt({ alg: 'none', typ: 'at+jwt' }, claims);
      const { d: _d, ...publicJwk } = jwk;
      const hs = await craftAccessToken(
        { header: { alg: 'HS256' } },
        new TextEncoder().encode(JSON.stringify(publicJwk)),
      );
      const partnerJwk = JSON.parse(
        await readFile(`${t.config.keysDir}/${PARTNER}.private.jwk.json`, 'utf8'),
      ) as JWK;
      const byPartner = await craftAccessToken(
        { header: { kid: partnerJwk.kid } },
        await importJWK(partnerJwk, 'ES256'),
      );
      for (const token of [none, hs, byPartner]) {
        await expectRefused(await whoami(`Bearer ${token}`), 401, { slug: 'invalid-token', action: 'read' });
      }
    });

    it('refuses a client assertion presented as an access token', async () => {
      const assertion = await clientAssertion(t, { partner: PARTNER });
      await expectRefused(await whoami(`Bearer ${assertion}`), 401, {
        slug: 'invalid-token',
        action: 'read',
      });
    });

    it('refuses (403) a valid token whose purpose the convenant in force does not register for the partner', async () => {
      const token = await craftAccessToken({ claims: { partner: OTHER.partner, purpose: PURPOSE } });
      const row = await expectRefused(await whoami(`Bearer ${token}`), 403, {
        slug: 'token-not-allowed',
        action: 'read',
        partner: OTHER.partner,
        detail: new RegExp(`no longer registered for purpose '${PURPOSE}'`),
      });
      expect(row.professional).toBe('p1');
      const gone = await craftAccessToken({ claims: { partner: 'opgeheven' } });
      await expectRefused(await whoami(`Bearer ${gone}`), 403, {
        slug: 'token-not-allowed',
        action: 'read',
        partner: null,
      });
    });

    it('serves a second request with the same token from the verified-token cache', async () => {
      const token = await accessTokenFor(t, { ...OTHER, professional: 'w-12' });
      for (let i = 0; i < 3; i++) {
        const res = await whoami(`Bearer ${token}`).expect(200);
        expect(res.body).toMatchObject({
          partner: OTHER.partner,
          professional: 'w-12',
          purpose: OTHER.purpose,
        });
      }
    });
  });

  describe('fail closed', () => {
    it('answers 503 and issues no token when the access log cannot be written', async () => {
      const assertion = await clientAssertion(t, { partner: PARTNER });
      await t.db.dataSource.query('ALTER TABLE access_log RENAME TO access_log_away');
      try {
        const res = await requestToken(t, { assertion, purpose: PURPOSE });
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ type: 'https://convenant.dev/problems/log-unavailable' });
        expect(JSON.stringify(res.body)).not.toMatch(/access_token|eyJ/);
        const guarded = await request(server).get('/v1/oauth/whoami');
        expect(guarded.status).toBe(503);
      } finally {
        await t.db.dataSource.query('ALTER TABLE access_log_away RENAME TO access_log');
      }
    });
  });
});

describe('single-use client assertions across gateway instances', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let first: Who;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    a = await startTestApp({ db });
    // Same database and the same data folder (keys), as two instances behind one load balancer.
    b = await startTestApp({ db, dataDir: a.config.dataDir, devKeys: false });
    first = casePairs(a.app.get(PolicyRegistry).current())[0]!;
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await db.drop();
  });

  it('accepts the same assertion exactly once when sent to two instances at the same time', async () => {
    for (let round = 0; round < 5; round++) {
      const assertion = await clientAssertion(a, { partner: first.partner });
      const purpose = first.purpose;
      const results = await Promise.all([
        requestToken(a, { assertion, purpose }),
        requestToken(b, { assertion, purpose }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
      const refused = results.find((r) => r.status === 401)!;
      expect(refused.body.detail).toMatch(/used before/);
      const rows = await db.dataSource.query<{ status: string }[]>(
        'SELECT status FROM access_log WHERE trace_id = $1',
        [refused.body.traceId],
      );
      expect(rows).toEqual([{ status: 'denied' }]);
    }
  });
});

describe.each(EXAMPLE_CONVENANTS)('partner keys at start-up on $name', ({ dir }) => {
  it('in the demo, generates keys for partners whose key file exists nowhere, so the flow works at once', async () => {
    const t = await startTestApp({ policyDir: dir, devKeys: false, env: { DEMO: 'true' } });
    try {
      const compiled = t.app.get(PolicyRegistry).current();
      // Every partner of the convenant, officers too, can sign in at once.
      for (const partner of compiled.convenant.partners) {
        const who = { partner: partner.id, purpose: partner.purposes[0]! };
        await expect(accessTokenFor(t, who)).resolves.toMatch(/^eyJ/);
      }
    } finally {
      await t.close();
    }
  });

  it('without the demo, generates nothing: a partner without keys is refused (401) and the refusal logged', async () => {
    const t = await startTestApp({ policyDir: dir, devKeys: false, env: { DEMO: 'false' } });
    try {
      const { partner, purpose } = casePairs(t.app.get(PolicyRegistry).current())[0]!;
      // The partner's private key exists only for signing here; its public half is withheld.
      const [files] = await generateDevKeys(
        [t.app.get(PolicyRegistry).current().partner(partner)],
        t.config.keysDir,
      );
      await rm(files!.publicFile);
      const res = await requestToken(t, {
        assertion: await clientAssertion(t, { partner }),
        purpose,
      });
      expect(res.status).toBe(401);
      expect(res.body.detail).toBe(
        `No public keys are available for partner '${partner}'; ask the gateway operator.`,
      );
      const rows = await t.db.dataSource.query<{ status: string; partner: string }[]>(
        'SELECT status, partner FROM access_log WHERE trace_id = $1',
        [res.body.traceId],
      );
      expect(rows).toEqual([{ status: 'denied', partner }]);
    } finally {
      await t.close();
    }
  });
});
