import { HttpStatus } from '@nestjs/common';
import { AuthRefusal } from '../auth/auth.errors.js';

/**
 * The token is valid, but its partner is not a supervisor (kind `toezicht`) acting for purpose
 * `toezicht` in the convenant in force: the access log is only for privacy officers.
 */
export class NotAnOfficerError extends AuthRefusal {
  constructor(detail: string) {
    super(HttpStatus.FORBIDDEN, 'not-an-officer', 'Privacy officers only', detail);
  }
}
