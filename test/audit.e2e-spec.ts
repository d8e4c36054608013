import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { run } from '../src/cli/program.js';
import { AccessLogRepository } from '../src/access-log/access-log.repository.js';
import type { AccessLogEntry } from '../src/access-log/access-log.types.js';
import { RUNNING_PHASES } from '../src/cases/phase.js';
import { PolicyRegistry } from '../src/kernel/policy.registry.js';
import type { CatalogueField, CompiledConvenant, LegalBasis } from '../src/policy/index.js';
import { EXAMPLE_CONVENANTS, startTestApp, type TestApp } from './support/app.js';
import {
  managerOf,
  officerOf,
  otherPartnerThan,
  registrarOf,
  sampleValue,
  type Registrar,
} from './support/convenant-choices.js';
import { bearerFor, type Who } from './support/tokens.js';

/**
 * The privacy officer's API over the real HTTP stack, with real tokens on a real database:
 * only officers get in, refusals are logged, and every officer query leaves its own `audit` row.
 * It runs on every example convenant: the officer, partners, purposes, fields and legal bases in
 * the log entries it writes are taken from the convenant in force.
 */

interface Event {
  seq: string;
  occurredAt: string;
  partner: string | null;
  professional: string | null;
  purpose: string | null;
  action: string;
  caseId: string | null;
  fields: string[];
  outcome: 'allowed' | 'denied';
  emergency: boolean;
}
interface Page {
  items: Event[];
  nextCursor: string | null;
}
interface LogRow {
  action: string;
  status: string;
  partner: string | null;
  professional: string | null;
  processing_activity_id: string | null;
  case_id: string | null;
  data_subject_ref: string | null;
  fields: string[];
  reason: string | null;
}

/** Who and what the spec's log entries name, chosen from the convenant in force. */
interface Cast {
  officer: Who;
  /** A partner that can register a case (the default author of the spec's entries). */
  lead: Registrar;
  /** A partner and purpose that may manage a case it registered, in `managedPhase`. */
  manager: Who;
  managedPhase: Registrar['phase'];
  /** Another partner than the manager's, and one of its purposes. */
  other: Who;
  /** A purpose the convenant opens to emergency access. */
  emergencyPurpose: string;
  /** Two case-level fields, and a field of special sensitivity (health where there is one). */
  caseFields: [string, string];
  special: CatalogueField;
  basis: LegalBasis;
}

function castOf(compiled: CompiledConvenant): Cast {
  const convenant = compiled.convenant;
  const lead = registrarOf(compiled);
  const managedPhase = RUNNING_PHASES.find((phase) => managerOf(compiled, phase));
  const manager = managedPhase && managerOf(compiled, managedPhase);
  const caseFields = convenant.fields.filter((f) => f.level === 'case').map((f) => f.id);
  const special =
    convenant.fields.find((f) => f.sensitivity === 'health') ??
    convenant.fields.find((f) => f.sensitivity !== 'ordinary');
  const emergencyPurpose = convenant.purposes.find((u) => u.emergencyAccess.allowed)?.id;
  const basis = convenant.legalBases[0];
  if (!manager || !managedPhase || caseFields.length < 2 || !special || !emergencyPurpose || !basis)
    throw new Error(`${convenant.id} lacks what the audit spec needs`);
  return {
    officer: officerOf(compiled, 'fg-officer-1'),
    lead,
    manager,
    managedPhase,
    other: otherPartnerThan(compiled, manager),
    emergencyPurpose,
    caseFields: [caseFields[0]!, caseFields[1]!],
    special,
    basis,
  };
}

/** The cast of the convenant whose describe block runs now (blocks run one after another). */
let cast: Cast;
const CASE_A = '11111111-1111-4111-8111-111111111111';
const CASE_B = '22222222-2222-4222-8222-222222222222';

function entry(overrides: Partial<AccessLogEntry>): AccessLogEntry {
  return {
    requestId: null,
    traceId: 'f'.repeat(32),
    partner: cast.lead.partner,
    professional: 'lead-pro-1',
    purpose: cast.lead.purpose,
    legalBasis: [],
    action: 'read',
    caseId: CASE_A,
    dataSubjectRef: null,
    fields: [cast.caseFields[0]],
    status: 'allowed',
    ruleId: null,
    reason: null,
    policyVersion: null,
    emergency: false,
    ...overrides,
  };
}

describe.each(EXAMPLE_CONVENANTS)('audit API (officers only) on $name', ({ dir }) => {
  let t: TestApp;
  let officer: string;
  let compiled: CompiledConvenant;
  const http = () => request(t.app.getHttpServer());

  async function logOf(res: request.Response): Promise<LogRow[]> {
    return t.db.dataSource.query<LogRow[]>(
      `SELECT action, status, partner, professional, processing_activity_id, case_id, data_subject_ref,
              fields, reason
         FROM access_log WHERE trace_id = $1 ORDER BY seq`,
      [res.headers['x-request-id'] as string],
    );
  }
  const events = (query: Record<string, string>) =>
    http().get('/v1/audit/events').query(query).set('authorization', officer);

  beforeAll(async () => {
    t = await startTestApp({ policyDir: dir });
    compiled = t.app.get(PolicyRegistry).current();
    cast = castOf(compiled);
    officer = await bearerFor(t, cast.officer);
    await t.app.get(AccessLogRepository).append([
      entry({ fields: cast.caseFields }),
      entry({
        caseId: CASE_B,
        partner: cast.other.partner,
        professional: 'other-1',
        purpose: cast.other.purpose,
      }),
      entry({ caseId: CASE_B, status: 'denied', fields: [], reason: 'not participating' }),
      entry({
        caseId: CASE_B,
        emergency: true,
        purpose: cast.emergencyPurpose,
        fields: [cast.special.id],
      }),
    ]);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('who gets in', () => {
    it('refuses a partner token with 403 and logs the denial as an audit access', async () => {
      const res = await http()
        .get('/v1/audit/events')
        .set('authorization', await bearerFor(t, cast.lead));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ type: 'https://convenant.dev/problems/not-an-officer' });
      expect(await logOf(res)).toEqual([
        expect.objectContaining({
          action: 'audit',
          status: 'denied',
          partner: cast.lead.partner,
          processing_activity_id: cast.lead.purpose,
          fields: [],
        }),
      ]);
    });

    it('refuses a request without a token with 401', async () => {
      expect((await http().get('/v1/audit/events')).status).toBe(401);
    });
  });

  describe('GET /v1/audit/events', () => {
    it('filters by case, outcome, partner, field and emergency', async () => {
      const byCase = await events({ caseId: CASE_B });
      expect(byCase.status).toBe(200);
      expect((byCase.body as Page).items.map((e) => e.caseId)).toEqual([CASE_B, CASE_B, CASE_B]);

      const denied = await events({ outcome: 'denied', caseId: CASE_B });
      expect((denied.body as Page).items).toEqual([expect.objectContaining({ outcome: 'denied' })]);

      const other = await events({ partner: cast.other.partner });
      expect((other.body as Page).items).toEqual([
        expect.objectContaining({
          partner: cast.other.partner,
          professional: 'other-1',
          purpose: cast.other.purpose,
        }),
      ]);

      const field = await events({ field: cast.caseFields[1] });
      expect((field.body as Page).items.map((e) => e.caseId)).toEqual([CASE_A]);

      const emergency = await events({ emergency: 'true' });
      expect((emergency.body as Page).items).toEqual([
        expect.objectContaining({ emergency: true, fields: [cast.special.id] }),
      ]);

      const audits = await events({ action: 'audit', professional: 'fg-officer-1' });
      expect((audits.body as Page).items.length).toBeGreaterThanOrEqual(5);
      expect((audits.body as Page).items.every((e) => e.action === 'audit')).toBe(true);
    });

    it('pages newest first with a cursor, without gaps or repeats', async () => {
      const all = (await events({ professional: 'lead-pro-1', limit: '200' })).body as Page;
      expect(all.items).toHaveLength(3);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await events({ professional: 'lead-pro-1', limit: '2', ...(cursor ? { cursor } : {}) });
        expect(res.status).toBe(200);
        const page = res.body as Page;
        seen.push(...page.items.map((e) => e.seq));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all.items.map((e) => e.seq));
      const times = all.items.map((e) => e.occurredAt);
      expect([...times].sort().reverse()).toEqual(times);
    });

    it('honours the time range', async () => {
      const future = await events({ from: new Date(Date.now() + 3600_000).toISOString() });
      expect((future.body as Page).items).toEqual([]);
      const past = await events({ to: '2000-01-01T00:00:00Z' });
      expect((past.body as Page).items).toEqual([]);
    });

    it('leaves one audit row per query naming the officer, the case and the filters', async () => {
      const res = await events({ caseId: CASE_A, outcome: 'allowed' });
      expect(res.status).toBe(200);
      const rows = await logOf(res);
      expect(rows).toEqual([
        expect.objectContaining({
          action: 'audit',
          status: 'allowed',
          partner: cast.officer.partner,
          professional: 'fg-officer-1',
          processing_activity_id: cast.officer.purpose,
          case_id: CASE_A,
          fields: [],
        }),
      ]);
      expect(rows[0]!.reason).toContain('outcome=allowed');
    });

    it('refuses invalid filters with 400, all at once, and logs the refusal', async () => {
      const res = await events({ outcome: 'maybe', limit: '500', emergency: 'yes', cursor: 'x' });
      expect(res.status).toBe(400);
      const pointers = (res.body as { errors: { pointer: string }[] }).errors.map((e) => e.pointer);
      expect(pointers).toEqual(expect.arrayContaining(['/outcome', '/limit', '/emergency']));
      expect(await logOf(res)).toEqual([expect.objectContaining({ status: 'denied' })]);
      const badCursor = await events({ cursor: 'bm90LWEtY3Vyc29y' });
      expect(badCursor.status).toBe(400);
    });
  });

  describe('POST /v1/audit/subject-report', () => {
    const SUBJECT = 'p_aaaaaaaaaaaaaaaaaaaa';
    const OTHER = 'p_bbbbbbbbbbbbbbbbbbbb';
    const HOSTILE = '<script>alert(1)</script>';

    interface Report {
      subjectRef: string;
      includesProfessionals: boolean;
      accesses: {
        outcome: string;
        partner: { id: string; name: string };
        professional?: string;
        purpose: { id: string; name: string };
        legalBasis: { id: string; citation: string }[];
        categories: { section: string; sensitivity: string; description: string }[];
      }[];
    }

    beforeAll(async () => {
      await t.app.get(AccessLogRepository).append([
        entry({
          dataSubjectRef: SUBJECT,
          fields: [cast.special.id],
          legalBasis: [cast.basis.id],
          professional: HOSTILE,
        }),
        entry({
          dataSubjectRef: SUBJECT,
          partner: cast.other.partner,
          purpose: cast.other.purpose,
          status: 'denied',
          fields: [],
        }),
        entry({ dataSubjectRef: OTHER }),
      ]);
    });

    const report = (body: object, accept = 'application/json') =>
      http().post('/v1/audit/subject-report').set('authorization', officer).set('accept', accept).send(body);

    it('lists exactly the accesses to that person, with names, citations and categories, no professionals', async () => {
      const res = await report({ subjectRef: SUBJECT });
      expect(res.status).toBe(200);
      const body = res.body as Report;
      expect(body.includesProfessionals).toBe(false);
      expect(body.accesses).toHaveLength(2);
      expect(body.accesses[0]).toEqual(
        expect.objectContaining({
          outcome: 'allowed',
          partner: { id: cast.lead.partner, name: compiled.partner(cast.lead.partner).name },
          purpose: { id: cast.lead.purpose, name: compiled.purpose(cast.lead.purpose).name },
          legalBasis: [{ id: cast.basis.id, citation: cast.basis.citation }],
          categories: [
            expect.objectContaining({ section: cast.special.section, sensitivity: cast.special.sensitivity }),
          ],
        }),
      );
      expect(body.accesses[1]).toMatchObject({ outcome: 'denied', partner: { id: cast.other.partner } });
      expect(body.accesses.some((a) => 'professional' in a)).toBe(false);
      expect(JSON.stringify(body)).not.toContain('lead-pro-1');
    });

    it('names professionals only when asked, and logs the query with the subject in its column only', async () => {
      const res = await report({ subjectRef: SUBJECT, includeProfessionals: true });
      expect((res.body as Report).accesses.map((a) => a.professional)).toEqual([HOSTILE, 'lead-pro-1']);
      const rows = await logOf(res);
      expect(rows).toEqual([
        expect.objectContaining({
          action: 'audit',
          partner: cast.officer.partner,
          data_subject_ref: SUBJECT,
          fields: [],
        }),
      ]);
      expect(rows[0]!.reason).not.toContain(SUBJECT);
    });

    it('lists the accesses to a person made through the case routes, not the officers own queries', async () => {
      const register = await http()
        .post('/v1/cases')
        .set('authorization', await bearerFor(t, cast.lead))
        .send({
          phase: cast.lead.phase,
          persons: [
            {
              role: cast.lead.role,
              fields: {
                [cast.lead.personFields[0]!]: sampleValue(compiled.field(cast.lead.personFields[0]!)!),
              },
            },
          ],
        });
      expect(register.status).toBe(201);
      const ref = (register.body as { persons: { subjectRef: string }[] }).persons[0]!.subjectRef;
      await report({ subjectRef: ref });
      const res = await report({ subjectRef: ref });
      const [row] = await t.db.dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM access_log WHERE data_subject_ref = $1 AND action <> 'audit'`,
        [ref],
      );
      expect(Number(row!.n)).toBeGreaterThan(0);
      expect((res.body as Report).accesses).toHaveLength(Number(row!.n));
    });

    it('renders a printable Dutch page with every value escaped', async () => {
      const res = await report({ subjectRef: SUBJECT, includeProfessionals: true }, 'text/html');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<html lang="nl">');
      expect(res.text).toContain(compiled.partner(cast.lead.partner).name);
      expect(res.text).toContain('geweigerd');
      expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(res.text).not.toContain(HOSTILE);
    });

    it('refuses a malformed subjectRef or an unknown property with 400', async () => {
      expect((await report({ subjectRef: '123456782' })).status).toBe(400);
      expect((await report({ subjectRef: SUBJECT, bsn: '123456782' })).status).toBe(400);
    });
  });

  describe('GET /v1/audit/export', () => {
    const TRICKY = 'komma, "aanhalingstekens"\nen een regel';
    let from: string;

    /** RFC 4180 parser for the test: quoted values may hold commas, doubled quotes and line breaks. */
    function parseCsv(text: string): string[][] {
      const rows: string[][] = [];
      let row: string[] = [];
      let value = '';
      let quoted = false;
      for (let i = 0; i < text.length; i++) {
        const c = text[i]!;
        if (quoted) {
          if (c === '"' && text[i + 1] === '"') {
            value += '"';
            i++;
          } else if (c === '"') quoted = false;
          else value += c;
        } else if (c === '"') quoted = true;
        else if (c === ',') {
          row.push(value);
          value = '';
        } else if (c === '\r' && text[i + 1] === '\n') {
          row.push(value);
          rows.push(row);
          row = [];
          value = '';
          i++;
        } else value += c;
      }
      return rows;
    }

    beforeAll(async () => {
      const [row] = await t.db.dataSource.query<{ now: string }[]>(`SELECT clock_timestamp()::text AS now`);
      from = new Date(row!.now).toISOString();
      const many = Array.from({ length: 2500 }, (_, i) =>
        entry({ caseId: CASE_A, professional: `bulk-${i}` }),
      );
      many[1234] = entry({ reason: TRICKY, professional: 'tricky' });
      await t.app.get(AccessLogRepository).append(many);
    });

    const exportAs = (format: string, range: Record<string, string> = { from }) =>
      http()
        .get('/v1/audit/export')
        .query({ format, ...range })
        .set('authorization', officer)
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => done(null, text));
        });

    it('streams NDJSON that parses back to every entry in the range, oldest first, and logs the export', async () => {
      const res = await exportAs('ndjson');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const lines = (res.body as string).split('\n').filter((l) => l !== '');
      expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'export', scope: 'chain', filter: { from } });
      const events = lines
        .map((l) => JSON.parse(l) as Event & { type: string; reason: string | null })
        .filter((e) => e.type === 'entry');
      // The export's own audit row is written before the stream, so it is in the range too.
      expect(events.filter((e) => e.action === 'read')).toHaveLength(2500);
      expect(events.find((e) => e.professional === 'tricky')?.reason).toBe(TRICKY);
      const seqs = events.map((e) => BigInt(e.seq));
      expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
      expect(await logOf(res)).toEqual([expect.objectContaining({ action: 'audit', status: 'allowed' })]);
    });

    describe('verified offline with the published key', () => {
      let dir: string;
      let jwks: string;
      beforeAll(async () => {
        dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-export-'));
        jwks = path.join(dir, 'jwks.json');
        await writeFile(jwks, JSON.stringify((await http().get('/v1/audit/keys').expect(200)).body));
      });
      afterAll(async () => {
        await rm(dir, { recursive: true, force: true });
      });

      /** Downloads over HTTP, verifies the file as is, then with one entry line altered. */
      async function roundTrip(range: Record<string, string>) {
        const res = await exportAs('ndjson', range);
        expect(res.status).toBe(200);
        const file = path.join(dir, `export-${Object.keys(range).join('-')}.ndjson`);
        await writeFile(file, res.body as string);
        const intact = await run(['audit', 'verify', '--file', file, '--key', jwks], {});
        const lines = (res.body as string).split('\n');
        const at = lines.findIndex((l) => l.includes('"professional":"tricky"'));
        const seq = (JSON.parse(lines[at]!) as { seq: string }).seq;
        lines[at] = lines[at]!.replace('"outcome":"allowed"', '"outcome":"denied"');
        const tamperedFile = path.join(dir, `tampered-${Object.keys(range).join('-')}.ndjson`);
        await writeFile(tamperedFile, lines.join('\n'));
        const tampered = await run(['audit', 'verify', '--file', tamperedFile, '--key', jwks], {});
        return { res, intact, tampered, seq };
      }

      it('an unfiltered range export is a chain segment under a signed checkpoint', async () => {
        const { res, intact, tampered, seq } = await roundTrip({ from });
        const lines = (res.body as string).split('\n').filter((l) => l !== '');
        expect(lines.filter((l) => l.startsWith('{"type":"checkpoint"')).length).toBeGreaterThanOrEqual(1);
        expect(intact.stderr).toBe('');
        expect(intact.code).toBe(0);
        // Everything logged before the export was sealed and checkpointed first, its own audit row too.
        expect(intact.stdout).toMatch(/Signed up to position \d+; 0 entries after it/);
        expect(intact.stdout).toMatch(/OK: the access log is intact/);
        expect(tampered.code).toBe(1);
        expect(tampered.stderr).toMatch(new RegExp(`FAILED: altered at position \\d+ \\(seq ${seq}\\)`));
      });

      it('a case export is a selection: each entry checked against its seal, and it says what is not proven', async () => {
        const { res, intact, tampered, seq } = await roundTrip({ caseId: CASE_A });
        const entries = (res.body as string)
          .split('\n')
          .filter((l) => l.startsWith('{"type":"entry"'))
          .map((l) => JSON.parse(l) as Event);
        expect(entries.length).toBeGreaterThanOrEqual(2501);
        expect(entries.every((e) => e.caseId === CASE_A)).toBe(true);
        expect(intact.code).toBe(0);
        expect(intact.stdout).toMatch(/Selection export \(caseId=/);
        expect(intact.stdout).toMatch(
          /Proven by a signed checkpoint: \d+ entries\. Not provable from this file: \d+/,
        );
        expect(tampered.code).toBe(1);
        expect(tampered.stderr).toMatch(new RegExp(`FAILED: altered at position \\d+ \\(seq ${seq}\\)`));
      });
    });

    it('streams CSV with proper quoting that parses back', async () => {
      const res = await exportAs('csv');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const [header, ...rows] = parseCsv(res.body as string);
      expect(header?.slice(0, 3)).toEqual(['seq', 'occurredAt', 'traceId']);
      const reasonAt = header!.indexOf('reason');
      const professionalAt = header!.indexOf('professional');
      expect(rows.length).toBeGreaterThanOrEqual(2500);
      expect(rows.every((r) => r.length === header!.length)).toBe(true);
      expect(rows.find((r) => r[professionalAt] === 'tricky')?.[reasonAt]).toBe(TRICKY);
    });

    it('exports nothing outside the range and refuses an unknown format', async () => {
      const empty = await exportAs('ndjson', { to: '2000-01-01T00:00:00Z' });
      expect(empty.body).toBe('');
      expect((await exportAs('xml')).status).toBe(400);
    });
  });

  describe('GET /v1/audit/anomalies', () => {
    interface Signal {
      kind: string;
      professional?: string;
      partner?: string;
      cases?: number;
      partnerMedian?: number;
      denials?: number;
      accesses?: number;
      entry?: { partner: string; caseId: string; professional: string | null };
      explanation: string;
    }
    const WINDOW = { from: '2025-03-01T00:00:00Z', to: '2025-03-08T00:00:00Z' };

    /** Rows at chosen moments (the app's writer stamps the current time, so these go in directly). */
    async function insertAt(
      rows: { at: string; professional: string; status?: string; emergency?: boolean; caseId?: string }[],
    ): Promise<void> {
      for (const r of rows) {
        await t.db.dataSource.query(
          `INSERT INTO access_log (occurred_at, trace_id, partner, professional, processing_activity_id,
                                   action, case_id, status, emergency)
           VALUES ($1, $2, '${cast.other.partner}', $3, '${cast.other.purpose}', 'read', $4, $5, $6)`,
          [
            r.at,
            'e'.repeat(32),
            r.professional,
            r.caseId ?? CASE_A,
            r.status ?? 'allowed',
            r.emergency ?? false,
          ],
        );
      }
    }
    const caseNo = (i: number) => `33333333-3333-4333-8333-${String(i).padStart(12, '0')}`;

    beforeAll(async () => {
      await insertAt([
        ...['w1', 'w2', 'w3'].map((professional) => ({ at: '2025-03-02T12:00:00Z', professional })),
        ...Array.from({ length: 12 }, (_, i) => ({
          at: '2025-03-02T12:00:00Z',
          professional: 'w4',
          caseId: caseNo(i),
        })),
        ...Array.from({ length: 5 }, (_, i) => ({
          at: `2025-03-03T1${i}:00:00Z`,
          professional: 'd1',
          status: 'denied',
        })),
        ...Array.from({ length: 4 }, (_, i) => ({
          at: `2025-03-03T1${i}:00:00Z`,
          professional: 'd2',
          status: 'denied',
        })),
        { at: '2025-03-04T10:00:00Z', professional: 'e1', emergency: true },
        // 22:30 and 05:30 in Amsterdam (UTC+1 in early March) are unusual; 06:30 is not.
        { at: '2025-03-05T21:30:00Z', professional: 'n1' },
        { at: '2025-03-06T04:30:00Z', professional: 'n1' },
        { at: '2025-03-06T05:30:00Z', professional: 'n2' },
      ]);
    });

    const anomalies = (query: Record<string, string>) =>
      http().get('/v1/audit/anomalies').query(query).set('authorization', officer);

    it('fires each signal on crafted data, with the numbers behind it, and nothing for the ordinary rows', async () => {
      const res = await anomalies(WINDOW);
      expect(res.status).toBe(200);
      const signals = (res.body as { signals: Signal[] }).signals;
      const of = (kind: string) => signals.filter((s) => s.kind === kind);
      expect(of('case-volume')).toEqual([
        expect.objectContaining({
          professional: 'w4',
          partner: cast.other.partner,
          cases: 12,
          partnerMedian: 1,
        }),
      ]);
      expect(of('repeated-denials')).toEqual([
        expect.objectContaining({
          professional: 'd1',
          denials: 5,
          firstAt: '2025-03-03T10:00:00.000000Z',
          lastAt: '2025-03-03T14:00:00.000000Z',
        }),
      ]);
      expect(of('emergency-unreviewed')).toEqual([
        expect.objectContaining({ entry: expect.objectContaining({ professional: 'e1' }) }),
      ]);
      expect(of('unusual-hours')).toEqual([expect.objectContaining({ professional: 'n1', accesses: 2 })]);
      expect(signals.every((s) => s.explanation.length > 0)).toBe(true);
      expect(await logOf(res)).toEqual([expect.objectContaining({ action: 'audit', status: 'allowed' })]);
    });

    it("flags a refused access after the partner's participation ended", async () => {
      const manager = await bearerFor(t, cast.manager);
      const lateWho: Who = { ...cast.other, professional: 'wt-late' };
      const registered = await http()
        .post('/v1/cases')
        .set('authorization', manager)
        .send({ phase: cast.managedPhase, persons: [{ role: cast.lead.role }] });
      const caseId = (registered.body as { id: string }).id;
      const added = await http()
        .post(`/v1/cases/${caseId}/participations`)
        .set('authorization', manager)
        .send({ partner: cast.other.partner, purposes: [cast.other.purpose] });
      expect(added.status).toBe(201);
      const ended = await http()
        .delete(`/v1/cases/${caseId}/participations/${(added.body as { id: string }).id}`)
        .set('authorization', manager);
      expect(ended.status).toBeLessThan(300);
      const late = await http()
        .get(`/v1/cases/${caseId}`)
        .set('authorization', await bearerFor(t, lateWho));
      expect(late.status).toBe(403);

      const signals = ((await anomalies({})).body as { signals: Signal[] }).signals;
      expect(signals.filter((s) => s.kind === 'access-after-participation-ended')).toEqual([
        expect.objectContaining({
          entry: expect.objectContaining({ partner: cast.other.partner, caseId, professional: 'wt-late' }),
        }),
      ]);
    });
  });

  describe('emergency reviews', () => {
    interface Item {
      entry: { seq: string; professional: string | null };
      review: { judgement: string; comment: string; reviewedBy: string } | null;
    }
    let seq: string;

    beforeAll(async () => {
      await t.app.get(AccessLogRepository).append([entry({ emergency: true, professional: 'doorbraak-1' })]);
      const [row] = await t.db.dataSource.query<{ seq: string }[]>(
        `SELECT seq::text AS seq FROM access_log WHERE professional = 'doorbraak-1'`,
      );
      seq = row!.seq;
    });

    const queue = (status?: string) =>
      http()
        .get('/v1/audit/emergency-reviews')
        .query(status ? { status } : {})
        .set('authorization', officer);
    const judge = (at: string, body: object) =>
      http().post(`/v1/audit/emergency-reviews/${at}`).set('authorization', officer).send(body);

    it('queues an emergency access, records one judgement, logs it, and then shows it as reviewed', async () => {
      const pending = await queue();
      expect(pending.status).toBe(200);
      expect((pending.body as { items: Item[] }).items.map((i) => i.entry.seq)).toContain(seq);

      const res = await judge(seq, { judgement: 'lawful', comment: 'Acuut gevaar, terecht.' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ seq, judgement: 'lawful', reviewedBy: 'fg-officer-1' });
      const rows = await logOf(res);
      expect(rows).toEqual([
        expect.objectContaining({ action: 'audit', status: 'allowed', case_id: CASE_A }),
      ]);
      expect(rows[0]!.reason).toContain('lawful');
      expect(rows[0]!.reason).not.toContain('Acuut');

      const after = (await queue()).body as { items: Item[] };
      expect(after.items.map((i) => i.entry.seq)).not.toContain(seq);
      const reviewed = (await queue('reviewed')).body as { items: Item[] };
      expect(reviewed.items.find((i) => i.entry.seq === seq)?.review).toMatchObject({ judgement: 'lawful' });

      const again = await judge(seq, { judgement: 'unlawful', comment: 'anders' });
      expect(again.status).toBe(409);
    });

    it('refuses an entry that is not an emergency access (404) and invalid judgements (400)', async () => {
      const [row] = await t.db.dataSource.query<{ seq: string }[]>(
        `SELECT seq::text AS seq FROM access_log WHERE NOT emergency ORDER BY seq LIMIT 1`,
      );
      expect((await judge(row!.seq, { judgement: 'lawful', comment: 'x' })).status).toBe(404);
      expect((await judge(seq, { judgement: 'fine', comment: 'x' })).status).toBe(400);
      expect((await judge('abc', { judgement: 'lawful', comment: 'x' })).status).toBe(400);
    });
  });
});
