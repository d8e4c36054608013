import { HttpStatus } from '@nestjs/common';
import { AuthRefusal } from '../auth/auth.errors.js';
import { DomainError } from '../common/problem.js';

/**
 * The token is valid, but its partner is not a supervisor (kind `toezicht`) acting for purpose
 * `toezicht` in the convenant in force: the access log is only for privacy officers.
 */
export class NotAnOfficerError extends AuthRefusal {
  constructor(detail: string) {
    super(HttpStatus.FORBIDDEN, 'not-an-officer', 'Privacy officers only', detail);
  }
}

export class EmergencyEntryNotFoundError extends DomainError {
  constructor() {
    super(
      HttpStatus.NOT_FOUND,
      'emergency-entry-not-found',
      'Emergency access not found',
      'There is no allowed emergency access at this position in the access log.',
    );
  }
}

/** The first judgement stands, so a review cannot be quietly replaced. */
export class AlreadyReviewedError extends DomainError {
  constructor() {
    super(
      HttpStatus.CONFLICT,
      'already-reviewed',
      'Already reviewed',
      'This emergency access has already been reviewed; the first judgement stands.',
    );
  }
}

/** A timeline is a picture, not an export: its number of bars is bounded so the answer stays small. */
export class TimelineTooLongError extends DomainError {
  constructor(bucket: string, buckets: number, max: number) {
    super(
      HttpStatus.BAD_REQUEST,
      'timeline-too-long',
      'Timeline too long',
      `This range gives ${buckets} buckets by ${bucket}; at most ${max} are allowed. Narrow from and to` +
        (bucket === 'hour' ? ', or use bucket=day.' : '.'),
      { buckets, max },
    );
  }
}
