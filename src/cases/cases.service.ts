// Why this file is near 600 lines: each CasesService method is one route's whole decision, in the
// same shape (decide, log, then answer or refuse). Parts that stand alone already live elsewhere:
// field writes (field-writes.ts), field access (field-access.ts), person roles (person-roles.ts),
// case log entries (case-log-entries.ts). Split it by route group before it grows further.
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AccessLogEntry } from '../access-log/access-log.types.js';
import { decodeKeysetCursor, encodeKeysetCursor } from '../common/keyset-cursor.js';
import { InvalidRequestError, type InvalidParam } from '../common/problem.js';
import type { CatalogueField, Convenant } from '../policy/index.js';
import { BSN_CIPHER, BsnCipher } from './bsn.js';
import { CasePolicy, type Actor, type PolicyInForce } from './case-policy.js';
import {
  CasesRepository,
  type CaseSnapshot,
  type PersonRow,
  type StoredValue,
  type Tx,
} from './cases.repository.js';
import {
  CaseNotFoundError,
  EmergencyAccessExpiredError,
  FieldNotReadableError,
  FieldsNotWritableError,
  HistoryNotAllowedError,
  InvalidFieldValuesError,
  NotParticipatingError,
  PersonNotFoundError,
  UnknownFieldError,
} from './cases.errors.js';
import { DEFAULT_PAGE_SIZE } from './cases.dto.js';
import type { Decision, Situation } from './field-access.js';
import { caseReferencePrefix, newSubjectRef } from './identifiers.js';
import { orderShown, roleView } from './person-roles.js';
import type {
  CaseSummary,
  CaseView,
  FieldHistory,
  FieldValueInput,
  FieldView,
  ListCasesInput,
  RegisterCaseInput,
  RegisteredCase,
} from './cases.types.js';
import { type Checked, type Proposal, type Refused, checkProposals, newValueRows } from './field-writes.js';
import { subjectEntries, writeEntries } from './case-log-entries.js';
export type {
  CaseSummary,
  CaseView,
  FieldHistory,
  FieldValueInput,
  FieldView,
  ListCasesInput,
  RegisterCaseInput,
  RegisteredCase,
} from './cases.types.js';

/**
 * The catalogue field a person's `bsn` in a registration is written to: the first person-level
 * field the catalogue marks with sensitivity `bsn`, whatever its section and name.
 */
export function bsnFieldOf(convenant: Convenant): CatalogueField | undefined {
  return convenant.fields.find((f) => f.sensitivity === 'bsn' && f.level === 'person');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The keyset position of the last case on a page, opaque to clients. */
export function encodeCursor(last: { openedAt: string; id: string }): string {
  return encodeKeysetCursor(last.openedAt, last.id);
}

export function decodeCursor(cursor: string): { openedAt: string; id: string } {
  const { at, key } = decodeKeysetCursor(cursor, UUID);
  return { openedAt: at, id: key };
}

/** RFC 6901: a field id inside a JSON pointer. */
const pointerPart = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Registering cases, reading them, contributing field values and reading a field's history.
 * Every decision comes from the convenant (CasePolicy / FieldAccess); every access, allowed or
 * refused, is logged before anything is answered, and a failed log write answers 503 instead.
 */
@Injectable()
export class CasesService {
  constructor(
    private readonly policy: CasePolicy,
    private readonly cases: CasesRepository,
    @Inject(BSN_CIPHER) private readonly bsn: BsnCipher,
  ) {}

  async register(actor: Actor, input: RegisterCaseInput): Promise<RegisteredCase> {
    const policy = this.policy.inForce(actor);
    const flags = input.flags ?? [];
    const declared = new Set(policy.compiled.convenant.caseFlags.map((f) => f.id));
    const flagErrors = flags.flatMap((flag, i) =>
      declared.has(flag)
        ? []
        : [{ pointer: `/flags/${i}`, detail: `${flag} is not a case flag declared in the convenant.` }],
    );

    const bsnField = bsnFieldOf(policy.compiled.convenant);
    const bsnErrors = bsnField
      ? []
      : input.persons.flatMap((p, i) =>
          p.bsn === undefined
            ? []
            : [
                {
                  pointer: `/persons/${i}/bsn`,
                  detail:
                    'The data catalogue of the convenant in force has no person-level field of sensitivity bsn, so a bsn cannot be recorded.',
                },
              ],
        );

    const caseId = randomUUID();
    const persons: PersonRow[] = input.persons.map((p) => ({
      id: randomUUID(),
      subjectRef: newSubjectRef(),
      role: p.role,
    }));
    const proposals: Proposal[] = [
      ...Object.entries(input.fields ?? {}).map(([fieldId, value]) => ({
        pointer: `/fields/${pointerPart(fieldId)}`,
        fieldId,
        person: null,
        value,
        reason: null,
      })),
      ...input.persons.flatMap((p, i) => [
        ...(p.bsn !== undefined && bsnField
          ? [
              {
                pointer: `/persons/${i}/bsn`,
                fieldId: bsnField.id,
                person: persons[i]!,
                value: p.bsn,
                reason: null,
              },
            ]
          : []),
        ...Object.entries(p.fields ?? {}).map(([fieldId, value]) => ({
          pointer: `/persons/${i}/fields/${pointerPart(fieldId)}`,
          fieldId,
          person: persons[i]!,
          value,
          reason: null,
        })),
      ]),
    ];
    // The registering partner takes part from now, so it is decided as a participant.
    const situation = { phase: input.phase, participant: true, flags };
    const checked = checkProposals(actor, policy, situation, proposals);
    checked.malformed.unshift(...flagErrors, ...bsnErrors);
    // Nothing exists yet, so refusals are logged without case or person.
    await this.refuseIfAny(actor, policy, checked, () => ({ caseId: null, dataSubjectRef: null }));

    return this.cases.transaction(async (tx) => {
      const created = await this.cases.insertCase(tx, {
        id: caseId,
        referencePrefix: caseReferencePrefix(policy.compiled.convenant.id),
        phase: input.phase,
        flags,
        controllerPartner: actor.partner,
      });
      await this.cases.insertPersons(
        tx,
        persons.map((p) => ({ ...p, caseId })),
      );
      const participation = await this.cases.insertParticipation(tx, {
        id: randomUUID(),
        caseId,
        partner: actor.partner,
        purposes: [actor.purpose],
        addedByPartner: actor.partner,
        addedByProfessional: actor.professional,
      });
      await this.cases.insertValues(tx, newValueRows(this.bsn, actor, caseId, checked.accepted));
      const entries = writeEntries(
        this.policy,
        actor,
        policy,
        caseId,
        situation,
        checked.accepted,
        persons,
        'all-subjects',
      );
      await this.policy.record(entries, tx);
      return {
        ...created,
        policyVersion: policy.compiled.version,
        participation: {
          id: participation.id,
          partner: participation.partner,
          purposes: participation.purposes,
          validFrom: participation.validFrom.toISOString(),
          validUntil: participation.validUntil?.toISOString() ?? null,
          current: participation.current,
        },
        persons: persons.map((p) => ({ subjectRef: p.subjectRef, role: p.role })),
      };
    });
  }

  /** The caller's cases for its purpose, newest first; one `list` entry per case shown. */
  async list(
    actor: Actor,
    input: ListCasesInput,
  ): Promise<{ items: CaseSummary[]; nextCursor: string | null }> {
    const policy = this.policy.inForce(actor);
    const after = input.cursor !== undefined ? decodeCursor(input.cursor) : undefined;
    const limit = input.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.cases.listForPartner(actor.partner, actor.purpose, {
      ...(input.phase ? { phase: input.phase } : {}),
      limit: limit + 1,
      ...(after ? { after } : {}),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    const reason = `Takes part in the case for ${actor.purpose}.`;
    const entry = (caseId: string | null) =>
      this.policy.entry(actor, policy, {
        action: 'list',
        caseId,
        dataSubjectRef: null,
        fields: [],
        status: 'allowed',
        ruleId: null,
        reason: caseId ? reason : 'Listed the cases it takes part in: none.',
        legalBasis: policy.access.purposeLegalBasis(actor.purpose),
      });
    await this.policy.record(items.length > 0 ? items.map((c) => entry(c.id)) : [entry(null)]);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /**
   * One round trip reads the case, the caller's participation, the persons and the current
   * values of every field a rule could grant; the convenant then decides per case and per
   * person; the log entries are written; only then does the answer leave.
   */
  async read(actor: Actor, caseId: string): Promise<CaseView> {
    const policy = this.policy.inForce(actor);
    const { access } = policy;
    const candidates = access.readCandidates(actor.partner, actor.purpose);
    const found = await this.cases.readForPartner(
      caseId,
      actor.partner,
      actor.purpose,
      candidates,
      actor.professional,
    );
    // A live emergency grant (doorbraak) stands in for a participation: the convenant's
    // `emergency: true` rules decide, and every entry of this read is marked as emergency.
    const emergencyUntil = found?.emergencyUntil ?? null;
    if (found && !found.participant && emergencyUntil === null && found.lastEmergencyUntil !== null) {
      const refusal = new EmergencyAccessExpiredError(found.lastEmergencyUntil);
      await this.policy.record([this.policy.refused(actor, policy, 'read', caseId, refusal.message)]);
      throw refusal;
    }
    const snapshot =
      found && emergencyUntil !== null
        ? found
        : await this.requireParticipant(actor, policy, 'read', caseId, found);
    const values = found!.values;
    const emergency = emergencyUntil !== null;

    const base: Situation = {
      phase: snapshot.phase,
      participant: snapshot.participant,
      flags: snapshot.flags,
      emergency,
    };
    const readable = (person: PersonRow | null) =>
      access.permitted(actor.partner, actor.purpose, 'read', person ? { ...base, role: person.role } : base);
    const fieldsOf = (person: PersonRow | null): Record<string, FieldView> => {
      const allowed = readable(person);
      const out: Record<string, FieldView> = {};
      for (const v of values) {
        if ((v.personId ?? null) !== (person?.id ?? null) || !allowed.has(v.field)) continue;
        out[v.field] = this.view(v, person?.id ?? caseId);
      }
      return out;
    };

    const caseFields = fieldsOf(null);
    const shownRole = roleView(policy.compiled.convenant, access, actor.partner, actor.purpose, base);
    const persons = snapshot.persons.map((person) => ({
      person,
      fields: fieldsOf(person),
    }));

    const entries: AccessLogEntry[] = [
      ...subjectEntries(this.policy, actor, policy, 'read', caseId, base, null, Object.keys(caseFields)),
      ...persons.flatMap(({ person, fields }) =>
        subjectEntries(
          this.policy,
          actor,
          policy,
          'read',
          caseId,
          { ...base, role: person.role },
          person,
          Object.keys(fields),
        ),
      ),
    ];
    await this.policy.record(emergency ? entries.map((e) => ({ ...e, emergency: true })) : entries);

    return {
      id: snapshot.id,
      reference: snapshot.reference,
      phase: snapshot.phase,
      policyVersion: policy.compiled.version,
      participation: {
        participant: snapshot.participant,
        purpose: actor.purpose,
        validUntil: found!.participationUntil,
      },
      ...(emergencyUntil !== null ? { emergencyAccess: { until: emergencyUntil } } : {}),
      fields: caseFields,
      persons: orderShown(
        persons.map(({ person, fields }) => ({
          subjectRef: person.subjectRef,
          shown: shownRole(person.role),
          fields,
        })),
      ).map(({ subjectRef, shown, fields }) => ({
        subjectRef,
        role: shown.role,
        ...(shown.generalised ? { roleGeneralised: true } : {}),
        fields,
      })),
    };
  }

  /**
   * Contributes values, all or nothing: every value is checked against the catalogue and the
   * convenant first; one refused field refuses the request (403, each refused field named, the
   * refusal logged); one malformed value refuses it too (422). Values are appended, never updated.
   */
  async writeFields(
    actor: Actor,
    caseId: string,
    input: FieldValueInput[],
  ): Promise<{ policyVersion: string; recorded: { field: string; subjectRef?: string }[] }> {
    const policy = this.policy.inForce(actor);
    type Recorded = { field: string; subjectRef?: string }[];
    const outcome = await this.cases.transaction(
      async (tx): Promise<{ refusal: Error } | { recorded: Recorded }> => {
        const found = await this.cases.snapshot(caseId, actor.partner, actor.purpose, { tx, mode: 'share' });
        const refusal = await this.refusalOf(actor, policy, 'write', caseId, found, tx);
        if (refusal) return { refusal };
        const snapshot = found!;
        const malformed: InvalidParam[] = [];
        const proposals: Proposal[] = [];
        input.forEach((v, i) => {
          const person =
            v.subjectRef !== undefined ? snapshot.persons.find((p) => p.subjectRef === v.subjectRef) : null;
          if (person === undefined) {
            malformed.push({
              pointer: `/values/${i}/subjectRef`,
              detail: 'There is no person with this subjectRef in this case.',
            });
            return;
          }
          proposals.push({
            pointer: `/values/${i}`,
            fieldId: v.field,
            person,
            value: v.value,
            reason: v.reason ?? null,
          });
        });
        const situation = { phase: snapshot.phase, participant: true, flags: snapshot.flags };
        const checked = checkProposals(actor, policy, situation, proposals);
        checked.malformed.unshift(...malformed);
        await this.requireCorrectionReasons(tx, caseId, checked);
        const refused = await this.refuseIfAny(
          actor,
          policy,
          checked,
          (person) => ({ caseId, dataSubjectRef: person?.subjectRef ?? null }),
          tx,
        );
        if (refused) return { refusal: refused };
        await this.cases.insertValues(tx, newValueRows(this.bsn, actor, caseId, checked.accepted));
        await this.policy.record(
          writeEntries(
            this.policy,
            actor,
            policy,
            caseId,
            situation,
            checked.accepted,
            snapshot.persons,
            'written-subjects',
          ),
          tx,
        );
        return {
          recorded: checked.accepted.map((a) => ({
            field: a.field.id,
            ...(a.person ? { subjectRef: a.person.subjectRef } : {}),
          })),
        };
      },
    );
    // Thrown after COMMIT, so the refusal's log entries are kept while nothing else was written.
    if ('refusal' in outcome) throw outcome.refusal;
    return { policyVersion: policy.compiled.version, recorded: outcome.recorded };
  }

  /**
   * Every version of one field, only under a purpose whose `field_history` the convenant sets,
   * and only if the caller may read that field of that person now.
   */
  async history(actor: Actor, caseId: string, fieldId: string, subjectRef?: string): Promise<FieldHistory> {
    const policy = this.policy.inForce(actor);
    const field = policy.compiled.field(fieldId);
    if (!field) throw new UnknownFieldError(fieldId);
    if (field.level === 'person' && subjectRef === undefined) {
      throw new InvalidRequestError([
        {
          pointer: 'subjectRef',
          detail: `${fieldId} is a person-level field: give the person's subjectRef.`,
        },
      ]);
    }
    if (field.level === 'case' && subjectRef !== undefined) {
      throw new InvalidRequestError([
        { pointer: 'subjectRef', detail: `${fieldId} is a case-level field: leave out subjectRef.` },
      ]);
    }
    const found = await this.cases.snapshot(caseId, actor.partner, actor.purpose);
    const snapshot = await this.requireParticipant(actor, policy, 'history', caseId, found);
    if (!policy.compiled.purpose(actor.purpose).fieldHistory) {
      const refusal = new HistoryNotAllowedError(actor.purpose);
      await this.policy.record([this.policy.refused(actor, policy, 'history', caseId, refusal.message)]);
      throw refusal;
    }
    const person =
      subjectRef !== undefined ? snapshot.persons.find((p) => p.subjectRef === subjectRef) : null;
    if (person === undefined) {
      await this.policy.record([
        this.policy.refused(
          actor,
          policy,
          'history',
          caseId,
          'There is no person with this subjectRef in this case.',
        ),
      ]);
      throw new PersonNotFoundError();
    }
    const situation: Situation = {
      phase: snapshot.phase,
      participant: true,
      flags: snapshot.flags,
      ...(person ? { role: person.role } : {}),
    };
    const decision = policy.access.decide(actor.partner, actor.purpose, 'read', situation, fieldId);
    const where = { caseId, dataSubjectRef: person?.subjectRef ?? null };
    if (!decision.allowed) {
      await this.policy.record([this.policy.decided(actor, policy, 'history', where, decision, [fieldId])]);
      throw new FieldNotReadableError(fieldId);
    }
    const rows = await this.cases.history(caseId, person?.id ?? null, fieldId);
    const versions = rows.map((r) => ({
      value: r.encrypted ? this.bsn.decrypt(r.encrypted, person?.id ?? caseId) : r.value,
      source: r.source,
      purpose: r.purpose,
      recordedAt: r.recordedAt.toISOString(),
      reason: r.reason,
    }));
    await this.policy.record([this.policy.decided(actor, policy, 'history', where, decision, [fieldId])]);
    return {
      field: fieldId,
      ...(person ? { subjectRef: person.subjectRef } : {}),
      policyVersion: policy.compiled.version,
      versions,
    };
  }

  /**
   * Refuses (and logs the refusal of) a request about a case that does not exist or in which the
   * caller takes no part for its purpose now. Outside a transaction the entry commits on its own.
   */
  private async requireParticipant(
    actor: Actor,
    policy: PolicyInForce,
    action: 'read' | 'history',
    caseId: string,
    found: CaseSnapshot | undefined,
  ): Promise<CaseSnapshot> {
    const refusal = await this.refusalOf(actor, policy, action, caseId, found);
    if (refusal) throw refusal;
    return found!;
  }

  /** The refusal for a missing case or a non-participant, its log entry written (in `tx` if given). */
  private async refusalOf(
    actor: Actor,
    policy: PolicyInForce,
    action: 'read' | 'write' | 'history',
    caseId: string,
    found: CaseSnapshot | undefined,
    tx?: Tx,
  ): Promise<Error | undefined> {
    const error = !found
      ? new CaseNotFoundError()
      : !found.participant
        ? new NotParticipatingError(actor.partner, actor.purpose)
        : undefined;
    if (error)
      await this.policy.record([this.policy.refused(actor, policy, action, caseId, error.message)], tx);
    return error;
  }

  /**
   * Values are never overwritten: a value for a field that already has one is a correction, a new
   * version, and must say why. A correction without a reason becomes a malformed value (422).
   */
  private async requireCorrectionReasons(tx: Tx, caseId: string, checked: Checked): Promise<void> {
    const unexplained = checked.accepted.filter((a) => a.reason === null || a.reason.trim() === '');
    if (unexplained.length === 0) return;
    const recorded = await this.cases.recordedFields(
      tx,
      caseId,
      unexplained.map((a) => a.field.id),
    );
    const corrections = unexplained.filter((a) => recorded.has(`${a.person?.id ?? ''}|${a.field.id}`));
    if (corrections.length === 0) return;
    checked.accepted = checked.accepted.filter((a) => !corrections.includes(a));
    checked.malformed.push(
      ...corrections.map((a) => ({
        pointer: `${a.pointer}/reason`,
        detail: `${a.field.id} already has a value: a correction is a new version and needs a reason saying why.`,
      })),
    );
  }

  /**
   * All or nothing: any refused field → log the refusals and answer 403 naming every refused
   * (and malformed) value; otherwise any malformed value → 422. Returns the error inside a
   * transaction (the caller commits the log entries, then throws); throws it outside one.
   */
  private async refuseIfAny(
    actor: Actor,
    policy: PolicyInForce,
    checked: Checked,
    where: (person: PersonRow | null) => { caseId: string | null; dataSubjectRef: string | null },
    tx?: Tx,
  ): Promise<Error | undefined> {
    let error: Error | undefined;
    if (checked.refused.length > 0) {
      const bySubject = new Map<PersonRow | null, Refused[]>();
      for (const r of checked.refused) bySubject.set(r.person, [...(bySubject.get(r.person) ?? []), r]);
      const entries: AccessLogEntry[] = [];
      for (const [person, refused] of bySubject) {
        const groups = new Map<string, { decision: Decision; fields: string[] }>();
        for (const r of refused) {
          const key = r.decision.ruleId ?? '';
          const group = groups.get(key) ?? { decision: r.decision, fields: [] };
          group.fields.push(r.fieldId);
          groups.set(key, group);
        }
        for (const { decision, fields } of groups.values()) {
          entries.push(this.policy.decided(actor, policy, 'write', where(person), decision, fields));
        }
      }
      await this.policy.record(entries, tx);
      error = new FieldsNotWritableError([
        ...checked.refused.map((r) => ({
          pointer: r.pointer,
          // The role as this writer may see it: a withheld role is named by its general word.
          detail: `You may not write ${r.fieldId}${r.shownRole ? ` of a ${r.shownRole}` : ''} here: ${r.decision.reason}`,
        })),
        ...checked.malformed,
      ]);
    } else if (checked.malformed.length > 0) {
      error = new InvalidFieldValuesError(checked.malformed);
    }
    if (error && !tx) throw error;
    return error;
  }

  private view(v: StoredValue, context: string): FieldView {
    return {
      value: v.encrypted ? this.bsn.decrypt(v.encrypted, context) : v.value,
      source: v.source,
      recordedAt: v.recordedAt,
    };
  }
}
