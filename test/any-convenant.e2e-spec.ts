import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { run } from '../src/cli/program.js';
import { bsnFieldOf } from '../src/cases/cases.service.js';
import { caseReferencePrefix } from '../src/cases/identifiers.js';
import { PolicyRegistry } from '../src/kernel/policy.registry.js';
import { DEMO_CASE_COUNT } from '../src/demo/demo.seeder.js';
import type { CompiledConvenant } from '../src/policy/index.js';
import { EXAMPLE_CONVENANTS, startTestApp, type TestApp } from './support/app.js';
import {
  officerOf,
  otherPartnerThan,
  pairNeverWriting,
  registrarOf,
  sampleValue,
} from './support/convenant-choices.js';
import { bearerFor } from './support/tokens.js';

/**
 * The gateway on each example convenant, over real HTTP with real tokens: it starts with the demo
 * on, seeds the demo from that convenant, registers a case under the convenant's reference prefix
 * with a person's BSN in whatever field the catalogue marks as BSN, refuses a partner that does not
 * take part, and logs it all for that convenant's privacy officer. Partners, purposes and fields
 * are chosen from the convenant, never named.
 */
const BSN = '111222333';

describe.each(EXAMPLE_CONVENANTS)('the gateway on convenant $name (real HTTP, demo on)', ({ name, dir }) => {
  let t: TestApp;
  let compiled: CompiledConvenant;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await startTestApp({ policyDir: dir, env: { DEMO: 'true' } });
    compiled = t.app.get(PolicyRegistry).current();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('starts, reports the convenant in force and has seeded its demo under its own prefix', async () => {
    const health = await http().get('/health').expect(200);
    expect(health.body).toMatchObject({ info: { convenant: { id: name } } });
    const rows = await t.db.dataSource.query<{ reference: string; controller: string }[]>(
      `SELECT reference, controller_partner AS controller FROM cases`,
    );
    expect(rows).toHaveLength(DEMO_CASE_COUNT);
    const prefix = caseReferencePrefix(name);
    expect(rows.every((r) => r.reference.startsWith(`${prefix}-`))).toBe(true);
    const partners = new Set(compiled.convenant.partners.map((p) => p.id));
    expect(rows.every((r) => partners.has(r.controller))).toBe(true);
  });

  it("registers a case with a person's BSN in the catalogue's BSN field, and reads it back", async () => {
    const registrar = registrarOf(compiled);
    const bsnField = bsnFieldOf(compiled.convenant)!;
    // Both example convenants let some partner record a BSN at registration.
    expect(registrar.writesBsn).toBe(true);
    const field = compiled.field(registrar.personFields[0]!)!;
    const auth = await bearerFor(t, { ...registrar, professional: 'e2e-registrar' });
    const res = await http()
      .post('/v1/cases')
      .set('authorization', auth)
      .send({
        phase: registrar.phase,
        persons: [
          {
            role: registrar.role,
            bsn: BSN,
            fields: { [field.id]: sampleValue(field) },
          },
        ],
      });
    expect(res.status).toBe(201);
    expect(res.body.reference).toMatch(new RegExp(`^${caseReferencePrefix(name)}-\\d{4}-\\d{6}$`));
    const caseId = res.body.id as string;

    const read = await http().get(`/v1/cases/${caseId}`).set('authorization', auth).expect(200);
    const person = (
      read.body.persons as { fields: Record<string, { value: unknown; source: string }> }[]
    )[0]!;
    expect(person.fields[field.id]).toMatchObject({ value: sampleValue(field), source: registrar.partner });
    const stored = await t.db.dataSource.query<{ field_id: string; value: unknown; encrypted: boolean }[]>(
      `SELECT field_id, value, value_encrypted IS NOT NULL AS encrypted FROM case_field_value WHERE case_id = $1`,
      [caseId],
    );
    // Only the BSN field is encrypted, and no column holds the number in clear.
    expect(stored.filter((s) => s.encrypted).map((s) => s.field_id)).toEqual([bsnField.id]);
    expect(JSON.stringify(stored)).not.toContain(BSN);

    // Another partner that does not take part in this case is refused, and sees no case data.
    const other = otherPartnerThan(compiled, registrar);
    const refused = await http()
      .get(`/v1/cases/${caseId}`)
      .set('authorization', await bearerFor(t, { ...other, professional: 'e2e-other' }));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ type: expect.stringContaining('not-participating') });
    expect(JSON.stringify(refused.body)).not.toContain(String(sampleValue(field)));

    // The convenant's own privacy officer finds both accesses in the log.
    const officer = await bearerFor(t, officerOf(compiled));
    const events = await http()
      .get(`/v1/audit/events?caseId=${caseId}&limit=50`)
      .set('authorization', officer)
      .expect(200);
    const seen = (events.body.items as { partner: string; outcome: string; action: string }[]).map(
      (e) => `${e.partner}/${e.action}/${e.outcome}`,
    );
    expect(seen).toEqual(
      expect.arrayContaining([
        `${registrar.partner}/write/allowed`,
        `${registrar.partner}/read/allowed`,
        `${other.partner}/read/denied`,
      ]),
    );
  });

  it('writes a BSN nowhere but its field: a bsn given by a partner that may not write it is refused', async () => {
    const bsnField = bsnFieldOf(compiled.convenant)!;
    const registrar = registrarOf(compiled);
    const withoutBsn = pairNeverWriting(compiled, bsnField.id);
    expect(withoutBsn).toBeDefined();
    const res = await http()
      .post('/v1/cases')
      .set('authorization', await bearerFor(t, { ...withoutBsn!, professional: 'e2e-no-bsn' }))
      .send({ phase: registrar.phase, persons: [{ role: registrar.role, bsn: BSN }] });
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).toContain(bsnField.id);
    expect(JSON.stringify(res.body)).not.toContain(BSN);
  });
});

describe('the gateway on a convenant fresh from convenant init (real HTTP, demo on)', () => {
  let t: TestApp;
  let root: string;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'convenant-e2e-init-'));
    const dir = path.join(root, 'nieuwe-regio');
    expect((await run(['init', dir])).code).toBe(0);
    t = await startTestApp({ policyDir: dir, env: { DEMO: 'true' } });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serves its demo, and refuses a bsn with a sentence when the catalogue has no BSN field', async () => {
    const compiled = t.app.get(PolicyRegistry).current();
    expect(bsnFieldOf(compiled.convenant)).toBeUndefined();
    const [{ n }] = await t.db.dataSource.query<[{ n: string }]>(`SELECT count(*) AS n FROM cases`);
    expect(Number(n)).toBe(DEMO_CASE_COUNT);

    const registrar = registrarOf(compiled);
    const res = await http()
      .post('/v1/cases')
      .set('authorization', await bearerFor(t, { ...registrar, professional: 'e2e-init' }))
      .send({ phase: registrar.phase, persons: [{ role: registrar.role, bsn: BSN }] });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      {
        pointer: '/persons/0/bsn',
        detail:
          'The data catalogue of the convenant in force has no person-level field of sensitivity bsn, so a bsn cannot be recorded.',
      },
    ]);
    expect(JSON.stringify(res.body)).not.toContain(BSN);
  });
});
