import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { bearerCache, type Who } from './support/tokens.js';

/**
 * The case routes over the real HTTP stack, with real tokens and the real convenant. Every
 * test asserts the status AND the access log rows of its request (by trace id).
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

interface Problem {
  title: string;
  errors: { pointer: string; detail: string }[];
}
interface Page {
  items: { id: string; phase: string }[];
  nextCursor: string | null;
}
/** The persons' subject references, in registration order (at least one person per case). */
const refsOf = (res: request.Response): [string, ...string[]] => {
  const refs = (res.body as { persons: { subjectRef: string }[] }).persons.map((p) => p.subjectRef);
  expect(refs.length).toBeGreaterThan(0);
  return refs as [string, ...string[]];
};
const pointersOf = (res: request.Response) => (res.body as Problem).errors.map((e) => e.pointer);
const idsOf = (res: request.Response) => (res.body as Page).items.map((c) => c.id);

const BSN = '123456782';
const DAY = 24 * 3600_000;

describe('cases over HTTP (real convenant, real tokens)', () => {
  let t: TestApp;
  /** Every 2xx answer of this file, checked at the end for its log rows. */
  const answered: string[] = [];

  const http = () => request(t.app.getHttpServer());
  const as = bearerCache(() => t);
  const VTRR = { partner: 'vtrr', purpose: 'triage' };
  const WIJKTEAM = { partner: 'wijkteam', purpose: 'uitvoering-plan' };
  const POLITIE = { partner: 'politie', purpose: 'casusoverleg' };

  /**
   * A request refused before any decision about data (malformed, too large, invalid input) still
   * leaves exactly one denial: who tried, when, and why, with no fields and no values.
   */
  async function expectOneDenial(res: request.Response): Promise<void> {
    const rows = await logOf(res);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'denied', fields: [], data_subject_ref: null });
    expect(rows[0]!.reason).toContain((res.body as Problem).title);
  }

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
    t = await startTestApp();
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
    it('registers the case, seals the BSN and logs one write entry per data subject and rule', async () => {
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

    it('refuses every field the caller may not write with 403, names each, creates nothing, logs the refusal', async () => {
      const before = await count(`SELECT count(*) AS n FROM cases`);
      const res = await register(
        { partner: 'wijkteam', purpose: 'signalering' },
        {
          phase: 'acute',
          persons: [
            { role: 'slachtoffer', bsn: BSN, fields: { 'betrokkenen.naam': 'X', 'zorg.diagnose': 'PTSS' } },
          ],
          fields: { 'casus.samenvatting': 'Zorgen', 'veiligheid.risicotaxatie': 'hoog' },
        },
      );
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toMatch(/fields-not-writable$/);
      const named = (res.body as Problem).errors.map((e) => [e.pointer, e.detail.split(' ')[4]]);
      expect(named).toEqual([
        ['/fields/veiligheid.risicotaxatie', 'veiligheid.risicotaxatie'],
        ['/persons/0/bsn', 'betrokkenen.bsn'],
        ['/persons/0/fields/zorg.diagnose', 'zorg.diagnose'],
      ]);
      expect(JSON.stringify(res.body)).not.toContain(BSN);
      expect(await count(`SELECT count(*) AS n FROM cases`)).toBe(before);
      const rows = await logOf(res);
      expect(rows.every((r) => r.status === 'denied' && r.action === 'write' && r.case_id === null)).toBe(
        true,
      );
      expect(rows.flatMap((r) => r.fields).sort()).toEqual([
        'betrokkenen.bsn',
        'veiligheid.risicotaxatie',
        'zorg.diagnose',
      ]);
    });

    it('refuses a BSN that fails the 11-test with 400, without echoing it', async () => {
      const res = await register(VTRR, {
        phase: 'acute',
        persons: [{ role: 'slachtoffer', bsn: '123456781' }],
      });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { pointer: '/persons/0/bsn', detail: 'bsn must be nine digits that pass the 11-test' },
      ]);
      expect(JSON.stringify(res.body)).not.toContain('123456781');
      await expectOneDenial(res);
    });

    it('refuses undeclared case flags and values that do not fit the catalogue with 422', async () => {
      const res = await register(VTRR, {
        phase: 'acute',
        flags: ['geheim-adres', 'onbekend'],
        persons: [{ role: 'slachtoffer', fields: { 'betrokkenen.geboortedatum': '1990-02-30' } }],
        fields: { 'veiligheid.risiconiveau': 'extreem', 'betrokkenen.naam': 'case-level?' },
      });
      expect(res.status).toBe(422);
      expect(pointersOf(res)).toEqual([
        '/flags/1',
        '/fields/veiligheid.risiconiveau',
        '/fields/betrokkenen.naam',
        '/persons/0/fields/betrokkenen.geboortedatum',
      ]);
      await expectOneDenial(res);
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

    it('refuses a partner that takes no part: 403 not-participating, no data, one denial row', async () => {
      for (const who of [
        { partner: 'om', purpose: 'casusoverleg' },
        { partner: 'politie', purpose: 'acute-veiligheid' },
      ]) {
        const res = await read(who);
        expect(res.status).toBe(403);
        expect(res.body.type).toMatch(/not-participating$/);
        expect(res.body).not.toHaveProperty('fields');
        expect(JSON.stringify(res.body)).not.toMatch(/Jansen|ZVH-/);
        expect(await logOf(res)).toEqual([
          expect.objectContaining({
            action: 'read',
            status: 'denied',
            case_id: caseId,
            partner: who.partner,
            processing_activity_id: who.purpose,
            fields: [],
            reason: expect.stringMatching(/takes no part in this case/),
          }),
        ]);
      }
    });

    it('answers 404 for an unknown case with a denial row naming the id, and 400 for a malformed id with a denial naming no case', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      const res = await read(VTRR, unknown);
      expect(res.status).toBe(404);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({ status: 'denied', case_id: unknown, action: 'read' }),
      ]);
      const bad = await read(VTRR, 'not-a-uuid');
      expect(bad.status).toBe(400);
      await expectOneDenial(bad);
    });

    it('ends access with an ended participation: 403 and a denial row', async () => {
      const added = await addParticipation(caseId, { partner: 'jbrr', purposes: ['uitvoering-plan'] });
      expect(added.status).toBe(201);
      const jbrr = { partner: 'jbrr', purpose: 'uitvoering-plan' };
      expect((await read(jbrr)).status).toBe(200);

      const ended = await http()
        .delete(`/v1/cases/${caseId}/participations/${added.body.id}`)
        .set('authorization', await as(VTRR));
      expect(ended.status).toBe(200);
      expect(ended.body).toMatchObject({ id: added.body.id, current: false, validUntil: expect.any(String) });
      expect(await logOf(ended)).toEqual([
        expect.objectContaining({
          action: 'manage',
          status: 'allowed',
          rule_id: 'vtrr-casus-beheren',
          reason: expect.stringMatching(/^Ended participation/),
        }),
      ]);

      const res = await read(jbrr);
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/not-participating$/);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({ status: 'denied', partner: 'jbrr', case_id: caseId }),
      ]);

      const again = await http()
        .delete(`/v1/cases/${caseId}/participations/${added.body.id}`)
        .set('authorization', await as(VTRR));
      expect(again.status).toBe(409);
      expect(await logOf(again)).toEqual([expect.objectContaining({ action: 'manage', status: 'denied' })]);
    });

    it('gives no access before a participation starts: 403 and a denial row', async () => {
      const added = await addParticipation(caseId, {
        partner: 'rvdk',
        purposes: ['uitvoering-plan'],
        validFrom: new Date(Date.now() + DAY).toISOString(),
      });
      expect(added.status).toBe(201);
      expect(added.body.current).toBe(false);
      const res = await read({ partner: 'rvdk', purpose: 'uitvoering-plan' });
      expect(res.status).toBe(403);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({ status: 'denied', partner: 'rvdk', action: 'read' }),
      ]);
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
    it('refuses the whole request with 403 naming every field the caller may not write; nothing is written', async () => {
      const before = await count(`SELECT count(*) AS n FROM case_field_value WHERE case_id = $1`, [caseId]);
      const res = await write(WIJKTEAM, [
        { field: 'plan.acties', value: 'Huisbezoek' },
        { field: 'politie.antecedenten', subjectRef: perpetrator, value: 'x' },
        { field: 'veiligheid.risicotaxatie', value: 'laag' },
      ]);
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/fields-not-writable$/);
      expect(res.body.errors).toEqual([
        {
          pointer: '/values/1',
          // The wijkteam may not learn who the pleger is (person_roles), so not from a refusal either.
          detail: expect.stringMatching(/^You may not write politie\.antecedenten of a betrokkene /),
        },
        {
          pointer: '/values/2',
          detail: expect.stringMatching(/^You may not write veiligheid\.risicotaxatie/),
        },
      ]);
      expect(await count(`SELECT count(*) AS n FROM case_field_value WHERE case_id = $1`, [caseId])).toBe(
        before,
      );
      const rows = await logOf(res);
      expect(rows.map((r) => [r.status, r.action, r.data_subject_ref, r.fields])).toEqual([
        ['denied', 'write', perpetrator, ['politie.antecedenten']],
        ['denied', 'write', null, ['veiligheid.risicotaxatie']],
      ]);
    });

    it('appends values stamped with partner, professional and purpose; the history keeps every version', async () => {
      const res = await write(WIJKTEAM, [
        { field: 'plan.doelen', value: 'Veilig thuis, school weer', reason: 'evaluatie' },
      ]);
      expect(res.status).toBe(200);
      expect(res.body.recorded).toEqual([{ field: 'plan.doelen' }]);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({
          action: 'write',
          status: 'allowed',
          fields: ['plan.doelen'],
          rule_id: 'plan-opstellen',
          professional: 'wijkteam-professional-1',
        }),
      ]);
      const rows = await t.db.dataSource.query(
        `SELECT source_partner, recorded_by, purpose FROM case_field_value WHERE case_id = $1 AND field_id = 'plan.doelen' ORDER BY id`,
        [caseId],
      );
      expect(rows).toEqual([
        { source_partner: 'wijkteam', recorded_by: 'wijkteam-professional-1', purpose: 'uitvoering-plan' },
        { source_partner: 'wijkteam', recorded_by: 'wijkteam-professional-1', purpose: 'uitvoering-plan' },
      ]);

      const history = await http()
        .get(`/v1/cases/${caseId}/fields/plan.doelen/history`)
        .set('authorization', await as(WIJKTEAM));
      expect(history.status).toBe(200);
      expect(
        (history.body as { versions: { value: string; reason: string | null }[] }).versions.map((v) => [
          v.value,
          v.reason,
        ]),
      ).toEqual([
        ['Veilig thuis, school weer', 'evaluatie'],
        ['Veilig thuis wonen', null],
      ]);
      expect(JSON.stringify(history.body)).not.toContain('professional-1');
      expect(await logOf(history)).toEqual([
        expect.objectContaining({
          action: 'history',
          status: 'allowed',
          fields: ['plan.doelen'],
          data_subject_ref: null,
        }),
      ]);
    });

    it('refuses the history of a field the caller may not read now: 403 and a denial row', async () => {
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

    it('refuses values that do not fit the catalogue with 422 naming each; nothing is written, one denial logged', async () => {
      const before = await count(`SELECT count(*) AS n FROM case_field_value`);
      const res = await write(WIJKTEAM, [
        { field: 'plan.status', value: 'bijna-klaar' },
        { field: 'plan.doelen', subjectRef: perpetrator, value: 'x' },
        { field: 'plan.evaluatiedatum', value: '2026-02-30' },
        { field: 'plan.acties', value: { $ne: 1 } },
        { field: 'onbekend.veld', value: 1 },
        { field: 'plan.acties', subjectRef: 'p_aaaaaaaaaaaaaaaaaaaa', value: 'x' },
      ]);
      expect(res.status).toBe(422);
      expect(pointersOf(res).sort()).toEqual(
        ['/values/0', '/values/1', '/values/2', '/values/3', '/values/4', '/values/5/subjectRef'].sort(),
      );
      expect(await count(`SELECT count(*) AS n FROM case_field_value`)).toBe(before);
      await expectOneDenial(res);
    });

    it('refuses a non-participant before looking at its values: 403 and a denial row', async () => {
      const res = await write({ partner: 'om', purpose: 'casusoverleg' }, [
        { field: 'justitie.strafzaak', subjectRef: perpetrator, value: 'x' },
      ]);
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/not-participating$/);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({ action: 'write', status: 'denied', partner: 'om' }),
      ]);
    });
  });

  describe('malformed and hostile requests', () => {
    it('refuses bodies over 256 KB with 413 problem+json; one denial logged, nothing written', async () => {
      const before = await count(`SELECT count(*) AS n FROM case_field_value`);
      const huge = 'x'.repeat(300 * 1024);
      for (const res of [
        await write(WIJKTEAM, [{ field: 'plan.doelen', value: huge }]),
        await register(VTRR, {
          phase: 'acute',
          persons: [{ role: 'slachtoffer', fields: { 'betrokkenen.naam': huge } }],
        }),
      ]) {
        expect(res.status).toBe(413);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        await expectOneDenial(res);
      }
      expect(await count(`SELECT count(*) AS n FROM case_field_value`)).toBe(before);
    });

    it('refuses malformed JSON, unknown properties and wrong shapes with 400 problem+json', async () => {
      const bearer = await as(WIJKTEAM);
      const broken = await http()
        .put(`/v1/cases/${caseId}/fields`)
        .set('authorization', bearer)
        .set('content-type', 'application/json')
        .send('{"values": [');
      const unknown = await write(WIJKTEAM, [{ field: 'plan.doelen', value: 'x', source: 'politie' }]);
      const notArray = await http()
        .put(`/v1/cases/${caseId}/fields`)
        .set('authorization', bearer)
        .send({ values: 'plan.doelen' });
      const badField = await write(WIJKTEAM, [{ field: "plan.doelen'; DROP TABLE cases; --", value: 'x' }]);
      for (const res of [broken, unknown, notArray, badField]) {
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body.traceId).toBe(res.headers['x-request-id']);
        await expectOneDenial(res);
      }
      expect(unknown.body.errors).toEqual([expect.objectContaining({ pointer: '/values/0/source' })]);
    });

    it.each([
      ['phase', "acute' OR '1'='1"],
      ['phase', 'acute;DROP TABLE cases'],
      ['limit', '1;DROP TABLE cases'],
      ['limit', '1000'],
      ['limit', '0x10'],
      ['limit', '1e1'],
      ['limit', '-1'],
      ['phase[$ne]', 'x'],
      ['cursor', "' OR 1=1 --"],
      [
        'cursor',
        Buffer.from(JSON.stringify(["2026-01-01T00:00:00.000000Z') OR true --", 'x'])).toString('base64url'),
      ],
      ['cursor', Buffer.from(JSON.stringify({ $gt: '' })).toString('base64url')],
      ['sort', 'opened_at'],
    ])('refuses the filter %s=%s with 400, never SQL, one denial logged', async (name, value) => {
      const res = await http()
        .get('/v1/cases')
        .query({ [name]: value })
        .set('authorization', await as(WIJKTEAM));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(res.body)).not.toMatch(/syntax|SQL|relation|column/i);
      await expectOneDenial(res);
      expect(await count(`SELECT count(*) AS n FROM cases`)).toBeGreaterThan(0);
    });
  });

  describe('GET /v1/cases', () => {
    it("lists only the caller's cases for its purpose, newest first, keyset-paginated, one list row per case", async () => {
      const second = await register(VTRR, { phase: 'acute', persons: [{ role: 'slachtoffer' }] });
      expect(second.status).toBe(201);
      const bearer = await as(VTRR);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await http()
          .get('/v1/cases')
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .set('authorization', bearer);
        expect(res.status).toBe(200);
        for (const item of res.body.items)
          expect(Object.keys(item).sort()).toEqual(['id', 'openedAt', 'phase', 'reference']);
        seen.push(...idsOf(res));
        const rows = await logOf(res);
        expect(rows.map((r) => [r.action, r.case_id, r.status])).toEqual(
          idsOf(res).map((id) => ['list', id, 'allowed']),
        );
        cursor = res.body.nextCursor ?? undefined;
      } while (cursor);
      expect(seen[0]).toBe(second.body.id);
      expect(seen).toContain(caseId);
      expect(new Set(seen).size).toBe(seen.length);

      const acute = await http().get('/v1/cases?phase=acute').set('authorization', bearer);
      expect((acute.body as Page).items.every((c) => c.phase === 'acute')).toBe(true);
      expect(idsOf(acute)).toContain(second.body.id);
      await logOf(acute);

      const wijkteam = await http()
        .get('/v1/cases')
        .set('authorization', await as(WIJKTEAM));
      expect(idsOf(wijkteam)).toEqual([caseId]);
      await logOf(wijkteam);

      const none = await http()
        .get('/v1/cases')
        .set('authorization', await as({ partner: 'fier', purpose: 'opvang' }));
      expect(none.body).toEqual({ items: [], nextCursor: null });
      expect(await logOf(none)).toEqual([
        expect.objectContaining({ action: 'list', case_id: null, status: 'allowed' }),
      ]);
    });
  });

  describe('participations', () => {
    it('lets only a partner that may manage the case add participations: 403 and a denial row otherwise', async () => {
      const res = await addParticipation(
        caseId,
        { partner: 'dock', purposes: ['uitvoering-plan'] },
        WIJKTEAM,
      );
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/manage-not-allowed$/);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({ action: 'manage', status: 'denied', partner: 'wijkteam', case_id: caseId }),
      ]);
    });

    it('refuses a partner for purposes the convenant does not register it for with 422', async () => {
      const res = await addParticipation(caseId, {
        partner: 'om',
        purposes: ['casusoverleg', 'uitvoering-plan'],
      });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        {
          pointer: '/purposes/1',
          detail: expect.stringMatching(/^om is not registered for purpose uitvoering-plan/),
        },
      ]);
      const unknown = await addParticipation(caseId, { partner: 'huisarts', purposes: ['casusoverleg'] });
      expect(unknown.status).toBe(422);
      await expectOneDenial(res);
    });

    it('refuses a period that would never grant access with 400', async () => {
      const res = await addParticipation(caseId, {
        partner: 'dock',
        purposes: ['uitvoering-plan'],
        validFrom: new Date(Date.now() + 2 * DAY).toISOString(),
        validUntil: new Date(Date.now() + DAY).toISOString(),
      });
      expect(res.status).toBe(400);
      await expectOneDenial(res);
    });
  });

  describe('fail closed', () => {
    it('answers 503 log-unavailable and lets no data out and nothing in when the access log cannot be written', async () => {
      const bearerVtrr = await as(VTRR);
      const bearerWijkteam = await as(WIJKTEAM);
      const valuesBefore = await count(`SELECT count(*) AS n FROM case_field_value`);
      const casesBefore = await count(`SELECT count(*) AS n FROM cases`);
      const logBefore = await count(`SELECT count(*) AS n FROM access_log`);
      await t.db.dataSource.query(`
        CREATE FUNCTION test_refuse_log() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'access log is down (test)'; END $$`);
      await t.db.dataSource.query(
        `CREATE TRIGGER test_refuse_log BEFORE INSERT ON access_log FOR EACH STATEMENT EXECUTE FUNCTION test_refuse_log()`,
      );
      try {
        const responses = [
          await http().get(`/v1/cases/${caseId}`).set('authorization', bearerVtrr),
          await http().get('/v1/cases').set('authorization', bearerVtrr),
          await http()
            .get(`/v1/cases/${caseId}/fields/plan.doelen/history`)
            .set('authorization', bearerWijkteam),
          await http()
            .put(`/v1/cases/${caseId}/fields`)
            .set('authorization', bearerWijkteam)
            .send({ values: [{ field: 'plan.doelen', value: 'mag niet landen' }] }),
          await http()
            .post('/v1/cases')
            .set('authorization', bearerVtrr)
            .send({ phase: 'acute', persons: [{ role: 'slachtoffer' }] }),
          await http()
            .post(`/v1/cases/${caseId}/participations`)
            .set('authorization', bearerVtrr)
            .send({ partner: 'dock', purposes: ['uitvoering-plan'] }),
          await http()
            .get(`/v1/cases/${caseId}`)
            .set('authorization', await as({ partner: 'om', purpose: 'casusoverleg' })),
          // Refused before any decision (malformed input): its denial cannot be written either.
          await http()
            .get('/v1/cases')
            .query({ limit: '1;DROP TABLE cases' })
            .set('authorization', bearerVtrr),
          await http()
            .put(`/v1/cases/${caseId}/fields`)
            .set('authorization', bearerWijkteam)
            .set('content-type', 'application/json')
            .send('{"values": ['),
        ];
        for (const res of responses) {
          expect(res.status).toBe(503);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.body.type).toMatch(/log-unavailable$/);
          expect(JSON.stringify(res.body)).not.toMatch(
            /Jansen|Veilig thuis|ZVH-|p_[a-z2-7]{20}|access log is down/,
          );
        }
      } finally {
        await t.db.dataSource.query(`DROP TRIGGER test_refuse_log ON access_log`);
        await t.db.dataSource.query(`DROP FUNCTION test_refuse_log()`);
      }
      expect(await count(`SELECT count(*) AS n FROM case_field_value`)).toBe(valuesBefore);
      expect(await count(`SELECT count(*) AS n FROM cases`)).toBe(casesBefore);
      expect(await count(`SELECT count(*) AS n FROM case_participation WHERE partner = 'dock'`)).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM access_log`)).toBe(logBefore);

      const recovered = await read(VTRR);
      expect(recovered.status).toBe(200);
      expect((await logOf(recovered)).length).toBeGreaterThan(0);
    });
  });

  it('never answered 2xx without access log rows for that request', async () => {
    expect(answered.length).toBeGreaterThan(10);
    const rows = await t.db.dataSource.query<{ trace_id: string }[]>(
      `SELECT DISTINCT trace_id FROM access_log WHERE trace_id = ANY ($1)`,
      [answered],
    );
    expect(rows.map((r) => r.trace_id).sort()).toEqual([...new Set(answered)].sort());
  });
});
