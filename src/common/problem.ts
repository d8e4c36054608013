import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { noteRefusal } from '../access-log/request-log.js';
import { isDatabaseUnavailable } from '../db/database-errors.js';

/** One invalid input, as RFC 9457 suggests for validation problems: where, and what is wrong. */
export interface InvalidParam {
  /** JSON pointer into the request body (`/fields/0/value`), or a query/header name. */
  pointer: string;
  detail: string;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  traceId?: string;
  errors?: InvalidParam[];
  [extension: string]: unknown;
}

const PROBLEM_BASE = 'https://convenant.dev/problems/';

/**
 * A failure the API reports on purpose. Services throw subclasses (typed domain errors); the one
 * filter below turns them into problem+json, so no controller formats errors itself.
 */
export class DomainError extends Error {
  /** Response headers the error needs (e.g. WWW-Authenticate on a 401), set by the filter. */
  readonly headers: Readonly<Record<string, string>> = {};

  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends DomainError {
  constructor(
    readonly errors: InvalidParam[],
    detail = 'The request has invalid input; see errors.',
  ) {
    super(HttpStatus.BAD_REQUEST, 'invalid-request', 'Invalid request', detail, { errors });
  }
}

/** Flattens class-validator errors into one list with JSON pointers, so clients get every error at once. */
export function toInvalidParams(errors: ValidationError[], parent = ''): InvalidParam[] {
  return errors.flatMap((error) => {
    const pointer = `${parent}/${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((detail) => ({ pointer, detail }));
    return [...own, ...toInvalidParams(error.children ?? [], pointer)];
  });
}

/** For ValidationPipe's exceptionFactory: all validation errors in one problem. */
export function validationProblem(errors: ValidationError[]): InvalidRequestError {
  return new InvalidRequestError(toInvalidParams(errors));
}

/**
 * The access log could not be written, so the request fails instead of answering: no data and no
 * token leave the gateway without the log entry that records them (fail closed).
 */
export class LogUnavailableError extends DomainError {
  constructor() {
    super(
      HttpStatus.SERVICE_UNAVAILABLE,
      'log-unavailable',
      'Access log unavailable',
      'The access log could not be written, so the request was not carried out. Try again later.',
    );
  }
}

/** The database cannot be reached: the request is refused whole (fail closed) and may be retried. */
export class DatabaseUnavailableError extends DomainError {
  override readonly headers = { 'retry-after': '5' };

  constructor() {
    super(
      HttpStatus.SERVICE_UNAVAILABLE,
      'database-unavailable',
      'Database unavailable',
      'The database cannot be reached, so the request was not carried out. Try again later.',
    );
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/**
 * Maps every exception to application/problem+json (RFC 9457), without stack traces or SQL.
 * It tells the request log why the request failed; the request log (request-log.ts) writes the
 * entry of every response under /v1 that has none, or turns the response into a 503 (fail closed).
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Problem');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (!(exception instanceof DomainError) && isDatabaseUnavailable(exception)) {
      exception = new DatabaseUnavailableError();
    }
    const problem = this.toProblem(exception);
    const path = request.url.split('?')[0] ?? '/';
    if (problem.status === 404 && !(exception instanceof DomainError)) {
      // The router's own message echoes the URL with its query string, which may hold personal data.
      problem.detail = `There is no resource at ${request.method} ${path}.`;
    }
    problem.instance = path;
    problem.traceId = String(request.id);
    noteRefusal(request, `${problem.title}: ${problem.detail ?? ''}`);
    if (exception instanceof DomainError) {
      for (const [name, value] of Object.entries(exception.headers)) void reply.header(name, value);
    }
    if (problem.status >= 500) {
      this.logger.error({ err: exception, traceId: problem.traceId }, problem.detail ?? problem.title);
    }
    void reply.status(problem.status).header('content-type', 'application/problem+json').send(problem);
  }

  private toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof DomainError) {
      return {
        type: PROBLEM_BASE + exception.slug,
        title: exception.title,
        status: exception.status,
        detail: exception.message,
        ...exception.extensions,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message = typeof body === 'object' && body !== null && 'message' in body ? body.message : body;
      const detail = Array.isArray(message) ? message.join('; ') : String(message);
      const errors =
        exception instanceof BadRequestException && Array.isArray(message)
          ? message.map((m) => ({ pointer: '', detail: String(m) }))
          : undefined;
      return {
        type: status === 404 ? PROBLEM_BASE + 'not-found' : 'about:blank',
        title: TITLES[status] ?? 'Error',
        status,
        detail,
        ...(errors ? { errors } : {}),
      };
    }
    // Fastify's own errors (body too large, bad JSON, wrong content type) carry a statusCode.
    const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return {
        type: 'about:blank',
        title: TITLES[statusCode] ?? 'Bad request',
        status: statusCode,
        detail: (exception as Error).message,
      };
    }
    return {
      type: 'about:blank',
      title: TITLES[500]!,
      status: 500,
      detail: 'The gateway could not handle this request. The trace id identifies it in the logs.',
    };
  }
}
