import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/problem.js';

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
