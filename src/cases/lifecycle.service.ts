import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { aftercareWindows, CLOSED_PHASE, emergencyOpensClosedCase, type Phase } from '../policy/index.js';
import { CasePolicy, type Actor, type PolicyInForce } from './case-policy.js';
import { CasesRepository, type Tx } from './cases.repository.js';
import {
  CaseNotFoundError,
  EmergencyAccessNotAllowedError,
  EmergencyClosedCaseError,
  ManageNotAllowedError,
  NotControllerError,
  NotParticipatingError,
  PhaseUnchangedError,
} from './cases.errors.js';
import { LifecycleRepository, type EmergencyGrantRow } from './lifecycle.repository.js';
import { phaseChangeKind, type PhaseChangeKind } from './phase.js';

export interface PhaseChangeView {
  caseId: string;
  from: Phase;
  phase: Phase;
  kind: PhaseChangeKind;
  changedAt: string;
  /** Closing: how many participations it ended. */
  endedParticipations: number;
  /** Reopening: the participation the reopening partner takes part under from now. */
  participationId: string | null;
  policyVersion: string;
}

export interface PhaseHistoryView {
  caseId: string;
  phase: Phase;
  changes: { from: Phase; to: Phase; reason: string; partner: string; purpose: string; changedAt: string }[];
}

export interface EmergencyGrantView {
  id: string;
  caseId: string;
  partner: string;
  purpose: string;
  reason: string;
  grantedAt: string;
  expiresAt: string;
  live: boolean;
}

type Outcome<T> = { result: T } | { refusal: Error };

function grantView(row: EmergencyGrantRow): EmergencyGrantView {
  return {
    id: row.id,
    caseId: row.caseId,
    partner: row.partner,
    purpose: row.purpose,
    reason: row.reason,
    grantedAt: row.grantedAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    live: row.live,
  };
}

/**
 * The case lifecycle: phase changes (closing and reopening included) and emergency access
 * (doorbraak). Phase changes are `manage` decisions of the convenant in the case's current
 * situation; each is stored with its reason and logged. Closing ends every participation in the
 * same transaction and starts the retention clock (closed_at); a partner that took part for a
 * purpose with `after_closing` (aftercare) continues for that purpose alone, for its window. Reopening is decided as if the
 * caller still took part when its participation ended with the closing; it clears the clock and
 * gives the caller a new participation from now: the others are invited again explicitly.
 */
@Injectable()
export class LifecycleService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly policy: CasePolicy,
    private readonly cases: CasesRepository,
    private readonly lifecycle: LifecycleRepository,
  ) {}

  async changePhase(
    actor: Actor,
    caseId: string,
    input: { phase: Phase; reason: string },
  ): Promise<PhaseChangeView> {
    const policy = this.policy.inForce(actor);
    const outcome = await this.cases.transaction(async (tx): Promise<Outcome<PhaseChangeView>> => {
      const locked = await this.lifecycle.lock(tx, caseId, actor.partner, actor.purpose);
      if (!locked) return this.refuse(actor, policy, caseId, new CaseNotFoundError(), tx);
      // The right to manage is decided before anything that depends on the requested phase: a
      // partner without it gets the same refusal whatever phase the case is in (no phase oracle).
      // A closed case is managed (reopened) by those who took part until it was closed.
      const participant = locked.phase === CLOSED_PHASE ? locked.participantAtClosing : locked.participant;
      const decision = policy.access.manage(actor.partner, actor.purpose, {
        phase: locked.phase,
        participant,
        flags: locked.flags,
      });
      if (!decision.allowed) {
        await this.policy.record(
          [this.policy.decided(actor, policy, 'manage', { caseId, dataSubjectRef: null }, decision, [])],
          tx,
        );
        const refusal = participant
          ? new ManageNotAllowedError(`You may not change the phase of this case: ${decision.reason}`)
          : new NotParticipatingError(actor.partner, actor.purpose);
        return { refusal };
      }
      const kind = phaseChangeKind(locked.phase, input.phase);
      if (!kind) return this.refuse(actor, policy, caseId, new PhaseUnchangedError(locked.phase), tx);

      await this.lifecycle.setPhase(
        tx,
        caseId,
        input.phase,
        kind === 'close' ? 'close' : kind === 'reopen' ? 'reopen' : 'keep',
      );
      const closing =
        kind === 'close'
          ? await this.lifecycle.endAllParticipations(
              tx,
              caseId,
              actor,
              aftercareWindows(policy.compiled.convenant),
            )
          : { ended: 0, continued: 0 };
      const ended = closing.ended;
      const participation =
        kind === 'reopen'
          ? await this.cases.insertParticipation(tx, {
              id: randomUUID(),
              caseId,
              partner: actor.partner,
              purposes: [actor.purpose],
              addedByPartner: actor.partner,
              addedByProfessional: actor.professional,
            })
          : undefined;
      const change = await this.lifecycle.insertPhaseChange(tx, {
        caseId,
        fromPhase: locked.phase,
        toPhase: input.phase,
        reason: input.reason,
        partner: actor.partner,
        professional: actor.professional,
        purpose: actor.purpose,
      });
      const what =
        kind === 'close'
          ? ` Closed the case: ended ${ended} participation(s); ${closing.continued} continue(s) for aftercare (after_closing) for a bounded window; the retention period runs from now.`
          : kind === 'reopen'
            ? ` Reopened the case: ${actor.partner} takes part again for ${actor.purpose} (participation ${participation!.id}).`
            : '';
      // The reason itself stays in case_phase_change: it is free text about the family.
      await this.policy.recordManage(
        actor,
        policy,
        caseId,
        decision,
        `Changed the phase from ${locked.phase} to ${input.phase} (phase change ${change.id}).${what}`,
        tx,
      );
      return {
        result: {
          caseId,
          from: locked.phase,
          phase: input.phase,
          kind,
          changedAt: change.changedAt.toISOString(),
          endedParticipations: ended,
          participationId: participation?.id ?? null,
          policyVersion: policy.compiled.version,
        },
      };
    });
    if ('refusal' in outcome) throw outcome.refusal;
    return outcome.result;
  }

  /** The phase changes of a case with their reasons, for a partner that takes part in it now. */
  async phaseHistory(actor: Actor, caseId: string): Promise<PhaseHistoryView> {
    const policy = this.policy.inForce(actor);
    const snapshot = await this.cases.snapshot(caseId, actor.partner, actor.purpose);
    const refusal = !snapshot
      ? new CaseNotFoundError()
      : !snapshot.participant
        ? new NotParticipatingError(actor.partner, actor.purpose)
        : undefined;
    if (refusal) {
      await this.policy.record([this.policy.refused(actor, policy, 'history', caseId, refusal.message)]);
      throw refusal;
    }
    const rows = await this.lifecycle.phaseChanges(caseId);
    await this.policy.record([
      this.policy.entry(actor, policy, {
        action: 'history',
        caseId,
        dataSubjectRef: null,
        fields: [],
        status: 'allowed',
        ruleId: null,
        reason: `Read the phase history of the case (${rows.length} change(s)); takes part for ${actor.purpose}.`,
        legalBasis: policy.access.purposeLegalBasis(actor.purpose),
      }),
    ]);
    return {
      caseId,
      phase: snapshot!.phase,
      changes: rows.map((r) => ({
        from: r.fromPhase,
        to: r.toPhase,
        reason: r.reason,
        partner: r.partner,
        purpose: r.purpose,
        changedAt: r.changedAt.toISOString(),
      })),
    };
  }

  /**
   * Emergency access (doorbraak): only under a purpose the convenant opens for it, for the
   * purpose's window (else EMERGENCY_WINDOW_MINUTES), bound to this professional, this partner
   * and this purpose. The claim is an emergency entry in the access log, so it enters the
   * privacy officer's review queue; refusals are logged as denials.
   */
  async claimEmergency(actor: Actor, caseId: string, reason: string): Promise<EmergencyGrantView> {
    const policy = this.policy.inForce(actor);
    const purpose = policy.compiled.purpose(actor.purpose);
    const claim = (status: 'allowed' | 'denied', why: string) =>
      ({
        ...this.policy.entry(actor, policy, {
          action: 'emergency-access',
          caseId,
          dataSubjectRef: null,
          fields: [],
          status,
          ruleId: null,
          reason: why,
          legalBasis: policy.access.purposeLegalBasis(actor.purpose),
        }),
        emergency: true,
      }) as const;
    if (!purpose.emergencyAccess.allowed) {
      const refusal = new EmergencyAccessNotAllowedError(actor.purpose);
      await this.policy.record([claim('denied', refusal.message)]);
      throw refusal;
    }
    const window = purpose.emergencyAccess.window ?? `PT${this.config.emergencyWindowMinutes}M`;
    const outcome = await this.cases.transaction(async (tx): Promise<Outcome<EmergencyGrantView>> => {
      const state = await this.lifecycle.stateOf(caseId, tx);
      const partner = policy.compiled.convenant.partners.find((p) => p.id === actor.partner);
      // A doorbraak into a closed case needs a rule that says so (phase afgesloten), not silence.
      const refusal = !state
        ? new CaseNotFoundError()
        : state.phase === CLOSED_PHASE &&
            !(partner && emergencyOpensClosedCase(policy.compiled.convenant, partner, actor.purpose))
          ? new EmergencyClosedCaseError(actor.purpose)
          : undefined;
      if (refusal) {
        await this.policy.record([claim('denied', refusal.message)], tx);
        return { refusal };
      }
      const grant = await this.lifecycle.insertGrant(tx, {
        id: randomUUID(),
        caseId,
        partner: actor.partner,
        purpose: actor.purpose,
        professional: actor.professional,
        reason,
        traceId: actor.traceId,
        window,
      });
      // The written reason goes into the entry: it is what the privacy officer reviews.
      await this.policy.record(
        [
          claim(
            'allowed',
            `Emergency access (doorbraak) granted until ${grant.expiresAt.toISOString()} (grant ${grant.id}, window ${window}). Reason given: ${reason}`,
          ),
        ],
        tx,
      );
      return { result: grantView(grant) };
    });
    if ('refusal' in outcome) throw outcome.refusal;
    return outcome.result;
  }

  /**
   * The emergency accesses to a case, for its controller of record only: which partner, under
   * which purpose, why and for how long; never which professional.
   */
  async emergencyAccesses(actor: Actor, caseId: string): Promise<{ items: EmergencyGrantView[] }> {
    const policy = this.policy.inForce(actor);
    const controller = await this.lifecycle.controllerOf(caseId);
    const refusal =
      controller === undefined
        ? new CaseNotFoundError()
        : controller !== actor.partner
          ? new NotControllerError()
          : undefined;
    if (refusal) {
      await this.policy.record([this.policy.refused(actor, policy, 'read', caseId, refusal.message)]);
      throw refusal;
    }
    const rows = await this.lifecycle.grantsOn(caseId);
    await this.policy.record([
      this.policy.entry(actor, policy, {
        action: 'read',
        caseId,
        dataSubjectRef: null,
        fields: [],
        status: 'allowed',
        ruleId: null,
        reason: `Read the ${rows.length} emergency access(es) to its case as controller of record.`,
        legalBasis: policy.access.purposeLegalBasis(actor.purpose),
      }),
    ]);
    return { items: rows.map(grantView) };
  }

  private async refuse(
    actor: Actor,
    policy: PolicyInForce,
    caseId: string,
    refusal: Error,
    tx: Tx,
  ): Promise<{ refusal: Error }> {
    await this.policy.record([this.policy.refused(actor, policy, 'manage', caseId, refusal.message)], tx);
    return { refusal };
  }
}
