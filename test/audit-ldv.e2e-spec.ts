import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { makeDemoTraffic } from './support/demo-traffic.js';
import { bearerFor, type Who } from './support/tokens.js';

/**
 * GET /v1/audit/export?format=ldv over the real HTTP stack on a real database: a day of gateway
 * traffic, exported as Logboek Dataverwerkingen records, each checked field by field against the
 * standard (docs/ldv.md quotes the interface table these expectations come from) and against the
 * access log row it stands for.
 */

interface Row {
  seq: string;
  at: string;
  trace_id: string;
  request_id: string | null;
  action: string;
  status: 'allowed' | 'denied';
  purpose: string | null;
  policy_version: string | null;
  data_subject_ref: string | null;
}

const OFFICER: Who = { partner: 'fg', purpose: 'toezicht', professional: 'fg-officer-1' };

/** LDV: "16 byte" and "8 byte" ids; W3C Trace Context writes them as lowercase hex and forbids all zeros. */
const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
const SPAN_ID = /^(?!0{16})[0-9a-f]{16}$/;
/** LDV: timestamp (ms). */
const MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** The record's fields in LDV's interface table; `parent_span_id` and `resource` are optional there. */
const REQUIRED = ['trace_id', 'span_id', 'status', 'name', 'start_time', 'end_time', 'attributes'];
const OPTIONAL = ['parent_span_id', 'resource'];
/** The `dpl.core` attributes LDV defines (the foreign_operation pair only with a calling application). */
const CORE = [
  'dpl.core.processing_activity_id',
  'dpl.core.data_subject_id',
  'dpl.core.data_subject_id_type',
  'dpl.core.foreign_operation.span_id',
  'dpl.core.foreign_operation.processor',
];

describe('GET /v1/audit/export?format=ldv', () => {
  let t: TestApp;
  let officer: string;
  let day: { from: string; to: string };
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    // The seeded demo: cases with persons, read by partners the way they read them.
    t = await startTestApp({ env: { DEMO: 'true' } });
    officer = await bearerFor(t, OFFICER);
    const now = new Date();
    const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    day = { from: new Date(start).toISOString(), to: new Date(start + 86_400_000).toISOString() };
    await makeDemoTraffic(t, 3);
    // A caller without a token: refused, logged with no partner, purpose or person.
    expect((await http().get('/v1/cases')).status).toBe(401);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it("exports a day's entries as LDV records, every field as the standard defines it", async () => {
    const res = await http()
      .get('/v1/audit/export')
      .query({ format: 'ldv', ...day })
      .set('authorization', officer);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const text = res.text;
    expect(text.endsWith('\n')).toBe(true);
    const records = text
      .slice(0, -1)
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

    const rows = await t.db.dataSource.query<Row[]>(
      `SELECT seq::text AS seq,
              to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
              trace_id, request_id::text AS request_id, action, status,
              processing_activity_id AS purpose, policy_version, data_subject_ref
         FROM access_log
        WHERE occurred_at >= $1 AND occurred_at < $2
        ORDER BY access_log.seq`,
      [day.from, day.to],
    );
    // The export's own audit entry is written before the first byte, so it is in the day too.
    expect(rows.some((r) => r.action === 'audit')).toBe(true);
    // The day holds allowed and refused entries, about persons and not.
    expect(rows.some((r) => r.data_subject_ref !== null)).toBe(true);
    expect(rows.some((r) => r.data_subject_ref === null)).toBe(true);
    expect(rows.some((r) => r.status === 'denied' && r.purpose === null)).toBe(true);

    // Every record, entry or parent, has the standard's fields with the standard's types.
    const spans = new Set<string>();
    const activities = new Set<string>();
    for (const record of records) {
      for (const key of REQUIRED) expect(record).toHaveProperty([key]);
      for (const key of Object.keys(record)) expect([...REQUIRED, ...OPTIONAL]).toContain(key);
      expect(record.trace_id).toMatch(TRACE_ID);
      expect(record.span_id).toMatch(SPAN_ID);
      spans.add(record.span_id as string);
      if ('parent_span_id' in record) expect(record.parent_span_id).toMatch(SPAN_ID);
      // LDV `status`: Unset, Ok or Error.
      expect(['Unset', 'Ok', 'Error']).toContain(record.status);
      expect(typeof record.name).toBe('string');
      expect(record.name).not.toBe('');
      expect(record.start_time).toMatch(MILLIS);
      expect(record.end_time).toMatch(MILLIS);
      expect(Date.parse(record.start_time as string)).toBeLessThanOrEqual(
        Date.parse(record.end_time as string),
      );
      expect(Date.parse(record.start_time as string)).toBeGreaterThanOrEqual(Date.parse(day.from));
      expect(Date.parse(record.end_time as string)).toBeLessThan(Date.parse(day.to));
      const resource = record.resource as { attributes: Record<string, unknown> };
      expect(typeof resource.attributes).toBe('object');
      for (const value of Object.values(resource.attributes)) expect(typeof value).toBe('string');
      const attributes = record.attributes as Record<string, unknown>;
      for (const key of Object.keys(attributes)) {
        // Only dpl.core: other namespaces need an established extension first.
        expect(CORE).toContain(key);
        expect(typeof attributes[key]).toBe('string');
      }
      const activity = attributes['dpl.core.processing_activity_id'] as string;
      expect(['https:', 'http:']).toContain(new URL(activity).protocol);
      activities.add(activity);
      // The id goes with its type, and never alone.
      expect('dpl.core.data_subject_id' in attributes).toBe('dpl.core.data_subject_id_type' in attributes);
    }
    // Each action has its own span id.
    expect(spans.size).toBe(records.length);

    // Parents: the actions that entries about persons name. Each comes before its first child, in
    // the same trace, and refers to no person; the other records are the entries, one per row.
    const parentIds = new Set(
      records.flatMap((r) => (typeof r.parent_span_id === 'string' ? [r.parent_span_id] : [])),
    );
    expect(parentIds.size).toBeGreaterThan(0);
    const seen = new Map<string, Record<string, unknown>>();
    const entries: Record<string, unknown>[] = [];
    for (const record of records) {
      if (parentIds.has(record.span_id as string)) {
        expect(record).not.toHaveProperty('parent_span_id');
        expect(record.attributes).not.toHaveProperty(['dpl.core.data_subject_id']);
        seen.set(record.span_id as string, record);
        continue;
      }
      if (typeof record.parent_span_id === 'string') {
        const parent = seen.get(record.parent_span_id);
        expect(parent).toBeDefined();
        expect(parent!.trace_id).toBe(record.trace_id);
      }
      entries.push(record);
    }
    expect(seen.size).toBe(parentIds.size);
    expect(entries).toHaveLength(rows.length);

    entries.forEach((record, i) => {
      const row = rows[i]!;
      expect(record.trace_id).toBe(row.trace_id);
      // A refusal is handled without internal fault: Unset; an allowed access is explicitly Ok.
      expect(record.status).toBe(row.status === 'allowed' ? 'Ok' : 'Unset');
      expect(record.name).toBe(row.action);
      expect(record.start_time).toBe(`${row.at.slice(0, 23)}Z`);
      expect(record.end_time).toBe(record.start_time);

      const attributes = record.attributes as Record<string, unknown>;
      const uri = new URL(attributes['dpl.core.processing_activity_id'] as string);
      expect(`${uri.origin}${uri.pathname}`).toBe(
        `${t.config.publicUrl}/v1/convenant/versions` +
          (row.policy_version === null ? '' : `/${encodeURIComponent(row.policy_version)}`),
      );
      expect(uri.hash).toBe(row.purpose === null ? '#access-control' : `#purpose-${row.purpose}`);

      // One record refers to 0 or 1 data subjects, each under the action of its request.
      if (row.data_subject_ref === null) {
        expect(attributes).not.toHaveProperty(['dpl.core.data_subject_id']);
        expect(attributes).not.toHaveProperty(['dpl.core.data_subject_id_type']);
      } else {
        expect(attributes['dpl.core.data_subject_id']).toBe(row.data_subject_ref);
        expect(attributes['dpl.core.data_subject_id']).not.toMatch(/^\d{8,9}$/);
        expect(attributes['dpl.core.data_subject_id_type']).toBe('convenant-subject-ref');
        if (row.request_id !== null) expect(parentIds.has(record.parent_span_id as string)).toBe(true);
      }
    });

    // The register answers for every processing activity the records name.
    for (const activity of activities) {
      const uri = new URL(activity);
      const version = decodeURIComponent(uri.pathname.split('/').at(-1)!);
      if (version === 'versions') continue;
      const answer = await http()
        .get(`/v1/convenant/versions/${encodeURIComponent(version)}`)
        .set('authorization', officer);
      expect(answer.status).toBe(200);
      if (uri.hash.startsWith('#purpose-')) expect(JSON.stringify(answer.body)).toContain(uri.hash.slice(9));
    }
  });

  it('logs the export as an audit entry, and refuses a non-officer', async () => {
    const logged = await t.db.dataSource.query<{ n: string }[]>(
      `SELECT count(*)::text AS n FROM access_log WHERE action = 'audit' AND reason LIKE 'Access log exported as ldv%'`,
    );
    expect(Number(logged[0]!.n)).toBeGreaterThanOrEqual(1);
    const partner = await bearerFor(t, { partner: 'vtrr', purpose: 'triage' });
    const refused = await http()
      .get('/v1/audit/export')
      .query({ format: 'ldv' })
      .set('authorization', partner);
    expect(refused.status).toBe(403);
  });
});
