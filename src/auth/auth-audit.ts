import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { LogUnavailableError } from '../access-log/access-log.errors.js';
import { AccessLogRepository } from '../access-log/access-log.repository.js';
import type { AccessAction, AccessLogEntry } from '../access-log/access-log.types.js';
import { identityOf, type RequestIdentity } from '../access-log/request-log.js';
import { PolicyRegistry } from '../convenant/policy.registry.js';
import { bounded } from './auth.errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What a request shows of an attempt before its route has run: its identity, the action the
 * method suggests (token requests authenticate; otherwise GET reads and the rest writes), and the
 * case from the `:id` route parameter when it is a UUID.
 */
export function attemptFor(request: FastifyRequest): AuthAttempt {
  const id = (request.params as { id?: unknown } | null)?.id;
  const action: AccessAction =
    request.url.split('?')[0] === '/v1/oauth/token'
      ? 'authenticate'
      : request.method === 'GET' || request.method === 'HEAD'
        ? 'read'
        : 'write';
  return {
    ...identityOf(request),
    action,
    caseId: typeof id === 'string' && UUID.test(id) ? id.toLowerCase() : null,
  };
}

/** What is known about an authentication attempt when it is logged. */
export interface AuthAttempt extends RequestIdentity {
  action: AccessAction;
  /** Only a partner id known to the convenant; never an unchecked claim. */
  partner?: string | undefined;
  professional?: string | undefined;
  purpose?: string | undefined;
  caseId?: string | null;
}

/**
 * Writes the access log entry of every authentication decision: refusals by the token endpoint and
 * the guard, and every token issued. Fail closed: if the entry cannot be written, the caller gets
 * LogUnavailableError (503) instead of its answer, so nothing leaves unlogged.
 */
@Injectable()
export class AuthAudit {
  constructor(
    private readonly log: AccessLogRepository,
    private readonly registry: PolicyRegistry,
  ) {}

  async denied(attempt: AuthAttempt, reason: string): Promise<void> {
    await this.write(attempt, 'denied', reason);
  }

  async allowed(attempt: AuthAttempt, reason: string): Promise<void> {
    await this.write(attempt, 'allowed', reason);
  }

  private async write(attempt: AuthAttempt, status: AccessLogEntry['status'], reason: string): Promise<void> {
    const entry: AccessLogEntry = {
      requestId: attempt.requestId,
      traceId: attempt.traceId,
      tally: attempt.tally,
      partner: attempt.partner ? bounded(attempt.partner) : null,
      professional: attempt.professional ? bounded(attempt.professional) : null,
      purpose: attempt.purpose ? bounded(attempt.purpose) : null,
      legalBasis: [],
      action: attempt.action,
      caseId: attempt.caseId ?? null,
      dataSubjectRef: null,
      fields: [],
      status,
      ruleId: null,
      reason: bounded(reason, 500),
      policyVersion: this.registry.current().version,
      emergency: false,
    };
    try {
      await this.log.append([entry]);
    } catch {
      throw new LogUnavailableError();
    }
  }
}
