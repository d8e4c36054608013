import request from 'supertest';
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

  // Emergency access (doorbraak) the way a partner claims it: the police, acting for acute safety,
  // claim access to cases they do not take part in, with a written reason, and read them under it.
  // Each claim and each read under it is an emergency entry in the review queue.
  const acuut = await bearerFor(t, {
    partner: 'politie',
    purpose: 'acute-veiligheid',
    professional: 'pol-0003',
  });
  let claimed = 0;
  for (const view of views) {
    if (claimed === 2) break;
    const claim = await http()
      .post(`/v1/cases/${view.id}/emergency-access`)
      .set('authorization', acuut)
      .send({
        reason: 'Melding van acuut gevaar voor het slachtoffer, geen deelnemer van de casus bereikbaar.',
      });
    if (claim.status !== 201) continue;
    const under = await read(acuut, view.id);
    if (under.status !== 200) throw new Error(`read under emergency access: ${under.status}`);
    claimed += 1;
  }
  if (claimed === 0) throw new Error('No demo case took an emergency access claim by the police');
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
