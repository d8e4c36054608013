import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { bearerFor, type Who } from './support/tokens.js';

/**
 * GET /v1/audit/timeline over the real HTTP stack on a real (partitioned) access log: its counts
 * equal a direct count of the rows for the same filter, bucketed here in JavaScript by the
 * Amsterdam wall clock (Intl), independently of PostgreSQL's date_trunc.
 */

interface PartnerCount {
  partner: string | null;
  allowed: number;
  denied: number;
  total: number;
}
interface Bucket {
  key: string;
  start: string;
  end: string;
  total: number;
  partners: PartnerCount[];
}
interface Timeline {
  bucket: 'day' | 'hour';
  timeZone: string;
  total: number;
  buckets: Bucket[];
}
interface Row {
  at: string;
  partner: string | null;
  status: 'allowed' | 'denied';
  emergency: boolean;
}

const OFFICER: Who = { partner: 'fg', purpose: 'toezicht', professional: 'fg-officer-1' };
const CASE_A = '44444444-4444-4444-8444-444444444444';
const CASE_B = '55555555-5555-4555-8555-555555555555';
const WINTER = { from: '2025-01-10T00:00:00Z', to: '2025-01-20T00:00:00Z' };

/** The Amsterdam day (or hour) of an instant, by the browser-grade Intl clock. */
function localKey(iso: string, bucket: 'day' | 'hour'): string {
  const text = new Date(iso).toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam', hour12: false });
  return bucket === 'day' ? text.slice(0, 10) : text.slice(0, 13);
}

describe('GET /v1/audit/timeline', () => {
  let t: TestApp;
  let officer: string;
  const http = () => request(t.app.getHttpServer());
  const timeline = (query: Record<string, string>) =>
    http().get('/v1/audit/timeline').query(query).set('authorization', officer);

  /** Rows at chosen moments (the app's writer stamps the current time, so these go in directly). */
  async function insert(rows: (Row & { caseId: string })[]): Promise<void> {
    for (const r of rows) {
      await t.db.dataSource.query(
        `INSERT INTO access_log (occurred_at, trace_id, partner, professional, processing_activity_id,
                                 action, case_id, status, emergency)
         VALUES ($1, $2, $3, 'pro-1', 'uitvoering-plan', 'read', $4, $5, $6)`,
        [r.at, 'c'.repeat(32), r.partner, r.caseId, r.status, r.emergency],
      );
    }
  }

  /** The rows of a filter, straight from the table, to count them here. */
  async function rowsOf(where: string, params: unknown[]): Promise<Row[]> {
    return t.db.dataSource.query<Row[]>(
      `SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, partner,
              status, emergency
         FROM access_log WHERE ${where}`,
      params,
    );
  }

  /** The timeline a direct count gives: key -> partner -> [allowed, denied]. */
  function expected(rows: Row[], bucket: 'day' | 'hour'): Record<string, Record<string, [number, number]>> {
    const out: Record<string, Record<string, [number, number]>> = {};
    for (const r of rows) {
      const key = localKey(r.at, bucket);
      const byPartner = (out[key] ??= {});
      const counts = (byPartner[r.partner ?? '(none)'] ??= [0, 0]);
      counts[r.status === 'allowed' ? 0 : 1] += 1;
    }
    return out;
  }

  function answered(body: Timeline): Record<string, Record<string, [number, number]>> {
    return Object.fromEntries(
      body.buckets.map((b) => [
        b.key,
        Object.fromEntries(b.partners.map((p) => [p.partner ?? '(none)', [p.allowed, p.denied]])),
      ]),
    );
  }

  beforeAll(async () => {
    t = await startTestApp();
    officer = await bearerFor(t, OFFICER);
    const rows: (Row & { caseId: string })[] = [
      // 23:30 UTC in January is 00:30 the next day in Amsterdam (CET, UTC+1).
      { at: '2025-01-14T23:30:00Z', partner: 'politie', status: 'allowed', emergency: false, caseId: CASE_A },
      { at: '2025-01-14T22:59:59Z', partner: 'politie', status: 'denied', emergency: false, caseId: CASE_A },
      { at: '2025-01-15T08:00:00Z', partner: 'vtrr', status: 'allowed', emergency: true, caseId: CASE_B },
      { at: '2025-01-15T08:10:00Z', partner: null, status: 'denied', emergency: false, caseId: CASE_B },
      {
        at: '2025-01-19T23:15:00Z',
        partner: 'wijkteam',
        status: 'allowed',
        emergency: false,
        caseId: CASE_A,
      },
      // Outside the winter range (and a month partition of its own).
      { at: '2025-02-01T12:00:00Z', partner: 'politie', status: 'allowed', emergency: false, caseId: CASE_A },
      // The spring-forward day (23 hours) and the summer offset (UTC+2).
      { at: '2025-03-29T23:30:00Z', partner: 'politie', status: 'allowed', emergency: false, caseId: CASE_A },
      { at: '2025-03-30T21:59:00Z', partner: 'politie', status: 'allowed', emergency: false, caseId: CASE_A },
      { at: '2025-03-30T22:01:00Z', partner: 'politie', status: 'denied', emergency: false, caseId: CASE_A },
    ];
    // Many entries on one day: more than a page of events, all counted.
    for (let i = 0; i < 250; i++) {
      rows.push({
        at: `2025-01-12T${String(10 + (i % 10)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`,
        partner: i % 3 === 0 ? 'vtrr' : 'politie',
        status: i % 4 === 0 ? 'denied' : 'allowed',
        emergency: false,
        caseId: i % 2 === 0 ? CASE_A : CASE_B,
      });
    }
    await insert(rows);
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts per Amsterdam day and partner exactly what the rows of the range hold', async () => {
    const res = await timeline({ ...WINTER, bucket: 'day' });
    expect(res.status).toBe(200);
    const body = res.body as Timeline;
    const rows = await rowsOf('occurred_at >= $1 AND occurred_at < $2', [WINTER.from, WINTER.to]);
    expect(rows.length).toBe(255);
    expect(body.total).toBe(rows.length);
    expect(answered(body)).toEqual(expected(rows, 'day'));
    // The timezone boundary: 23:30 UTC on the 14th is the 15th in Amsterdam; 22:59:59 UTC stays the 14th.
    expect(body.buckets.find((b) => b.key === '2025-01-14')?.partners).toEqual([
      { partner: 'politie', allowed: 0, denied: 1, total: 1 },
    ]);
    expect(body.buckets.find((b) => b.key === '2025-01-15')).toEqual({
      key: '2025-01-15',
      start: '2025-01-14T23:00:00Z',
      end: '2025-01-15T23:00:00Z',
      total: 3,
      partners: [
        { partner: 'politie', allowed: 1, denied: 0, total: 1 },
        { partner: 'vtrr', allowed: 1, denied: 0, total: 1 },
        { partner: null, allowed: 0, denied: 1, total: 1 },
      ],
    });
    expect(body.buckets.map((b) => b.key)).toEqual(['2025-01-12', '2025-01-14', '2025-01-15', '2025-01-20']);
    expect(body).toMatchObject({ bucket: 'day', timeZone: 'Europe/Amsterdam' });
  });

  it('applies the events filters (partner, outcome, case, emergency) as the events query does', async () => {
    const cases: [Record<string, string>, string, unknown[]][] = [
      [{ partner: 'politie', outcome: 'denied' }, `partner = 'politie' AND status = 'denied'`, []],
      [{ caseId: CASE_B }, 'case_id = $3', [CASE_B]],
      [{ emergency: 'true' }, 'emergency', []],
      [
        { partner: 'vtrr', outcome: 'allowed', caseId: CASE_A },
        `partner = 'vtrr' AND status = 'allowed' AND case_id = $3`,
        [CASE_A],
      ],
    ];
    for (const [filter, where, extra] of cases) {
      const res = await timeline({ ...WINTER, ...filter, bucket: 'day' });
      expect(res.status).toBe(200);
      const rows = await rowsOf(`occurred_at >= $1 AND occurred_at < $2 AND ${where}`, [
        WINTER.from,
        WINTER.to,
        ...extra,
      ]);
      expect(rows.length).toBeGreaterThan(0);
      expect((res.body as Timeline).total).toBe(rows.length);
      expect(answered(res.body as Timeline)).toEqual(expected(rows, 'day'));
      // The events of the same filter, paged to the end, are as many.
      let count = 0;
      let cursor: string | undefined;
      do {
        const page = await http()
          .get('/v1/audit/events')
          .query({ ...WINTER, ...filter, limit: '200', ...(cursor ? { cursor } : {}) })
          .set('authorization', officer);
        count += (page.body as { items: unknown[] }).items.length;
        cursor = (page.body as { nextCursor: string | null }).nextCursor ?? undefined;
      } while (cursor);
      expect(count).toBe(rows.length);
    }
  });

  it('counts by hour across the spring-forward night, with instants that follow the offset', async () => {
    const range = { from: '2025-03-29T12:00:00Z', to: '2025-03-31T00:00:00Z' };
    const res = await timeline({ ...range, bucket: 'hour' });
    expect(res.status).toBe(200);
    const rows = await rowsOf('occurred_at >= $1 AND occurred_at < $2', [range.from, range.to]);
    expect(answered(res.body as Timeline)).toEqual(expected(rows, 'hour'));
    expect((res.body as Timeline).buckets.map((b) => [b.key, b.start, b.end])).toEqual([
      ['2025-03-30 00', '2025-03-29T23:00:00Z', '2025-03-30T00:00:00Z'],
      ['2025-03-30 23', '2025-03-30T21:00:00Z', '2025-03-30T22:00:00Z'],
      ['2025-03-31 00', '2025-03-30T22:00:00Z', '2025-03-30T23:00:00Z'],
    ]);
    // The 23-hour day by day: it ends at 22:00 UTC, so the entry a minute later is the 31st.
    const days = await timeline({ ...range, bucket: 'day' });
    expect((days.body as Timeline).buckets.map((b) => [b.key, b.start, b.end, b.total])).toEqual([
      ['2025-03-30', '2025-03-29T23:00:00Z', '2025-03-30T22:00:00Z', 2],
      ['2025-03-31', '2025-03-30T22:00:00Z', '2025-03-31T22:00:00Z', 1],
    ]);
  });

  it('refuses more than 400 buckets with a 400 that says so, before and after counting', async () => {
    const asked = await timeline({
      from: '2025-01-01T00:00:00Z',
      to: '2025-02-01T00:00:00Z',
      bucket: 'hour',
    });
    expect(asked.status).toBe(400);
    expect(asked.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(asked.body).toMatchObject({
      type: 'https://convenant.dev/problems/timeline-too-long',
      status: 400,
      buckets: 745,
      max: 400,
    });
    expect((asked.body as { detail: string }).detail).toContain('use bucket=day');
    // An open range is judged on what it spans: 12 January 10:00 to 31 March 00:00 is far over 400 hours.
    const open = await timeline({ bucket: 'hour', to: '2025-04-01T00:00:00Z' });
    expect(open.status).toBe(400);
    expect(open.body).toMatchObject({ type: 'https://convenant.dev/problems/timeline-too-long' });
    // By day the same open range is fine.
    expect((await timeline({ bucket: 'day', to: '2025-04-01T00:00:00Z' })).status).toBe(200);
  });

  it('validates strictly: problem+json with every error', async () => {
    const res = await timeline({ bucket: 'week', partner: "x' OR 1=1", emergency: 'yes', limit: '5' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const pointers = (res.body as { errors: { pointer: string }[] }).errors.map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/bucket', '/emergency', '/limit', '/partner']);
    expect((await timeline({})).status).toBe(400);
  });

  it('is for officers only, and logs each query before answering, with counts and no personal data', async () => {
    const partnerToken = await bearerFor(t, { partner: 'vtrr', purpose: 'triage' });
    const refused = await http()
      .get('/v1/audit/timeline')
      .query({ bucket: 'day' })
      .set('authorization', partnerToken);
    expect(refused.status).toBe(403);

    const res = await timeline({ ...WINTER, caseId: CASE_A, bucket: 'day' });
    expect(res.status).toBe(200);
    const log = await t.db.dataSource.query<
      { action: string; case_id: string; reason: string; fields: string[] }[]
    >('SELECT action, case_id, reason, fields FROM access_log WHERE trace_id = $1', [
      res.headers['x-request-id'] as string,
    ]);
    expect(log).toEqual([
      {
        action: 'audit',
        case_id: CASE_A,
        fields: [],
        reason: expect.stringMatching(
          /^Access log timeline queried by day \(.*caseId=4444.*\); \d+ entries counted\.$/,
        ),
      },
    ]);
    // Counts only: no professional, subject, trace or field leaves in the answer.
    const keys = new Set<string>();
    for (const b of (res.body as Timeline).buckets) {
      Object.keys(b).forEach((k) => keys.add(k));
      b.partners.forEach((p) => Object.keys(p).forEach((k) => keys.add(`partner.${k}`)));
    }
    expect([...keys].sort()).toEqual(
      [
        'end',
        'key',
        'partners',
        'start',
        'total',
        'partner.allowed',
        'partner.denied',
        'partner.partner',
        'partner.total',
      ].sort(),
    );
  });
});
