import request from 'supertest';
import { RUNNING_PHASES } from '../src/cases/phase.js';
import { PolicyRegistry } from '../src/kernel/policy.registry.js';
import type { CompiledConvenant, PersonRole } from '../src/policy/index.js';
import { EXAMPLE_CONVENANTS, startTestApp, type TestApp } from './support/app.js';
import {
  allowedFields,
  caseScenario,
  manageRuleFor,
  mayManage,
  ruleFor,
  shownRole,
  type CaseScenario,
} from './support/case-scenario.js';
import { sampleValue } from './support/convenant-choices.js';
import { bearerCache, type Who } from './support/tokens.js';

/**
 * The case routes over the real HTTP stack, with real tokens, on every example convenant. Every
 * test asserts the status AND the access log rows of its request (by trace id). Partners,
 * purposes, phase, roles and fields come from the convenant in force (support/case-scenario.ts),
 * and what each partner may see or write is predicted by the policy engine, the oracle the
 * gateway must agree with. Rotterdam's own legal expectations (rule ids, legal bases, the geheim
 * adres) are in cases.rotterdam.e2e-spec.ts.
 */

interface LogRow {
  action: string;
  case_id: string | null;
  data_subject_ref: string | null;
  fields: string[];
  status: 'allowed' | 'denied';
  rule_id: string | null;
  reason: string | null;
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
const pointersOf = (res: request.Response) => (res.body as Problem).errors.map((e) => e.pointer);
const idsOf = (res: request.Response) => (res.body as Page).items.map((c) => c.id);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const BSN = '123456782';
const DAY = 24 * 3600_000;

describe.each(EXAMPLE_CONVENANTS)('cases over HTTP on $name (real tokens, policy as oracle)', ({ dir }) => {
  let t: TestApp;
  let compiled: CompiledConvenant;
  let s: CaseScenario;
  /** Every 2xx answer of this block, checked at the end for its log rows. */
  const answered: string[] = [];

  const http = () => request(t.app.getHttpServer());
  const as = bearerCache(() => t);

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
      `SELECT action, case_id, data_subject_ref, fields, status, rule_id, reason, partner,
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
    expect((logged.get(null) ?? []).sort()).toEqual(Object.keys(body.fields).sort());
    for (const person of body.persons) {
      expect((logged.get(person.subjectRef) ?? []).sort()).toEqual(Object.keys(person.fields).sort());
    }
  }

  let registration: request.Response;
  let caseId: string;
  let refs: string[];
  /** Field ids holding a value in the case, at case level and per person (same order as refs). */
  const stored = { case: new Set<string>(), persons: [] as Set<string>[] };

  const register = async (who: Who, body: object) =>
    http()
      .post('/v1/cases')
      .set('authorization', await as(who))
      .send(body);
  const addParticipation = async (id: string, body: object, who: Who = s.registrar) =>
    http()
      .post(`/v1/cases/${id}/participations`)
      .set('authorization', await as(who))
      .send(body);
  const read = async (who: Who, id = caseId) =>
    http()
      .get(`/v1/cases/${id}`)
      .set('authorization', await as(who));
  const write = async (who: Who, values: object[], id = caseId) =>
    http()
      .put(`/v1/cases/${id}/fields`)
      .set('authorization', await as(who))
      .send({ values });
  const join = (who: Who) => ({ partner: who.partner, purposes: [who.purpose] });

  beforeAll(async () => {
    t = await startTestApp({ policyDir: dir });
    compiled = t.app.get(PolicyRegistry).current();
    s = caseScenario(compiled);
    registration = await register(s.registrar, {
      phase: s.phase,
      persons: s.roles.map((role, i) => ({
        role,
        ...(i === 0 && s.bsnField ? { bsn: BSN } : {}),
        fields: s.personValues[i],
      })),
      fields: s.caseValues,
    });
    expect(registration.status).toBe(201);
    caseId = registration.body.id;
    refs = (registration.body as CaseBody).persons.map((p) => p.subjectRef);
    for (const id of Object.keys(s.caseValues)) stored.case.add(id);
    stored.persons = s.personValues.map((values) => new Set(Object.keys(values)));
    if (s.bsnField) stored.persons[0]!.add(s.bsnField);
    expect((await addParticipation(caseId, join(s.writer))).status).toBe(201);
    expect((await addParticipation(caseId, join(s.reader))).status).toBe(201);
    const first = await write(s.writer, [{ field: s.writerField.id, value: sampleValue(s.writerField) }]);
    expect(first.status).toBe(200);
    stored.case.add(s.writerField.id);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  describe('POST /v1/cases', () => {
    it('registers the case under its reference prefix, seals the BSN, and logs each write per subject and deciding rule', async () => {
      expect(registration.body).toMatchObject({
        reference: expect.stringMatching(/^[A-Z0-9]+-\d{4}-\d{6}$/),
        phase: s.phase,
        participation: { partner: s.registrar.partner, purposes: [s.registrar.purpose], current: true },
        persons: s.roles.map((role) => ({ role })),
      });
      for (const ref of refs) expect(ref).toMatch(/^p_[a-z2-7]{20}$/);
      if (s.bsnField) {
        const [bsnRow] = await t.db.dataSource.query<
          { value: unknown; value_encrypted: Buffer; value_hash: Buffer }[]
        >(
          `SELECT value, value_encrypted, value_hash FROM case_field_value WHERE case_id = $1 AND field_id = $2`,
          [caseId, s.bsnField],
        );
        expect(bsnRow!.value).toBeNull();
        expect(bsnRow!.value_encrypted.toString('latin1')).not.toContain(BSN);
        expect(bsnRow!.value_hash).toHaveLength(32);
      }
      expect(
        await count(`SELECT count(*) AS n FROM case_field_value WHERE value::text LIKE $1`, [`%${BSN}%`]),
      ).toBe(0);

      const rows = await logOf(registration);
      expect(JSON.stringify(rows)).not.toContain(BSN);
      expect(rows.every((r) => r.action === 'write' && r.status === 'allowed' && r.case_id === caseId)).toBe(
        true,
      );
      // Per subject, the rule that wrote each field is the one the policy engine names.
      const logged = rows.flatMap((r) => r.fields.map((f) => `${r.data_subject_ref}|${f}|${r.rule_id}`));
      const expected = [
        ...Object.keys(s.caseValues).map(
          (f) => `null|${f}|${ruleFor(compiled, s.registrar, 'write', s.phase, f)}`,
        ),
        ...s.roles.flatMap((role, i) =>
          [...stored.persons[i]!].map(
            (f) => `${refs[i]}|${f}|${ruleFor(compiled, s.registrar, 'write', s.phase, f, role)}`,
          ),
        ),
      ];
      expect(logged.sort()).toEqual(expected.sort());
    });

    it('refuses every field the caller may not write with 403, names each, creates nothing, logs the refusal', async () => {
      const who = s.reader;
      const role = s.roles[0];
      const writable = new Set(allowedFields(compiled, who, 'write', s.phase));
      const personWritable = new Set(allowedFields(compiled, who, 'write', s.phase, role));
      const caseField = compiled.convenant.fields.find((f) => f.level === 'case' && !writable.has(f.id));
      const personField = compiled.convenant.fields.find(
        (f) => f.level === 'person' && !personWritable.has(f.id) && f.sensitivity !== 'bsn',
      );
      expect(caseField && personField).toBeDefined();
      const before = await count(`SELECT count(*) AS n FROM cases`);
      const res = await register(who, {
        phase: s.phase,
        persons: [{ role, fields: { [personField!.id]: sampleValue(personField!) } }],
        fields: { [caseField!.id]: sampleValue(caseField!) },
      });
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toMatch(/fields-not-writable$/);
      expect(pointersOf(res).sort()).toEqual(
        [`/fields/${caseField!.id}`, `/persons/0/fields/${personField!.id}`].sort(),
      );
      expect(await count(`SELECT count(*) AS n FROM cases`)).toBe(before);
      const rows = await logOf(res);
      expect(rows.every((r) => r.status === 'denied' && r.action === 'write' && r.case_id === null)).toBe(
        true,
      );
      expect(rows.flatMap((r) => r.fields).sort()).toEqual([caseField!.id, personField!.id].sort());
    });

    it('refuses a BSN that fails the 11-test with 400, without echoing it', async () => {
      const res = await register(s.registrar, {
        phase: s.phase,
        persons: [{ role: s.roles[0], bsn: '123456781' }],
      });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { pointer: '/persons/0/bsn', detail: 'bsn must be nine digits that pass the 11-test' },
      ]);
      expect(JSON.stringify(res.body)).not.toContain('123456781');
      await expectOneDenial(res);
    });

    it('refuses undeclared case flags and values that do not fit the catalogue with 422', async () => {
      const fields = compiled.convenant.fields;
      const personField = fields.find((f) => f.level === 'person')!;
      const enumField = fields.find((f) => f.level === 'case' && f.type === 'enum');
      const dateField = fields.find((f) => f.level === 'person' && f.type === 'date');
      const res = await register(s.registrar, {
        phase: s.phase,
        flags: ['onbekend'],
        persons: [{ role: s.roles[0], fields: dateField ? { [dateField.id]: '1990-02-30' } : {} }],
        fields: { [personField.id]: 'case-level?', ...(enumField ? { [enumField.id]: 'extreem' } : {}) },
      });
      expect(res.status).toBe(422);
      expect(pointersOf(res).sort()).toEqual(
        [
          '/flags/0',
          `/fields/${personField.id}`,
          ...(enumField ? [`/fields/${enumField.id}`] : []),
          ...(dateField ? [`/persons/0/fields/${dateField.id}`] : []),
        ].sort(),
      );
      await expectOneDenial(res);
    });
  });

  describe('GET /v1/cases/{id}', () => {
    it('shows each participant the fields the policy engine predicts for it, each read logged per subject', async () => {
      const readers = [s.registrar, s.writer, s.reader];
      const responses = await Promise.all(readers.map((who) => read(who)));
      for (const [i, res] of responses.entries()) {
        const who = readers[i]!;
        expect(res.status).toBe(200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toMatchObject({ id: caseId, phase: s.phase, policyVersion: compiled.version });
        expect(res.body).not.toHaveProperty('flags');
        const body = res.body as CaseBody;
        const readable = (role?: PersonRole) => new Set(allowedFields(compiled, who, 'read', s.phase, role));
        const caseReadable = readable();
        expect(Object.keys(body.fields).sort()).toEqual(
          [...stored.case].filter((f) => caseReadable.has(f)).sort(),
        );
        for (const [p, ref] of refs.entries()) {
          const person = body.persons.find((x) => x.subjectRef === ref);
          const personReadable = readable(s.roles[p]);
          const expected = [...stored.persons[p]!].filter((f) => personReadable.has(f)).sort();
          expect(Object.keys(person?.fields ?? {}).sort()).toEqual(expected);
        }
        expectRowsMatchResponse(await logOf(res), body);
      }
      // Each value carries its source partner, and the BSN reads back as given where it may be read.
      const own = responses[0]!.body as CaseBody;
      for (const id of Object.keys(own.fields))
        expect(own.fields[id]!.source).toBe(id === s.writerField.id ? s.writer.partner : s.registrar.partner);
      if (
        s.bsnField &&
        allowedFields(compiled, s.registrar, 'read', s.phase, s.roles[0]).includes(s.bsnField)
      ) {
        const first = own.persons.find((p) => p.subjectRef === refs[0])!;
        expect(first.fields[s.bsnField]).toMatchObject({ value: BSN, source: s.registrar.partner });
      }
    });

    it('refuses a partner that takes no part: 403 not-participating, no data, one denial row', async () => {
      const res = await read(s.outsider);
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/not-participating$/);
      expect(res.body).not.toHaveProperty('fields');
      expect(JSON.stringify(res.body)).not.toContain(registration.body.reference);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({
          action: 'read',
          status: 'denied',
          case_id: caseId,
          partner: s.outsider.partner,
          processing_activity_id: s.outsider.purpose,
          fields: [],
          reason: expect.stringMatching(/takes no part in this case/),
        }),
      ]);
    });

    it('answers 404 for an unknown case with a denial row naming the id, and 400 for a malformed id with a denial naming no case', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      const res = await read(s.registrar, unknown);
      expect(res.status).toBe(404);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({ status: 'denied', case_id: unknown, action: 'read' }),
      ]);
      const bad = await read(s.registrar, 'not-a-uuid');
      expect(bad.status).toBe(400);
      await expectOneDenial(bad);
    });

    it('ends access with an ended participation: 403 and a denial row', async () => {
      const added = await addParticipation(caseId, join(s.ended));
      expect(added.status).toBe(201);
      expect((await read(s.ended)).status).toBe(200);

      const ended = await http()
        .delete(`/v1/cases/${caseId}/participations/${added.body.id}`)
        .set('authorization', await as(s.registrar));
      expect(ended.status).toBe(200);
      expect(ended.body).toMatchObject({ id: added.body.id, current: false, validUntil: expect.any(String) });
      expect(await logOf(ended)).toEqual([
        expect.objectContaining({
          action: 'manage',
          status: 'allowed',
          rule_id: manageRuleFor(compiled, s.registrar, s.phase),
          reason: expect.stringMatching(/^Ended participation/),
        }),
      ]);

      const res = await read(s.ended);
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/not-participating$/);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({ status: 'denied', partner: s.ended.partner, case_id: caseId }),
      ]);

      const again = await http()
        .delete(`/v1/cases/${caseId}/participations/${added.body.id}`)
        .set('authorization', await as(s.registrar));
      expect(again.status).toBe(409);
      expect(await logOf(again)).toEqual([expect.objectContaining({ action: 'manage', status: 'denied' })]);
    });

    it('gives no access before a participation starts: 403 and a denial row', async () => {
      const added = await addParticipation(caseId, {
        ...join(s.future),
        validFrom: new Date(Date.now() + DAY).toISOString(),
      });
      expect(added.status).toBe(201);
      expect(added.body.current).toBe(false);
      const res = await read(s.future);
      expect(res.status).toBe(403);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({ status: 'denied', partner: s.future.partner, action: 'read' }),
      ]);
    });
  });

  describe('PUT /v1/cases/{id}/fields', () => {
    it('refuses the whole request with 403 naming every field the caller may not write; nothing is written', async () => {
      const writable = new Set(allowedFields(compiled, s.writer, 'write', s.phase));
      const personWritable = new Set(allowedFields(compiled, s.writer, 'write', s.phase, s.roles[1]));
      const caseField = compiled.convenant.fields.find((f) => f.level === 'case' && !writable.has(f.id))!;
      const personField = compiled.convenant.fields.find(
        (f) => f.level === 'person' && !personWritable.has(f.id),
      )!;
      const before = await count(`SELECT count(*) AS n FROM case_field_value WHERE case_id = $1`, [caseId]);
      const res = await write(s.writer, [
        { field: s.writerField.id, value: sampleValue(s.writerField), reason: 'bijgesteld' },
        { field: personField.id, subjectRef: refs[1], value: sampleValue(personField) },
        { field: caseField.id, value: sampleValue(caseField) },
      ]);
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/fields-not-writable$/);
      expect(res.body.errors).toEqual([
        {
          pointer: '/values/1',
          // A role the writer may not learn (person_roles) is not told by a refusal either.
          detail: expect.stringMatching(
            new RegExp(
              `^You may not write ${escape(personField.id)} of a ${shownRole(compiled, s.writer, s.phase, s.roles[1])} `,
            ),
          ),
        },
        {
          pointer: '/values/2',
          detail: expect.stringMatching(new RegExp(`^You may not write ${escape(caseField.id)}`)),
        },
      ]);
      expect(await count(`SELECT count(*) AS n FROM case_field_value WHERE case_id = $1`, [caseId])).toBe(
        before,
      );
      const rows = await logOf(res);
      expect(rows.map((r) => [r.status, r.action, r.data_subject_ref, r.fields])).toEqual([
        ['denied', 'write', refs[1], [personField.id]],
        ['denied', 'write', null, [caseField.id]],
      ]);
    });

    it('appends values stamped with partner, professional and purpose; the history keeps every version', async () => {
      const field = s.writerField;
      const next = field.type === 'text' || field.type === 'string' ? 'Tweede versie' : sampleValue(field);
      const res = await write(s.writer, [{ field: field.id, value: next, reason: 'evaluatie' }]);
      expect(res.status).toBe(200);
      expect(res.body.recorded).toEqual([{ field: field.id }]);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({
          action: 'write',
          status: 'allowed',
          fields: [field.id],
          rule_id: ruleFor(compiled, s.writer, 'write', s.phase, field.id),
          professional: `${s.writer.partner}-professional-1`,
        }),
      ]);
      const rows = await t.db.dataSource.query(
        `SELECT source_partner, recorded_by, purpose FROM case_field_value WHERE case_id = $1 AND field_id = $2 ORDER BY id`,
        [caseId, field.id],
      );
      const stamp = {
        source_partner: s.writer.partner,
        recorded_by: `${s.writer.partner}-professional-1`,
        purpose: s.writer.purpose,
      };
      expect(rows).toEqual([stamp, stamp]);

      const history = await http()
        .get(`/v1/cases/${caseId}/fields/${field.id}/history`)
        .set('authorization', await as(s.writer));
      if (!compiled.purpose(s.writer.purpose).fieldHistory) {
        expect(history.status).toBe(403);
        return;
      }
      expect(history.status).toBe(200);
      expect(
        (history.body as { versions: { value: unknown; reason: string | null }[] }).versions.map((v) => [
          v.value,
          v.reason,
        ]),
      ).toEqual([
        [next, 'evaluatie'],
        [sampleValue(field), null],
      ]);
      expect(JSON.stringify(history.body)).not.toContain('professional-1');
      expect(await logOf(history)).toEqual([
        expect.objectContaining({
          action: 'history',
          status: 'allowed',
          fields: [field.id],
          data_subject_ref: null,
        }),
      ]);
    });

    it('refuses the history of a field the caller may not read now: 403 and a denial row', async () => {
      expect(compiled.purpose(s.writer.purpose).fieldHistory).toBe(true);
      const readable = new Set(allowedFields(compiled, s.writer, 'read', s.phase, s.roles[1]));
      const hidden = compiled.convenant.fields.find((f) => f.level === 'person' && !readable.has(f.id))!;
      const res = await http()
        .get(`/v1/cases/${caseId}/fields/${hidden.id}/history?subjectRef=${refs[1]}`)
        .set('authorization', await as(s.writer));
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/field-not-readable$/);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({
          action: 'history',
          status: 'denied',
          data_subject_ref: refs[1],
          fields: [hidden.id],
          rule_id: ruleFor(compiled, s.writer, 'read', s.phase, hidden.id, s.roles[1]),
        }),
      ]);
    });

    it('refuses values that do not fit the catalogue with 422 naming each; nothing is written, one denial logged', async () => {
      const before = await count(`SELECT count(*) AS n FROM case_field_value`);
      const field = s.writerField.id;
      const res = await write(s.writer, [
        { field, subjectRef: refs[1], value: 'x' },
        { field, value: { $ne: 1 } },
        { field: 'onbekend.veld', value: 1 },
        { field, subjectRef: 'p_aaaaaaaaaaaaaaaaaaaa', value: 'x' },
      ]);
      expect(res.status).toBe(422);
      expect(pointersOf(res).sort()).toEqual(['/values/0', '/values/1', '/values/2', '/values/3/subjectRef']);
      expect(await count(`SELECT count(*) AS n FROM case_field_value`)).toBe(before);
      await expectOneDenial(res);
    });

    it('refuses a non-participant before looking at its values: 403 and a denial row', async () => {
      const res = await write(s.outsider, [{ field: s.writerField.id, value: 'x' }]);
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/not-participating$/);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({ action: 'write', status: 'denied', partner: s.outsider.partner }),
      ]);
    });
  });

  describe('malformed and hostile requests', () => {
    it('refuses bodies over 256 KB with 413 problem+json; one denial logged, nothing written', async () => {
      const before = await count(`SELECT count(*) AS n FROM case_field_value`);
      const huge = 'x'.repeat(300 * 1024);
      for (const res of [
        await write(s.writer, [{ field: s.writerField.id, value: huge }]),
        await register(s.registrar, { phase: s.phase, persons: [{ role: s.roles[0], fields: { x: huge } }] }),
      ]) {
        expect(res.status).toBe(413);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        await expectOneDenial(res);
      }
      expect(await count(`SELECT count(*) AS n FROM case_field_value`)).toBe(before);
    });

    it('refuses malformed JSON, unknown properties and wrong shapes with 400 problem+json', async () => {
      const bearer = await as(s.writer);
      const field = s.writerField.id;
      const broken = await http()
        .put(`/v1/cases/${caseId}/fields`)
        .set('authorization', bearer)
        .set('content-type', 'application/json')
        .send('{"values": [');
      const unknown = await write(s.writer, [{ field, value: 'x', source: s.registrar.partner }]);
      const notArray = await http()
        .put(`/v1/cases/${caseId}/fields`)
        .set('authorization', bearer)
        .send({ values: field });
      const badField = await write(s.writer, [{ field: `${field}'; DROP TABLE cases; --`, value: 'x' }]);
      for (const res of [broken, unknown, notArray, badField]) {
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body.traceId).toBe(res.headers['x-request-id']);
        await expectOneDenial(res);
      }
      expect(unknown.body.errors).toEqual([expect.objectContaining({ pointer: '/values/0/source' })]);
    });

    it.each([
      ['phase', "x' OR '1'='1"],
      ['phase', 'x;DROP TABLE cases'],
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
        .set('authorization', await as(s.writer));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(res.body)).not.toMatch(/syntax|SQL|relation|column/i);
      await expectOneDenial(res);
      expect(await count(`SELECT count(*) AS n FROM cases`)).toBeGreaterThan(0);
    });
  });

  describe('GET /v1/cases', () => {
    it("lists only the caller's cases for its purpose, newest first, keyset-paginated, one list row per case", async () => {
      const otherPhase = RUNNING_PHASES.find((p) => p !== s.phase) ?? s.phase;
      const second = await register(s.registrar, { phase: otherPhase, persons: [{ role: s.roles[0] }] });
      expect(second.status).toBe(201);
      const bearer = await as(s.registrar);
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

      const filtered = await http()
        .get('/v1/cases')
        .query({ phase: otherPhase })
        .set('authorization', bearer);
      expect((filtered.body as Page).items.every((c) => c.phase === otherPhase)).toBe(true);
      expect(idsOf(filtered)).toContain(second.body.id);
      await logOf(filtered);

      const writer = await http()
        .get('/v1/cases')
        .set('authorization', await as(s.writer));
      expect(idsOf(writer)).toEqual([caseId]);
      await logOf(writer);

      const none = await http()
        .get('/v1/cases')
        .set('authorization', await as(s.outsider));
      expect(none.body).toEqual({ items: [], nextCursor: null });
      expect(await logOf(none)).toEqual([
        expect.objectContaining({ action: 'list', case_id: null, status: 'allowed' }),
      ]);
    });
  });

  describe('participations', () => {
    it('lets only a partner that may manage the case add participations: 403 and a denial row otherwise', async () => {
      const res = await addParticipation(caseId, join(s.outsider), s.writer);
      if (mayManage(compiled, s.writer, s.phase)) {
        // This convenant lets the writer manage too: the engine says so, and the gateway agrees.
        expect(res.status).toBe(201);
        return;
      }
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/manage-not-allowed$/);
      expect(await logOf(res)).toEqual([
        expect.objectContaining({
          action: 'manage',
          status: 'denied',
          partner: s.writer.partner,
          case_id: caseId,
        }),
      ]);
    });

    it('refuses a partner for purposes the convenant does not register it for with 422', async () => {
      const partner = compiled.partner(s.outsider.partner);
      const unregistered = compiled.convenant.purposes.find((u) => !partner.purposes.includes(u.id))!.id;
      const res = await addParticipation(caseId, {
        partner: partner.id,
        purposes: [s.outsider.purpose, unregistered],
      });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        {
          pointer: '/purposes/1',
          detail: expect.stringMatching(
            new RegExp(`^${escape(partner.id)} is not registered for purpose ${escape(unregistered)}`),
          ),
        },
      ]);
      const unknown = await addParticipation(caseId, {
        partner: 'geen-partner',
        purposes: [s.outsider.purpose],
      });
      expect(unknown.status).toBe(422);
      await expectOneDenial(res);
    });

    it('refuses a period that would never grant access with 400', async () => {
      const res = await addParticipation(caseId, {
        ...join(s.outsider),
        validFrom: new Date(Date.now() + 2 * DAY).toISOString(),
        validUntil: new Date(Date.now() + DAY).toISOString(),
      });
      expect(res.status).toBe(400);
      await expectOneDenial(res);
    });
  });

  describe('fail closed', () => {
    it('answers 503 log-unavailable and lets no data out and nothing in when the access log cannot be written', async () => {
      const bearerRegistrar = await as(s.registrar);
      const bearerWriter = await as(s.writer);
      const field = s.writerField.id;
      const valuesBefore = await count(`SELECT count(*) AS n FROM case_field_value`);
      const casesBefore = await count(`SELECT count(*) AS n FROM cases`);
      const logBefore = await count(`SELECT count(*) AS n FROM access_log`);
      const participationsBefore = await count(`SELECT count(*) AS n FROM case_participation`);
      await t.db.dataSource.query(`
        CREATE FUNCTION test_refuse_log() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'access log is down (test)'; END $$`);
      await t.db.dataSource.query(
        `CREATE TRIGGER test_refuse_log BEFORE INSERT ON access_log FOR EACH STATEMENT EXECUTE FUNCTION test_refuse_log()`,
      );
      try {
        const responses = [
          await http().get(`/v1/cases/${caseId}`).set('authorization', bearerRegistrar),
          await http().get('/v1/cases').set('authorization', bearerRegistrar),
          await http().get(`/v1/cases/${caseId}/fields/${field}/history`).set('authorization', bearerWriter),
          await http()
            .put(`/v1/cases/${caseId}/fields`)
            .set('authorization', bearerWriter)
            .send({ values: [{ field, value: sampleValue(s.writerField) }] }),
          await http()
            .post('/v1/cases')
            .set('authorization', bearerRegistrar)
            .send({ phase: s.phase, persons: [{ role: s.roles[0] }] }),
          await http()
            .post(`/v1/cases/${caseId}/participations`)
            .set('authorization', bearerRegistrar)
            .send(join(s.outsider)),
          await http()
            .get(`/v1/cases/${caseId}`)
            .set('authorization', await as(s.outsider)),
          // Refused before any decision (malformed input): its denial cannot be written either.
          await http()
            .get('/v1/cases')
            .query({ limit: '1;DROP TABLE cases' })
            .set('authorization', bearerRegistrar),
          await http()
            .put(`/v1/cases/${caseId}/fields`)
            .set('authorization', bearerWriter)
            .set('content-type', 'application/json')
            .send('{"values": ['),
        ];
        for (const res of responses) {
          expect(res.status).toBe(503);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.body.type).toMatch(/log-unavailable$/);
          expect(JSON.stringify(res.body)).not.toMatch(/p_[a-z2-7]{20}|access log is down|Waarde voor/);
          expect(JSON.stringify(res.body)).not.toContain(registration.body.reference);
        }
      } finally {
        await t.db.dataSource.query(`DROP TRIGGER test_refuse_log ON access_log`);
        await t.db.dataSource.query(`DROP FUNCTION test_refuse_log()`);
      }
      expect(await count(`SELECT count(*) AS n FROM case_field_value`)).toBe(valuesBefore);
      expect(await count(`SELECT count(*) AS n FROM cases`)).toBe(casesBefore);
      expect(await count(`SELECT count(*) AS n FROM case_participation`)).toBe(participationsBefore);
      expect(await count(`SELECT count(*) AS n FROM access_log`)).toBe(logBefore);

      const recovered = await read(s.registrar);
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
