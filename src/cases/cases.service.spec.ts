import { Logger } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { AccessLogRepository } from '../access-log/access-log.repository.js';
import { LogUnavailableError } from '../common/problem.js';
import { loadConfig } from '../config/config.js';
import type { Actor } from '../kernel/actor.js';
import { PolicyVersionRepository } from '../kernel/policy-version.repository.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { BsnCipher } from './bsn.js';
import { CasePolicy } from './case-policy.js';
import { FieldsNotWritableError, NotParticipatingError } from './cases.errors.js';
import { CasesRepository } from './cases.repository.js';
import { CasesService } from './cases.service.js';
import { ParticipationsService } from './participations.service.js';

/**
 * Medium spec: CasesService (with ParticipationsService, which decides who takes part) over a
 * real, migrated PostgreSQL, the repository's real convenant, real BSN crypto and the real access
 * log; no HTTP, no Nest container, no mocks. What the e2e suite checks through the whole gateway
 * is checked here one layer down: the fields each purpose reads, writes allowed and refused,
 * the end of a participation, and the log entries each call commits.
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
  processing_activity_id: string;
}

const BSN = '123456782';

describe('CasesService (real PostgreSQL, real convenant)', () => {
  let db: TestDatabase;
  let registry: PolicyRegistry;
  let sut: CasesService;
  let participations: ParticipationsService;

  /** A fresh request identity per call, as the gateway gives each request. */
  const as = (partner: string, purpose: string): Actor => ({
    partner,
    professional: `${partner}-1`,
    purpose,
    requestId: randomUUID(),
    traceId: randomBytes(16).toString('hex'),
    tally: { committed: 0 },
  });
  const logOf = (actor: Actor) =>
    db.dataSource.query<LogRow[]>(
      `SELECT action, case_id, data_subject_ref, fields, status, rule_id, reason, partner, processing_activity_id
         FROM access_log WHERE request_id = $1 ORDER BY seq`,
      [actor.requestId],
    );
  const valuesOf = async (caseId: string) =>
    Number(
      (
        await db.dataSource.query<{ n: string }[]>(
          'SELECT count(*) AS n FROM case_field_value WHERE case_id = $1',
          [caseId],
        )
      )[0]!.n,
    );

  let caseId: string;
  let victim: string;
  let perpetrator: string;
  let registration: Actor;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url });
    registry = new PolicyRegistry(config, new PolicyVersionRepository(db.dataSource));
    await registry.onModuleInit();
    const policy = new CasePolicy(registry, new AccessLogRepository(db.dataSource));
    const cases = new CasesRepository(db.dataSource);
    sut = new CasesService(
      policy,
      cases,
      new BsnCipher({ hmacKey: randomBytes(32), encryptionKey: randomBytes(32) }),
    );
    participations = new ParticipationsService(policy, cases);

    registration = as('vtrr', 'triage');
    const registered = await sut.register(registration, {
      phase: 'stabilisatie',
      persons: [
        { role: 'slachtoffer', bsn: BSN, fields: { 'betrokkenen.naam': 'Anna Jansen' } },
        { role: 'pleger', fields: { 'betrokkenen.naam': 'Piet Jansen' } },
      ],
      fields: {
        'veiligheid.risiconiveau': 'hoog',
        'veiligheid.risicotaxatie': 'B-SAFER: hoog risico op herhaling',
      },
    });
    caseId = registered.id;
    [victim, perpetrator] = registered.persons.map((p) => p.subjectRef) as [string, string];
    await participations.add(as('vtrr', 'triage'), caseId, {
      partner: 'wijkteam',
      purposes: ['uitvoering-plan'],
    });
    await participations.add(as('vtrr', 'triage'), caseId, {
      partner: 'politie',
      purposes: ['casusoverleg'],
    });
    await sut.writeFields(as('politie', 'casusoverleg'), caseId, [
      { field: 'politie.antecedenten', subjectRef: perpetrator, value: 'Mishandeling 2024' },
    ]);
  });
  afterAll(async () => {
    registry?.onModuleDestroy();
    await db?.drop();
  });

  it('logs a registration as one allowed write per data subject and rule, the BSN in none of them', async () => {
    const rows = await logOf(registration);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.every((r) => r.action === 'write' && r.status === 'allowed' && r.case_id === caseId)).toBe(
      true,
    );
    expect(rows.find((r) => r.data_subject_ref === null)).toMatchObject({
      rule_id: 'vtrr-triage-vastleggen',
      fields: ['veiligheid.risiconiveau', 'veiligheid.risicotaxatie'],
      partner: 'vtrr',
      processing_activity_id: 'triage',
    });
    expect(rows.filter((r) => r.data_subject_ref === victim).map((r) => [r.rule_id, r.fields])).toEqual([
      ['vtrr-triage-bsn', ['betrokkenen.bsn']],
      ['vtrr-triage-vastleggen', ['betrokkenen.naam']],
    ]);
    expect(JSON.stringify(rows)).not.toContain(BSN);
  });

  it('gives each purpose its own fields of the same case, and logs each read per subject', async () => {
    const vtrr = as('vtrr', 'triage');
    const wijkteam = as('wijkteam', 'uitvoering-plan');
    const politie = as('politie', 'casusoverleg');
    const [byVtrr, byWijkteam, byPolitie] = [
      await sut.read(vtrr, caseId),
      await sut.read(wijkteam, caseId),
      await sut.read(politie, caseId),
    ];
    const person = (view: typeof byVtrr, ref: string) =>
      view.persons.find((p) => p.subjectRef === ref)!.fields;

    // Veilig Thuis (triage): the risk assessment, and the BSN decrypted with the real cipher.
    expect(byVtrr.fields['veiligheid.risicotaxatie']).toMatchObject({
      value: 'B-SAFER: hoog risico op herhaling',
    });
    expect(person(byVtrr, victim)['betrokkenen.bsn']).toMatchObject({ value: BSN, source: 'vtrr' });
    expect(person(byVtrr, perpetrator)).not.toHaveProperty('politie.antecedenten');
    // Wijkteam (uitvoering-plan): the risk level, not the assessment; no criminal data.
    expect(byWijkteam.fields['veiligheid.risiconiveau']).toMatchObject({ value: 'hoog' });
    expect(byWijkteam.fields).not.toHaveProperty('veiligheid.risicotaxatie');
    expect(person(byWijkteam, perpetrator)).not.toHaveProperty('politie.antecedenten');
    // Politie (casusoverleg): the perpetrator's criminal record, never the BSN.
    expect(person(byPolitie, perpetrator)['politie.antecedenten']).toMatchObject({
      value: 'Mishandeling 2024',
      source: 'politie',
    });
    expect(person(byPolitie, victim)).not.toHaveProperty('betrokkenen.bsn');

    for (const [actor, view] of [
      [vtrr, byVtrr],
      [wijkteam, byWijkteam],
      [politie, byPolitie],
    ] as const) {
      const rows = await logOf(actor);
      expect(rows.length).toBeGreaterThan(0);
      expect(
        rows.every((r) => r.action === 'read' && r.case_id === caseId && r.partner === actor.partner),
      ).toBe(true);
      // Every field the answer holds is in an allowed entry for its subject.
      const allowed = (ref: string | null) =>
        rows.filter((r) => r.status === 'allowed' && r.data_subject_ref === ref).flatMap((r) => r.fields);
      expect(allowed(null)).toEqual(expect.arrayContaining(Object.keys(view.fields)));
      for (const p of view.persons)
        expect(allowed(p.subjectRef)).toEqual(expect.arrayContaining(Object.keys(p.fields)));
    }
    expect(
      (await logOf(politie)).find(
        (r) => r.data_subject_ref === perpetrator && r.fields.includes('politie.antecedenten'),
      ),
    ).toMatchObject({ status: 'allowed', rule_id: 'casusoverleg-strafrechtelijk-lezen' });
  });

  it('writes what the purpose may write and refuses the whole request otherwise, logging both', async () => {
    const allowed = as('wijkteam', 'uitvoering-plan');
    const before = await valuesOf(caseId);
    const written = await sut.writeFields(allowed, caseId, [
      { field: 'plan.doelen', value: 'Veilig thuis wonen' },
    ]);
    expect(written.recorded).toEqual([{ field: 'plan.doelen' }]);
    expect(await valuesOf(caseId)).toBe(before + 1);
    expect(await logOf(allowed)).toEqual([
      expect.objectContaining({
        action: 'write',
        status: 'allowed',
        fields: ['plan.doelen'],
        partner: 'wijkteam',
      }),
    ]);

    const refused = as('wijkteam', 'uitvoering-plan');
    await expect(
      sut.writeFields(refused, caseId, [
        { field: 'plan.doelen', value: 'Ander doel' },
        { field: 'veiligheid.risicotaxatie', value: 'laag' },
      ]),
    ).rejects.toBeInstanceOf(FieldsNotWritableError);
    // Nothing of the request is written, not even the field it could write.
    expect(await valuesOf(caseId)).toBe(before + 1);
    const rows = await logOf(refused);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.action === 'write' && r.status === 'denied')).toBe(true);
    expect(rows.flatMap((r) => r.fields)).toContain('veiligheid.risicotaxatie');
  });

  it('ends access when a participation ends: the next read is refused and logged as denied', async () => {
    const vtrr = as('vtrr', 'triage');
    const added = await participations.add(vtrr, caseId, { partner: 'jbrr', purposes: ['uitvoering-plan'] });
    await expect(sut.read(as('jbrr', 'uitvoering-plan'), caseId)).resolves.toMatchObject({ id: caseId });

    const ending = as('vtrr', 'triage');
    const ended = await participations.end(ending, caseId, added.id);
    expect(ended).toMatchObject({ id: added.id, current: false, validUntil: expect.any(String) });
    expect(await logOf(ending)).toEqual([
      expect.objectContaining({
        action: 'manage',
        status: 'allowed',
        rule_id: 'vtrr-casus-beheren',
        reason: expect.stringMatching(/^Ended participation/),
      }),
    ]);

    const after = as('jbrr', 'uitvoering-plan');
    await expect(sut.read(after, caseId)).rejects.toBeInstanceOf(NotParticipatingError);
    expect(await logOf(after)).toEqual([
      expect.objectContaining({
        action: 'read',
        status: 'denied',
        fields: [],
        case_id: caseId,
        partner: 'jbrr',
      }),
    ]);
  });

  it('refuses a partner that takes no part before reading any value, with one denial', async () => {
    const om = as('om', 'casusoverleg');
    await expect(sut.read(om, caseId)).rejects.toBeInstanceOf(NotParticipatingError);
    expect(await logOf(om)).toEqual([
      expect.objectContaining({
        action: 'read',
        status: 'denied',
        data_subject_ref: null,
        reason: expect.stringMatching(/takes no part in this case/),
      }),
    ]);
  });

  it('answers nothing when the access log cannot be written (fail closed)', async () => {
    const reader = as('vtrr', 'triage');
    // A real failure of the log's own table, not a stub: the read's entries cannot be inserted.
    await db.dataSource.query('ALTER TABLE access_log RENAME TO access_log_away');
    try {
      await expect(sut.read(reader, caseId)).rejects.toBeInstanceOf(LogUnavailableError);
    } finally {
      await db.dataSource.query('ALTER TABLE access_log_away RENAME TO access_log');
    }
    expect(await logOf(reader)).toEqual([]);
  });
});
