import fc from 'fast-check';
import request from 'supertest';
import { PHASES } from '../src/policy/index.js';
import { startTestApp, type TestApp } from './support/app.js';
import { bearerCache, type Who } from './support/tokens.js';

/**
 * No answer tells a partner something about a case it has no right to: for cases in every phase,
 * a partner that takes no part gets the same answer on every case route, whatever the phase
 * (the phase-change route once answered "already in phase X" before it checked the caller).
 */

const VTRR: Who = { partner: 'vtrr', purpose: 'triage', professional: 'vt-1' };
/** Partners that take part in none of these cases, with purposes that could manage or read. */
const OUTSIDERS: Who[] = [
  { partner: 'dock', purpose: 'uitvoering-plan', professional: 'dock-1' },
  { partner: 'politie', purpose: 'casusoverleg', professional: 'pol-1' },
  { partner: 'wijkteam', purpose: 'casusoverleg', professional: 'wt-1' },
];
const REASON = 'Veiligheid is hersteld na het casusoverleg van vandaag.';

type Route = (http: () => request.Agent, id: string, bearer: string, phase: string) => request.Test;
const ROUTES: Record<string, Route> = {
  'POST phase': (http, id, b, phase) =>
    http().post(`/v1/cases/${id}/phase`).set('authorization', b).send({ phase, reason: REASON }),
  'GET case': (http, id, b) => http().get(`/v1/cases/${id}`).set('authorization', b),
  'GET phases': (http, id, b) => http().get(`/v1/cases/${id}/phases`).set('authorization', b),
  'PUT fields': (http, id, b) =>
    http()
      .put(`/v1/cases/${id}/fields`)
      .set('authorization', b)
      .send({ values: [{ field: 'plan.doelen', value: 'x' }] }),
  'GET history': (http, id, b) =>
    http().get(`/v1/cases/${id}/fields/plan.doelen/history`).set('authorization', b),
  'POST participation': (http, id, b) =>
    http()
      .post(`/v1/cases/${id}/participations`)
      .set('authorization', b)
      .send({ partner: 'dock', purposes: ['uitvoering-plan'] }),
  'GET emergency-accesses': (http, id, b) =>
    http().get(`/v1/cases/${id}/emergency-accesses`).set('authorization', b),
};

/** What a caller learns from an answer: everything but the per-request trace id. */
function answerOf(res: request.Response): unknown {
  const { traceId: _trace, instance, ...rest } = res.body as Record<string, unknown>;
  return { status: res.status, body: rest, instance: String(instance).replace(/[0-9a-f-]{36}/, ':id') };
}

describe('no phase oracle: a non-participant gets one answer whatever the case phase (property)', () => {
  let t: TestApp;
  const casesByPhase = new Map<string, string>();
  const http = () => request.agent(t.app.getHttpServer());
  const as = bearerCache(() => t);

  beforeAll(async () => {
    t = await startTestApp();
    for (const phase of PHASES) {
      const created = await http()
        .post('/v1/cases')
        .set('authorization', await as(VTRR))
        .send({
          phase: 'acute',
          persons: [{ role: 'slachtoffer', fields: { 'betrokkenen.naam': 'A. de Vries' } }],
        });
      expect(created.status).toBe(201);
      const id = (created.body as { id: string }).id;
      if (phase !== 'acute') {
        const changed = await ROUTES['POST phase']!(http, id, await as(VTRR), phase);
        expect(changed.status).toBe(200);
      }
      casesByPhase.set(phase, id);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('covers a case in every phase', () => {
    expect([...casesByPhase.keys()].sort()).toEqual([...PHASES].sort());
  });

  it('answers each outsider the same on every case route, for cases in any two phases', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OUTSIDERS),
        fc.constantFrom(...Object.keys(ROUTES)),
        fc.constantFrom(...PHASES),
        fc.constantFrom(...PHASES),
        fc.constantFrom(...PHASES),
        async (who, route, phaseA, phaseB, requested) => {
          const bearer = await as(who);
          const send = ROUTES[route]!;
          const a = await send(http, casesByPhase.get(phaseA)!, bearer, requested);
          const b = await send(http, casesByPhase.get(phaseB)!, bearer, requested);
          expect(a.status).toBeGreaterThanOrEqual(400);
          expect(answerOf(a)).toEqual(answerOf(b));
          expect(JSON.stringify(a.body)).not.toMatch(/already|phase-unchanged/);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('still lets Veilig Thuis tell it that the case is in that phase already', async () => {
    const res = await ROUTES['POST phase']!(http, casesByPhase.get('herstel')!, await as(VTRR), 'herstel');
    expect(res.status).toBe(409);
  });
});
