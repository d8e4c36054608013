import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { REAL_CONVENANT, startTestApp, type TestApp } from './support/app.js';
import { bearerFor, type Who } from './support/tokens.js';

/**
 * ROTTERDAM ONLY (zvh-rotterdam-rijnmond by name; the same behaviour on every convenant is in
 * lifecycle.e2e-spec.ts). The case lifecycle over the real HTTP stack, with real tokens and the
 * Rotterdam convenant:
 * phases steer what a partner sees, closing ends every participation, emergency access works for
 * its window and then stops, and every step is in the access log.
 *
 * The convenant is the real one with two windows changed, so that expiry can be seen within a
 * test: acute-veiligheid grants for 3 seconds, triage names no window (the configured default
 * applies), and nazorg continues 3 seconds after closing instead of a year.
 */

interface LogRow {
  action: string;
  status: 'allowed' | 'denied';
  emergency: boolean;
  partner: string;
  professional: string;
  case_id: string | null;
  data_subject_ref: string | null;
  fields: string[];
  reason: string | null;
}
interface CaseBody {
  id: string;
  phase: string;
  participation: { participant: boolean };
  emergencyAccess?: { until: string };
  fields: Record<string, unknown>;
  persons: { subjectRef: string; role: string; fields: Record<string, unknown> }[];
}

const VTRR: Who = { partner: 'vtrr', purpose: 'triage', professional: 'vt-1' };
const WIJKTEAM: Who = { partner: 'wijkteam', purpose: 'uitvoering-plan', professional: 'wt-1' };
const POLITIE_ACUUT: Who = { partner: 'politie', purpose: 'acute-veiligheid', professional: 'pol-1' };
const POLITIE_OVERLEG: Who = { partner: 'politie', purpose: 'casusoverleg', professional: 'pol-1' };
const OFFICER: Who = { partner: 'fg', purpose: 'toezicht', professional: 'fg-officer-1' };
const REASON = 'De situatie is gestabiliseerd en het gezin werkt aan herstel.';
const EMERGENCY_REASON = 'Melding van acuut geweld in het gezin, kinderen thuis, direct inzicht nodig.';

describe('case lifecycle over HTTP on the Rotterdam convenant (phases, closing, emergency access)', () => {
  let t: TestApp;
  let tmp: string;
  let policyDir: string;
  const bearers = new Map<string, string>();
  const http = () => request(t.app.getHttpServer());
  async function as(who: Who): Promise<string> {
    const key = `${who.partner}/${who.purpose}/${who.professional}`;
    if (!bearers.has(key)) bearers.set(key, await bearerFor(t, who));
    return bearers.get(key)!;
  }
  async function logOf(res: request.Response): Promise<LogRow[]> {
    return t.db.dataSource.query<LogRow[]>(
      `SELECT action, status, emergency, partner, professional, case_id, data_subject_ref, fields, reason
         FROM access_log WHERE trace_id = $1 ORDER BY seq`,
      [res.headers['x-request-id']],
    );
  }
  const plan = (body: CaseBody) =>
    Object.keys(body.fields)
      .filter((f) => f.startsWith('plan.'))
      .sort();

  /** A case registered by Veilig Thuis in `phase`, with the wijkteam taking part for the plan. */
  async function newCase(phase = 'acute'): Promise<{ id: string; victim: string }> {
    const created = await http()
      .post('/v1/cases')
      .set('authorization', await as(VTRR))
      .send({
        phase,
        persons: [
          { role: 'slachtoffer', fields: { 'betrokkenen.naam': 'A. de Vries' } },
          { role: 'kind', fields: { 'betrokkenen.naam': 'B. de Vries' } },
        ],
        fields: { 'veiligheid.risiconiveau': 'hoog' },
      });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const added = await http()
      .post(`/v1/cases/${id}/participations`)
      .set('authorization', await as(VTRR))
      .send({ partner: 'wijkteam', purposes: ['uitvoering-plan'] });
    expect(added.status).toBe(201);
    const written = await http()
      .put(`/v1/cases/${id}/fields`)
      .set('authorization', await as(WIJKTEAM))
      .send({
        values: [
          { field: 'plan.doelen', value: 'Veilig thuis wonen' },
          { field: 'plan.acties', value: 'Huisbezoek elke week' },
          { field: 'plan.regisseur', value: 'Wijkteam Feijenoord' },
        ],
      });
    expect(written.status).toBe(200);
    return { id, victim: (created.body as { persons: { subjectRef: string }[] }).persons[0]!.subjectRef };
  }
  const changePhase = async (who: Who, id: string, phase: string, reason = REASON) =>
    http()
      .post(`/v1/cases/${id}/phase`)
      .set('authorization', await as(who))
      .send({ phase, reason });
  const readCase = async (who: Who, id: string) =>
    http()
      .get(`/v1/cases/${id}`)
      .set('authorization', await as(who));

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'convenant-lifecycle-'));
    // The folder must carry the convenant's id.
    policyDir = path.join(tmp, path.basename(REAL_CONVENANT));
    await cp(REAL_CONVENANT, policyDir, { recursive: true });
    const purposesFile = path.join(policyDir, '20-purposes.yaml');
    const purposes = await readFile(purposesFile, 'utf8');
    const changed = purposes
      .replace(
        /(- id: triage[\s\S]*?)emergency_access: \{ allowed: true, window: PT60M \}/,
        '$1emergency_access: { allowed: true }',
      )
      .replace(
        /(- id: acute-veiligheid[\s\S]*?)emergency_access: \{ allowed: true, window: PT60M \}/,
        '$1emergency_access: { allowed: true, window: PT3S }',
      )
      // Aftercare after closing lasts a year in the convenant; 3 seconds here, to see it end.
      .replace(/(- id: nazorg[\s\S]*?)after_closing: P1Y/, '$1after_closing: PT3S');
    expect(changed).not.toBe(purposes);
    await writeFile(purposesFile, changed);
    t = await startTestApp({ policyDir, env: { EMERGENCY_WINDOW_MINUTES: '30' } });
  });
  afterAll(async () => {
    await t?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  describe('phases', () => {
    it('shows the wijkteam more of the plan in herstel than in acute, from the next request on', async () => {
      const { id } = await newCase('acute');
      const acute = await readCase(WIJKTEAM, id);
      expect(acute.status).toBe(200);
      expect(plan(acute.body as CaseBody)).toEqual(['plan.acties', 'plan.regisseur']);

      const changed = await changePhase(VTRR, id, 'herstel');
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ caseId: id, from: 'acute', phase: 'herstel', kind: 'forward' });
      const [row] = await logOf(changed);
      expect(row).toMatchObject({ action: 'manage', status: 'allowed', case_id: id, partner: 'vtrr' });
      expect(row!.reason).toContain('from acute to herstel');
      // The free-text reason is kept with the change, not copied into the log.
      expect(row!.reason).not.toContain(REASON);

      const herstel = await readCase(WIJKTEAM, id);
      expect(herstel.status).toBe(200);
      expect((herstel.body as CaseBody).phase).toBe('herstel');
      expect(plan(herstel.body as CaseBody)).toEqual(['plan.acties', 'plan.doelen', 'plan.regisseur']);

      const history = await http()
        .get(`/v1/cases/${id}/phases`)
        .set('authorization', await as(WIJKTEAM));
      expect(history.status).toBe(200);
      expect(history.body).toMatchObject({
        phase: 'herstel',
        changes: [{ from: 'acute', to: 'herstel', reason: REASON, partner: 'vtrr', purpose: 'triage' }],
      });
      expect(JSON.stringify(history.body)).not.toContain('vt-1');
    });

    it('refuses a partner the convenant does not let manage, a non-change and a reason that is no sentence', async () => {
      const { id } = await newCase('acute');
      const wijkteam = await changePhase(WIJKTEAM, id, 'herstel');
      expect(wijkteam.status).toBe(403);
      expect(wijkteam.body).toMatchObject({ type: expect.stringContaining('manage-not-allowed') });
      expect(await logOf(wijkteam)).toEqual([
        expect.objectContaining({ action: 'manage', status: 'denied', case_id: id }),
      ]);

      const same = await changePhase(VTRR, id, 'acute');
      expect(same.status).toBe(409);
      expect(await logOf(same)).toEqual([expect.objectContaining({ action: 'manage', status: 'denied' })]);

      const terse = await changePhase(VTRR, id, 'herstel', 'klaar');
      expect(terse.status).toBe(400);
      expect(terse.headers['content-type']).toContain('application/problem+json');
      expect((terse.body as { errors: { pointer: string }[] }).errors.map((e) => e.pointer)).toContain(
        '/reason',
      );
      const [{ phase }] = await t.db.dataSource.query<[{ phase: string }]>(
        `SELECT phase FROM cases WHERE id = $1`,
        [id],
      );
      expect(phase).toBe('acute');
    });

    it('closing ends every participation and starts the retention clock; reopening restores only the closer', async () => {
      const { id } = await newCase('stabilisatie');
      const closed = await changePhase(
        VTRR,
        id,
        'afgesloten',
        'Het plan is afgerond en de veiligheid is duurzaam.',
      );
      expect(closed.status).toBe(200);
      expect(closed.body).toMatchObject({ kind: 'close', endedParticipations: 2 });
      const [state] = await t.db.dataSource.query<{ closed_at: Date | null; current: string }[]>(
        `SELECT c.closed_at,
                (SELECT count(*) FROM case_participation p WHERE p.case_id = c.id AND p.valid_from <= now()
                   AND (p.valid_until IS NULL OR p.valid_until > now())) AS current
           FROM cases c WHERE c.id = $1`,
        [id],
      );
      expect(state!.closed_at).not.toBeNull();
      expect(Number(state!.current)).toBe(0);
      expect((await readCase(WIJKTEAM, id)).status).toBe(403);
      expect((await readCase(VTRR, id)).status).toBe(403);

      // The wijkteam never managed the case, so it cannot reopen it either.
      expect(
        (await changePhase(WIJKTEAM, id, 'acute', 'Er is opnieuw acuut geweld gemeld bij dit gezin.')).status,
      ).toBe(403);
      const reopened = await changePhase(
        VTRR,
        id,
        'acute',
        'Er is opnieuw acuut geweld gemeld bij dit gezin.',
      );
      expect(reopened.status).toBe(200);
      expect(reopened.body).toMatchObject({
        kind: 'reopen',
        phase: 'acute',
        participationId: expect.any(String),
      });
      const [after] = await t.db.dataSource.query<{ closed_at: Date | null }[]>(
        `SELECT closed_at FROM cases WHERE id = $1`,
        [id],
      );
      expect(after!.closed_at).toBeNull();
      expect((await readCase(VTRR, id)).status).toBe(200);
      expect((await readCase(WIJKTEAM, id)).status).toBe(403);
    });
  });

  describe('aftercare after closing (after_closing) and closed cases', () => {
    const WIJKTEAM_NAZORG: Who = { partner: 'wijkteam', purpose: 'nazorg', professional: 'wt-1' };
    const DOCK_NAZORG: Who = { partner: 'dock', purpose: 'nazorg', professional: 'dock-1' };

    it('keeps a nazorg participation for its window after closing, ends all others, and the clock starts at closing', async () => {
      const { id } = await newCase('herstel');
      for (const [partner, purposes] of [
        ['wijkteam', ['nazorg']],
        ['dock', ['uitvoering-plan', 'nazorg']],
      ] as const) {
        const added = await http()
          .post(`/v1/cases/${id}/participations`)
          .set('authorization', await as(VTRR))
          .send({ partner, purposes });
        expect(added.status).toBe(201);
      }
      const written = await http()
        .put(`/v1/cases/${id}/fields`)
        .set('authorization', await as(WIJKTEAM_NAZORG))
        .send({ values: [{ field: 'plan.nazorgafspraken', value: 'Maandelijks contact met de moeder' }] });
      expect(written.status).toBe(200);

      const closed = await changePhase(VTRR, id, 'afgesloten', 'Het plan is afgerond; nazorg loopt door.');
      expect(closed.status).toBe(200);
      // vtrr (triage), wijkteam (plan), wijkteam (nazorg), dock (plan + nazorg) all end ...
      expect(closed.body).toMatchObject({ kind: 'close', endedParticipations: 4 });
      // ... and wijkteam and dock continue for nazorg alone, for the window, from the closing.
      const continued = await t.db.dataSource.query<
        { partner: string; purposes: string[]; span: string; from_closing: boolean }[]
      >(
        `SELECT p.partner, p.purposes, (p.valid_until - p.valid_from)::text AS span,
                p.valid_from = c.closed_at AS from_closing
           FROM case_participation p JOIN cases c ON c.id = p.case_id
          WHERE p.case_id = $1 AND p.ended_at IS NULL ORDER BY p.partner`,
        [id],
      );
      expect(continued).toEqual([
        { partner: 'dock', purposes: ['nazorg'], span: '00:00:03', from_closing: true },
        { partner: 'wijkteam', purposes: ['nazorg'], span: '00:00:03', from_closing: true },
      ]);
      const [closeEntry] = (await logOf(closed)).filter((r) => r.action === 'manage');
      expect(closeEntry!.reason).toContain('2 continue(s) for aftercare');

      const aftercare = await readCase(WIJKTEAM_NAZORG, id);
      expect(aftercare.status).toBe(200);
      const body = aftercare.body as CaseBody;
      expect(body.phase).toBe('afgesloten');
      expect(body.fields['plan.nazorgafspraken']).toMatchObject({
        value: 'Maandelijks contact met de moeder',
        source: 'wijkteam',
      });
      expect(body.fields['plan.doelen']).toBeUndefined();
      expect((await readCase(DOCK_NAZORG, id)).status).toBe(200);
      // Every other purpose ended with the closing.
      expect((await readCase(WIJKTEAM, id)).status).toBe(403);
      expect((await readCase({ partner: 'dock', purpose: 'uitvoering-plan' }, id)).status).toBe(403);
      expect((await readCase(VTRR, id)).status).toBe(403);

      // The window is bounded: after it, aftercare ends too.
      await new Promise((resolve) => setTimeout(resolve, 3200));
      const over = await readCase(WIJKTEAM_NAZORG, id);
      expect(over.status).toBe(403);
      expect(over.body).toMatchObject({ type: expect.stringContaining('not-participating') });
    });

    it('refuses a doorbraak on a closed case when no rule opens closed cases, and logs it', async () => {
      const { id } = await newCase('herstel');
      expect(
        (await changePhase(VTRR, id, 'afgesloten', 'Het plan is afgerond en de veiligheid is duurzaam.'))
          .status,
      ).toBe(200);
      const claim = await http()
        .post(`/v1/cases/${id}/emergency-access`)
        .set('authorization', await as(POLITIE_ACUUT))
        .send({ reason: EMERGENCY_REASON });
      expect(claim.status).toBe(403);
      expect(claim.headers['content-type']).toContain('application/problem+json');
      expect(claim.body).toMatchObject({ type: expect.stringContaining('emergency-access-closed-case') });
      expect(await logOf(claim)).toEqual([
        expect.objectContaining({
          action: 'emergency-access',
          status: 'denied',
          emergency: true,
          case_id: id,
        }),
      ]);
      const [{ count }] = await t.db.dataSource.query<[{ count: string }]>(
        `SELECT count(*) AS count FROM emergency_grant WHERE case_id = $1`,
        [id],
      );
      expect(Number(count)).toBe(0);
      expect((await readCase(POLITIE_ACUUT, id)).status).toBe(403);
    });
  });

  describe('contribution history', () => {
    it('keeps every version: a correction needs a reason, readers see the current value', async () => {
      const { id } = await newCase('herstel');
      const write = async (values: unknown[]) =>
        http()
          .put(`/v1/cases/${id}/fields`)
          .set('authorization', await as(WIJKTEAM))
          .send({ values });
      const unexplained = await write([{ field: 'plan.doelen', value: 'Zelfstandig wonen' }]);
      expect(unexplained.status).toBe(422);
      expect((unexplained.body as { errors: { pointer: string }[] }).errors.map((e) => e.pointer)).toEqual([
        '/values/0/reason',
      ]);
      const corrected = await write([
        {
          field: 'plan.doelen',
          value: 'Zelfstandig wonen',
          reason: 'Doel bijgesteld na evaluatie met het gezin.',
        },
      ]);
      expect(corrected.status).toBe(200);

      const current = await readCase(WIJKTEAM, id);
      expect(
        (current.body as { fields: Record<string, { value: unknown }> }).fields['plan.doelen']?.value,
      ).toBe('Zelfstandig wonen');
      const history = await http()
        .get(`/v1/cases/${id}/fields/plan.doelen/history`)
        .set('authorization', await as(WIJKTEAM));
      expect(history.status).toBe(200);
      expect(
        (history.body as { versions: { value: string; reason: string | null }[] }).versions.map((v) => [
          v.value,
          v.reason,
        ]),
      ).toEqual([
        ['Zelfstandig wonen', 'Doel bijgesteld na evaluatie met het gezin.'],
        ['Veilig thuis wonen', null],
      ]);
    });

    it('shows no history under a purpose without field_history, and logs the refusal', async () => {
      const { id } = await newCase('acute');
      const added = await http()
        .post(`/v1/cases/${id}/participations`)
        .set('authorization', await as(VTRR))
        .send({ partner: 'politie', purposes: ['acute-veiligheid'] });
      expect(added.status).toBe(201);
      expect((await readCase(POLITIE_ACUUT, id)).status).toBe(200);
      const res = await http()
        .get(`/v1/cases/${id}/fields/veiligheid.risiconiveau/history`)
        .set('authorization', await as(POLITIE_ACUUT));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ type: expect.stringContaining('history-not-allowed') });
      expect(await logOf(res)).toEqual([expect.objectContaining({ action: 'history', status: 'denied' })]);
    });
  });

  describe('emergency access (doorbraak)', () => {
    it('grants the emergency fields for its window without participation, marks every access, then stops', async () => {
      const { id } = await newCase('herstel');
      const before = await readCase(POLITIE_ACUUT, id);
      expect(before.status).toBe(403);
      expect(before.body).toMatchObject({ type: expect.stringContaining('not-participating') });

      const claim = await http()
        .post(`/v1/cases/${id}/emergency-access`)
        .set('authorization', await as(POLITIE_ACUUT))
        .send({ reason: EMERGENCY_REASON });
      expect(claim.status).toBe(201);
      const grant = claim.body as { id: string; grantedAt: string; expiresAt: string; live: boolean };
      expect(grant.live).toBe(true);
      expect(Date.parse(grant.expiresAt) - Date.parse(grant.grantedAt)).toBe(3000);
      const [claimRow] = await logOf(claim);
      expect(claimRow).toMatchObject({
        action: 'emergency-access',
        status: 'allowed',
        emergency: true,
        case_id: id,
        professional: 'pol-1',
      });
      expect(claimRow!.reason).toContain(EMERGENCY_REASON);

      const during = await readCase(POLITIE_ACUUT, id);
      expect(during.status).toBe(200);
      const body = during.body as CaseBody;
      expect(body.participation.participant).toBe(false);
      expect(body.emergencyAccess?.until).toBe(grant.expiresAt);
      expect(Object.keys(body.fields)).toContain('veiligheid.risiconiveau');
      expect(Object.keys(body.persons[0]!.fields)).toContain('betrokkenen.naam');
      // The emergency rule lists safety data only: the plan's goals stay closed.
      expect(Object.keys(body.fields)).not.toContain('plan.doelen');
      const rows = await logOf(during);
      expect(rows.length).toBe(1 + body.persons.length);
      for (const row of rows)
        expect(row).toMatchObject({ action: 'read', status: 'allowed', emergency: true });

      // Another professional of the same partner has no grant.
      expect((await readCase({ ...POLITIE_ACUUT, professional: 'pol-2' }, id)).status).toBe(403);

      // The privacy officer's queue holds the claim and every access under it.
      const queue = await http()
        .get('/v1/audit/emergency-reviews')
        .set('authorization', await as(OFFICER));
      expect(queue.status).toBe(200);
      const queued = (queue.body as { items: { entry: { caseId: string; action: string } }[] }).items
        .map((i) => i.entry)
        .filter((e) => e.caseId === id);
      expect(queued.map((e) => e.action).sort()).toEqual(
        ['emergency-access', ...rows.map(() => 'read')].sort(),
      );

      // The controller of record sees that it happened, by partner and purpose, never by professional.
      const seen = await http()
        .get(`/v1/cases/${id}/emergency-accesses`)
        .set('authorization', await as(VTRR));
      expect(seen.status).toBe(200);
      expect(seen.body).toEqual({
        items: [
          expect.objectContaining({
            id: grant.id,
            partner: 'politie',
            purpose: 'acute-veiligheid',
            reason: EMERGENCY_REASON,
          }),
        ],
      });
      expect(JSON.stringify(seen.body)).not.toContain('pol-1');
      const notController = await http()
        .get(`/v1/cases/${id}/emergency-accesses`)
        .set('authorization', await as(WIJKTEAM));
      expect(notController.status).toBe(403);
      expect(await logOf(notController)).toEqual([expect.objectContaining({ status: 'denied' })]);

      const wait = Date.parse(grant.expiresAt) - Date.now() + 250;
      await new Promise((resolve) => setTimeout(resolve, Math.max(wait, 0)));
      const after = await readCase(POLITIE_ACUUT, id);
      expect(after.status).toBe(403);
      expect(after.body).toMatchObject({ type: expect.stringContaining('emergency-access-expired') });
      expect(await logOf(after)).toEqual([
        expect.objectContaining({ action: 'read', status: 'denied', emergency: false, fields: [] }),
      ]);
    });

    it('uses the configured default window when the purpose names none', async () => {
      const { id } = await newCase('acute');
      const claim = await http()
        .post(`/v1/cases/${id}/emergency-access`)
        .set('authorization', await as({ ...VTRR, professional: 'vt-2' }))
        .send({ reason: EMERGENCY_REASON });
      expect(claim.status).toBe(201);
      const grant = claim.body as { grantedAt: string; expiresAt: string };
      expect(Date.parse(grant.expiresAt) - Date.parse(grant.grantedAt)).toBe(30 * 60_000);
    });

    it('refuses a purpose without emergency access, a reason that is no sentence, and an unknown case; all logged', async () => {
      const { id } = await newCase('acute');
      const wrongPurpose = await http()
        .post(`/v1/cases/${id}/emergency-access`)
        .set('authorization', await as(POLITIE_OVERLEG))
        .send({ reason: EMERGENCY_REASON });
      expect(wrongPurpose.status).toBe(403);
      expect(wrongPurpose.body).toMatchObject({
        type: expect.stringContaining('emergency-access-not-allowed'),
      });
      expect(await logOf(wrongPurpose)).toEqual([
        expect.objectContaining({ action: 'emergency-access', status: 'denied', case_id: id }),
      ]);
      expect((await readCase(POLITIE_OVERLEG, id)).status).toBe(403);

      const terse = await http()
        .post(`/v1/cases/${id}/emergency-access`)
        .set('authorization', await as(POLITIE_ACUUT))
        .send({ reason: 'spoed!' });
      expect(terse.status).toBe(400);
      expect(await logOf(terse)).toEqual([expect.objectContaining({ status: 'denied' })]);

      const unknown = await http()
        .post(`/v1/cases/aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa/emergency-access`)
        .set('authorization', await as(POLITIE_ACUUT))
        .send({ reason: EMERGENCY_REASON });
      expect(unknown.status).toBe(404);
      expect(await logOf(unknown)).toEqual([
        expect.objectContaining({ action: 'emergency-access', status: 'denied' }),
      ]);
      const [{ n }] = await t.db.dataSource.query<[{ n: string }]>(
        `SELECT count(*) AS n FROM emergency_grant WHERE case_id = $1`,
        [id],
      );
      expect(Number(n)).toBe(0);
    });

    it('signals repeated emergency claims by one professional as an anomaly', async () => {
      const who = { ...POLITIE_ACUUT, professional: 'pol-repeat' };
      for (let i = 0; i < 3; i++) {
        const { id } = await newCase('acute');
        const claim = await http()
          .post(`/v1/cases/${id}/emergency-access`)
          .set('authorization', await as(who))
          .send({ reason: EMERGENCY_REASON });
        expect(claim.status).toBe(201);
      }
      const report = await http()
        .get('/v1/audit/anomalies')
        .set('authorization', await as(OFFICER));
      expect(report.status).toBe(200);
      const signals = (report.body as { signals: { kind: string; professional?: string; claims?: number }[] })
        .signals;
      const repeated = signals.filter((s) => s.kind === 'repeated-emergency-claims');
      expect(repeated.filter((s) => s.professional === 'pol-repeat')).toEqual([
        expect.objectContaining({ claims: 3, cases: 3 }),
      ]);
      // Professionals who claimed fewer times than the threshold are not named.
      expect(repeated.map((s) => s.professional)).not.toContain('vt-2');
    });
  });
});
