import { firstOfficerPartner, isOfficer, OFFICER_PURPOSE } from '../../src/audit/officer.js';
import { bsnFieldOf } from '../../src/cases/cases.service.js';
import { RUNNING_PHASES } from '../../src/cases/phase.js';
import {
  accessSubject,
  decideManage,
  PERSON_ROLES,
  permittedFields,
  type CatalogueField,
  type CompiledConvenant,
  type PersonRole,
  type Phase,
} from '../../src/policy/index.js';
import type { Who } from './tokens.js';

/**
 * Partner, purpose and field choices for e2e specs about generic behaviour, derived from the
 * convenant in force instead of one region's ids, so the same spec runs on every example
 * convenant. Each helper fails loudly when the convenant offers no such choice.
 */

/** The convenant's privacy officer (the first partner of kind toezicht under purpose toezicht). */
export function officerOf(compiled: CompiledConvenant, professional = 'officer-e2e'): Who {
  const officer = firstOfficerPartner(compiled.convenant);
  if (!officer) throw new Error(`${compiled.convenant.id} has no privacy officer partner`);
  return { partner: officer.id, purpose: OFFICER_PURPOSE, professional };
}

/** Every (partner, purpose) a partner is registered for, officers left out, in convenant order. */
export function casePairs(compiled: CompiledConvenant): Who[] {
  const convenant = compiled.convenant;
  return convenant.partners.flatMap((p) =>
    p.purposes
      .filter((u) => !isOfficer(convenant, p.id, u) && u !== OFFICER_PURPOSE)
      .map((purpose) => ({ partner: p.id, purpose })),
  );
}

export interface Registrar extends Who {
  phase: Phase;
  role: PersonRole;
  /** Person-level fields this registrar may write for a person of `role` in `phase`. */
  personFields: string[];
  /** Whether the catalogue's BSN field is among them. */
  writesBsn: boolean;
}

/**
 * A partner and purpose that can register a case with one person and write some of that person's
 * fields: preferring one that may also write the catalogue's BSN field, and then read back what it
 * wrote. Tries every running phase and role.
 */
export function registrarOf(compiled: CompiledConvenant): Registrar {
  const bsn = bsnFieldOf(compiled.convenant)?.id;
  const found: Registrar[] = [];
  for (const who of casePairs(compiled)) {
    const ability = compiled.abilityFor(who.partner, who.purpose);
    for (const phase of RUNNING_PHASES) {
      for (const role of PERSON_ROLES) {
        const subject = accessSubject({ phase, participant: true, role });
        const writable = permittedFields(ability, 'write', subject);
        const readable = new Set(permittedFields(ability, 'read', subject));
        const personFields = writable.filter((f) => readable.has(f) && f !== bsn);
        if (personFields.length === 0) continue;
        found.push({
          ...who,
          phase,
          role,
          personFields,
          writesBsn: bsn !== undefined && writable.includes(bsn),
        });
      }
    }
  }
  const best = found.find((r) => r.writesBsn) ?? found[0];
  if (!best)
    throw new Error(`${compiled.convenant.id}: no partner can register a case and write a person's fields`);
  return best;
}

/** A partner and purpose that may manage a case in `phase` as participant. */
export function managerOf(compiled: CompiledConvenant, phase: Phase): Who | undefined {
  return casePairs(compiled).find(
    (who) =>
      decideManage(compiled.abilityFor(who.partner, who.purpose), accessSubject({ phase, participant: true }))
        .allowed,
  );
}

/** A partner and purpose other than `than`'s partner, registered in the convenant. */
export function otherPartnerThan(compiled: CompiledConvenant, than: Who): Who {
  const other = casePairs(compiled).find((w) => w.partner !== than.partner);
  if (!other) throw new Error(`${compiled.convenant.id} has only one partner`);
  return other;
}

/** A partner and purpose that may write `fieldId` in no running phase, for no role. */
export function pairNeverWriting(compiled: CompiledConvenant, fieldId: string): Who | undefined {
  return casePairs(compiled).find((who) => {
    const ability = compiled.abilityFor(who.partner, who.purpose);
    return RUNNING_PHASES.every((phase) =>
      PERSON_ROLES.every(
        (role) =>
          !permittedFields(ability, 'write', accessSubject({ phase, participant: true, role })).includes(
            fieldId,
          ),
      ),
    );
  });
}

/** A value that fits a catalogue field's type, for writing it in a spec. */
export function sampleValue(field: CatalogueField): string | number | boolean {
  switch (field.type) {
    case 'boolean':
      return true;
    case 'number':
      return 3;
    case 'enum':
      return field.values![0]!;
    case 'date':
      return '2026-01-15';
    case 'datetime':
      return '2026-01-15T10:00:00.000Z';
    default:
      return `Waarde voor ${field.id}`;
  }
}
