import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { describeAttempt } from '../access-log/request-log.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { attemptFor, type AuthAttempt } from './auth-audit.js';
import {
  AuthRefusal,
  InvalidAccessTokenError,
  MissingAccessTokenError,
  TokenInUrlError,
  TokenNoLongerAllowedError,
} from './auth.errors.js';
import { clientCertificateOf } from './client-certificate.js';
import type { AuthenticatedRequest, Principal } from '../kernel/principal.js';

const JWT_LIKE = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$/;
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/**
 * True when the query string carries a token: `access_token` (RFC 6750 §2.3, which we do not
 * support) or any value shaped like a JWT. Such a token has been exposed to proxies and logs.
 */
export function queryCarriesToken(query: unknown): boolean {
  if (typeof query !== 'object' || query === null) return false;
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    if (name.toLowerCase() === 'access_token' || name.toLowerCase() === 'client_assertion') return true;
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && JWT_LIKE.test(v.trim()))) return true;
  }
  return false;
}

/**
 * Lets a request through only with a valid access token of this gateway in `Authorization:
 * Bearer …`, for a partner and purpose the convenant in force still recognises, and attaches the
 * Principal. A refusal is described to the request log (request-log.ts), which writes its entry
 * before the answer leaves (fail closed: no log entry, 503).
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly registry: PolicyRegistry,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const attempt = attemptFor(request);
    try {
      request.principal = await this.authenticate(request, attempt);
      return true;
    } catch (error) {
      const reason =
        error instanceof AuthRefusal ? error.message : 'The gateway could not check the access token.';
      describeAttempt(
        request,
        {
          action: attempt.action,
          partner: attempt.partner,
          professional: attempt.professional,
          purpose: attempt.purpose,
          caseId: attempt.caseId ?? null,
        },
        reason,
      );
      throw error;
    }
  }

  private async authenticate(request: AuthenticatedRequest, attempt: AuthAttempt): Promise<Principal> {
    // First, before anything else: a token in a URL is refused even next to a valid header.
    if (queryCarriesToken(request.query)) throw new TokenInUrlError();
    const header = request.headers.authorization;
    if (header === undefined || header === '') throw new MissingAccessTokenError();
    const match = BEARER.exec(header);
    if (!match?.[1]) {
      throw new InvalidAccessTokenError('The Authorization header must be "Bearer <access token>".');
    }
    const principal = await this.verifier.verify(match[1]);
    if (
      principal.certificateThumbprint !== undefined &&
      clientCertificateOf(request)?.thumbprint !== principal.certificateThumbprint
    ) {
      throw new InvalidAccessTokenError(
        'The access token is bound to a client certificate that this connection did not present (RFC 8705).',
      );
    }
    const compiled = this.registry.current();
    const partner = compiled.convenant.partners.find((p) => p.id === principal.partner);
    if (partner) attempt.partner = partner.id;
    attempt.professional = principal.professional;
    if (compiled.convenant.purposes.some((p) => p.id === principal.purpose))
      attempt.purpose = principal.purpose;
    // The convenant may have changed since the token was issued: it decides, not the token.
    if (!partner) {
      throw new TokenNoLongerAllowedError(
        `Partner '${principal.partner}' is no longer in the convenant in force.`,
      );
    }
    if (!partner.purposes.includes(principal.purpose) || attempt.purpose === undefined) {
      throw new TokenNoLongerAllowedError(
        `Partner '${partner.id}' is no longer registered for purpose '${principal.purpose}' in the convenant in force.`,
      );
    }
    return principal;
  }
}
