import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import { BSN_CIPHER, type BsnCipher } from '../cases/bsn.js';
import { CasesRepository, type NewPerson, type NewValue } from '../cases/cases.repository.js';
import { caseReferencePrefix } from '../cases/identifiers.js';
import { CLOSED_PHASE, RUNNING_PHASES } from '../cases/phase.js';
import { isOfficer, OFFICER_PURPOSE } from '../audit/officer.js';
import {
  accessSubject,
  decideManage,
  PERSON_ROLES,
  PHASES,
  permittedFields,
  type CatalogueField,
  type CompiledConvenant,
  type Convenant,
  type Partner,
  type PersonRole,
  type Phase,
} from '../policy/index.js';
import { DemoRandom } from './demo-random.js';

export const DEMO_CASE_COUNT = 240;
/** The fictional professional every demo value is recorded by. */
export const DEMO_PROFESSIONAL = 'demo-seed';
const DAY_MS = 24 * 3600 * 1000;
/** How often each phase occurs, in the model's phase order: most cases run, some are closed. */
const PHASE_WEIGHTS = [25, 30, 30, 15];

const FIRST_NAMES = [
  'Anouk',
  'Bram',
  'Chaima',
  'Daan',
  'Emma',
  'Fleur',
  'Gijs',
  'Hanna',
  'Ilias',
  'Jasmijn',
  'Kees',
  'Lotte',
  'Mohammed',
  'Noor',
  'Olaf',
  'Priya',
  'Quinten',
  'Rosa',
  'Sem',
  'Tess',
  'Umut',
  'Vera',
  'Wessel',
  'Yara',
  'Zoë',
];
const SURNAMES = [
  'de Vries-Demo',
  'Jansen-Fictief',
  'Bakker-Voorbeeld',
  'El Amrani-Demo',
  'Visser-Fictief',
  'Smit-Voorbeeld',
  'Meijer-Demo',
  'Yilmaz-Fictief',
  'Mulder-Voorbeeld',
  'de Boer-Demo',
];
/** Fictional places: the demo runs for any region, and names no real one. */
const TOWNS = [
  'Demostad',
  'Voorbeeldorp',
  'Fictiedam',
  'Proefhuizen',
  'Testerveen',
  'Oefenburg',
  'Schijnbeek',
];
const PHRASES = [
  'Afspraak gemaakt met de betrokkenen; vervolg over twee weken.',
  'Situatie besproken in het casusoverleg, acties verdeeld.',
  'Veiligheidsafspraken zijn opnieuw doorgenomen en ondertekend.',
  'Contact verloopt goed; er zijn geen nieuwe meldingen.',
  'Zorgen over de spanning thuis, extra huisbezoek gepland.',
];

/**
 * Seeds a synthetic demo on a fresh database (DEMO=true, the default in development): fictional
 * people only, BSNs from the government's test range (starting 9999), hashed and encrypted like
 * real ones. Deterministic (a seeded generator), so the README's curl session shows the same
 * cases on every machine. Values are recorded by a partner the convenant lets write them, found
 * through the policy engine, so the demo obeys the convenant it demonstrates.
 */
@Injectable()
export class DemoSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('Demo');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly registry: PolicyRegistry,
    private readonly cases: CasesRepository,
    @Inject(BSN_CIPHER) private readonly cipher: BsnCipher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.demo) return;
    const seeded = await this.seed();
    if (seeded > 0) this.logger.log(`Seeded a synthetic demo of ${seeded} cases (fictional people only)`);
  }

  /** Seeds once: does nothing when any case exists. Returns the number of cases created. */
  async seed(count = DEMO_CASE_COUNT): Promise<number> {
    return this.dataSource.transaction(async (tx) => {
      // One seeder at a time, even with two instances starting on one database.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('convenant-demo-seed'))`);
      const [row] = await tx.query<{ present: boolean }[]>(`SELECT EXISTS (SELECT 1 FROM cases) AS present`);
      if (row?.present) return 0;
      const compiled = this.registry.current();
      const random = new DemoRandom(20260101);
      const now = Date.now();
      const shape: DemoShape = {
        controllers: controllersOf(compiled),
        protectiveFlags: protectiveFlags(compiled.convenant),
      };
      for (let i = 0; i < count; i++) {
        await this.seedCase(tx, compiled, shape, random, i, now);
      }
      return count;
    });
  }

  private async seedCase(
    tx: Parameters<CasesRepository['insertCase']>[0],
    compiled: CompiledConvenant,
    shape: DemoShape,
    random: DemoRandom,
    index: number,
    now: number,
  ): Promise<void> {
    const convenant = compiled.convenant;
    // The running phases, then the closing one, weighted 25/30/30/15 in the model's order.
    const phase = random.weighted<Phase>(PHASES.map((p, i) => [p, PHASE_WEIGHTS[i] ?? 15] as const));
    const flags = convenant.caseFlags
      .map((f) => f.id)
      .filter((id) => random.chance(shape.protectiveFlags.has(id) ? 0.15 : 0.1));
    const controller = shape.controllers[index % shape.controllers.length]!;
    const caseId = random.uuid();
    await this.cases.insertCase(tx, {
      id: caseId,
      referencePrefix: caseReferencePrefix(convenant.id),
      phase,
      flags,
      controllerPartner: controller,
    });
    // Some closed cases were closed long ago, so that `convenant retention run --dry-run` on the
    // demo always has something to show: every third closed case three years back (its one- and
    // two-year purposes have lapsed), every third six years back (all of it has). No extra random
    // draws, so the rest of the demo stays as it was.
    const closed = phase === CLOSED_PHASE;
    const age = closed ? [0, 3 * 365, 6 * 365][index % 3]! * DAY_MS : 0;
    const openedAt = new Date(now - random.int(5, 400) * DAY_MS - age);
    const closedAt = closed ? new Date(now - random.int(1, 4) * DAY_MS - age) : null;
    await tx.query(`UPDATE cases SET opened_at = $2, closed_at = $3 WHERE id = $1`, [
      caseId,
      openedAt,
      closedAt,
    ]);

    // One person of the first role, usually one of the second, none to three of the third and
    // now and then one of the fourth (for the model's roles: a victim, a perpetrator, children,
    // another family member).
    const [first, second, third, fourth] = PERSON_ROLES;
    const roles: PersonRole[] = [first];
    if (random.chance(0.85)) roles.push(second);
    for (let k = random.int(0, 3); k > 0; k--) roles.push(third);
    if (random.chance(0.2)) roles.push(fourth);
    const persons: NewPerson[] = roles.map((role) => ({
      id: random.uuid(),
      caseId,
      role,
      subjectRef: random.subjectRef(),
    }));
    await this.cases.insertPersons(tx, persons);

    // The controller takes part under all its purposes; three to five others join under some of
    // theirs. Privacy officers review the log; they never take part in a case.
    const members = [
      controller,
      ...random.sample(
        caseParticipants(convenant)
          .map((p) => p.id)
          .filter((id) => id !== controller),
        random.int(3, 5),
      ),
    ];
    const participants: { partner: string; purposes: string[] }[] = [];
    for (const [n, partner] of members.entries()) {
      const registered = convenant.partners
        .find((p) => p.id === partner)!
        .purposes.filter((u) => u !== OFFICER_PURPOSE);
      if (registered.length === 0) continue;
      const purposes = n === 0 ? registered : random.sample(registered, random.int(1, registered.length));
      // Now and then a participation has ended, or starts later: the demo shows both refusals.
      const ended = n > 0 && random.chance(0.08);
      const future = n > 0 && !ended && !closedAt && random.chance(0.03);
      await this.cases.insertParticipation(tx, {
        id: random.uuid(),
        caseId,
        partner,
        purposes,
        validFrom: future ? new Date(now + 7 * DAY_MS) : openedAt,
        validUntil: closedAt ?? (ended ? new Date(now - DAY_MS) : null),
        addedByPartner: controller,
        addedByProfessional: DEMO_PROFESSIONAL,
      });
      if (!ended && !future) participants.push({ partner, purposes });
    }

    const values: NewValue[] = [];
    const writers = new Map<PersonRole | undefined, Map<string, { partner: string; purpose: string }>>();
    const record = (field: CatalogueField, person: NewPerson | null) => {
      const role = person?.role;
      if (!writers.has(role)) writers.set(role, this.writers(compiled, participants, phase, flags, role));
      const writer = writers.get(role)!.get(field.id);
      if (!writer || !random.chance(0.8)) return;
      const base = {
        caseId,
        personId: person?.id ?? null,
        field: field.id,
        sourcePartner: writer.partner,
        recordedBy: DEMO_PROFESSIONAL,
        purpose: writer.purpose,
        reason: null,
        ...(age > 0 ? { recordedAt: openedAt } : {}),
      };
      if (field.sensitivity === 'bsn') {
        const bsn = testBsn(random);
        values.push({
          ...base,
          encrypted: this.cipher.encrypt(bsn, person!.id),
          hash: this.cipher.hash(bsn),
        });
      } else {
        values.push({ ...base, value: demoValue(field, random, role) });
      }
    };
    for (const field of convenant.fields) {
      if (field.level === 'case') record(field, null);
      else for (const person of persons) record(field, person);
    }
    await this.cases.insertValues(tx, values);
  }

  /** For each field some participant may write in this situation, the first (partner, purpose) that may. */
  private writers(
    compiled: CompiledConvenant,
    participants: readonly { partner: string; purposes: string[] }[],
    phase: Phase,
    flags: readonly string[],
    role: PersonRole | undefined,
  ): Map<string, { partner: string; purpose: string }> {
    // Demo data is recorded while the case was open: a closed case keeps what was written in the
    // last running phase.
    const writtenIn: Phase = phase === CLOSED_PHASE ? RUNNING_PHASES.at(-1)! : phase;
    const subject = accessSubject({ phase: writtenIn, participant: true, flags, ...(role ? { role } : {}) });
    const writers = new Map<string, { partner: string; purpose: string }>();
    for (const { partner, purposes } of participants) {
      for (const purpose of purposes) {
        for (const field of permittedFields(compiled.abilityFor(partner, purpose), 'write', subject)) {
          if (!writers.has(field)) writers.set(field, { partner, purpose });
        }
      }
    }
    return writers;
  }
}

/** What the whole demo shares, computed once from the convenant. */
interface DemoShape {
  controllers: string[];
  protectiveFlags: Set<string>;
}

/** The partners that can take part in a case: every partner with a purpose other than the officers'. */
function caseParticipants(convenant: Convenant): Partner[] {
  return convenant.partners.filter(
    (p) => !isOfficer(convenant, p.id, OFFICER_PURPOSE) && p.purposes.some((u) => u !== OFFICER_PURPOSE),
  );
}

/**
 * Who brings the demo's cases in (their controller of record), in the convenant's partner order:
 * the partners the convenant lets manage a case under one of their purposes in some running
 * phase, since they can run it afterwards; when no rule lets anyone manage, every partner that
 * can take part.
 */
export function controllersOf(compiled: CompiledConvenant): string[] {
  const convenant = compiled.convenant;
  const candidates = caseParticipants(convenant);
  const managers = candidates.filter((partner) =>
    partner.purposes.some((purpose) =>
      RUNNING_PHASES.some(
        (phase) =>
          decideManage(compiled.abilityFor(partner.id, purpose), accessSubject({ phase, participant: true }))
            .allowed,
      ),
    ),
  );
  const chosen = managers.length > 0 ? managers : candidates;
  if (chosen.length === 0) {
    throw new Error(
      `The convenant ${convenant.id} has no partner that can take part in a case, so there is no demo to seed; set DEMO=false.`,
    );
  }
  return chosen.map((p) => p.id);
}

/** Flags that some deny rule names (such as a secret address): the demo sets them a little more often. */
function protectiveFlags(convenant: Convenant): Set<string> {
  return new Set(convenant.rules.filter((r) => r.effect === 'deny').flatMap((r) => r.when.caseFlags ?? []));
}

/** A BSN from the test range (9999xxxxx) that passes the elfproef: never a real person's number. */
function testBsn(random: DemoRandom): string {
  for (;;) {
    const digits = `9999${String(random.int(0, 99999)).padStart(5, '0')}`;
    const sum = [...digits].reduce((s, d, i) => s + Number(d) * (i === 8 ? -1 : 9 - i), 0);
    if (sum % 11 === 0) return digits;
  }
}

function demoValue(field: CatalogueField, random: DemoRandom, role?: PersonRole): string | number | boolean {
  if (field.name.includes('geboortedatum') && (field.type === 'date' || field.type === 'string')) {
    // A child (the model's third role) is under sixteen, everyone else an adult.
    const years = role === PERSON_ROLES[2] ? random.int(1, 16) : random.int(19, 70);
    return new Date(Date.now() - years * 365.25 * DAY_MS).toISOString().slice(0, 10);
  }
  switch (field.type) {
    case 'boolean':
      return random.chance(0.3);
    case 'number':
      return random.int(0, 10);
    case 'enum':
      return random.pick(field.values ?? ['onbekend']);
    case 'date':
      return new Date(Date.now() - random.int(1, 300) * DAY_MS).toISOString().slice(0, 10);
    case 'datetime':
      return new Date(Date.now() - random.int(1, 300) * DAY_MS).toISOString();
    case 'text':
      return random.pick(PHRASES);
    case 'string':
      if (field.name === 'naam') return `${random.pick(FIRST_NAMES)} ${random.pick(SURNAMES)}`;
      if (field.name === 'woonplaats') return random.pick(TOWNS);
      if (field.name.includes('adres')) return `Fictieweg ${random.int(1, 200)}, ${random.pick(TOWNS)}`;
      return `${field.description ?? field.name} (demo)`.slice(0, 120);
  }
}
