import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { JWK } from 'jose';
import request from 'supertest';
import { AccessLogRepository } from '../src/access-log/access-log.repository.js';
import { AccessLogSealer } from '../src/access-log/access-log.sealer.js';
import type { AccessLogEntry } from '../src/access-log/access-log.types.js';
import { leafHash, verifyInclusion } from '../src/access-log/merkle.js';
import type { InclusionProof, SignedTreeHead } from '../src/access-log/tree.js';
import { checkTreeHead } from '../src/access-log/witness.js';
import { run } from '../src/cli/program.js';
import { startTestApp, type TestApp } from './support/app.js';
import { bearerFor } from './support/tokens.js';

const entry = (n: number): AccessLogEntry => ({
  requestId: null,
  traceId: randomBytes(16).toString('hex'),
  partner: 'vtrr',
  professional: 'p1',
  purpose: 'triage',
  legalBasis: [],
  action: 'read',
  caseId: null,
  dataSubjectRef: `s${n}`,
  fields: [],
  status: 'allowed',
  ruleId: null,
  reason: `entry ${n}`,
  policyVersion: '2026.1',
  emergency: false,
});

/** The witness endpoints over the real HTTP stack, a witness fetching them, and the unsealed bound in the API. */
describe('GET /v1/audit/checkpoint, /consistency, /inclusion and a witness over HTTP', () => {
  let t: TestApp;
  let base: string;
  let dir: string;
  let jwks: { keys: JWK[] };

  const seal = async (from: number, count: number) => {
    const log = t.app.get(AccessLogRepository);
    for (let n = from; n < from + count; n++) await log.append([entry(n)]);
    await t.app.get(AccessLogSealer).sealNow();
  };

  beforeAll(async () => {
    t = await startTestApp({
      env: { SEAL_INTERVAL_MS: '3600000', CHECKPOINT_EVERY: '1000', UNSEALED_MAX_MS: '60000' },
    });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-witness-e2e-'));
    jwks = (await request(t.app.getHttpServer()).get('/v1/audit/keys').expect(200)).body as { keys: JWK[] };
    await writeFile(path.join(dir, 'jwks.json'), JSON.stringify(jwks));
    await seal(0, 12);
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the signed tree head to anyone, and a witness keeps it, then checks the next one extends it', async () => {
    const res = await request(t.app.getHttpServer()).get('/v1/audit/checkpoint').expect(200);
    const head = res.body as SignedTreeHead;
    const { note } = await checkTreeHead(head, jwks.keys);
    expect(note).toMatchObject({
      size: head.size,
      rootHash: head.rootHash,
      origin: expect.stringMatching(/\/access-log$/),
    });
    const witness = () =>
      run(
        [
          'audit',
          'witness',
          '--url',
          base,
          '--log-key',
          path.join(dir, 'jwks.json'),
          '--dir',
          path.join(dir, 'w'),
          '--name',
          'partner-witness',
        ],
        {},
      );
    const first = await witness();
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(
      new RegExp(`partner-witness: tree of ${head.size} entries, .*first checkpoint kept`),
    );
    await seal(100, 8);
    const second = await witness();
    expect(second.stderr).toBe('');
    expect(second.stdout).toMatch(
      new RegExp(`extends the kept tree of ${head.size} entries \\(consistency proof checked\\)`),
    );
  });

  it('answers proofs of sizes it did not sign with problem+json, and proves inclusion to officers only', async () => {
    const head = (await request(t.app.getHttpServer()).get('/v1/audit/checkpoint').expect(200))
      .body as SignedTreeHead;
    const bad = await request(t.app.getHttpServer())
      .get(`/v1/audit/consistency?first=0&second=${head.size}`)
      .expect(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    const beyond = await request(t.app.getHttpServer())
      .get(`/v1/audit/consistency?first=1&second=${Number(head.size) + 1}`)
      .expect(400);
    expect(beyond.body.detail).toMatch(/newest signed tree size/);
    await request(t.app.getHttpServer()).get('/v1/audit/inclusion?position=3').expect(401);
    const officer = await bearerFor(t, { partner: 'fg', purpose: 'toezicht', professional: 'fg-1' });
    const proof = (
      await request(t.app.getHttpServer())
        .get('/v1/audit/inclusion?position=3')
        .set('authorization', officer)
        .expect(200)
    ).body as InclusionProof;
    expect(proof.size).toBe(head.size);
    const ok = verifyInclusion(
      2,
      Number(head.size),
      leafHash(Buffer.from(proof.entryHash, 'hex')),
      proof.proof.map((h) => Buffer.from(h, 'hex')),
      Buffer.from(head.rootHash, 'hex'),
    );
    expect(ok).toBe(true);
  });

  it('fails verification, naming it, when an entry stays unsealed longer than UNSEALED_MAX_MS', async () => {
    const officer = await bearerFor(t, { partner: 'fg', purpose: 'toezicht', professional: 'fg-1' });
    await request(t.app.getHttpServer()).get('/v1/audit/verify').set('authorization', officer).expect(200);
    const [old] = await t.db.dataSource.query<{ seq: string }[]>(
      `INSERT INTO access_log (occurred_at, trace_id, action, status, reason)
       VALUES (now() - interval '10 minutes', $1, 'read', 'allowed', 'left unsealed') RETURNING seq::text AS seq`,
      [randomBytes(16).toString('hex')],
    );
    const res = await request(t.app.getHttpServer())
      .get('/v1/audit/verify')
      .set('authorization', officer)
      .expect(200);
    expect(res.body).toMatchObject({
      ok: false,
      overdue: 1,
      failure: { problem: 'unsealed', seq: old!.seq },
    });
    expect(res.body.failure.detail).toMatch(
      new RegExp(`1 entries are not in the chain although they occurred more than 60 s .*seq ${old!.seq}`),
    );
  });
});
