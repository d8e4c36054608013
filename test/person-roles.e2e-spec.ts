import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { CasesRepository } from '../src/cases/cases.repository.js';
import { newSubjectRef } from '../src/cases/identifiers.js';
import { RUNNING_PHASES } from '../src/cases/phase.js';
import { PolicyRegistry } from '../src/kernel/policy.registry.js';
import {
  accessSubject,
  checkConvenantDir,
  PERSON_ROLES,
  permittedFields,
  type CompiledConvenant,
  type Phase,
} from '../src/policy/index.js';
import { EXAMPLE_CONVENANTS, startTestApp, type TestApp } from './support/app.js';
import { casePairs } from './support/convenant-choices.js';
import { bearerFor, type Who } from './support/tokens.js';

/**
 * Issue 18 point 5 on every example convenant, over real HTTP: being named `pleger` can be
 * criminal-law data, so the role is shown only to readers for whom the convenant's rules make
 * its `person_roles.pleger.disclosed_with` field readable; every other reader sees the pleger
 * and the gezinsleden under one general word, in an order that does not betray who is who.
 * The readers are chosen from the convenant's own rules, never named.
 */
interface PersonBody {
  subjectRef: string;
  role: string;
  roleGeneralised?: true;
}

/** In `phase`, one pair that may see the pleger role and one that may not (both read something). */
function readersOf(compiled: CompiledConvenant): { phase: Phase; shown: Who; hidden: Who; word: string } {
  const entry = compiled.convenant.personRoles.find((e) => e.role === 'pleger' && e.disclosedWith);
  if (!entry?.disclosedWith) throw new Error(`${compiled.convenant.id} does not withhold the pleger role`);
  for (const phase of RUNNING_PHASES) {
    const readable = (who: Who) =>
      permittedFields(
        compiled.abilityFor(who.partner, who.purpose),
        'read',
        accessSubject({ phase, participant: true, role: 'pleger' }),
      );
    const pairs = casePairs(compiled).filter((who) =>
      PERSON_ROLES.some(
        (role) =>
          permittedFields(
            compiled.abilityFor(who.partner, who.purpose),
            'read',
            accessSubject({ phase, participant: true, role }),
          ).length > 0,
      ),
    );
    const shown = pairs.find((who) => readable(who).includes(entry.disclosedWith!));
    const hidden = pairs.find((who) => !readable(who).includes(entry.disclosedWith!));
    if (shown && hidden) return { phase, shown, hidden, word: entry.shownAs };
  }
  throw new Error(`${compiled.convenant.id}: no phase with a reader on each side of the pleger role`);
}

/** The example convenants that withhold the pleger role; a region's folder without person_roles shows every role. */
const WITHHOLDING = EXAMPLE_CONVENANTS.filter(({ dir }) =>
  checkConvenantDir(dir).convenant?.personRoles.some((e) => e.role === 'pleger' && e.disclosedWith),
);

it('runs on the example convenants that withhold the pleger role, Rotterdam among them', () => {
  expect(WITHHOLDING.map((c) => c.name)).toContain('zvh-rotterdam-rijnmond');
});

describe.each(WITHHOLDING)('the pleger role on convenant $name (real HTTP)', ({ dir }) => {
  let t: TestApp;
  let compiled: CompiledConvenant;
  let caseId: string;
  let readers: ReturnType<typeof readersOf>;
  const roles = ['slachtoffer', 'pleger', 'kind', 'gezinslid', 'pleger'] as const;
  const persons = roles.map((role) => ({ id: randomUUID(), role, subjectRef: newSubjectRef() }));

  beforeAll(async () => {
    t = await startTestApp({ policyDir: dir });
    compiled = t.app.get(PolicyRegistry).current();
    readers = readersOf(compiled);
    caseId = randomUUID();
    const repository = t.app.get(CasesRepository);
    const controller = readers.shown.partner;
    await repository.transaction(async (tx) => {
      await repository.insertCase(tx, {
        id: caseId,
        referencePrefix: 'E2E',
        phase: readers.phase,
        flags: [],
        controllerPartner: controller,
      });
      await repository.insertPersons(
        tx,
        persons.map((p) => ({ ...p, caseId })),
      );
      for (const who of [readers.shown, readers.hidden]) {
        await repository.insertParticipation(tx, {
          id: randomUUID(),
          caseId,
          partner: who.partner,
          purposes: [who.purpose],
          addedByPartner: controller,
          addedByProfessional: 'e2e',
        });
      }
    });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const read = async (who: Who) => {
    const res = await request(t.app.getHttpServer())
      .get(`/v1/cases/${caseId}`)
      .set('authorization', await bearerFor(t, { ...who, professional: 'e2e-roles' }));
    expect(res.status).toBe(200);
    return res.body as { persons: PersonBody[] };
  };

  it('shows the role pleger to a reader whose rules grant it', async () => {
    const body = await read(readers.shown);
    const byRef = new Map(body.persons.map((p) => [p.subjectRef, p]));
    for (const p of persons) expect(byRef.get(p.subjectRef)).toMatchObject({ role: p.role });
    expect(body.persons.some((p) => p.roleGeneralised)).toBe(false);
  });

  it('shows pleger and gezinslid under one word to any other reader, in an order that does not betray them', async () => {
    const body = await read(readers.hidden);
    expect(JSON.stringify(body)).not.toContain('"pleger"');
    const byRef = new Map(body.persons.map((p) => [p.subjectRef, p]));
    for (const p of persons) {
      const shown = byRef.get(p.subjectRef)!;
      if (p.role === 'pleger' || p.role === 'gezinslid')
        expect(shown).toEqual(expect.objectContaining({ role: readers.word, roleGeneralised: true }));
      else expect(shown).toEqual(expect.not.objectContaining({ roleGeneralised: true }));
    }
    // The three persons under the word stand together, ordered by their random reference.
    const generalised = body.persons.filter((p) => p.roleGeneralised).map((p) => p.subjectRef);
    expect(generalised).toEqual([...generalised].sort());
    const first = body.persons.findIndex((p) => p.roleGeneralised);
    expect(body.persons.slice(first, first + 3).every((p) => p.roleGeneralised)).toBe(true);
  });
});
