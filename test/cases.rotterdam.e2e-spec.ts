import request from 'supertest';
import { REAL_CONVENANT, startTestApp, type TestApp } from './support/app.js';
import { bearerCache, type Who } from './support/tokens.js';

/**
 * ROTTERDAM ONLY: the legal expectations of the Rotterdam convenant (zvh-rotterdam-rijnmond) on
 * the case routes, over the real HTTP stack with real tokens: which rule and which legal bases
 * decide each write and read, what Veilig Thuis, the wijkteam and the police each see of one case,
 * that criminal data stays in the casusoverleg, and that the geheim adres of the victim is never
 * shown. These name Rotterdam's partners, fields and rule ids on purpose; the behaviour that must
 * hold on every convenant is in cases.e2e-spec.ts.
 */

interface LogRow {
  action: string;
  case_id: string | null;
  data_subject_ref: string | null;
  fields: string[];
  status: 'allowed' | 'denied';
  rule_id: string | null;
  reason: string | null;
  legal_basis: string[];
  partner: string;
  professional: string;
  processing_activity_id: string;
  policy_version: string;
}

interface FieldView {
  value: unknown;
  source: string;
  recordedAt: string;
}

interface CaseBody {
  id: string;
  policyVersion: string;
  fields: Record<string, FieldView>;
  persons: { subjectRef: string; role: string; fields: Record<string, FieldView> }[];
}

/** The persons' subject references, in registration order (at least one person per case). */
const refsOf = (res: request.Response): [string, ...string[]] => {
  const refs = (res.body as { persons: { subjectRef: string }[] }).persons.map((p) => p.subjectRef);
  expect(refs.length).toBeGreaterThan(0);
  return refs as [string, ...string[]];
};

const BSN = '123456782';

describe('cases over HTTP: Rotterdam legal checks (zvh-rotterdam-rijnmond only)', () => {
  let t: TestApp;
  /** Every 2xx answer of this file, checked at the end for its log rows. */
  const answered: string[] = [];

  const http = () => request(t.app.getHttpServer());
  const as = bearerCache(() => t);
  const VTRR = { partner: 'vtrr', purpose: 'triage' };
  const WIJKTEAM = { partner: 'wijkteam', purpose: 'uitvoering-plan' };
  const POLITIE = { partner: 'politie', purpose: 'casusoverleg' };

  async function logOf(res: request.Response): Promise<LogRow[]> {
    const traceId = res.headers['x-request-id'] as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    if (res.status >= 200 && res.status < 300) answered.push(traceId);
    return t.db.dataSource.query<LogRow[]>(
      `SELECT action, case_id, data_subject_ref, fields, status, rule_id, reason, legal_basis, partner,
              professional, processing_activity_id, policy_version
         FROM access_log WHERE trace_id = $1 ORDER BY seq`,
      [traceId],
    );
  }

  async function count(sql: string, params: unknown[] = []): Promise<number> {
    const [row] = await t.db.dataSource.query<{ n: string }[]>(sql, params);
    return Number(row!.n);
  }

  /** The log rows of a read name exactly the fields the response carries, per data subject. */
  function expectRowsMatchResponse(rows: LogRow[], body: CaseBody): void {
    const logged = new Map<string | null, string[]>();
    for (const row of rows) {
      expect(row).toMatchObject({
        action: 'read',
        status: 'allowed',
        case_id: body.id,
        policy_version: body.policyVersion,
      });
      logged.set(row.data_subject_ref, [...(logged.get(row.data_subject_ref) ?? []), ...row.fields]);
    }
    expect(logged.get(null)?.sort()).toEqual(Object.keys(body.fields).sort());
    for (const person of body.persons) {
      expect(logged.get(person.subjectRef)?.sort()).toEqual(Object.keys(person.fields).sort());
    }
    expect(logged.size).toBe(1 + body.persons.length);
  }

  let registration: request.Response;
  let caseId: string;
  let victim: string;
  let perpetrator: string;
  let child: string;

  async function register(who: Who, body: object): Promise<request.Response> {
    return http()
      .post('/v1/cases')
      .set('authorization', await as(who))
      .send(body);
  }
  async function addParticipation(caseIdToUse: string, body: object, who: Who = VTRR) {
    return http()
      .post(`/v1/cases/${caseIdToUse}/participations`)
      .set('authorization', await as(who))
      .send(body);
  }
  async function read(who: Who, id = caseId) {
    return http()
      .get(`/v1/cases/${id}`)
      .set('authorization', await as(who));
  }
  async function write(who: Who, values: object[], id = caseId) {
    return http()
      .put(`/v1/cases/${id}/fields`)
      .set('authorization', await as(who))
      .send({ values });
  }

  beforeAll(async () => {
    t = await startTestApp({ policyDir: REAL_CONVENANT });
    registration = await register(VTRR, {
      phase: 'stabilisatie',
      persons: [
        {
          role: 'slachtoffer',
          bsn: BSN,
          fields: { 'betrokkenen.naam': 'Anna Jansen', 'betrokkenen.geboortedatum': '1990-04-01' },
        },
        { role: 'pleger', fields: { 'betrokkenen.naam': 'Piet Jansen' } },
        { role: 'kind', fields: { 'betrokkenen.naam': 'Sem Jansen' } },
      ],
      fields: {
        'casus.vorm-geweld': 'partnergeweld',
        'veiligheid.risiconiveau': 'hoog',
        'veiligheid.risicotaxatie': 'B-SAFER: hoog risico op herhaling',
      },
    });
    expect(registration.status).toBe(201);
    caseId = registration.body.id;
    [victim, perpetrator = '', child = ''] = refsOf(registration);
    expect(
      (await addParticipation(caseId, { partner: 'wijkteam', purposes: ['uitvoering-plan'] })).status,
    ).toBe(201);
    expect((await addParticipation(caseId, { partner: 'politie', purposes: ['casusoverleg'] })).status).toBe(
      201,
    );
    expect((await write(WIJKTEAM, [{ field: 'plan.doelen', value: 'Veilig thuis wonen' }])).status).toBe(200);
    expect(
      (
        await write(POLITIE, [
          { field: 'politie.antecedenten', subjectRef: perpetrator, value: 'Mishandeling 2024' },
        ])
      ).status,
    ).toBe(200);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('POST /v1/cases', () => {
    it('registers under the ZVH- prefix; each write names its Rotterdam rule and legal bases', async () => {
      expect(registration.body).toMatchObject({
        reference: expect.stringMatching(/^ZVH-\d{4}-\d{6}$/),
        phase: 'stabilisatie',
        participation: { partner: 'vtrr', purposes: ['triage'], validUntil: null, current: true },
        persons: [{ role: 'slachtoffer' }, { role: 'pleger' }, { role: 'kind' }],
      });
      expect(victim).toMatch(/^p_[a-z2-7]{20}$/);
      const [bsnRow] = await t.db.dataSource.query<
        { value: unknown; value_encrypted: Buffer; value_hash: Buffer }[]
      >(
        `SELECT value, value_encrypted, value_hash FROM case_field_value WHERE case_id = $1 AND field_id = 'betrokkenen.bsn'`,
        [caseId],
      );
      expect(bsnRow!.value).toBeNull();
      expect(bsnRow!.value_encrypted.toString('latin1')).not.toContain(BSN);
      expect(bsnRow!.value_hash).toHaveLength(32);
      expect(
        await count(`SELECT count(*) AS n FROM case_field_value WHERE value::text LIKE $1`, [`%${BSN}%`]),
      ).toBe(0);

      const rows = await logOf(registration);
      expect(JSON.stringify(rows)).not.toContain(BSN);
      expect(rows.every((r) => r.action === 'write' && r.status === 'allowed' && r.case_id === caseId)).toBe(
        true,
      );
      expect(rows.find((r) => r.data_subject_ref === null)).toMatchObject({
        rule_id: 'vtrr-triage-vastleggen',
        fields: ['casus.vorm-geweld', 'veiligheid.risiconiveau', 'veiligheid.risicotaxatie'],
        partner: 'vtrr',
        processing_activity_id: 'triage',
        // The form of violence is criminal-law data (convenant 2026.2): Veilig Thuis's Wmo basis.
        legal_basis: ['wmo-4-1-1', 'wmo-5-2-veilig-thuis'],
      });
      expect(
        rows.filter((r) => r.data_subject_ref === victim).map((r) => [r.rule_id, r.fields, r.legal_basis]),
      ).toEqual([
        ['vtrr-triage-bsn', ['betrokkenen.bsn'], ['wabb-10-uavg-46']],
        [
          'vtrr-triage-vastleggen',
          ['betrokkenen.naam', 'betrokkenen.geboortedatum'],
          ['wmo-4-1-1', 'wmo-5-2-veilig-thuis'],
        ],
      ]);
      expect(rows.filter((r) => r.data_subject_ref === child)).toHaveLength(1);
    });
  });

  describe('GET /v1/cases/{id}', () => {
    it('shows wijkteam, politie and vtrr different fields of the same case, each read logged per subject', async () => {
      const [vtrr, wijkteam, politie] = await Promise.all([read(VTRR), read(WIJKTEAM), read(POLITIE)]);
      for (const res of [vtrr, wijkteam, politie]) {
        expect(res.status).toBe(200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toMatchObject({
          id: caseId,
          phase: 'stabilisatie',
          policyVersion: expect.stringMatching(/^2026\.\d+\+/),
        });
        expect(res.body).not.toHaveProperty('flags');
        expectRowsMatchResponse(await logOf(res), res.body as CaseBody);
      }
      const person = (res: request.Response, ref: string) =>
        (res.body as CaseBody).persons.find((p) => p.subjectRef === ref)!.fields;

      // Veilig Thuis (triage): the risk assessment and the BSN, no criminal data.
      expect(vtrr.body.fields['veiligheid.risicotaxatie']).toMatchObject({
        value: 'B-SAFER: hoog risico op herhaling',
        source: 'vtrr',
      });
      expect(person(vtrr, victim)['betrokkenen.bsn']).toMatchObject({ value: BSN, source: 'vtrr' });
      expect(person(vtrr, perpetrator)).not.toHaveProperty('politie.antecedenten');

      // Wijkteam (uitvoering-plan, stabilisatie): the plan and the risk level, not the assessment.
      expect(wijkteam.body.fields['plan.doelen']).toMatchObject({
        value: 'Veilig thuis wonen',
        source: 'wijkteam',
      });
      expect(wijkteam.body.fields['veiligheid.risiconiveau']).toMatchObject({ value: 'hoog' });
      expect(wijkteam.body.fields).not.toHaveProperty('veiligheid.risicotaxatie');
      expect(person(wijkteam, perpetrator)).not.toHaveProperty('politie.antecedenten');
      expect(person(wijkteam, victim)).not.toHaveProperty('betrokkenen.geboortedatum', null);

      // Politie (casusoverleg): criminal data of the perpetrator, never the BSN.
      expect(person(politie, perpetrator)['politie.antecedenten']).toMatchObject({
        value: 'Mishandeling 2024',
        source: 'politie',
      });
      expect(politie.body.fields['veiligheid.risicotaxatie']).toBeDefined();
      expect(person(politie, victim)).not.toHaveProperty('betrokkenen.bsn');

      const keys = (res: request.Response) => Object.keys(res.body.fields).sort().join();
      expect(new Set([keys(vtrr), keys(wijkteam), keys(politie)]).size).toBeGreaterThan(1);
      const logged = await logOf(politie);
      expect(
        logged.find((r) => r.data_subject_ref === perpetrator && r.fields.includes('politie.antecedenten')),
      ).toMatchObject({
        rule_id: 'casusoverleg-strafrechtelijk-lezen',
        legal_basis: ['wpg-20', 'wjsg-39f', 'avg-10-uavg-33'],
      });
    });

    it('never shows the geheim adres of the victim, not even to the shelter that recorded it', async () => {
      const reg = await register(VTRR, {
        phase: 'stabilisatie',
        flags: ['geheim-adres'],
        persons: [{ role: 'slachtoffer' }, { role: 'pleger' }],
      });
      expect(reg.status).toBe(201);
      const [v, p = ''] = refsOf(reg);
      expect((await addParticipation(reg.body.id, { partner: 'arosa', purposes: ['opvang'] })).status).toBe(
        201,
      );
      const arosa = { partner: 'arosa', purpose: 'opvang' };
      const written = await write(
        arosa,
        [
          { field: 'betrokkenen.adres', subjectRef: v, value: 'Opvanglocatie 1' },
          { field: 'betrokkenen.adres', subjectRef: p, value: 'Dorpsstraat 2' },
        ],
        reg.body.id,
      );
      expect(written.status).toBe(200);
      // Persons come victim first, whatever their random references.
      expect((await logOf(written)).map((r) => [r.data_subject_ref, r.fields, r.rule_id])).toEqual([
        [v, ['betrokkenen.adres'], 'opvang-verblijfadres'],
        [p, ['betrokkenen.adres'], 'opvang-verblijfadres'],
      ]);
      const res = await read(arosa, reg.body.id);
      expect(res.status).toBe(200);
      const fieldsOf = (ref: string) =>
        (res.body as CaseBody).persons.find((x) => x.subjectRef === ref)!.fields;
      expect(fieldsOf(v)).not.toHaveProperty('betrokkenen.adres');
      expect(fieldsOf(p)['betrokkenen.adres']).toMatchObject({ value: 'Dorpsstraat 2' });
      expect(JSON.stringify(res.body)).not.toContain('Opvanglocatie');
      expectRowsMatchResponse(await logOf(res), res.body as CaseBody);
    });
  });

  describe('PUT /v1/cases/{id}/fields', () => {
    it('keeps criminal data of the pleger in the casusoverleg (history refused by its rule), and shows Veilig Thuis the BSN history', async () => {
      const res = await http()
        .get(`/v1/cases/${caseId}/fields/politie.antecedenten/history?subjectRef=${perpetrator}`)
        .set('authorization', await as(WIJKTEAM));
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/field-not-readable$/);
      expect(JSON.stringify(res.body)).not.toContain('Mishandeling');
      expect(await logOf(res)).toEqual([
        expect.objectContaining({
          action: 'history',
          status: 'denied',
          data_subject_ref: perpetrator,
          fields: ['politie.antecedenten'],
          rule_id: 'strafrechtelijk-alleen-in-casusoverleg',
        }),
      ]);
      const bsnHistory = await http()
        .get(`/v1/cases/${caseId}/fields/betrokkenen.bsn/history?subjectRef=${victim}`)
        .set('authorization', await as(VTRR));
      expect(bsnHistory.status).toBe(200);
      expect(bsnHistory.body.versions).toEqual([
        expect.objectContaining({ value: BSN, source: 'vtrr', purpose: 'triage' }),
      ]);
      expect(JSON.stringify(await logOf(bsnHistory))).not.toContain(BSN);
    });
  });
});
