import type { components, operations } from './api-schema';
import type { MessageKey, Translate } from './i18n';

/**
 * The page's only way to the gateway: the public officer API, same origin, Bearer token from
 * sessionStorage (never a URL, never localStorage, never a cookie). Failures become an ApiError
 * that the views show as a sentence.
 */

const TOKEN_KEY = 'convenant.fg.token';

export const session = {
  token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** What a failed answer carried: its problem+json, or nothing when it was not one. */
type Problem = Partial<components['schemas']['Problem']>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }

  /** A sentence for the person at the screen, in their language, with the gateway's own detail. */
  sentence(t: Translate): string {
    if (this.status === 0) return t('error.network');
    const detail = [
      this.problem.detail ?? this.problem.title ?? '',
      ...(this.problem.errors ?? []).map((e) => e.detail),
    ]
      .filter((s) => s !== '')
      .join(' ');
    const known = [400, 401, 403, 404, 409, 503];
    const key = (known.includes(this.status) ? `error.${this.status}` : 'error.other') as MessageKey;
    return t(key, { status: this.status, detail: detail || String(this.status) });
  }
}

/** Set by the app: called when the gateway says the token is no longer good (401). */
let onUnauthorized: () => void = () => undefined;
export function handleUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

async function send(
  method: string,
  path: string,
  init: { body?: unknown; accept?: string; token?: string } = {},
): Promise<Response> {
  const token = init.token ?? session.token();
  const headers: Record<string, string> = { accept: init.accept ?? 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      credentials: 'omit',
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch {
    throw new ApiError(0, {});
  }
  if (!response.ok) {
    let problem: Problem = {};
    try {
      problem = (await response.json()) as Problem;
    } catch {
      problem = { title: response.statusText };
    }
    if (response.status === 401 && !init.token) onUnauthorized();
    throw new ApiError(response.status, problem);
  }
  return response;
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

// The shapes the gateway documents in openapi.json come from web/src/api-schema.ts, which
// openapi-typescript generates from it (`npm run openapi:web`; `npm run lint` fails when it is
// stale), so the page cannot drift from the server's DTOs. Only the answers that openapi.json
// does not describe yet (subject report, emergency reviews, verify) are written out below.
type Schemas = components['schemas'];
type EventQuery = NonNullable<operations['AuditController_events']['parameters']['query']>;

export type Principal = Schemas['PrincipalDto'];
export type AuditEvent = Schemas['AuditEventDto'];
export type EventPage = Schemas['AuditEventPageDto'];
export type TimelinePartnerCount = Schemas['TimelinePartnerCountDto'];
export type TimelineBucket = Schemas['TimelineBucketDto'];
export type TimelineCounts = Schemas['AuditTimelineDto'];
export type Judgement = Schemas['EmergencyReviewRequestDto']['judgement'];
export type ConvenantMatrix = Schemas['ConvenantMatrixDto'];
export type Level = Schemas['MatrixCellDto']['read'];

/** The filter form's values, as text; each names a query parameter of GET /v1/audit/events. */
export type EventFilters = {
  [
    K in keyof Pick<EventQuery, 'from' | 'to' | 'caseId' | 'partner' | 'purpose' | 'outcome' | 'emergency'>
  ]?: string;
};

export interface ReportAccess {
  occurredAt: string;
  outcome: AuditEvent['outcome'];
  action: string;
  partner: { id: string; name: string } | null;
  professional?: string | null;
  purpose: { id: string; name: string } | null;
  legalBasis: { id: string; citation: string }[];
  categories: { section: string; sensitivity: string; description: string }[];
  emergency: boolean;
}

export interface SubjectReport {
  subjectRef: string;
  generatedAt: string;
  policyVersion: string;
  includesProfessionals: boolean;
  accesses: ReportAccess[];
}

export interface Review {
  seq: string;
  reviewedByPartner: string;
  reviewedBy: string;
  judgement: Judgement;
  comment: string;
  reviewedAt: string;
}

export interface ReviewQueueItem {
  entry: AuditEvent;
  review: Review | null;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  checkpoints: number;
  pending: number;
  head: string;
  failure: { position: string; seq: string; problem: string; detail?: string } | null;
  lastCheckpoint?: { position: string; createdAt: string } | null;
}

export const api = {
  async whoami(token: string): Promise<Principal> {
    return (await send('GET', '/v1/oauth/whoami', { token })).json() as Promise<Principal>;
  },
  async events(filters: EventFilters, cursor?: string, limit = 200): Promise<EventPage> {
    const path = `/v1/audit/events${query({ ...filters, cursor, limit: String(limit) })}`;
    return (await send('GET', path)).json() as Promise<EventPage>;
  },
  async timeline(filters: EventFilters, bucket: 'day' | 'hour'): Promise<TimelineCounts> {
    const path = `/v1/audit/timeline${query({ ...filters, bucket })}`;
    return (await send('GET', path)).json() as Promise<TimelineCounts>;
  },
  async subjectReport(subjectRef: string, includeProfessionals: boolean): Promise<SubjectReport> {
    const body = { subjectRef, includeProfessionals };
    return (await send('POST', '/v1/audit/subject-report', { body })).json() as Promise<SubjectReport>;
  },
  async subjectReportHtml(subjectRef: string, includeProfessionals: boolean): Promise<Blob> {
    const body = { subjectRef, includeProfessionals };
    return (await send('POST', '/v1/audit/subject-report', { body, accept: 'text/html' })).blob();
  },
  async emergencyReviews(status: 'pending' | 'reviewed'): Promise<{ items: ReviewQueueItem[] }> {
    return (await send('GET', `/v1/audit/emergency-reviews${query({ status })}`)).json() as Promise<{
      items: ReviewQueueItem[];
    }>;
  },
  async review(seq: string, judgement: Judgement, comment: string): Promise<Review> {
    const path = `/v1/audit/emergency-reviews/${encodeURIComponent(seq)}`;
    return (await send('POST', path, { body: { judgement, comment } })).json() as Promise<Review>;
  },
  async verify(): Promise<VerifyReport> {
    return (await send('GET', '/v1/audit/verify')).json() as Promise<VerifyReport>;
  },
  async matrix(): Promise<ConvenantMatrix> {
    return (await send('GET', '/v1/convenant/matrix')).json() as Promise<ConvenantMatrix>;
  },
  async convenantDocument(): Promise<string> {
    return (await send('GET', '/v1/convenant/document', { accept: 'text/html' })).text();
  },
};
