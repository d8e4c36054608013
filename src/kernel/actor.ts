import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { identityOf } from '../access-log/request-log.js';
import type { AuthenticatedRequest } from './principal.js';
import type { Actor } from '../cases/case-policy.js';

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
