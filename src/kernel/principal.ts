import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * Who is acting, as established by a verified access token: the partner (organisation), the
 * professional acting for it (token `sub`), and the declared purpose the token is bound to.
 */
export interface Principal {
  partner: string;
  professional: string;
  purpose: string;
  /** The access token's jti, for correlating log entries with a token. */
  tokenId: string;
  /** RFC 8705: the token is bound to this client certificate (x5t#S256) and valid only over it. */
  certificateThumbprint?: string;
}

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** The principal the AccessTokenGuard attached; the guard runs first, so it is always there. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!request.principal) throw new Error('CurrentPrincipal used on a route without AccessTokenGuard.');
    return request.principal;
  },
);
