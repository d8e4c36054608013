import request from 'supertest';
import { RUNNING_PHASES } from '../src/cases/phase.js';
import { PolicyRegistry } from '../src/kernel/policy.registry.js';
import { accessSubject, permittedFields, type PersonRole, type Phase } from '../src/policy/index.js';
import { EXAMPLE_CONVENANTS, startTestApp, type TestApp } from './support/app.js';
import { casePairs, officerOf } from './support/convenant-choices.js';
import { bearerFor, type Who } from './support/tokens.js';

/**
 * The AVG art. 15 subject report against the seeded demo: after a series of real API accesses to
 * one demo person (allowed and refused, by several partners), the report lists exactly the
 * access_log rows for that person, nothing more and nothing less. On each example convenant, with
 * the demo case, its reader and a partner that does not take part chosen from the seeded data.
 */

interface Access {
  occurredAt: string;
  outcome: string;
  action: string;
  partner: { id: string } | null;
  professional?: string | null;
  purpose: { id: string } | null;
}

describe.each(EXAMPLE_CONVENANTS)(
  'subject report on the demo of $name (real HTTP, real tokens)',
  ({ dir }) => {
    let t: TestApp;
    const http = () => request(t.app.getHttpServer());

    beforeAll(async () => {
      t = await startTestApp({ policyDir: dir, env: { DEMO: 'true' } });
    }, 120_000);
    afterAll(async () => {
      await t.close();
    });

    it('lists every access made to one demo person, as the access log holds them', async () => {
      // A demo case in a running phase, a partner taking part in it now under a purpose that lets
      // it read some of a person's fields, that person, and a partner that does not take part.
      const compiled = t.app.get(PolicyRegistry).current();
      const candidates = await t.db.dataSource.query<
        {
          caseId: string;
          phase: Phase;
          partner: string;
          purposes: string[];
          subjectRef: string;
          role: PersonRole;
        }[]
      >(
        `SELECT c.id AS "caseId", c.phase, cp.partner, cp.purposes, p.subject_ref AS "subjectRef", p.role
         FROM cases c JOIN case_participation cp ON cp.case_id = c.id JOIN case_person p ON p.case_id = c.id
        WHERE cp.valid_from <= now() AND (cp.valid_until IS NULL OR cp.valid_until > now())
          AND c.phase = ANY ($1)
        ORDER BY c.reference, cp.partner, p.subject_ref`,
        [RUNNING_PHASES],
      );
      let demo: { caseId: string; subjectRef: string; reader: Who; outsider: Who } | undefined;
      for (const c of candidates) {
        const purpose = c.purposes.find(
          (u) =>
            permittedFields(
              compiled.abilityFor(c.partner, u),
              'read',
              accessSubject({ phase: c.phase, participant: true, role: c.role }),
            ).length > 0,
        );
        if (!purpose) continue;
        const taking = new Set(candidates.filter((o) => o.caseId === c.caseId).map((o) => o.partner));
        const outsider = casePairs(compiled).find((w) => !taking.has(w.partner));
        if (!outsider) continue;
        demo = {
          caseId: c.caseId,
          subjectRef: c.subjectRef,
          reader: { partner: c.partner, purpose },
          outsider,
        };
        break;
      }
      expect(demo).toBeDefined();
      const { caseId, subjectRef, reader, outsider } = demo!;
      const visitors: Who[] = [
        { ...reader, professional: 'reader-demo-1' },
        { ...reader, professional: 'reader-demo-2' },
        { ...outsider, professional: 'outsider-demo-1' },
      ];
      const statuses: number[] = [];
      for (const who of visitors) {
        const auth = await bearerFor(t, who);
        statuses.push((await http().get(`/v1/cases/${caseId}`).set('authorization', auth)).status);
        statuses.push((await http().get('/v1/cases').set('authorization', auth)).status);
      }
      // The participant reads; the outsider is refused: the report must show both outcomes.
      expect(statuses[0]).toBe(200);
      expect(statuses[4]).toBe(403);

      const officer = await bearerFor(t, officerOf(compiled, 'officer-demo'));
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
      expect(new Set(accesses.map((a) => a.professional))).toContain('reader-demo-1');
    });
  },
);
