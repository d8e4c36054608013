import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { identityOf, type RequestIdentity } from '../access-log/request-log.js';
import type { AuthenticatedRequest } from './principal.js';

/** Who acts, as the access token says, and the request's identity in the access log. */
export interface Actor extends RequestIdentity {
  partner: string;
  professional: string;
  purpose: string;
}

/**
 * The principal the AccessTokenGuard established plus the request's identity: everything a
 * service needs to decide and to write the access log entries of this request.
 */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): Actor => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  const principal = request.principal;
  if (!principal) throw new Error('CurrentActor used on a route without AccessTokenGuard.');
  return {
    partner: principal.partner,
    professional: principal.professional,
    purpose: principal.purpose,
    ...identityOf(request),
  };
});
