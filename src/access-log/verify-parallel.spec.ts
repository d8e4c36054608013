import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { newSigningPair } from '../keys/dev-keys.js';
import { gatewayKeyFromJwk, type GatewayKey } from '../keys/gateway-key.js';
import { sealRound } from './access-log.sealer.js';
import { readChain, readCheckpoints, readPurges } from './chain.repository.js';
import { planSegments, urlOf, verifyInParallel } from './verify-parallel.js';
import { verifyChain, type Checkpoint } from './verify.js';

const checkpointAt = (position: number): Checkpoint => ({
  position: String(position),
  chainHead: position.toString(16).padStart(64, '0'),
  count: String(position),
  createdAt: '2026-12-01T00:00:00.000Z',
  jws: 'x',
});

describe('planning chain segments for the verification workers', () => {
  const every100 = Array.from({ length: 10 }, (_, i) => checkpointAt(100 * (i + 1)));

  it('cuts at checkpoints into contiguous segments, each after the first starting from the signed head', () => {
    const segments = planSegments(every100, { from: 1n, to: undefined, last: 1050n }, 3, 0);
    expect(segments).toEqual([
      { from: 1n, to: 400n },
      { from: 401n, to: 800n, startHead: every100[3]!.chainHead },
      { from: 801n, to: undefined, startHead: every100[7]!.chainHead },
    ]);
  });

  it('keeps a range asked for, and cuts only at checkpoints inside it', () => {
    const segments = planSegments(every100, { from: 201n, to: 900n, last: 1050n }, 2, 0);
    expect(segments).toEqual([
      { from: 201n, to: 600n },
      { from: 601n, to: 900n, startHead: every100[5]!.chainHead },
    ]);
  });

  it('leaves one segment when the range is short, has no checkpoint to cut at, or one worker', () => {
    const whole = [{ from: 1n, to: undefined }];
    expect(planSegments(every100, { from: 1n, to: undefined, last: 1050n }, 3)).toEqual(whole);
    expect(planSegments([], { from: 1n, to: undefined, last: 10_000_000n }, 3)).toEqual(whole);
    expect(planSegments(every100, { from: 1n, to: undefined, last: 1050n }, 1, 0)).toEqual(whole);
    // A checkpoint whose head is not a hash cannot start a segment: no cut there.
    const forged = [{ ...checkpointAt(500), chainHead: 'nope' }];
    expect(planSegments(forged, { from: 1n, to: undefined, last: 1050n }, 2, 0)).toEqual(whole);
  });
});

describe('verifying in worker threads (real PostgreSQL, real workers)', () => {
  let db: TestDatabase;
  let key: GatewayKey;
  beforeAll(async () => {
    db = await createTestDatabase();
    key = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
    // Twenty entries a round, a checkpoint after each: fifteen places to cut the chain at.
    for (let round = 0; round < 15; round++) {
      await db.dataSource.query(
        `INSERT INTO access_log (occurred_at, trace_id, action, legal_basis, fields, status, reason, emergency)
         SELECT now() - make_interval(secs => 600 - i), md5(i::text), 'read', ARRAY['avg-6-1-e'], ARRAY['plan.doelen'],
                'allowed', 'entry ' || i, false
           FROM generate_series($1::int, $1::int + 19) i`,
        [round * 20 + 1],
      );
      await sealRound(db.dataSource, key, { checkpointEvery: 20, checkpointIntervalMs: 3_600_000 });
    }
  });
  afterAll(async () => {
    await db.drop();
  });

  const both = async () => {
    // A URL, so the segments do run in worker threads on connections of their own.
    expect(urlOf(db.dataSource).url).toMatch(/^postgres/);
    const input = {
      checkpoints: await readCheckpoints(db.dataSource),
      purged: await readPurges(db.dataSource),
      publicJwk: key.publicJwk,
    };
    const inOnePass = await verifyChain({ ...input, rows: readChain(db.dataSource) });
    const inWorkers = await verifyInParallel({
      ...input,
      source: db.dataSource,
      ...urlOf(db.dataSource),
      workers: 3,
      minimum: 0,
    });
    return { inOnePass, inWorkers };
  };

  it('gives the report one pass gives, on an intact chain and on one altered in its last third', async () => {
    const intact = await both();
    expect(intact.inWorkers).toEqual(intact.inOnePass);
    expect(intact.inWorkers).toMatchObject({ ok: true, entries: 300, checkpoints: 15, anchored: '300' });

    // Committed, so the workers' own connections see it (this database is the test's alone).
    await db.dataSource.query(`ALTER TABLE access_log DISABLE TRIGGER access_log_append_only`);
    const [victim] = await db.dataSource.query<{ seq: string }[]>(
      `SELECT seq::text AS seq FROM access_log_seal WHERE position = 250`,
    );
    await db.dataSource.query(`UPDATE access_log SET reason = $1 WHERE seq = $2`, [
      `changed ${randomBytes(4).toString('hex')}`,
      victim!.seq,
    ]);
    await db.dataSource.query(`ALTER TABLE access_log ENABLE TRIGGER access_log_append_only`);
    const altered = await both();
    expect(altered.inWorkers).toEqual(altered.inOnePass);
    expect(altered.inWorkers.failure).toMatchObject({
      problem: 'altered',
      position: '250',
      seq: victim!.seq,
    });
    expect(altered.inWorkers).toMatchObject({ entries: 249, anchored: '240', unanchored: 9 });
  });
});
