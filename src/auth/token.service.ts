import { Inject, Injectable } from '@nestjs/common';
import type { RequestIdentity } from '../access-log/request-log.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import type { CompiledConvenant } from '../policy/compile.js';
import { AccessTokenIssuer, tokenEndpoint } from './access-token.js';
import { AuthAudit } from './auth-audit.js';
import {
  AuthRefusal,
  bounded,
  InvalidClientError,
  InvalidTokenRequestError,
  PurposeRefusedError,
} from './auth.errors.js';
import { CLIENT_ASSERTION_TYPE, verifyClientAssertion, type AssertionContext } from './client-assertion.js';
import type { ClientCertificate } from './client-certificate.js';
import { PartnerKeys } from '../keys/partner-keys.js';
import { ReplayRepository } from './replay.repository.js';
import { purposeRefusal } from './token-rules.js';

/** A token request, once its form (or JSON) body has the right shape. */
export interface TokenRequest {
  clientAssertion: string;
  /** The one purpose the token is requested for (OAuth `scope`). */
  purpose: string;
  /** Optional in RFC 7521 §4.2; when sent it must be the assertion's issuer. */
  clientId?: string;
}

/** The 200 answer of the token endpoint (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/** Assertions are a few hundred bytes; a limit keeps decoding cheap for garbage. */
const MAX_ASSERTION_LENGTH = 8192;

const PURPOSE_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * Reads the token request body. Every parameter must appear once (RFC 6749 §3.2: a repeated one
 * arrives as an array and is refused); parameters we do not know are ignored, as RFC 6749 asks.
 */
export function parseTokenRequest(body: unknown): TokenRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidTokenRequestError(
      'Send the token request as application/x-www-form-urlencoded (or JSON) with grant_type, client_assertion_type, client_assertion and scope.',
    );
  }
  const params = body as Record<string, unknown>;
  const single = (name: string): string | undefined => {
    const value = params[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string')
      throw new InvalidTokenRequestError(`${name} must be given exactly once, as a string.`);
    return value;
  };
  const grantType = single('grant_type');
  if (grantType !== 'client_credentials') {
    throw new InvalidTokenRequestError(
      grantType === undefined
        ? 'grant_type is missing; use client_credentials.'
        : 'Only grant_type client_credentials is supported.',
      grantType === undefined ? 'invalid_request' : 'unsupported_grant_type',
    );
  }
  if (single('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
    throw new InvalidTokenRequestError(
      `client_assertion_type must be ${CLIENT_ASSERTION_TYPE} (private_key_jwt).`,
    );
  }
  const clientAssertion = single('client_assertion');
  if (!clientAssertion) throw new InvalidTokenRequestError('client_assertion is missing.');
  if (clientAssertion.length > MAX_ASSERTION_LENGTH) {
    throw new InvalidTokenRequestError(`client_assertion is longer than ${MAX_ASSERTION_LENGTH} characters.`);
  }
  const scope = single('scope')?.trim();
  if (!scope) {
    throw new InvalidTokenRequestError(
      'scope is missing: name the one purpose the token is for, e.g. scope=triage.',
      'invalid_scope',
    );
  }
  if (!PURPOSE_ID.test(scope) || scope.length > 64) {
    throw new InvalidTokenRequestError(
      'scope must be exactly one purpose id of the convenant; a token serves one purpose.',
      'invalid_scope',
    );
  }
  const clientId = single('client_id');
  return { clientAssertion, purpose: scope, ...(clientId !== undefined ? { clientId } : {}) };
}

/** The convenant's word on a (partner, purpose) pair (token-rules.ts), as the token endpoint's refusal. */
export function checkPurpose(compiled: CompiledConvenant, partnerId: string, purposeId: string): void {
  const refusal = purposeRefusal(compiled, partnerId, purposeId);
  if (refusal?.kind === 'unknown-partner') throw new InvalidClientError(refusal.message);
  if (refusal) throw new PurposeRefusedError(refusal.message);
}

/**
 * The token endpoint's rules: authenticate the partner by its client assertion, spend the
 * assertion's jti, check the purpose against the convenant in force, and issue an access token.
 * Every outcome is logged before the answer leaves (AuthAudit fails closed).
 */
@Injectable()
export class TokenService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: PolicyRegistry,
    private readonly partnerKeys: PartnerKeys,
    private readonly replay: ReplayRepository,
    private readonly audit: AuthAudit,
    private readonly issuer: AccessTokenIssuer,
  ) {}

  /** `certificate`: the verified mutual-TLS client certificate, if the request came with one. */
  async exchange(
    body: unknown,
    identity: RequestIdentity,
    certificate?: ClientCertificate,
    address?: string,
  ): Promise<TokenResponse> {
    const compiled = this.registry.current();
    const context: AssertionContext & { purpose?: string } = {};
    let issued: { response: TokenResponse; tokenId: string };
    try {
      issued = await this.authenticate(compiled, body, context, certificate);
    } catch (error) {
      const reason =
        error instanceof AuthRefusal ? error.message : 'The gateway could not process the token request.';
      await this.audit.denied({ ...identity, action: 'authenticate', address, ...context }, reason);
      throw error;
    }
    await this.audit.allowed(
      { ...identity, action: 'authenticate', ...context },
      `Access token ${issued.tokenId} issued for purpose '${issued.response.scope}'.`,
    );
    return issued.response;
  }

  private async authenticate(
    compiled: CompiledConvenant,
    body: unknown,
    context: AssertionContext & { purpose?: string },
    certificate: ClientCertificate | undefined,
  ): Promise<{ response: TokenResponse; tokenId: string }> {
    const request = parseTokenRequest(body);
    if (compiled.convenant.purposes.some((p) => p.id === request.purpose)) context.purpose = request.purpose;
    const assertion = await verifyClientAssertion(
      request.clientAssertion,
      {
        compiled,
        audience: tokenEndpoint(this.config),
        keysFor: (partner) => this.partnerKeys.resolverFor(compiled, partner),
        clockLeewaySeconds: this.config.assertionLeewaySeconds,
      },
      context,
    );
    const partner = assertion.partner.id;
    // Under mTLS the certificate must be the partner's own (issued with CN = partner id), so a
    // partner's key alone, without its certificate, cannot obtain tokens (RFC 8705 §2.1).
    if (certificate && certificate.commonName !== partner) {
      throw new InvalidClientError(
        `The client certificate is issued to '${bounded(certificate.commonName ?? '(no CN)')}', not to partner '${partner}'.`,
      );
    }
    if (request.clientId !== undefined && request.clientId !== partner) {
      throw new InvalidClientError("client_id must be the client assertion's issuer.");
    }
    // Spent before the purpose check: an assertion is used once, whatever the outcome.
    const rememberUntil = new Date(assertion.expiresAt.getTime() + this.config.assertionLeewaySeconds * 1000);
    if (!(await this.replay.consume(partner, assertion.jti, rememberUntil))) {
      throw new InvalidClientError(
        'This client assertion has been used before; sign a new one with a fresh jti.',
      );
    }
    if (assertion.purpose !== undefined && assertion.purpose !== request.purpose) {
      throw new PurposeRefusedError("The requested scope differs from the 'purpose' the partner signed.");
    }
    checkPurpose(compiled, partner, request.purpose);
    const issued = await this.issuer.issue({
      partner,
      professional: assertion.professional,
      purpose: request.purpose,
      certificateThumbprint: certificate?.thumbprint,
    });
    return {
      response: {
        access_token: issued.token,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        scope: request.purpose,
      },
      tokenId: issued.jti,
    };
  }
}
