import { randomBytes, randomUUID } from 'node:crypto';
import { REAL_CONVENANT } from '../../test/support/app.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { CasesRepository, type Tx } from '../cases/cases.repository.js';
import { newSubjectRef } from '../cases/identifiers.js';
import { loadEnforceable } from '../kernel/policy.registry.js';
import { createDataSource } from '../db/data-source.js';
import type { Phase } from '../policy/index.js';
import { RetentionRoleError } from './retention.repository.js';
import { RetentionService } from './retention.service.js';

/**
 * Medium spec: which case data the retention job selects and removes, on a real PostgreSQL with
 * the real convenant's periods (signalering P1Y, acute-veiligheid P2Y, triage and uitvoering-plan
 * P5Y), at a fixed moment so the selection is exact.
 */
const NOW = new Date('2030-01-01T00:00:00Z');
const at = (iso: string) => new Date(iso);

describe('RetentionService (real PostgreSQL, real convenant)', () => {
  let db: TestDatabase;
  let cases: CasesRepository;
  let sut: RetentionService;
  const ids: Record<string, string> = {};
  const valueIds: Record<string, string> = {};

  interface Member {
    partner: string;
    purpose: string;
    from: string;
    until: string | null;
  }
  /** A case with one victim, its participations, and one value per participation (written under it). */
  async function seedCase(
    name: string,
    c: { phase: Phase; opened: string; closed: string | null; members: Member[] },
  ): Promise<void> {
    const caseId = randomUUID();
    const person = { id: randomUUID(), caseId, role: 'slachtoffer' as const, subjectRef: newSubjectRef() };
    await cases.transaction(async (tx: Tx) => {
      await cases.insertCase(tx, {
        id: caseId,
        referencePrefix: 'ZVH',
        phase: c.phase,
        flags: [],
        controllerPartner: 'vtrr',
      });
      await tx.query(`UPDATE cases SET opened_at = $2, closed_at = $3 WHERE id = $1`, [
        caseId,
        at(c.opened),
        c.closed ? at(c.closed) : null,
      ]);
      await cases.insertPersons(tx, [person]);
      for (const m of c.members) {
        await cases.insertParticipation(tx, {
          id: randomUUID(),
          caseId,
          partner: m.partner,
          purposes: [m.purpose],
          validFrom: at(m.from),
          validUntil: m.until ? at(m.until) : null,
          addedByPartner: 'vtrr',
          addedByProfessional: 'vt-1',
        });
        const field = m.purpose === 'signalering' ? 'casus.samenvatting' : 'veiligheid.risiconiveau';
        await cases.insertValues(tx, [
          {
            caseId,
            personId: field.startsWith('betrokkenen') ? person.id : null,
            field,
            value: 'hoog',
            sourcePartner: m.partner,
            recordedBy: `${m.partner}-1`,
            purpose: m.purpose,
            reason: null,
            recordedAt: at(m.from),
          },
        ]);
        const [row] = await tx.query<{ id: string }[]>(
          `SELECT id::text AS id FROM case_field_value WHERE case_id = $1 ORDER BY id DESC LIMIT 1`,
          [caseId],
        );
        valueIds[`${name}/${m.partner}/${m.purpose}`] = row!.id;
      }
    });
    ids[name] = caseId;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    cases = new CasesRepository(db.dataSource);
    sut = new RetentionService(db.dataSource, loadEnforceable(REAL_CONVENANT));
    // Closed seven months ago: nothing has lapsed yet, not even the one-year signalering.
    await seedCase('recent', {
      phase: 'afgesloten',
      opened: '2029-01-01',
      closed: '2029-06-01',
      members: [
        { partner: 'vtrr', purpose: 'triage', from: '2029-01-01', until: '2029-06-01' },
        { partner: 'wijkteam', purpose: 'signalering', from: '2029-01-01', until: '2029-06-01' },
      ],
    });
    // Closed two and a half years ago: signalering (P1Y) and acute-veiligheid (P2Y) lapsed, triage
    // (P5Y) still justifies its value and the case.
    await seedCase('partly', {
      phase: 'afgesloten',
      opened: '2027-01-01',
      closed: '2027-06-01',
      members: [
        { partner: 'vtrr', purpose: 'triage', from: '2027-01-01', until: '2027-06-01' },
        { partner: 'wijkteam', purpose: 'signalering', from: '2027-01-01', until: '2027-06-01' },
        { partner: 'politie', purpose: 'acute-veiligheid', from: '2027-01-01', until: '2027-06-01' },
      ],
    });
    // Closed six and a half years ago: every purpose lapsed, the whole case goes.
    await seedCase('old', {
      phase: 'afgesloten',
      opened: '2023-01-01',
      closed: '2023-06-01',
      members: [
        { partner: 'vtrr', purpose: 'triage', from: '2023-01-01', until: '2023-06-01' },
        { partner: 'wijkteam', purpose: 'signalering', from: '2023-01-01', until: '2023-06-01' },
      ],
    });
    // Still open: the police left the case under acute-veiligheid three years ago (lapsed), Veilig
    // Thuis still takes part (kept).
    await seedCase('open', {
      phase: 'herstel',
      opened: '2026-01-01',
      closed: null,
      members: [
        { partner: 'vtrr', purpose: 'triage', from: '2026-01-01', until: null },
        { partner: 'politie', purpose: 'acute-veiligheid', from: '2026-01-01', until: '2027-01-01' },
      ],
    });
    await db.dataSource.query(
      `INSERT INTO involvement_signal (id, partner, purpose, professional, person_hash, signalled_at, withdrawn_at, withdrawn_by_professional)
       VALUES ($1, 'wijkteam', 'signalering', 'wt-1', $3, '2028-01-01', '2028-06-01', 'wt-1'),
              ($2, 'wijkteam', 'signalering', 'wt-1', $3, '2029-12-01', NULL, NULL)`,
      [randomUUID(), randomUUID(), Buffer.alloc(32, 7)],
    );
  });
  afterAll(async () => {
    await db.drop();
  });

  it('selects lapsed values, whole closed cases whose every purpose lapsed, and lapsed signals', async () => {
    const plan = await sut.plan(NOW);
    expect(plan.ids.cases).toEqual([ids.old]);
    expect(plan.ids.values).toEqual(
      [
        valueIds['old/vtrr/triage'],
        valueIds['old/wijkteam/signalering'],
        valueIds['partly/wijkteam/signalering'],
        valueIds['partly/politie/acute-veiligheid'],
        valueIds['open/politie/acute-veiligheid'],
      ]
        .map(String)
        .sort(),
    );
    expect(plan.totals).toEqual({ cases: 1, values: 5, signals: 1 });
    expect(plan.signals).toEqual([{ purpose: 'signalering', count: 1 }]);
    const partly = plan.cases.find((c) => c.caseId === ids.partly)!;
    expect(partly).toMatchObject({
      wholeCase: false,
      values: 2,
      fields: ['casus.samenvatting', 'veiligheid.risiconiveau'],
    });
    expect(partly.categories).toEqual([
      { section: 'casus', sensitivity: 'ordinary', purpose: 'signalering', count: 1 },
      { section: 'veiligheid', sensitivity: 'ordinary', purpose: 'acute-veiligheid', count: 1 },
    ]);
    expect(plan.cases.find((c) => c.caseId === ids.old)).toMatchObject({
      wholeCase: true,
      values: 2,
      persons: 1,
      participations: 2,
    });
    expect(plan.cases.some((c) => c.caseId === ids.recent)).toBe(false);
  });

  it('selects more as time passes: a day after the five years, the partly lapsed case goes too', async () => {
    const later = await sut.plan(new Date('2032-06-02T00:00:00Z'));
    expect(later.ids.cases).toContain(ids.partly);
    expect(later.ids.cases).not.toContain(ids.recent);
  });

  it('removes exactly what the dry run listed, logs it per case, and leaves earlier log rows alone', async () => {
    const [{ before }] = await db.dataSource.query<[{ before: string }]>(
      `SELECT count(*) AS before FROM access_log`,
    );
    const dry = await sut.plan(NOW);
    const done = await sut.run(NOW);
    expect(done.ids).toEqual(dry.ids);

    const [{ values }] = await db.dataSource.query<[{ values: string }]>(
      `SELECT count(*) AS values FROM case_field_value WHERE id = ANY ($1::bigint[])`,
      [dry.ids.values],
    );
    expect(Number(values)).toBe(0);
    const left = await db.dataSource.query<{ id: string }[]>(`SELECT id FROM cases ORDER BY id`);
    expect(left.map((r) => r.id).sort()).toEqual([ids.recent, ids.partly, ids.open].sort());
    const [{ persons }] = await db.dataSource.query<[{ persons: string }]>(
      `SELECT count(*) AS persons FROM case_person WHERE case_id = $1`,
      [ids.old],
    );
    expect(Number(persons)).toBe(0);
    // What another purpose still justifies stays.
    const [{ kept }] = await db.dataSource.query<[{ kept: string }]>(
      `SELECT count(*) AS kept FROM case_field_value WHERE id = ANY ($1::bigint[])`,
      [
        [
          valueIds['partly/vtrr/triage'],
          valueIds['open/vtrr/triage'],
          valueIds['recent/wijkteam/signalering'],
        ],
      ],
    );
    expect(Number(kept)).toBe(3);

    const logged = await db.dataSource.query<{ case_id: string | null; reason: string; fields: string[] }[]>(
      `SELECT case_id, reason, fields FROM access_log WHERE action = 'retention' ORDER BY seq`,
    );
    expect(logged).toHaveLength(dry.cases.length + dry.signals.length);
    expect(logged.find((r) => r.case_id === ids.partly)).toMatchObject({
      fields: ['casus.samenvatting', 'veiligheid.risiconiveau'],
      reason: expect.stringContaining('casus/ordinary under signalering: 1'),
    });
    expect(logged.find((r) => r.case_id === ids.old)!.reason).toContain('Removed closed case');
    const [{ after }] = await db.dataSource.query<[{ after: string }]>(
      `SELECT count(*) AS after FROM access_log`,
    );
    expect(Number(after)).toBe(Number(before) + logged.length);

    // A second run finds nothing left to remove.
    expect((await sut.plan(NOW)).totals).toEqual({ cases: 0, values: 0, signals: 0 });
  });

  it('refuses to purge for a user that cannot act as convenant_retention, removing nothing', async () => {
    const role = `convenant_test_${randomBytes(5).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await db.dataSource.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await db.dataSource.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    const other = createDataSource(url.toString(), { poolSize: 1 });
    await other.initialize();
    try {
      const [{ before }] = await db.dataSource.query<[{ before: string }]>(
        `SELECT count(*) AS before FROM cases`,
      );
      const job = new RetentionService(other, loadEnforceable(REAL_CONVENANT));
      const later = new Date('2040-01-01T00:00:00Z');
      expect((await job.plan(later)).totals.cases).toBeGreaterThan(0);
      await expect(job.run(later)).rejects.toBeInstanceOf(RetentionRoleError);
      const [{ after }] = await db.dataSource.query<[{ after: string }]>(
        `SELECT count(*) AS after FROM cases`,
      );
      expect(after).toBe(before);
    } finally {
      await other.destroy();
      await db.dataSource.query(`DROP OWNED BY ${role}`);
      await db.dataSource.query(`DROP ROLE ${role}`);
    }
  });

  it('is the only way case data can be deleted', async () => {
    await expect(db.dataSource.query(`DELETE FROM cases WHERE id = $1`, [ids.recent])).rejects.toThrow(
      /append-only/,
    );
    await expect(
      db.dataSource.query(`DELETE FROM case_field_value WHERE case_id = $1`, [ids.recent]),
    ).rejects.toThrow(/append-only/);
    await expect(
      db.dataSource.query(`DELETE FROM case_participation WHERE case_id = $1`, [ids.recent]),
    ).rejects.toThrow(/append-only/);
    await db.dataSource.query(
      `INSERT INTO case_phase_change (case_id, from_phase, to_phase, reason, changed_by_partner,
                                      changed_by_professional, purpose)
       VALUES ($1, 'herstel', 'afgesloten', 'Het plan is afgerond en het gezin is veilig.', 'vtrr', 'vt-1', 'triage')`,
      [ids.recent],
    );
    await expect(db.dataSource.query(`UPDATE case_phase_change SET reason = 'x'`)).rejects.toThrow(
      /append-only/,
    );
  });
});
