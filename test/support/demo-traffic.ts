import request from 'supertest';
import { OFFICER_PURPOSE } from '../../src/audit/officer.js';
import { CLOSED_PHASE } from '../../src/cases/phase.js';
import { PolicyRegistry } from '../../src/kernel/policy.registry.js';
import type { TestApp } from './app.js';
import { casePairs } from './convenant-choices.js';
import { bearerFor, type Who } from './tokens.js';

/**
 * Access log traffic on the seeded demo, made the way partner systems make it: real tokens, real
 * requests to /v1/cases, so every row comes from the gateway's own logging (allowed reads, and
 * denials where a partner does not take part). The partners and purposes are taken from the demo
 * the convenant in force generated, never named, so the traffic runs on every example convenant.
 */

interface CaseView {
  id: string;
  persons: { subjectRef: string; role: string }[];
}

export interface DemoTraffic {
  /** Cases read by `lead` (and then tried by `tryer`). */
  caseIds: string[];
  /** A person in the first of those cases, whose data was read. */
  subjectRef: string;
  /** Positions of the emergency accesses awaiting review. */
  emergencySeqs: string[];
  /** The partner and purpose taking part in the most running demo cases: it lists and reads them. */
  lead: Who;
  /** Another partner's busiest purpose: it lists and reads its own cases. */
  other: Who;
  /** A third partner that tries `lead`'s cases: allowed where it takes part, refused elsewhere. */
  tryer: Who;
  /** The partner and purpose that claimed emergency access (doorbraak) to `lead`'s cases. */
  emergency: Who;
}

/**
 * The demo's participations, busiest (partner, purpose) first: who takes part now, under which
 * purpose, in how many cases that are not closed. Read from the database the seeder wrote, so the
 * traffic follows whatever convenant the demo was generated from.
 */
async function busiestPairs(t: TestApp): Promise<Who[]> {
  const rows = await t.db.dataSource.query<{ partner: string; purpose: string }[]>(
    `SELECT p.partner, u.purpose
       FROM case_participation p
       CROSS JOIN LATERAL unnest(p.purposes) AS u(purpose)
       JOIN cases c ON c.id = p.case_id
      WHERE c.phase <> $1 AND p.valid_from <= now() AND (p.valid_until IS NULL OR p.valid_until > now())
        AND u.purpose <> $2
      GROUP BY p.partner, u.purpose
      ORDER BY count(DISTINCT p.case_id) DESC, p.partner, u.purpose`,
    [CLOSED_PHASE, OFFICER_PURPOSE],
  );
  return rows.map((r) => ({ partner: r.partner, purpose: r.purpose }));
}

export async function makeDemoTraffic(t: TestApp, cases = 8): Promise<DemoTraffic> {
  const http = () => request(t.app.getHttpServer());
  const compiled = t.app.get(PolicyRegistry).current();
  const pairs = await busiestPairs(t);
  const lead = pairs[0];
  const other = pairs.find((w) => w.partner !== lead?.partner);
  if (!lead || !other) throw new Error('The demo has fewer than two partners taking part');
  const leadAuth = await bearerFor(t, { ...lead, professional: `${lead.partner}-0007` });
  const otherAuth = await bearerFor(t, { ...other, professional: `${other.partner}-0042` });

  const list = async (auth: string) => {
    const res = await http()
      .get('/v1/cases')
      .query({ limit: String(cases) })
      .set('authorization', auth);
    if (res.status !== 200) throw new Error(`GET /v1/cases: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { items: { id: string }[] }).items.map((c) => c.id);
  };
  const read = (auth: string, id: string) => http().get(`/v1/cases/${id}`).set('authorization', auth);

  const caseIds = await list(leadAuth);
  // The third partner is one that takes no part in at least one of those cases, so it is refused there.
  const absent = await t.db.dataSource.query<{ partner: string }[]>(
    `SELECT DISTINCT w.partner FROM unnest($1::text[]) AS w(partner), unnest($2::uuid[]) AS c(id)
      WHERE NOT EXISTS (SELECT 1 FROM case_participation p
                         WHERE p.case_id = c.id AND p.partner = w.partner AND p.valid_from <= now()
                           AND (p.valid_until IS NULL OR p.valid_until > now()))`,
    [pairs.map((w) => w.partner), caseIds],
  );
  const refusable = new Set(absent.map((r) => r.partner));
  const tryer = pairs.find(
    (w) => w.partner !== lead.partner && w.partner !== other.partner && refusable.has(w.partner),
  );
  if (!tryer) throw new Error(`No third demo partner is absent from a case of ${lead.partner}`);
  const tryerAuth = await bearerFor(t, { ...tryer, professional: `${tryer.partner}-0003` });
  const views: CaseView[] = [];
  for (const id of caseIds) views.push((await read(leadAuth, id)).body as CaseView);
  for (const id of await list(otherAuth)) await read(otherAuth, id);
  // The third partner tries the lead's cases: allowed where it takes part, refused (and logged) elsewhere.
  for (const id of caseIds) await read(tryerAuth, id);

  await replayOnEarlierDays(t, 13);

  const first = views[0];
  const person = first?.persons[0];
  if (!first || !person) throw new Error(`The demo has no case with persons for ${lead.partner} to read`);

  // Emergency access (doorbraak) the way a partner claims it: a partner acting under a purpose the
  // convenant opens to emergency access claims access to cases it does not take part in, with a
  // written reason, and reads them under it. Each claim and each read under it is an emergency
  // entry in the review queue. The first such pair whose claims the convenant grants is used.
  const candidates = casePairs(compiled).filter((w) => compiled.purpose(w.purpose).emergencyAccess.allowed);
  let emergency: Who | undefined;
  let claimed = 0;
  for (const who of candidates) {
    const auth = await bearerFor(t, { ...who, professional: `${who.partner}-0003` });
    for (const view of views) {
      if (claimed === 2) break;
      const claim = await http()
        .post(`/v1/cases/${view.id}/emergency-access`)
        .set('authorization', auth)
        .send({
          reason: 'Melding van acuut gevaar voor een betrokkene, geen deelnemer van de casus bereikbaar.',
        });
      if (claim.status !== 201) continue;
      const under = await read(auth, view.id);
      if (under.status !== 200) throw new Error(`read under emergency access: ${under.status}`);
      claimed += 1;
    }
    if (claimed > 0) {
      emergency = who;
      break;
    }
  }
  if (!emergency) throw new Error(`No demo case of ${lead.partner} took an emergency access claim`);
  const rows = await t.db.dataSource.query<{ seq: string }[]>(
    // The review queue's own definition: allowed emergency entries, oldest first.
    `SELECT seq::text AS seq FROM access_log WHERE emergency AND status = 'allowed' ORDER BY occurred_at, seq`,
  );
  return {
    caseIds,
    subjectRef: person.subjectRef,
    emergencySeqs: rows.map((r) => r.seq),
    lead,
    other,
    tryer,
    emergency,
  };
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
