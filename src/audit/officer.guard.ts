import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { describeAttempt } from '../access-log/request-log.js';
import type { AuthenticatedRequest } from '../kernel/principal.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import { NotAnOfficerError } from './audit.errors.js';
import { isOfficer } from './officer.js';

/**
 * Runs after AccessTokenGuard: admits only privacy officers (see officer.ts). A refusal is
 * described to the request log, which writes it as a denied `audit` access before the 403 leaves
 * (fail closed: 503 if the denial cannot be written).
 */
@Injectable()
export class OfficerGuard implements CanActivate {
  constructor(private readonly registry: PolicyRegistry) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = request.principal;
    if (!principal) throw new Error('OfficerGuard must run after AccessTokenGuard.');
    if (isOfficer(this.registry.current().convenant, principal.partner, principal.purpose)) return true;
    const error = new NotAnOfficerError(
      `Only a partner of kind toezicht acting for purpose toezicht may query the access log; ` +
        `${principal.partner} acts for ${principal.purpose}.`,
    );
    describeAttempt(
      request,
      {
        action: 'audit',
        partner: principal.partner,
        professional: principal.professional,
        purpose: principal.purpose,
      },
      error.message,
    );
    throw error;
  }
}
