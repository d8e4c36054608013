import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { noteRefusal } from '../access-log/request-log.js';
import {
  DatabaseUnavailableError,
  DomainError,
  PROBLEM_BASE,
  type ProblemDetails,
} from '../common/problem.js';
import { isDatabaseUnavailable } from '../db/database-errors.js';

// The one problem+json filter. It lives in the kernel, not beside the error types in
// src/common/problem.ts, because it depends on the request log and the database's error codes:
// every folder throws the error types, so they must depend on nothing (docs/architecture.md).

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
