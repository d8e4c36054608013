import request from 'supertest';
import { AccessLogRepository } from '../../src/access-log/access-log.repository.js';
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
    legalBasis: [],
    action: 'read' as const,
    caseId: view.id,
    dataSubjectRef: view.persons[0]?.subjectRef ?? null,
    fields: ['veiligheid.risiconiveau', 'betrokkenen.naam'],
    status: 'allowed' as const,
    ruleId: null,
    reason: 'Doorbraak: melding van acuut gevaar, geen deelnemer bereikbaar.',
    policyVersion: null,
    emergency: true,
  }));
  await t.app.get(AccessLogRepository).append(emergency);
  const rows = await t.db.dataSource.query<{ seq: string }[]>(
    `SELECT seq::text AS seq FROM access_log WHERE emergency ORDER BY seq`,
  );
  return { caseIds, subjectRef: person.subjectRef, emergencySeqs: rows.map((r) => r.seq) };
}
