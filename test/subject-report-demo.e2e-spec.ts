import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { bearerFor, type Who } from './support/tokens.js';

/**
 * The AVG art. 15 subject report against the seeded demo: after a series of real API accesses to
 * one demo person (allowed and refused, by several partners), the report lists exactly the
 * access_log rows for that person, nothing more and nothing less.
 */
const OFFICER: Who = { partner: 'fg', purpose: 'toezicht', professional: 'fg-officer-demo' };

interface Access {
  occurredAt: string;
  outcome: string;
  action: string;
  partner: { id: string } | null;
  professional?: string | null;
  purpose: { id: string } | null;
}

describe('subject report on the demo (real HTTP, real tokens)', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await startTestApp({ env: { DEMO: 'true' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists every access made to one demo person, as the access log holds them', async () => {
    // A demo case where the wijkteam takes part for uitvoering-plan, in phase herstel, and one of its persons.
    const [demo] = await t.db.dataSource.query<{ caseId: string; subjectRef: string }[]>(
      `SELECT c.id AS "caseId", p.subject_ref AS "subjectRef"
         FROM cases c JOIN case_participation cp ON cp.case_id = c.id JOIN case_person p ON p.case_id = c.id
        WHERE cp.partner = 'wijkteam' AND 'uitvoering-plan' = ANY (cp.purposes) AND cp.valid_from <= now()
          AND (cp.valid_until IS NULL OR cp.valid_until > now()) AND c.phase = 'herstel'
        ORDER BY c.reference, p.subject_ref LIMIT 1`,
    );
    expect(demo).toBeDefined();
    const { caseId, subjectRef } = demo!;
    const visitors: Who[] = [
      { partner: 'wijkteam', purpose: 'uitvoering-plan', professional: 'wt-demo-1' },
      { partner: 'wijkteam', purpose: 'uitvoering-plan', professional: 'wt-demo-2' },
      { partner: 'vtrr', purpose: 'triage', professional: 'vt-demo-1' },
      { partner: 'politie', purpose: 'casusoverleg', professional: 'pol-demo-1' },
    ];
    const statuses: number[] = [];
    for (const who of visitors) {
      const auth = await bearerFor(t, who);
      statuses.push((await http().get(`/v1/cases/${caseId}`).set('authorization', auth)).status);
      statuses.push((await http().get('/v1/cases').set('authorization', auth)).status);
    }
    // The wijkteam reads; at least one of the others is refused: the report must show both outcomes.
    expect(statuses[0]).toBe(200);
    expect(statuses.some((s) => s === 403 || s === 404)).toBe(true);

    const officer = await bearerFor(t, OFFICER);
    const res = await http()
      .post('/v1/audit/subject-report')
      .set('authorization', officer)
      .send({ subjectRef, includeProfessionals: true })
      .expect(200);
    const accesses = (res.body as { accesses: Access[] }).accesses;

    const rows = await t.db.dataSource.query<
      {
        occurredAt: string;
        status: string;
        action: string;
        partner: string | null;
        professional: string | null;
        purpose: string | null;
      }[]
    >(
      `SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "occurredAt", status, action,
              partner, professional, processing_activity_id AS purpose
         FROM access_log WHERE data_subject_ref = $1 AND action <> 'audit' ORDER BY occurred_at, seq`,
      [subjectRef],
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.some((r) => r.status === 'allowed')).toBe(true);
    expect(
      accesses.map((a) => [
        a.occurredAt,
        a.outcome,
        a.action,
        a.partner?.id ?? null,
        a.professional,
        a.purpose?.id ?? null,
      ]),
    ).toEqual(rows.map((r) => [r.occurredAt, r.status, r.action, r.partner, r.professional, r.purpose]));
    expect(new Set(accesses.map((a) => a.professional))).toContain('wt-demo-1');
  });
});
