import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/problem.js';

export { bounded } from './token-rules.js';

/**
 * The refusals of the token endpoint and the access-token guard. Each carries the sentence that
 * goes into the problem's `detail` and, unchanged, into the access log's `reason`; an OAuth
 * `error` code (RFC 6749 §5.2 / RFC 6750 §3.1) rides along for OAuth client libraries.
 * Sentences never echo attacker-supplied text except ids already checked against the convenant
 * or cut to a bounded length (see `bounded`).
 */

export const REALM = 'convenant';

/** RFC 6750 §3: error_description allows only %x20-21 / %x23-5B / %x5D-7E. */
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

export function bearerChallenge(error?: { code: string; description: string }): string {
  const base = `Bearer realm="${REALM}"`;
  return error ? `${base}, error="${error.code}", error_description="${quotable(error.description)}"` : base;
}

/** Base of every refusal the auth layer makes; the token service and the guard log these. */
export abstract class AuthRefusal extends DomainError {}

/** The token request is malformed (RFC 6749 invalid_request / unsupported_grant_type). */
export class InvalidTokenRequestError extends AuthRefusal {
  constructor(detail: string, oauthError = 'invalid_request') {
    super(HttpStatus.BAD_REQUEST, 'invalid-token-request', 'Invalid token request', detail, {
      error: oauthError,
    });
  }
}

/** The client assertion does not authenticate a partner (RFC 6749 invalid_client). */
export class InvalidClientError extends AuthRefusal {
  override readonly headers: Readonly<Record<string, string>>;

  constructor(detail: string) {
    super(HttpStatus.UNAUTHORIZED, 'invalid-client', 'Client authentication failed', detail, {
      error: 'invalid_client',
    });
    this.headers = {
      'www-authenticate': bearerChallenge({ code: 'invalid_client', description: detail }),
    };
  }
}

/** The partner authenticated but may not act for this purpose (RFC 6749 invalid_scope). */
export class PurposeRefusedError extends AuthRefusal {
  constructor(detail: string) {
    super(HttpStatus.FORBIDDEN, 'purpose-not-allowed', 'Purpose not allowed', detail, {
      error: 'invalid_scope',
    });
  }
}

/** A token travelled in a URL, where proxies, logs and browser history keep it (RFC 6750 §2.3, §5.3). */
export class TokenInUrlError extends AuthRefusal {
  constructor() {
    super(
      HttpStatus.BAD_REQUEST,
      'token-in-url',
      'Token in URL',
      'Tokens are never accepted in URLs; send the access token in the Authorization header as "Bearer <token>". ' +
        'Treat the token you sent as disclosed.',
      { error: 'invalid_request' },
    );
  }
}

/** No bearer token at all: the challenge carries no error code (RFC 6750 §3.1). */
export class MissingAccessTokenError extends AuthRefusal {
  override readonly headers: Readonly<Record<string, string>> = { 'www-authenticate': bearerChallenge() };

  constructor(detail = 'This route needs an access token in the Authorization header as "Bearer <token>".') {
    super(HttpStatus.UNAUTHORIZED, 'unauthenticated', 'Authentication required', detail);
  }
}

/** The bearer token is not one this gateway issued, or no longer valid (RFC 6750 invalid_token). */
export class InvalidAccessTokenError extends AuthRefusal {
  override readonly headers: Readonly<Record<string, string>>;

  constructor(detail: string) {
    super(HttpStatus.UNAUTHORIZED, 'invalid-token', 'Invalid access token', detail, {
      error: 'invalid_token',
    });
    this.headers = { 'www-authenticate': bearerChallenge({ code: 'invalid_token', description: detail }) };
  }
}

/** A valid token whose partner or purpose the convenant in force no longer recognises. */
export class TokenNoLongerAllowedError extends AuthRefusal {
  constructor(detail: string) {
    super(HttpStatus.FORBIDDEN, 'token-not-allowed', 'Token no longer allowed', detail, {
      error: 'insufficient_scope',
    });
  }
}
