import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { AccessLogRepository } from '../src/access-log/access-log.repository.js';
import { AccessLogSealer } from '../src/access-log/access-log.sealer.js';
import type { AccessLogEntry } from '../src/access-log/access-log.types.js';
import { readChain, readCheckpoints } from '../src/access-log/chain.repository.js';
import { verifyChain } from '../src/access-log/verify.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestApp, type TestApp } from './support/app.js';
import { bearerFor } from './support/tokens.js';

const entry = (n: number): AccessLogEntry => ({
  requestId: null,
  traceId: randomBytes(16).toString('hex'),
  partner: 'vtrr',
  professional: `p${n % 7}`,
  purpose: 'triage',
  legalBasis: ['avg-6-1-e'],
  action: 'read',
  caseId: null,
  dataSubjectRef: `s${n}`,
  fields: ['veiligheid.risiconiveau'],
  status: n % 5 === 0 ? 'denied' : 'allowed',
  ruleId: null,
  reason: `entry ${n}`,
  policyVersion: '2026.1',
  emergency: false,
});

describe('two gateway instances sealing one access log', () => {
  let db: TestDatabase;
  let dataDir: string;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    // One data folder: the instances share the gateway key, as in production.
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'convenant-seal-'));
    const env = { SEAL_INTERVAL_MS: '15', CHECKPOINT_EVERY: '40', CHECKPOINT_INTERVAL_MS: '60000' };
    a = await startTestApp({ db, dataDir, env });
    b = await startTestApp({ db, dataDir, env, devKeys: false });
  });
  afterAll(async () => {
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('publishes the checkpoint key as a JWKS, without authentication', async () => {
    const res = await request(a.app.getHttpServer()).get('/v1/audit/keys').expect(200);
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(res.body.keys[0].kid).toEqual(expect.any(String));
    expect(res.body.keys[0].d).toBeUndefined();
  });

  it('writes one unbroken chain, every entry sealed exactly once, while both sealers race', async () => {
    const logA = a.app.get(AccessLogRepository);
    const logB = b.app.get(AccessLogRepository);
    const writes: Promise<void>[] = [];
    for (let n = 0; n < 600; n++) {
      writes.push((n % 2 === 0 ? logA : logB).append([entry(n), entry(n + 10_000)]));
      if (n % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(writes);
    const jwks = (await request(a.app.getHttpServer()).get('/v1/audit/keys')).body as { keys: [object] };
    // Graceful shutdown seals what is left and writes a final checkpoint.
    await a.close();
    await b.close();

    const report = await verifyChain({
      rows: readChain(db.dataSource),
      checkpoints: await readCheckpoints(db.dataSource),
      publicJwk: jwks.keys[0],
    });
    // 600 × 2 appended here, plus one entry for each of this file's two GET /v1/audit/keys:
    // every request under /v1 leaves its entry.
    expect(report).toMatchObject({ ok: true, entries: 1202, pending: 0 });
    expect(report.checkpoints).toBeGreaterThanOrEqual(2);
    const [counts] = await db.dataSource.query<
      {
        logged: number;
        sealed: number;
        last_checkpoint: number;
      }[]
    >(`
      SELECT (SELECT count(*) FROM access_log)::int AS logged,
             (SELECT count(DISTINCT seq) FROM access_log_seal)::int AS sealed,
             (SELECT max(position) FROM access_log_checkpoint)::int AS last_checkpoint`);
    expect(counts).toEqual({ logged: 1202, sealed: 1202, last_checkpoint: 1202 });
  });
});

describe('GET /v1/audit/verify', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { SEAL_INTERVAL_MS: '3600000', CHECKPOINT_EVERY: '3' } });
    const log = t.app.get(AccessLogRepository);
    for (let n = 0; n < 7; n++) await log.append([entry(n)]);
    await t.app.get(AccessLogSealer).trigger();
  });
  afterAll(async () => {
    await t.close();
  });

  it('lets a privacy officer verify the chain, and logs the verification', async () => {
    const officer = await bearerFor(t, { partner: 'fg', purpose: 'toezicht', professional: 'fg-1' });
    const res = await request(t.app.getHttpServer())
      .get('/v1/audit/verify')
      .set('authorization', officer)
      .expect(200);
    expect(res.body).toMatchObject({ ok: true, failure: null });
    expect(res.body.checkpoints).toBeGreaterThanOrEqual(1);
    expect(res.body.entries).toBeGreaterThanOrEqual(7);
    const rows = await t.db.dataSource.query<{ reason: string }[]>(
      `SELECT reason FROM access_log WHERE action = 'audit' AND professional = 'fg-1'`,
    );
    expect(rows.map((r) => r.reason)).toEqual([expect.stringMatching(/integrity verified .*: ok/)]);
  });

  it('refuses a partner that is not a privacy officer, and a malformed range', async () => {
    const vtrr = await bearerFor(t, { partner: 'vtrr', purpose: 'triage' });
    await request(t.app.getHttpServer()).get('/v1/audit/verify').set('authorization', vtrr).expect(403);
    await request(t.app.getHttpServer()).get('/v1/audit/verify').expect(401);
    const officer = await bearerFor(t, { partner: 'fg', purpose: 'toezicht', professional: 'fg-1' });
    await request(t.app.getHttpServer())
      .get('/v1/audit/verify')
      .query({ from: '0' })
      .set('authorization', officer)
      .expect(400);
  });
});
