import { bsnFieldOf } from '../../src/cases/cases.service.js';
import { RUNNING_PHASES } from '../../src/cases/phase.js';
import {
  accessSubject,
  decideField,
  decideManage,
  PERSON_ROLES,
  permittedFields,
  type CatalogueField,
  type CompiledConvenant,
  type FieldAction,
  type PersonRole,
  type Phase,
} from '../../src/policy/index.js';
import { casePairs, sampleValue } from './convenant-choices.js';
import type { Who } from './tokens.js';

/**
 * The cast of the case-routes spec, chosen from the convenant in force through the policy engine
 * (the oracle), so the same spec runs on every example convenant:
 * - `registrar` registers the case in `phase` and may manage it there (add and end participations);
 * - `writer` is added as a participant and may write (and read back) a case-level field, under a
 *   purpose with field history where the convenant has one, and preferably may not manage;
 * - `reader` is added as a third participant;
 * - `outsider` takes no part and is never added; `ended` and `future` are added to test the
 *   participation period.
 * Each is a different partner. The values registered are ones the registrar may write.
 */
export interface CaseScenario {
  phase: Phase;
  /** Three persons, one role each (the format's first three roles). */
  roles: [PersonRole, PersonRole, PersonRole];
  registrar: Who;
  writer: Who;
  reader: Who;
  outsider: Who;
  ended: Who;
  future: Who;
  /** Case-level values the registrar records at registration (up to three). */
  caseValues: Record<string, string | number | boolean>;
  /** Person-level values the registrar records, per person (index into `roles`). */
  personValues: Record<string, string | number | boolean>[];
  /** The catalogue's BSN field, when the registrar may write it for the first person. */
  bsnField?: string;
  /** A case-level field the writer may write and read in `phase`. */
  writerField: CatalogueField;
}

export function subjectFor(phase: Phase, role?: PersonRole, flags: string[] = []) {
  return accessSubject({ phase, participant: true, flags, ...(role !== undefined ? { role } : {}) });
}

/** The fields `who` may `action` as a participant in `phase`, at case level or for a person of `role`. */
export function allowedFields(
  compiled: CompiledConvenant,
  who: Who,
  action: FieldAction,
  phase: Phase,
  role?: PersonRole,
): string[] {
  return permittedFields(compiled.abilityFor(who.partner, who.purpose), action, subjectFor(phase, role));
}

/** The rule that decides `action` on `field` for `who` (null when nothing decides: denied by default). */
export function ruleFor(
  compiled: CompiledConvenant,
  who: Who,
  action: FieldAction,
  phase: Phase,
  field: string,
  role?: PersonRole,
): string | null {
  return (
    decideField(compiled.abilityFor(who.partner, who.purpose), action, subjectFor(phase, role), field)
      .ruleId ?? null
  );
}

export function mayManage(compiled: CompiledConvenant, who: Who, phase: Phase): boolean {
  return decideManage(compiled.abilityFor(who.partner, who.purpose), subjectFor(phase)).allowed;
}

/** The rule that lets `who` manage a case in `phase` (null when none does). */
export function manageRuleFor(compiled: CompiledConvenant, who: Who, phase: Phase): string | null {
  return decideManage(compiled.abilityFor(who.partner, who.purpose), subjectFor(phase)).ruleId ?? null;
}

function both(compiled: CompiledConvenant, who: Who, phase: Phase, role?: PersonRole): string[] {
  const readable = new Set(allowedFields(compiled, who, 'read', phase, role));
  return allowedFields(compiled, who, 'write', phase, role).filter((f) => readable.has(f));
}

export function caseScenario(compiled: CompiledConvenant): CaseScenario {
  const convenant = compiled.convenant;
  const pairs = casePairs(compiled);
  const roles = PERSON_ROLES.slice(0, 3) as [PersonRole, PersonRole, PersonRole];
  const bsn = bsnFieldOf(convenant)?.id;
  const history = (w: Who) => compiled.purpose(w.purpose).fieldHistory;
  for (const phase of RUNNING_PHASES) {
    // Registrars that may manage and write some case-level field, those that may write the BSN first.
    const registrars = pairs
      .filter((r) => mayManage(compiled, r, phase) && both(compiled, r, phase).length > 0)
      .sort(
        (a, b) =>
          Number(bsn !== undefined && allowedFields(compiled, b, 'write', phase, roles[0]).includes(bsn)) -
          Number(bsn !== undefined && allowedFields(compiled, a, 'write', phase, roles[0]).includes(bsn)),
      );
    for (const registrar of registrars) {
      const writers = pairs
        .filter((w) => w.partner !== registrar.partner && both(compiled, w, phase).length > 0)
        .sort(
          (a, b) =>
            Number(history(b)) - Number(history(a)) ||
            Number(mayManage(compiled, a, phase)) - Number(mayManage(compiled, b, phase)),
        );
      const writer = writers[0];
      if (!writer) continue;
      const taken = new Set([registrar.partner, writer.partner]);
      const pick = () => {
        const found = pairs.find((w) => !taken.has(w.partner));
        if (found) taken.add(found.partner);
        return found;
      };
      const reader = pick();
      const outsider = pick();
      const ended = pick();
      const future = pick();
      if (!reader || !outsider || !ended || !future) continue;

      const caseValues = Object.fromEntries(
        both(compiled, registrar, phase)
          .slice(0, 3)
          .map((id) => [id, sampleValue(compiled.field(id)!)]),
      );
      const personValues = roles.map((role) =>
        Object.fromEntries(
          both(compiled, registrar, phase, role)
            .filter((id) => id !== bsn)
            .slice(0, 2)
            .map((id) => [id, sampleValue(compiled.field(id)!)]),
        ),
      );
      const writesBsn =
        bsn !== undefined && allowedFields(compiled, registrar, 'write', phase, roles[0]).includes(bsn);
      return {
        phase,
        roles,
        registrar,
        writer,
        reader,
        outsider,
        ended,
        future,
        caseValues,
        personValues,
        ...(writesBsn ? { bsnField: bsn } : {}),
        writerField: compiled.field(both(compiled, writer, phase)[0]!)!,
      };
    }
  }
  throw new Error(`${convenant.id} offers no case scenario (a registrar that manages, and six partners)`);
}

/**
 * The word `who` is shown for a person of `role` (src/cases/person-roles.ts): a role whose
 * `disclosed_with` field `who` may not read becomes its `shown_as` word, and so does every role
 * sharing that word.
 */
export function shownRole(compiled: CompiledConvenant, who: Who, phase: Phase, role: PersonRole): string {
  const entries = compiled.convenant.personRoles;
  const withheld = new Set(
    entries
      .filter(
        (e) =>
          e.disclosedWith !== undefined &&
          !allowedFields(compiled, who, 'read', phase, e.role).includes(e.disclosedWith),
      )
      .map((e) => e.shownAs),
  );
  const entry = entries.find((e) => e.role === role);
  return entry && withheld.has(entry.shownAs) ? entry.shownAs : role;
}
