import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InvalidRequestError, type InvalidParam } from '../common/problem.js';
import { CasePolicy, type Actor, type PolicyInForce } from './case-policy.js';
import { CasesRepository, type CaseSnapshot, type ParticipationRow, type Tx } from './cases.repository.js';
import {
  CaseNotFoundError,
  ManageNotAllowedError,
  NotParticipatingError,
  ParticipationEndedError,
  ParticipationNotFoundError,
  PartnerNotRegisteredError,
} from './cases.errors.js';
import type { Decision } from './field-access.js';

export interface AddParticipationInput {
  partner: string;
  purposes: string[];
  validFrom?: string;
  validUntil?: string;
}

export interface ParticipationView {
  id: string;
  partner: string;
  purposes: string[];
  validFrom: string;
  validUntil: string | null;
  current: boolean;
}

function viewOf(row: ParticipationRow): ParticipationView {
  return {
    id: row.id,
    partner: row.partner,
    purposes: row.purposes,
    validFrom: row.validFrom.toISOString(),
    validUntil: row.validUntil?.toISOString() ?? null,
    current: row.current,
  };
}

type Outcome<T> = { result: T } | { refusal: Error };

/**
 * Adding partners to a case and ending their participation: who may see the case, and when.
 * Only a partner the convenant lets `manage` the case may do either (decideManage); both are
 * logged as `manage`, refusals included. The case row is locked FOR UPDATE, so a contribution
 * that is being checked finishes under the old participations or waits for the new ones.
 */
@Injectable()
export class ParticipationsService {
  constructor(
    private readonly policy: CasePolicy,
    private readonly cases: CasesRepository,
  ) {}

  async add(actor: Actor, caseId: string, input: AddParticipationInput): Promise<ParticipationView> {
    const policy = this.policy.inForce(actor);
    this.checkRegistered(policy, input);
    const validFrom = input.validFrom !== undefined ? new Date(input.validFrom) : undefined;
    const validUntil = input.validUntil !== undefined ? new Date(input.validUntil) : undefined;
    const periodErrors: InvalidParam[] = [];
    if (validUntil && validUntil.getTime() <= (validFrom ?? new Date()).getTime()) {
      periodErrors.push({
        pointer: '/validUntil',
        detail:
          'validUntil must be after validFrom (or after now): the participation would never grant access.',
      });
    }
    if (periodErrors.length > 0) throw new InvalidRequestError(periodErrors);

    const outcome = await this.cases.transaction(async (tx): Promise<Outcome<ParticipationView>> => {
      const managed = await this.authorise(actor, policy, caseId, tx);
      if ('refusal' in managed) return managed;
      const row = await this.cases.insertParticipation(tx, {
        id: randomUUID(),
        caseId,
        partner: input.partner,
        purposes: input.purposes,
        ...(validFrom ? { validFrom } : {}),
        ...(validUntil ? { validUntil } : {}),
        addedByPartner: actor.partner,
        addedByProfessional: actor.professional,
      });
      const until = row.validUntil ? `until ${row.validUntil.toISOString()}` : 'open-ended';
      await this.policy.recordManage(
        actor,
        policy,
        caseId,
        managed.result,
        `Added participation ${row.id}: ${row.partner} for ${row.purposes.join(', ')} ` +
          `from ${row.validFrom.toISOString()}, ${until}.`,
        tx,
      );
      return { result: viewOf(row) };
    });
    if ('refusal' in outcome) throw outcome.refusal;
    return outcome.result;
  }

  /** Ends it now: valid_until = now, so its access ends with this commit. */
  async end(actor: Actor, caseId: string, participationId: string): Promise<ParticipationView> {
    const policy = this.policy.inForce(actor);
    const outcome = await this.cases.transaction(async (tx): Promise<Outcome<ParticipationView>> => {
      const managed = await this.authorise(actor, policy, caseId, tx);
      if ('refusal' in managed) return managed;
      const existing = await this.cases.participation(tx, caseId, participationId);
      if (!existing || existing.ended) {
        const refusal = existing ? new ParticipationEndedError() : new ParticipationNotFoundError();
        await this.policy.record([this.policy.refused(actor, policy, 'manage', caseId, refusal.message)], tx);
        return { refusal };
      }
      const row = await this.cases.endParticipation(tx, participationId, actor);
      await this.policy.recordManage(
        actor,
        policy,
        caseId,
        managed.result,
        `Ended participation ${row.id}: ${row.partner} for ${row.purposes.join(', ')}.`,
        tx,
      );
      return { result: viewOf(row) };
    });
    if ('refusal' in outcome) throw outcome.refusal;
    return outcome.result;
  }

  /** The added partner must exist and be registered for every purpose (a rule never applies otherwise). */
  private checkRegistered(policy: PolicyInForce, input: AddParticipationInput): void {
    const partner = policy.compiled.convenant.partners.find((p) => p.id === input.partner);
    if (!partner) {
      throw new PartnerNotRegisteredError([
        { pointer: '/partner', detail: `${input.partner} is not a partner in the convenant.` },
      ]);
    }
    const errors = input.purposes.flatMap((purpose, i) =>
      partner.purposes.includes(purpose)
        ? []
        : [
            {
              pointer: `/purposes/${i}`,
              detail: `${partner.id} is not registered for purpose ${purpose}; its purposes are ${partner.purposes.join(', ')}.`,
            },
          ],
    );
    if (errors.length > 0) throw new PartnerNotRegisteredError(errors);
  }

  /** Locks the case and decides `manage`; a refusal is logged in `tx` and handed back. */
  private async authorise(
    actor: Actor,
    policy: PolicyInForce,
    caseId: string,
    tx: Tx,
  ): Promise<Outcome<Decision>> {
    const snapshot: CaseSnapshot | undefined = await this.cases.snapshot(
      caseId,
      actor.partner,
      actor.purpose,
      {
        tx,
        mode: 'update',
      },
    );
    if (!snapshot) {
      const refusal = new CaseNotFoundError();
      await this.policy.record([this.policy.refused(actor, policy, 'manage', caseId, refusal.message)], tx);
      return { refusal };
    }
    const decision = policy.access.manage(actor.partner, actor.purpose, {
      phase: snapshot.phase,
      participant: snapshot.participant,
      flags: snapshot.flags,
    });
    if (!decision.allowed) {
      const refusal = snapshot.participant
        ? new ManageNotAllowedError(`You may not manage this case: ${decision.reason}`)
        : new NotParticipatingError(actor.partner, actor.purpose);
      await this.policy.record(
        [this.policy.decided(actor, policy, 'manage', { caseId, dataSubjectRef: null }, decision, [])],
        tx,
      );
      return { refusal };
    }
    return { result: decision };
  }
}
