import fc from 'fast-check';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { bearerCache, type Who } from './support/tokens.js';

/**
 * Every response under /v1, whatever its status, leaves exactly one set of access log entries,
 * keyed by the identity the gateway gives the request (request_id), never by anything the caller
 * sends. Real PostgreSQL, real HTTP, real tokens.
 */

const VTRR: Who = { partner: 'vtrr', purpose: 'triage' };
const WIJKTEAM: Who = { partner: 'wijkteam', purpose: 'uitvoering-plan' };
const REASON = 'Het gezin is stabiel; de acute dreiging is voorbij volgens het casusoverleg.';

const newTraceId = () => randomBytes(16).toString('hex');
const traceparent = (traceId: string) => `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

interface Row {
  request_id: string | null;
  status: 'allowed' | 'denied';
  action: string;
  partner: string | null;
  reason: string | null;
  fields: string[];
}

describe('the access log: exactly one set of entries per response under /v1', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());
  const as = bearerCache(() => t);
  const rowsOf = (traceId: string) =>
    t.db.dataSource.query<Row[]>(
      `SELECT request_id::text, status, action, partner, reason, fields FROM access_log WHERE trace_id = $1 ORDER BY seq`,
      [traceId],
    );
  /** The request's rows; fails unless they all carry one gateway-made request id. */
  async function oneSet(traceId: string): Promise<Row[]> {
    const rows = await rowsOf(traceId);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(1);
    expect(rows[0]!.request_id).toMatch(/^[0-9a-f-]{36}$/);
    return rows;
  }

  let caseId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const created = await http()
      .post('/v1/cases')
      .set('authorization', await as(VTRR))
      .send({
        phase: 'acute',
        persons: [{ role: 'slachtoffer', fields: { 'betrokkenen.naam': 'A. de Vries' } }],
        fields: { 'veiligheid.risiconiveau': 'hoog' },
      });
    expect(created.status).toBe(201);
    caseId = (created.body as { id: string }).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Sends `build` with a fresh traceparent; returns the status and the request's rows. */
  async function once(
    build: (traceparentHeader: string) => PromiseLike<request.Response>,
  ): Promise<{ status: number; body: unknown; rows: Row[] }> {
    const traceId = newTraceId();
    const res = await build(traceparent(traceId));
    return { status: res.status, body: res.body as unknown, rows: await oneSet(traceId) };
  }

  it.each([
    [
      '200 list',
      200,
      async (tp: string) =>
        http()
          .get('/v1/cases?limit=1')
          .set('traceparent', tp)
          .set('authorization', await as(VTRR)),
    ],
    [
      '201 register',
      201,
      async (tp: string) =>
        http()
          .post('/v1/cases')
          .set('traceparent', tp)
          .set('authorization', await as(VTRR))
          .send({ phase: 'acute', persons: [{ role: 'kind' }] }),
    ],
    [
      '400 invalid query',
      400,
      async (tp: string) =>
        http()
          .get('/v1/cases?limit=-1')
          .set('traceparent', tp)
          .set('authorization', await as(VTRR)),
    ],
    ['401 no token', 401, (tp: string) => http().get('/v1/cases').set('traceparent', tp)],
    [
      '403 not an officer',
      403,
      async (tp: string) =>
        http()
          .get('/v1/audit/events')
          .set('traceparent', tp)
          .set('authorization', await as(VTRR)),
    ],
    [
      '404 no such case',
      404,
      async (tp: string) =>
        http()
          .get(`/v1/cases/${randomUUID()}`)
          .set('traceparent', tp)
          .set('authorization', await as(VTRR)),
    ],
    ['404 no such route', 404, (tp: string) => http().get('/v1/no-such-route').set('traceparent', tp)],
    [
      '409 phase unchanged',
      409,
      async (tp: string) =>
        http()
          .post(`/v1/cases/${caseId}/phase`)
          .set('traceparent', tp)
          .set('authorization', await as(VTRR))
          .send({ phase: 'acute', reason: REASON }),
    ],
    [
      '413 body too large',
      413,
      async (tp: string) =>
        http()
          .post('/v1/cases')
          .set('traceparent', tp)
          .set('authorization', await as(VTRR))
          .set('content-type', 'application/json')
          .send(JSON.stringify({ phase: 'acute', pad: 'x'.repeat(300 * 1024) })),
    ],
    [
      '422 values that do not fit',
      422,
      async (tp: string) =>
        http()
          .post('/v1/cases')
          .set('traceparent', tp)
          .set('authorization', await as(VTRR))
          .send({
            phase: 'acute',
            persons: [{ role: 'slachtoffer', fields: { 'betrokkenen.geboortedatum': '1990-02-30' } }],
          }),
    ],
    ['200 openapi document', 200, (tp: string) => http().get('/v1/openapi.json').set('traceparent', tp)],
  ])('%s: one set of entries, denied from 400 on', async (_name, status, build) => {
    const { status: answered, rows } = await once(build);
    expect(answered).toBe(status);
    if (status >= 400) expect(rows.every((r) => r.status === 'denied')).toBe(true);
  });

  it('a 403 of the officer guard names the principal and why', async () => {
    const { rows } = await once(async (tp) =>
      http()
        .get('/v1/audit/events')
        .set('traceparent', tp)
        .set('authorization', await as(WIJKTEAM)),
    );
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'audit',
        status: 'denied',
        partner: 'wijkteam',
        reason: expect.stringContaining('toezicht'),
      }),
    ]);
  });

  it('a forced 500 (the case table gone) leaves one denial naming the failure, no data', async () => {
    await t.db.dataSource.query(`ALTER TABLE cases RENAME TO cases_away`);
    try {
      const { status, body, rows } = await once(async (tp) =>
        http()
          .get(`/v1/cases/${caseId}`)
          .set('traceparent', tp)
          .set('authorization', await as(VTRR)),
      );
      expect(status).toBe(500);
      expect(JSON.stringify(body)).not.toContain('de Vries');
      expect(rows).toEqual([expect.objectContaining({ status: 'denied', action: 'read', partner: 'vtrr' })]);
      expect(rows[0]!.reason).toContain('Internal server error');
    } finally {
      await t.db.dataSource.query(`ALTER TABLE cases_away RENAME TO cases`);
    }
  });

  describe('when the access log refuses entries', () => {
    afterEach(async () => {
      await t.db.dataSource.query(`DROP TRIGGER IF EXISTS refuse_for_test ON access_log`);
      await t.db.dataSource.query(`DROP FUNCTION IF EXISTS refuse_for_test()`);
    });
    async function refuse(when: string): Promise<void> {
      await t.db.dataSource.query(`
        CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF ${when} THEN RAISE EXCEPTION 'refused for the test'; END IF;
          RETURN NEW;
        END $$`);
      await t.db.dataSource.query(
        `CREATE TRIGGER refuse_for_test BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION refuse_for_test()`,
      );
    }

    it('a 503 for a read whose entries cannot be written leaves its denial and no data', async () => {
      await refuse(`NEW.action = 'read' AND NEW.status = 'allowed'`);
      const { status, body, rows } = await once(async (tp) =>
        http()
          .get(`/v1/cases/${caseId}`)
          .set('traceparent', tp)
          .set('authorization', await as(VTRR)),
      );
      expect(status).toBe(503);
      expect(JSON.stringify(body)).not.toContain('de Vries');
      expect(rows).toEqual([expect.objectContaining({ status: 'denied', action: 'read', fields: [] })]);
      expect(rows[0]!.reason).toContain('Access log unavailable');
    });

    it('with no entry writable at all, every answer is a 503 without data, and nothing is counted as logged', async () => {
      await refuse('true');
      const traceId = newTraceId();
      for (const path of [`/v1/cases/${caseId}`, '/v1/cases?limit=-1', '/v1/openapi.json']) {
        const res = await http()
          .get(path)
          .set('traceparent', traceparent(traceId))
          .set('authorization', await as(VTRR));
        expect(res.status).toBe(503);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(JSON.stringify(res.body)).not.toContain('de Vries');
        expect(res.body).not.toHaveProperty('openapi');
      }
      expect(await rowsOf(traceId)).toEqual([]);
    });
  });

  it('a reused traceparent cannot silence a refusal: each request keeps its own entries', async () => {
    const traceId = newTraceId();
    const tp = traceparent(traceId);
    const bearer = await as(VTRR);
    const logged = await http().get('/v1/cases?limit=1').set('traceparent', tp).set('authorization', bearer);
    expect(logged.status).toBe(200);
    for (const query of ['limit=-1', 'limit=abc', 'cursor=zzz']) {
      const res = await http().get(`/v1/cases?${query}`).set('traceparent', tp).set('authorization', bearer);
      expect(res.status).toBe(400);
    }
    const rows = await rowsOf(traceId);
    const byRequest = new Map<string, Row[]>();
    for (const row of rows) byRequest.set(row.request_id!, [...(byRequest.get(row.request_id!) ?? []), row]);
    expect(byRequest.size).toBe(4);
    const denials = [...byRequest.values()].filter((set) => set.every((r) => r.status === 'denied'));
    expect(denials).toHaveLength(3);
    expect(denials.every((set) => set.length === 1)).toBe(true);
  });

  it('property: requests under /v1 = distinct request identities in the log', async () => {
    const bearer = await as(VTRR);
    const pool = [newTraceId(), newTraceId()];
    const kinds: ((tp: string) => request.Test)[] = [
      (tp) => http().get('/v1/cases?limit=1').set('traceparent', tp).set('authorization', bearer),
      (tp) => http().get('/v1/cases?limit=-1').set('traceparent', tp).set('authorization', bearer),
      (tp) => http().get('/v1/cases?cursor=zzz').set('traceparent', tp).set('authorization', bearer),
      (tp) => http().get('/v1/cases').set('traceparent', tp),
      (tp) => http().get(`/v1/cases/${caseId}`).set('traceparent', tp).set('authorization', bearer),
      (tp) => http().get(`/v1/cases/${randomUUID()}`).set('traceparent', tp).set('authorization', bearer),
      (tp) => http().get('/v1/nowhere').set('traceparent', tp),
      (tp) => http().post('/v1/oauth/token').set('traceparent', tp).send({ grant_type: 'password' }),
    ];
    const distinct = async () => {
      const [row] = await t.db.dataSource.query<{ n: string }[]>(
        `SELECT count(DISTINCT request_id) AS n FROM access_log WHERE trace_id = ANY ($1)`,
        [pool],
      );
      return Number(row!.n);
    };
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(kinds.length - 1), fc.nat(pool.length - 1), fc.boolean()), {
          maxLength: 12,
        }),
        async (steps) => {
          const before = await distinct();
          // Concurrently and in sequence alike: group commit must not merge or drop requests.
          const batch = steps.map(([kind, trace, parallel]) => ({
            kind,
            tp: traceparent(pool[trace]!),
            parallel,
          }));
          for (const step of batch.filter((s) => !s.parallel)) await kinds[step.kind]!(step.tp);
          await Promise.all(batch.filter((s) => s.parallel).map((s) => kinds[s.kind]!(s.tp)));
          sent += steps.length;
          expect((await distinct()) - before).toBe(steps.length);
        },
      ),
      { numRuns: 25 },
    );
    expect(await distinct()).toBe(sent);
  });
});

describe('the access log under a low rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '2', ANON_RATE_LIMIT: '2' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('each 429 leaves its own denial, even with a reused traceparent', async () => {
    const traceId = newTraceId();
    const tp = traceparent(traceId);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await request(t.app.getHttpServer()).get('/v1/cases').set('traceparent', tp)).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(4);
    const rows = await t.db.dataSource.query<Row[]>(
      `SELECT request_id::text, status, reason FROM access_log WHERE trace_id = $1`,
      [traceId],
    );
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(6);
    expect(rows.filter((r) => r.reason?.startsWith('Too many requests'))).toHaveLength(
      statuses.filter((s) => s === 429).length,
    );
  });
});
