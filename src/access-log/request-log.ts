import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessLogRepository } from './access-log.repository.js';
import type { AccessAction, AccessLogEntry, RequestTally } from './access-log.types.js';

/**
 * What a request is known by in the access log: `requestId` is made by the gateway when the
 * request arrives (a random UUID), so nothing a caller sends can make two requests share one, or
 * make the gateway believe a request was logged already. `traceId` is the W3C trace id (the
 * caller's, from its `traceparent`, or a new one): recorded for correlation, never trusted.
 * `tally` counts the request's committed entries; every entry of the request carries it.
 */
export interface RequestIdentity {
  requestId: string;
  traceId: string;
  tally: RequestTally;
}

/** What the request showed of who acted, as far as it was checked (never an unchecked claim). */
export interface RequestAttempt {
  action: AccessAction;
  partner?: string | undefined;
  professional?: string | undefined;
  purpose?: string | undefined;
  caseId?: string | null;
}

/** A request's log state; lives on the raw request, so it ends with it. */
interface RequestLogState {
  identity: RequestIdentity;
  /** Set once the response's entries are settled; the second onSend of a request writes nothing. */
  settled: boolean;
  attempt?: RequestAttempt;
  /** Why the request was refused, in a sentence, when a guard or the error filter said so. */
  reason?: string;
}

const STATE = Symbol('convenant.requestLog');
type WithState = IncomingMessage & { [STATE]?: RequestLogState; id?: string };

/**
 * Gives the raw request its identity; called from Fastify's genReqId, first thing for every
 * request, so each one has an identity before any hook (rate limit included) can answer it.
 */
export function assignIdentity(raw: IncomingMessage, traceId: string): void {
  (raw as WithState)[STATE] = newState(traceId);
}

const newState = (traceId: string): RequestLogState => ({
  identity: { requestId: randomUUID(), traceId, tally: { committed: 0 } },
  settled: false,
});

function stateOf(request: FastifyRequest | IncomingMessage): RequestLogState {
  const raw = ('raw' in request ? request.raw : request) as WithState;
  let state = raw[STATE];
  if (!state) {
    // Only a request that bypassed genReqId (a test's bare Fastify instance) gets here.
    state = newState(raw.id ?? randomUUID().replaceAll('-', ''));
    raw[STATE] = state;
  }
  return state;
}

/** The request's identity, for the entries its services write (spread into each entry). */
export function identityOf(request: FastifyRequest): RequestIdentity {
  return stateOf(request).identity;
}

/**
 * Tells the log who the request was from and what it attempted, as far as a guard checked it,
 * and (for a refusal) why: the entry written for a refused request then names them. A guard
 * calls this and throws; it writes nothing itself.
 */
export function describeAttempt(request: FastifyRequest, attempt: RequestAttempt, reason?: string): void {
  const state = stateOf(request);
  state.attempt = { ...state.attempt, ...attempt };
  if (reason !== undefined) state.reason = reason;
}

/** The error filter's sentence for a refusal; a guard's own reason, if it gave one, stays. */
export function noteRefusal(request: FastifyRequest, reason: string): void {
  const state = stateOf(request);
  state.reason ??= reason;
}

/** Only paths under /v1 are accesses to the API; health, metrics and the officers' page are not. */
export const isApiPath = (path: string): boolean => path === '/v1' || path.startsWith('/v1/');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The action a request's method and path suggest, before (or without) a service saying more. */
function actionOf(request: FastifyRequest, path: string): AccessAction {
  if (path === '/v1/oauth/token') return 'authenticate';
  if (path.startsWith('/v1/audit/')) return 'audit';
  return request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write';
}

const MAX_TEXT = 200;
const bounded = (value: string, max = MAX_TEXT): string =>
  value.length <= max ? value : `${value.slice(0, max - 1)}…`;

/** The problem answered when the request's entry cannot be written: no data leaves without it. */
const LOG_UNAVAILABLE = JSON.stringify({
  type: 'https://convenant.dev/problems/log-unavailable',
  title: 'Access log unavailable',
  status: 503,
  detail: 'The access log could not be written, so the request was not carried out. Try again later.',
});

/**
 * The one place that decides whether a response under /v1 has its access log entries, and writes
 * them if not, before a byte of the response leaves (Fastify's onSend runs before the headers are
 * written). Services and guards write or describe what they decided; every entry they commit is
 * counted in the tally of the request's gateway-made identity (AccessLogRepository). A
 * response whose request committed none gets one entry here: allowed for a status below 400,
 * denied otherwise, naming the principal or the checked attempt and the reason. If that write
 * fails, the response becomes 503 with no data. No database lookup decides "already logged":
 * the count lives with the request, so a caller cannot influence it.
 */
export class RequestLog {
  /**
   * `admitAnonymous` (flood control, src/auth/refusal-budget.ts) decides whether a refusal that
   * names no partner and no case gets an entry of its own; when it says no, the refusal has been
   * counted into the summary entry of its client address's window instead.
   */
  constructor(
    private readonly log: AccessLogRepository,
    private readonly policyVersion: () => string | null,
    private readonly admitAnonymous: (
      request: FastifyRequest,
      action: AccessAction,
      requestId: string,
    ) => boolean = () => true,
  ) {}

  /** Registers the onSend hook on the gateway's Fastify instance. */
  register(fastify: FastifyInstance): void {
    fastify.addHook('onSend', async (request, reply, payload) => {
      const path = request.url.split('?')[0] ?? '/';
      if (!isApiPath(path)) return payload;
      const state = stateOf(request);
      if (state.settled) return payload;
      state.settled = true;
      if (state.identity.tally.committed > 0) return payload;
      const entry = this.entryFor(request, reply, path, state);
      const anonymous = entry.status === 'denied' && entry.partner === null && entry.caseId === null;
      if (anonymous && !this.admitAnonymous(request, entry.action, state.identity.requestId)) return payload;
      try {
        await this.log.append([entry]);
        return payload;
      } catch {
        void reply
          .code(503)
          .header('content-type', 'application/problem+json')
          .header('retry-after', '5')
          .removeHeader('content-length');
        return JSON.stringify({
          ...JSON.parse(LOG_UNAVAILABLE),
          instance: path,
          traceId: state.identity.traceId,
        });
      }
    });
  }

  private entryFor(
    request: FastifyRequest,
    reply: FastifyReply,
    path: string,
    state: RequestLogState,
  ): AccessLogEntry {
    const principal = (request as FastifyRequest & { principal?: RequestAttempt }).principal;
    const attempt: RequestAttempt = {
      action: actionOf(request, path),
      caseId: caseIdOf(request),
      ...state.attempt,
      ...(principal
        ? { partner: principal.partner, professional: principal.professional, purpose: principal.purpose }
        : {}),
    };
    const denied = reply.statusCode >= 400;
    const reason =
      state.reason ??
      (denied ? `HTTP ${reply.statusCode}` : `${request.method} ${path} answered ${reply.statusCode}.`);
    return attemptEntry(state.identity, attempt, denied ? 'denied' : 'allowed', reason, this.policyVersion());
  }
}

/**
 * The entry for an attempt that touched no person and no field (a refusal, an authentication, a
 * request answered without a service's own entries): who, as far as it was checked, and why.
 */
export function attemptEntry(
  identity: { requestId: string | null; traceId: string; tally?: RequestTally },
  attempt: RequestAttempt,
  status: AccessLogEntry['status'],
  reason: string,
  policyVersion: string | null,
): AccessLogEntry {
  return {
    requestId: identity.requestId,
    traceId: identity.traceId,
    ...(identity.tally ? { tally: identity.tally } : {}),
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
    policyVersion,
    emergency: false,
  };
}

function caseIdOf(request: FastifyRequest): string | null {
  const id = (request.params as { id?: unknown } | null)?.id;
  return typeof id === 'string' && UUID.test(id) ? id.toLowerCase() : null;
}
