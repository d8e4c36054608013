import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { CasesRepository, LIST_FOR_PARTNER_SQL, type Tx } from './cases.repository.js';
import { newSubjectRef } from './identifiers.js';

/** Medium spec: the repository's SQL against a real, migrated PostgreSQL. */
describe('CasesRepository (real PostgreSQL)', () => {
  let db: TestDatabase;
  let sut: CasesRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    sut = new CasesRepository(db.dataSource);
  });
  afterAll(async () => {
    await db.drop();
  });

  const by = { addedByPartner: 'vtrr', addedByProfessional: 'vtrr-1' };
  const recorded = { sourcePartner: 'vtrr', recordedBy: 'vtrr-1', purpose: 'triage', reason: null };

  async function newCase(
    options: {
      phase?: 'acute' | 'stabilisatie' | 'herstel' | 'afgesloten';
      partner?: string;
      purposes?: string[];
      validFrom?: Date;
      validUntil?: Date | null;
    } = {},
  ) {
    const caseId = randomUUID();
    const person = { id: randomUUID(), caseId, role: 'slachtoffer' as const, subjectRef: newSubjectRef() };
    const created = await sut.transaction(async (tx: Tx) => {
      const row = await sut.insertCase(tx, {
        id: caseId,
        referencePrefix: 'ZVH',
        phase: options.phase ?? 'stabilisatie',
        flags: ['geheim-adres'],
        controllerPartner: 'vtrr',
      });
      await sut.insertPersons(tx, [person]);
      await sut.insertParticipation(tx, {
        id: randomUUID(),
        caseId,
        partner: options.partner ?? 'wijkteam',
        purposes: options.purposes ?? ['uitvoering-plan'],
        ...(options.validFrom ? { validFrom: options.validFrom } : {}),
        ...(options.validUntil !== undefined ? { validUntil: options.validUntil } : {}),
        ...by,
      });
      return row;
    });
    return { caseId, person, created };
  }

  it('gives each case a non-personal reference and stores its flags', async () => {
    const { caseId, created } = await newCase();
    expect(created.reference).toMatch(/^ZVH-\d{4}-\d{6}$/);
    expect(created.openedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    const found = await sut.readForPartner(caseId, 'wijkteam', 'uitvoering-plan', [], 'wt-1');
    expect(found).toMatchObject({
      id: caseId,
      phase: 'stabilisatie',
      flags: ['geheim-adres'],
      participant: true,
    });
  });

  it('reads the latest value per (person, field), only of the fields asked for, in one statement', async () => {
    const { caseId, person } = await newCase();
    await sut.transaction(async (tx) => {
      await sut.insertValues(tx, [
        { caseId, personId: null, field: 'plan.doelen', value: 'eerste', ...recorded },
        { caseId, personId: person.id, field: 'betrokkenen.naam', value: 'Anna', ...recorded },
        { caseId, personId: null, field: 'zorg.x', value: 'not asked for', ...recorded },
      ]);
    });
    await sut.transaction(async (tx) => {
      await sut.insertValues(tx, [
        {
          caseId,
          personId: null,
          field: 'plan.doelen',
          value: 'tweede',
          ...recorded,
          sourcePartner: 'wijkteam',
        },
      ]);
    });
    const found = await sut.readForPartner(
      caseId,
      'wijkteam',
      'uitvoering-plan',
      ['plan.doelen', 'betrokkenen.naam'],
      'wt-1',
    );
    expect(found?.persons).toEqual([{ id: person.id, subjectRef: person.subjectRef, role: 'slachtoffer' }]);
    const values = found!.values.map((v) => [v.personId, v.field, v.value, v.source]).sort();
    expect(values).toEqual(
      [
        [null, 'plan.doelen', 'tweede', 'wijkteam'],
        [person.id, 'betrokkenen.naam', 'Anna', 'vtrr'],
      ].sort(),
    );
  });

  it('returns no persons and no values to a partner that takes no part', async () => {
    const { caseId, person } = await newCase();
    await sut.transaction((tx) =>
      sut.insertValues(tx, [
        { caseId, personId: person.id, field: 'betrokkenen.naam', value: 'Anna', ...recorded },
      ]),
    );
    for (const [partner, purpose] of [
      ['politie', 'uitvoering-plan'],
      ['wijkteam', 'nazorg'],
    ] as const) {
      const found = await sut.readForPartner(caseId, partner, purpose, ['betrokkenen.naam'], 'p-1');
      expect(found).toMatchObject({ participant: false, persons: [], values: [] });
    }
    expect(await sut.readForPartner(randomUUID(), 'wijkteam', 'uitvoering-plan', [], 'wt-1')).toBeUndefined();
  });

  it('grants participation only in [valid_from, valid_until), and ending one ends it now', async () => {
    const hour = 3600_000;
    const future = await newCase({ validFrom: new Date(Date.now() + hour) });
    const past = await newCase({
      validFrom: new Date(Date.now() - 2 * hour),
      validUntil: new Date(Date.now() - hour),
    });
    const bounded = await newCase({ validUntil: new Date(Date.now() + hour) });
    const participant = async (caseId: string) =>
      (await sut.snapshot(caseId, 'wijkteam', 'uitvoering-plan'))?.participant;
    expect(await participant(future.caseId)).toBe(false);
    expect(await participant(past.caseId)).toBe(false);
    expect(await participant(bounded.caseId)).toBe(true);

    const ended = await sut.transaction(async (tx) => {
      const [row] = await tx.query<{ id: string }[]>(`SELECT id FROM case_participation WHERE case_id = $1`, [
        bounded.caseId,
      ]);
      const p = await sut.participation(tx, bounded.caseId, row!.id);
      expect(p).toMatchObject({ current: true, ended: false });
      return sut.endParticipation(tx, row!.id, { partner: 'vtrr', professional: 'vtrr-1' });
    });
    expect(ended).toMatchObject({ current: false, ended: true });
    expect(await participant(bounded.caseId)).toBe(false);
  });

  it('ends a participation that has not started at its start (an empty period)', async () => {
    const { caseId } = await newCase({ validFrom: new Date(Date.now() + 3600_000) });
    const ended = await sut.transaction(async (tx) => {
      const [row] = await tx.query<{ id: string }[]>(`SELECT id FROM case_participation WHERE case_id = $1`, [
        caseId,
      ]);
      return sut.endParticipation(tx, row!.id, { partner: 'vtrr', professional: 'vtrr-1' });
    });
    expect(ended.validUntil?.getTime()).toBe(ended.validFrom.getTime());
    expect(ended.ended).toBe(true);
  });

  it('lists only the cases the partner takes part in for the purpose, filtered and keyset-paginated', async () => {
    const partner = `p-${randomUUID().slice(0, 8)}`;
    const mine = [];
    for (let i = 0; i < 5; i++)
      mine.push(await newCase({ partner, phase: i % 2 === 0 ? 'acute' : 'herstel' }));
    await newCase({ partner, purposes: ['nazorg'] });
    await newCase({ partner: 'someone-else' });
    await newCase({ partner, validUntil: new Date(Date.now() - 1), validFrom: new Date(Date.now() - 1000) });

    const seen: string[] = [];
    let after: { openedAt: string; id: string } | undefined;
    for (;;) {
      const page = await sut.listForPartner(partner, 'uitvoering-plan', {
        limit: 2,
        ...(after ? { after } : {}),
      });
      seen.push(...page.map((c) => c.id));
      if (page.length < 2) break;
      after = page[page.length - 1];
    }
    expect(seen).toEqual(mine.map((c) => c.caseId).reverse());
    const acute = await sut.listForPartner(partner, 'uitvoering-plan', { phase: 'acute', limit: 10 });
    expect(acute.map((c) => c.phase)).toEqual(['acute', 'acute', 'acute']);
  });

  it('starts a listing from the participation index, not from all cases', async () => {
    await db.dataSource.query(`
      WITH c AS (
        INSERT INTO cases (id, reference, phase, controller_partner)
        SELECT gen_random_uuid(), 'ZVH-2000-' || lpad(g::text, 7, '0'), 'herstel', 'vtrr' FROM generate_series(1, 20000) g
        RETURNING id)
      INSERT INTO case_participation (id, case_id, partner, purposes, valid_from, added_by_partner, added_by_professional)
      SELECT gen_random_uuid(), id, 'bulk-partner', '{uitvoering-plan}', now(), 'vtrr', 'x' FROM c`);
    await db.dataSource.query('ANALYZE');
    for (const after of [
      [null, null],
      [new Date().toISOString(), randomUUID()],
    ]) {
      const plan = await db.dataSource.query<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${LIST_FOR_PARTNER_SQL}`, [
        'wijkteam',
        'uitvoering-plan',
        null,
        ...after,
        21,
      ]);
      const text = plan.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toMatch(/case_participation_partner_case_idx/);
      expect(text).not.toMatch(/Seq Scan on cases/);
    }
  });
  it('keeps field values append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
    const { caseId } = await newCase();
    await sut.transaction((tx) =>
      sut.insertValues(tx, [{ caseId, personId: null, field: 'plan.doelen', value: 'x', ...recorded }]),
    );
    await expect(
      db.dataSource.query(`UPDATE case_field_value SET value = '"y"' WHERE case_id = $1`, [caseId]),
    ).rejects.toThrow(/append-only/);
    await expect(
      db.dataSource.query(`DELETE FROM case_field_value WHERE case_id = $1`, [caseId]),
    ).rejects.toThrow(/append-only/);
    await expect(db.dataSource.query(`TRUNCATE case_field_value CASCADE`)).rejects.toThrow(/append-only/);
  });

  it('stores an encrypted value only with its hash and never next to a plain value', async () => {
    const { caseId, person } = await newCase();
    const insert = (value: string | null, encrypted: Buffer | null, hash: Buffer | null) =>
      db.dataSource.query(
        `INSERT INTO case_field_value (case_id, person_id, field_id, value, value_encrypted, value_hash, source_partner, recorded_by, purpose)
         VALUES ($1, $2, 'betrokkenen.bsn', $3, $4, $5, 'vtrr', 'x', 'triage')`,
        [caseId, person.id, value, encrypted, hash],
      );
    await expect(insert('"123456782"', Buffer.from([1]), Buffer.from([2]))).rejects.toThrow(/check/);
    await expect(insert(null, Buffer.from([1]), null)).rejects.toThrow(/check/);
    await expect(insert(null, null, null)).rejects.toThrow(/check/);
    await expect(insert(null, Buffer.from([1]), Buffer.from([2]))).resolves.toBeDefined();
  });

  it('refuses a value for a person of another case', async () => {
    const a = await newCase();
    const b = await newCase();
    await expect(
      sut.transaction((tx) =>
        sut.insertValues(tx, [
          { caseId: a.caseId, personId: b.person.id, field: 'betrokkenen.naam', value: 'x', ...recorded },
        ]),
      ),
    ).rejects.toThrow(/foreign key/);
  });

  it('returns every version of a field, newest first', async () => {
    const { caseId, person } = await newCase();
    for (const value of ['een', 'twee', null]) {
      await sut.transaction((tx) =>
        sut.insertValues(tx, [
          { caseId, personId: person.id, field: 'betrokkenen.naam', value, ...recorded },
        ]),
      );
    }
    const rows = await sut.history(caseId, person.id, 'betrokkenen.naam');
    expect(rows.map((r) => r.value)).toEqual([null, 'twee', 'een']);
    expect(await sut.history(caseId, null, 'betrokkenen.naam')).toEqual([]);
  });
});
