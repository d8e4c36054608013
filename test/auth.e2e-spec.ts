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
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { accessTokenFor, clientAssertion, requestToken, unsignedJwt } from './support/tokens.js';

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
 * The security matrix of partner authentication, over real HTTP with real keys: every refusal is
 * checked for its status, its problem+json shape, its WWW-Authenticate challenge (401), that it
 * carries no token or data, and that exactly one denial row for it is in the access log.
 */
describe('partner authentication over HTTP', () => {
  let t: TestApp;
  let server: ReturnType<TestApp['app']['getHttpServer']>;

  beforeAll(async () => {
    t = await startTestApp();
    server = t.app.getHttpServer();
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
    expect(row.policy_version).toMatch(/^2026\.\d+\+/);
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
      partner: 'vtrr',
      purpose: 'triage',
      client_id: 'vtrr',
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
        assertion: await clientAssertion(t, { partner: 'vtrr', professional: 'p1' }),
        purpose: 'triage',
      }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: t.config.accessTokenTtlSeconds,
        scope: 'triage',
      });
      const header = decodeProtectedHeader(res.body.access_token);
      expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: (await gatewayJwk()).kid });
      const claims = decodeJwt(res.body.access_token);
      expect(claims).toMatchObject({
        iss: t.config.publicUrl,
        aud: `${t.config.publicUrl}/v1`,
        sub: 'p1',
        partner: 'vtrr',
        purpose: 'triage',
        client_id: 'vtrr',
      });
      expect(claims.exp! - claims.iat!).toBe(t.config.accessTokenTtlSeconds);
      expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);

      const rows = await logRows(res.headers['x-request-id']!);
      expect(rows).toEqual([
        expect.objectContaining({
          status: 'allowed',
          action: 'authenticate',
          partner: 'vtrr',
          professional: 'p1',
          processing_activity_id: 'triage',
          reason: `Access token ${claims.jti} issued for purpose 'triage'.`,
        }),
      ]);

      const whoami = await request(server)
        .get('/v1/oauth/whoami')
        .set('authorization', `Bearer ${res.body.access_token}`)
        .expect(200);
      expect(whoami.headers['cache-control']).toBe('no-store');
      expect(whoami.body).toEqual({
        partner: 'vtrr',
        professional: 'p1',
        purpose: 'triage',
        tokenId: claims.jti,
      });
    });

    it('accepts the request as JSON too', async () => {
      const res = await request(server)
        .post('/v1/oauth/token')
        .send({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await clientAssertion(t, { partner: 'politie' }),
          scope: 'acute-veiligheid',
        })
        .expect(200);
      expect(res.body.scope).toBe('acute-veiligheid');
    });

    it('refuses alg none (401), naming the claimed partner in the log', async () => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = unsignedJwt(
        { alg: 'none', typ: 'JWT' },
        {
          iss: 'vtrr',
          sub: 'vtrr',
          aud: `${t.config.publicUrl}/v1/oauth/token`,
          iat: now,
          exp: now + 60,
          jti: randomBytes(16).toString('base64url'),
          professional: 'p1',
        },
      );
      const res = await requestToken(t, { assertion });
      const row = await expectRefused(res, 401, {
        slug: 'invalid-client',
        partner: 'vtrr',
        detail: /'none'/,
      });
      expect(row.professional).toBeNull();
    });

    it("refuses HS256 signed with the partner's public key as the secret (key confusion)", async () => {
      const jwks = JSON.parse(await readFile(`${t.config.keysDir}/vtrr.jwks.json`, 'utf8')) as {
        keys: JWK[];
      };
      const publicJwk = jwks.keys[0]!;
      const pem = await exportSPKI((await importJWK(publicJwk, 'ES256', { extractable: true })) as CryptoKey);
      for (const secret of [
        new TextEncoder().encode(pem),
        new TextEncoder().encode(JSON.stringify(publicJwk)),
      ]) {
        const assertion = await clientAssertion(t, {
          partner: 'vtrr',
          header: { alg: 'HS256' },
          key: secret,
        });
        const res = await requestToken(t, { assertion });
        await expectRefused(res, 401, { slug: 'invalid-client', partner: 'vtrr', detail: /'HS256'/ });
      }
    });

    it('refuses an expired assertion', async () => {
      const assertion = await clientAssertion(t, { partner: 'vtrr', iatOffset: -200, lifetimeSeconds: 120 });
      await expectRefused(await requestToken(t, { assertion }), 401, {
        slug: 'invalid-client',
        partner: 'vtrr',
        detail: /expired/,
      });
    });

    it('refuses an assertion that is not valid yet (nbf), or issued in the future (iat)', async () => {
      const nbf = Math.floor(Date.now() / 1000) + 120;
      const early = await clientAssertion(t, { partner: 'vtrr', claims: { nbf } });
      await expectRefused(await requestToken(t, { assertion: early }), 401, {
        slug: 'invalid-client',
        detail: /not valid yet/,
      });
      const future = await clientAssertion(t, { partner: 'vtrr', iatOffset: 120 });
      await expectRefused(await requestToken(t, { assertion: future }), 401, {
        slug: 'invalid-client',
        detail: /issued in the future/,
      });
    });

    it('refuses a lifetime (exp − iat) over 5 minutes', async () => {
      const assertion = await clientAssertion(t, { partner: 'vtrr', lifetimeSeconds: 301 });
      await expectRefused(await requestToken(t, { assertion }), 401, {
        slug: 'invalid-client',
        partner: 'vtrr',
        detail: /lives 301 s/,
      });
    });

    it('refuses an assertion without exp, iat or jti', async () => {
      for (const claim of ['exp', 'iat', 'jti']) {
        const assertion = await clientAssertion(t, { partner: 'vtrr', claims: { [claim]: undefined } });
        await expectRefused(await requestToken(t, { assertion }), 401, { slug: 'invalid-client' });
      }
    });

    it('refuses a wrong audience', async () => {
      for (const aud of [`${t.config.publicUrl}/v1`, 'https://elsewhere.example/v1/oauth/token']) {
        const assertion = await clientAssertion(t, { partner: 'vtrr', claims: { aud } });
        await expectRefused(await requestToken(t, { assertion }), 401, {
          slug: 'invalid-client',
          partner: 'vtrr',
          detail: /audience must be/,
        });
      }
    });

    it('refuses an issuer that is no partner, and logs no partner for it', async () => {
      const iss = 'x'.repeat(300);
      const assertion = await clientAssertion(t, { partner: 'vtrr', claims: { iss, sub: iss } });
      const row = await expectRefused(await requestToken(t, { assertion }), 401, {
        slug: 'invalid-client',
        partner: null,
        detail: /issuer is not a partner/,
      });
      expect(row.reason).not.toContain('xxx');
    });

    it("refuses one partner's key used to claim another partner (unknown kid for that partner)", async () => {
      // Signed with vtrr's key and kid, claiming to be politie.
      const assertion = await clientAssertion(t, {
        partner: 'vtrr',
        claims: { iss: 'politie', sub: 'politie' },
      });
      await expectRefused(await requestToken(t, { assertion }), 401, {
        slug: 'invalid-client',
        partner: 'politie',
        detail: /kid does not name one key of partner 'politie'/,
      });
    });

    it('refuses sub different from iss', async () => {
      const assertion = await clientAssertion(t, { partner: 'vtrr', claims: { sub: 'someone' } });
      await expectRefused(await requestToken(t, { assertion }), 401, {
        slug: 'invalid-client',
        detail: /iss and sub must both be the partner id/,
      });
    });

    it('refuses an unknown kid, and a missing kid', async () => {
      const unknown = await clientAssertion(t, { partner: 'vtrr', header: { kid: 'not-a-key-of-vtrr' } });
      await expectRefused(await requestToken(t, { assertion: unknown }), 401, {
        slug: 'invalid-client',
        partner: 'vtrr',
        detail: /kid does not name one key/,
      });
      const missing = await clientAssertion(t, { partner: 'vtrr', header: { kid: undefined } });
      await expectRefused(await requestToken(t, { assertion: missing }), 401, {
        slug: 'invalid-client',
        detail: /must name its key with 'kid'/,
      });
    });

    it("refuses a signature by another key under the partner's kid", async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const assertion = await clientAssertion(t, { partner: 'vtrr', key: privateKey });
      await expectRefused(await requestToken(t, { assertion }), 401, {
        slug: 'invalid-client',
        partner: 'vtrr',
        detail: /signature does not verify/,
      });
    });

    it('refuses a replayed assertion (same jti) on the same instance', async () => {
      const assertion = await clientAssertion(t, { partner: 'vtrr' });
      await requestToken(t, { assertion }).expect(200);
      await expectRefused(await requestToken(t, { assertion }), 401, {
        slug: 'invalid-client',
        partner: 'vtrr',
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
        const assertion = await clientAssertion(t, { partner: 'vtrr', claims });
        await expectRefused(await requestToken(t, { assertion }), 401, { slug: 'invalid-client', detail });
      }
    });

    it('refuses a purpose that is not in the convenant (403)', async () => {
      const assertion = await clientAssertion(t, { partner: 'vtrr', professional: 'p1' });
      const row = await expectRefused(await requestToken(t, { assertion, purpose: 'marketing' }), 403, {
        slug: 'purpose-not-allowed',
        partner: 'vtrr',
        detail: /Purpose 'marketing' is not in the convenant/,
      });
      expect(row).toMatchObject({ professional: 'p1', processing_activity_id: null });
    });

    it('refuses a purpose the partner is not registered for (403)', async () => {
      const assertion = await clientAssertion(t, { partner: 'politie', professional: 'agent-7' });
      const res = await requestToken(t, { assertion, purpose: 'triage' });
      expect(res.body.error).toBe('invalid_scope');
      const row = await expectRefused(res, 403, {
        slug: 'purpose-not-allowed',
        partner: 'politie',
        detail: /not registered for purpose 'triage'/,
      });
      expect(row).toMatchObject({ professional: 'agent-7', processing_activity_id: 'triage' });
    });

    it('refuses a scope that differs from the purpose the partner signed', async () => {
      const assertion = await clientAssertion(t, { partner: 'vtrr', claims: { purpose: 'nazorg' } });
      await expectRefused(await requestToken(t, { assertion, purpose: 'triage' }), 403, {
        slug: 'purpose-not-allowed',
        detail: /differs from the 'purpose'/,
      });
    });

    it('refuses malformed requests with 400 and logs them', async () => {
      const good = await clientAssertion(t, { partner: 'vtrr' });
      const cases: [Record<string, string | null>, RegExp][] = [
        [{ grant_type: 'password' }, /client_credentials/],
        [{ client_assertion_type: 'urn:other' }, /client_assertion_type/],
        [{ client_assertion: null }, /client_assertion is missing/],
        [{ client_assertion: 'not-a-jwt' }, /compact form/],
        [{ scope: null }, /scope is missing/],
        [{ scope: 'triage nazorg' }, /exactly one purpose/],
      ];
      for (const [params, detail] of cases) {
        const res = await requestToken(t, { assertion: good, params });
        await expectRefused(res, 400, { slug: 'invalid-token-request', detail });
      }
    });

    it('refuses a client assertion in the query string (400), before reading the body', async () => {
      const assertion = await clientAssertion(t, { partner: 'vtrr' });
      const res = await requestToken(t, { assertion }).query({ client_assertion: assertion });
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
      const token = await accessTokenFor(t, { partner: 'vtrr', purpose: 'triage' });
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
        partner: 'vtrr',
        purpose: 'triage',
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
        await readFile(`${t.config.keysDir}/vtrr.private.jwk.json`, 'utf8'),
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
      const assertion = await clientAssertion(t, { partner: 'vtrr' });
      await expectRefused(await whoami(`Bearer ${assertion}`), 401, {
        slug: 'invalid-token',
        action: 'read',
      });
    });

    it('refuses (403) a valid token whose purpose the convenant in force does not register for the partner', async () => {
      const token = await craftAccessToken({ claims: { partner: 'politie', purpose: 'triage' } });
      const row = await expectRefused(await whoami(`Bearer ${token}`), 403, {
        slug: 'token-not-allowed',
        action: 'read',
        partner: 'politie',
        detail: /no longer registered for purpose 'triage'/,
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
      const token = await accessTokenFor(t, { partner: 'wijkteam', purpose: 'nazorg', professional: 'w-12' });
      for (let i = 0; i < 3; i++) {
        const res = await whoami(`Bearer ${token}`).expect(200);
        expect(res.body).toMatchObject({ partner: 'wijkteam', professional: 'w-12', purpose: 'nazorg' });
      }
    });
  });

  describe('fail closed', () => {
    it('answers 503 and issues no token when the access log cannot be written', async () => {
      const assertion = await clientAssertion(t, { partner: 'vtrr' });
      await t.db.dataSource.query('ALTER TABLE access_log RENAME TO access_log_away');
      try {
        const res = await requestToken(t, { assertion });
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

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    a = await startTestApp({ db });
    // Same database and the same data folder (keys), as two instances behind one load balancer.
    b = await startTestApp({ db, dataDir: a.config.dataDir, devKeys: false });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await db.drop();
  });

  it('accepts the same assertion exactly once when sent to two instances at the same time', async () => {
    for (let round = 0; round < 5; round++) {
      const assertion = await clientAssertion(a, { partner: 'vtrr' });
      const results = await Promise.all([requestToken(a, { assertion }), requestToken(b, { assertion })]);
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

describe('partner keys at start-up', () => {
  it('in the demo, generates keys for partners whose key file exists nowhere, so the flow works at once', async () => {
    const t = await startTestApp({ devKeys: false, env: { DEMO: 'true' } });
    try {
      await expect(accessTokenFor(t, { partner: 'vtrr', purpose: 'triage' })).resolves.toMatch(/^eyJ/);
    } finally {
      await t.close();
    }
  });

  it('without the demo, generates nothing: a partner without keys is refused (401) and the refusal logged', async () => {
    const t = await startTestApp({ devKeys: false, env: { DEMO: 'false' } });
    try {
      // The partner's private key exists only for signing here; its public half is withheld.
      const [files] = await generateDevKeys(
        [t.app.get(PolicyRegistry).current().partner('vtrr')],
        t.config.keysDir,
      );
      await rm(files!.publicFile);
      const res = await requestToken(t, { assertion: await clientAssertion(t, { partner: 'vtrr' }) });
      expect(res.status).toBe(401);
      expect(res.body.detail).toBe(
        "No public keys are available for partner 'vtrr'; ask the gateway operator.",
      );
      const rows = await t.db.dataSource.query<{ status: string; partner: string }[]>(
        'SELECT status, partner FROM access_log WHERE trace_id = $1',
        [res.body.traceId],
      );
      expect(rows).toEqual([{ status: 'denied', partner: 'vtrr' }]);
    } finally {
      await t.close();
    }
  });
});
