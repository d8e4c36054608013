import { HttpStatus } from '@nestjs/common';
import type { ValidationError } from 'class-validator';

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

export const PROBLEM_BASE = 'https://convenant.dev/problems/';

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
