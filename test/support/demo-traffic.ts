import request from 'supertest';
import { AccessLogRepository } from '../../src/access-log/access-log.repository.js';
import { PolicyRegistry } from '../../src/convenant/policy.registry.js';
import type { TestApp } from './app.js';
import { bearerFor } from './tokens.js';

/**
 * Access log traffic on the seeded demo, made the way partner systems make it: real tokens, real
 * requests to /v1/cases, so every row comes from the gateway's own logging (allowed reads, and
 * denials where a partner does not take part).
 */

interface CaseView {
  id: string;
  persons: { subjectRef: string; role: string }[];
}

export interface DemoTraffic {
  /** Cases read by Veilig Thuis (and then tried by the police). */
  caseIds: string[];
  /** A person in the first of those cases, whose data was read. */
  subjectRef: string;
  /** Positions of the emergency accesses awaiting review. */
  emergencySeqs: string[];
}

export async function makeDemoTraffic(t: TestApp, cases = 8): Promise<DemoTraffic> {
  const http = () => request(t.app.getHttpServer());
  const vtrr = await bearerFor(t, { partner: 'vtrr', purpose: 'triage', professional: 'vt-0007' });
  const wijkteam = await bearerFor(t, {
    partner: 'wijkteam',
    purpose: 'uitvoering-plan',
    professional: 'wt-0042',
  });
  const politie = await bearerFor(t, {
    partner: 'politie',
    purpose: 'casusoverleg',
    professional: 'pol-0003',
  });

  const list = async (auth: string) => {
    const res = await http()
      .get('/v1/cases')
      .query({ limit: String(cases) })
      .set('authorization', auth);
    if (res.status !== 200) throw new Error(`GET /v1/cases: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { items: { id: string }[] }).items.map((c) => c.id);
  };
  const read = (auth: string, id: string) => http().get(`/v1/cases/${id}`).set('authorization', auth);

  const caseIds = await list(vtrr);
  const views: CaseView[] = [];
  for (const id of caseIds) views.push((await read(vtrr, id)).body as CaseView);
  for (const id of await list(wijkteam)) await read(wijkteam, id);
  // The police try Veilig Thuis's cases: allowed where they take part, refused (and logged) elsewhere.
  for (const id of caseIds) await read(politie, id);

  await replayOnEarlierDays(t, 13);

  const first = views[0];
  const person = first?.persons[0];
  if (!first || !person) throw new Error('The demo has no case with persons for Veilig Thuis to read');

  /*
   * FIXTURE, to be replaced by POST /v1/cases/{id}/emergency-access once issue 6 lands: emergency
   * accesses (doorbraak) written through the gateway's own access log writer, as the emergency
   * route will write them, so the review queue has entries on the demo.
   */
  const emergency = views.slice(0, 3).map((view, i) => ({
    traceId: `${'e'.repeat(31)}${i}`,
    partner: 'politie',
    professional: 'pol-0003',
    purpose: 'acute-veiligheid',
    legalBasis: ['avg-6-1-d'],
    action: 'read' as const,
    caseId: view.id,
    dataSubjectRef: view.persons[0]?.subjectRef ?? null,
    fields: ['veiligheid.risiconiveau', 'betrokkenen.naam'],
    status: 'allowed' as const,
    ruleId: 'doorbraak-veiligheid',
    reason: 'Doorbraak: melding van acuut gevaar, geen deelnemer bereikbaar.',
    policyVersion: t.app.get(PolicyRegistry).current().version,
    emergency: true,
  }));
  await t.app.get(AccessLogRepository).append(emergency);
  const rows = await t.db.dataSource.query<{ seq: string }[]>(
    // The review queue's own definition: allowed emergency entries, oldest first.
    `SELECT seq::text AS seq FROM access_log WHERE emergency AND status = 'allowed' ORDER BY occurred_at, seq`,
  );
  return { caseIds, subjectRef: person.subjectRef, emergencySeqs: rows.map((r) => r.seq) };
}

/**
 * FIXTURE: a history for the timeline. The partners' rows just written by the gateway are
 * appended again, each on some of the `days` before today (about half of them a day), with new
 * trace ids, so the log covers two weeks as a live one would. Plain INSERTs: the log stays
 * append-only, and the sealer chains these rows like any other.
 */
async function replayOnEarlierDays(t: TestApp, days: number): Promise<void> {
  const columns =
    'partner, professional, processing_activity_id, legal_basis, action, case_id, data_subject_ref, ' +
    'fields, status, rule_id, reason, policy_version, emergency';
  await t.db.dataSource.query(
    `INSERT INTO access_log (trace_id, occurred_at, ${columns})
     SELECT md5(trace_id || d::text), occurred_at - make_interval(days => d, hours => (seq % 9)::int), ${columns}
       FROM access_log, generate_series(1, $1::int) AS d
      WHERE action <> 'audit' AND (seq + d) % 2 = 0
      ORDER BY d DESC, seq`,
    [days],
  );
}
