import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { LogUnavailableError } from '../access-log/access-log.errors.js';
import { AccessLogRepository } from '../access-log/access-log.repository.js';
import type { AccessAction, AccessLogEntry } from '../access-log/access-log.types.js';
import { attemptEntry, identityOf, type RequestIdentity } from '../access-log/request-log.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import { bounded } from './auth.errors.js';
import { AnonymousRefusalBudget, REFUSAL_WINDOW_MS } from './refusal-budget.js';

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
    address: request.ip,
    action,
    caseId: typeof id === 'string' && UUID.test(id) ? id.toLowerCase() : null,
  };
}

/** What is known about an authentication attempt when it is logged. */
export interface AuthAttempt extends Omit<RequestIdentity, 'requestId'> {
  /** Null only for an entry that belongs to no single request (a flood summary). */
  requestId: string | null;
  action: AccessAction;
  /** Only a partner id known to the convenant; never an unchecked claim. */
  partner?: string | undefined;
  professional?: string | undefined;
  purpose?: string | undefined;
  caseId?: string | null;
  /** The client address (behind TRUST_PROXY: as the proxy reports it); only budgets refusals, never logged. */
  address?: string | undefined;
}

/**
 * Writes the access log entry of every authentication decision: refusals by the token endpoint and
 * the guard, and every token issued. Fail closed: if the entry cannot be written, the caller gets
 * LogUnavailableError (503) instead of its answer, so nothing leaves unlogged.
 */
@Injectable()
export class AuthAudit implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuthAudit');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: AccessLogRepository,
    private readonly registry: PolicyRegistry,
    private readonly budget: AnonymousRefusalBudget,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A refusal naming a partner or a case is always logged in full. One that names neither is
   * logged while its address has budget left this minute, else counted into a summary entry
   * (AnonymousRefusalBudget): the request is refused either way, so no data leaves unlogged.
   */
  async denied(attempt: AuthAttempt, reason: string): Promise<void> {
    if (!attempt.partner && !attempt.caseId) {
      const endpoint = attempt.action === 'authenticate' ? 'token' : 'api';
      if (!this.budget.admit(attempt.address ?? 'unknown', endpoint, attempt.requestId ?? attempt.traceId))
        return;
    }
    await this.write(attempt, 'denied', reason);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.writeSummaries().catch((error: unknown) =>
        this.logger.warn({ err: error }, 'Writing refusal summaries failed; retried next minute'),
      );
    }, REFUSAL_WINDOW_MS / 4);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.writeSummaries(Date.now() + REFUSAL_WINDOW_MS).catch((error: unknown) =>
      this.logger.warn({ err: error }, 'Writing refusal summaries at shutdown failed'),
    );
  }

  /** One denied entry per address window that had refusals beyond the budget (`now` for tests). */
  async writeSummaries(now = Date.now()): Promise<number> {
    const summaries = this.budget.takeEnded(now);
    for (const summary of summaries) {
      // A summary belongs to no single request: no request id, a trace id of its own.
      await this.write(
        {
          requestId: null,
          traceId: randomBytes(16).toString('hex'),
          tally: { committed: 0 },
          action: 'authenticate',
        },
        'denied',
        `${summary.suppressed} further refusal(s) of ${summary.endpoint === 'token' ? 'token requests' : 'API requests'} ` +
          `that named no partner and no case, from one client address between ${summary.start.toISOString()} and ` +
          `${summary.end.toISOString()}: counted, not logged one by one (ANON_REFUSAL_LOG_BUDGET is ` +
          `${this.config.anonRefusalLogBudget} a minute).`,
      );
    }
    return summaries.length;
  }

  async allowed(attempt: AuthAttempt, reason: string): Promise<void> {
    await this.write(attempt, 'allowed', reason);
  }

  private async write(attempt: AuthAttempt, status: AccessLogEntry['status'], reason: string): Promise<void> {
    // Names from a token request are bounded tighter (64) than the log's own limit.
    const named = {
      ...attempt,
      partner: attempt.partner && bounded(attempt.partner),
      professional: attempt.professional && bounded(attempt.professional),
      purpose: attempt.purpose && bounded(attempt.purpose),
    };
    const entry = attemptEntry(attempt, named, status, reason, this.registry.current().version);
    try {
      await this.log.append([entry]);
    } catch {
      throw new LogUnavailableError();
    }
  }
}
