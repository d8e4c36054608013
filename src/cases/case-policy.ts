import { Injectable, Logger } from '@nestjs/common';
import { LogUnavailableError } from '../access-log/access-log.errors.js';
import { AccessLogRepository } from '../access-log/access-log.repository.js';
import type { AccessAction, AccessLogEntry } from '../access-log/access-log.types.js';
import type { Actor } from '../kernel/actor.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import { PolicyError, type CompiledConvenant } from '../policy/index.js';
import type { Tx } from '../kernel/transaction.js';
import { PurposeNotAllowedHereError } from './cases.errors.js';
import { FieldAccess, type Decision } from './field-access.js';

// Actor is a kernel type (src/kernel/actor.ts); re-exported so the case services' imports stay.
export type { Actor };

/** The convenant in force and its memoised decisions, taken once per request. */
export interface PolicyInForce {
  compiled: CompiledConvenant;
  access: FieldAccess;
}

export interface EntryInput {
  action: AccessAction;
  caseId: string | null;
  dataSubjectRef: string | null;
  fields: readonly string[];
  status: 'allowed' | 'denied';
  ruleId: string | null;
  reason: string | null;
  legalBasis: readonly string[];
}

/**
 * What the case services share: the convenant in force (with one FieldAccess per compiled
 * version, so memoised decisions never outlive their version) and writing access log entries,
 * where a failure becomes 503 `log-unavailable` so that no data leaves unlogged.
 */
@Injectable()
export class CasePolicy {
  private readonly logger = new Logger('CasePolicy');
  private readonly accessByVersion = new WeakMap<CompiledConvenant, FieldAccess>();

  constructor(
    private readonly registry: PolicyRegistry,
    private readonly accessLog: AccessLogRepository,
  ) {}

  /** The policy in force for `actor`; refuses a pair the convenant does not register (fail closed). */
  inForce(actor: Actor): PolicyInForce {
    const compiled = this.registry.current();
    let access = this.accessByVersion.get(compiled);
    if (!access) {
      access = new FieldAccess(compiled);
      this.accessByVersion.set(compiled, access);
    }
    try {
      compiled.abilityFor(actor.partner, actor.purpose);
    } catch (error) {
      if (error instanceof PolicyError) throw new PurposeNotAllowedHereError(error.message);
      throw error;
    }
    return { compiled, access };
  }

  entry(actor: Actor, policy: PolicyInForce, input: EntryInput): AccessLogEntry {
    return {
      requestId: actor.requestId,
      traceId: actor.traceId,
      tally: actor.tally,
      partner: actor.partner,
      professional: actor.professional,
      purpose: actor.purpose,
      legalBasis: input.legalBasis,
      action: input.action,
      caseId: input.caseId,
      dataSubjectRef: input.dataSubjectRef,
      fields: input.fields,
      status: input.status,
      ruleId: input.ruleId,
      reason: input.reason,
      policyVersion: policy.compiled.version,
      emergency: false,
    };
  }

  /** An entry for a decision about `fields` (allowed or denied as the decision says). */
  decided(
    actor: Actor,
    policy: PolicyInForce,
    action: AccessAction,
    where: { caseId: string | null; dataSubjectRef: string | null },
    decision: Decision,
    fields: readonly string[],
  ): AccessLogEntry {
    return this.entry(actor, policy, {
      action,
      ...where,
      fields,
      status: decision.allowed ? 'allowed' : 'denied',
      ruleId: decision.ruleId,
      reason: decision.reason,
      legalBasis: decision.legalBasis,
    });
  }

  /** A refusal that no field rule decided (no such case, not participating), under the purpose's bases. */
  refused(
    actor: Actor,
    policy: PolicyInForce,
    action: AccessAction,
    caseId: string | null,
    reason: string,
  ): AccessLogEntry {
    return this.entry(actor, policy, {
      action,
      caseId,
      dataSubjectRef: null,
      fields: [],
      status: 'denied',
      ruleId: null,
      reason,
      legalBasis: policy.access.purposeLegalBasis(actor.purpose),
    });
  }

  /**
   * An allowed case-level `manage` decision (participations, phase changes), logged in `tx` with
   * what it did and the deciding rule's reason. `what` names the change, never free text about the
   * family: that stays in its own table.
   */
  async recordManage(
    actor: Actor,
    policy: PolicyInForce,
    caseId: string,
    decision: Decision,
    what: string,
    tx: Tx,
  ): Promise<void> {
    await this.record(
      [
        this.entry(actor, policy, {
          action: 'manage',
          caseId,
          dataSubjectRef: null,
          fields: [],
          status: 'allowed',
          ruleId: decision.ruleId,
          reason: `${what} ${decision.reason}`,
          legalBasis: decision.legalBasis,
        }),
      ],
      tx,
    );
  }

  /**
   * Writes the entries (inside `tx` when given, so they commit with the data). Any failure is
   * reported as 503 and the caller must not answer with data: fail closed.
   */
  async record(entries: readonly AccessLogEntry[], tx?: Tx): Promise<void> {
    try {
      await this.accessLog.append(entries, tx);
    } catch (error) {
      this.logger.error({ err: error, traceId: entries[0]?.traceId }, 'Access log write failed');
      throw new LogUnavailableError();
    }
  }
}
