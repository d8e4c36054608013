import {
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  importJWK,
  jwtVerify,
  SignJWT,
  type JWK,
  type JWTPayload,
} from 'jose';
import { randomBytes } from 'node:crypto';
import type { CompiledConvenant } from '../policy/compile.js';
import type { Partner } from '../policy/model.js';
import { bounded, InvalidClientError, InvalidTokenRequestError } from './auth.errors.js';
import { PartnerKeysUnavailableError, type KeyResolver } from '../keys/partner-keys.js';
import { PROFESSIONAL_PATTERN } from './token-rules.js';

/**
 * Client assertions (RFC 7523 §3, NL GOV OAuth profile `private_key_jwt`): a JWT a partner signs
 * with its own private key to authenticate at the token endpoint. The checks follow RFC 8725:
 * asymmetric algorithms only and chosen by us, not by the token; the key comes from the partner
 * the token claims to be, looked up by kid; every time claim bounded; single use by jti.
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Asymmetric only: `none` and every HS* are absent on purpose (RFC 8725 §2.1, §3.1). */
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'] as const;

/** The longest an assertion may live, exp − iat (brief: at most 5 minutes). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;

/**
 * Default allowed clock difference between a partner's clock and ours (ASSERTION_CLOCK_LEEWAY_SECONDS).
 * Small on purpose: an assertion lives at most 5 minutes, and partners keep their clocks by NTP.
 */
export const DEFAULT_CLOCK_LEEWAY_SECONDS = 5;

export { PROFESSIONAL_PATTERN };

/** ≥ 128 bits: 22+ base64url characters, or a UUID (122 random bits, accepted as the usual form). */
const JTI_PATTERN =
  /^(?:[A-Za-z0-9_-]{22,128}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** What a verified assertion establishes. */
export interface VerifiedAssertion {
  partner: Partner;
  professional: string;
  jti: string;
  /** exp as a Date: the jti must be remembered until then (plus the clock leeway). */
  expiresAt: Date;
  /** The `purpose` claim, when the partner signed one; the requested scope must then match it. */
  purpose?: string;
}

/** What the verifier has learnt so far, for the log entry of a refusal. */
export interface AssertionContext {
  /** The claimed issuer, but only once it is known to be a partner of the convenant. */
  partner?: string;
  professional?: string;
}

export interface AssertionCheck {
  compiled: CompiledConvenant;
  /** `${publicUrl}/v1/oauth/token`. */
  audience: string;
  keysFor(partner: Partner): Promise<KeyResolver>;
  /** Allowed clock difference in seconds (default DEFAULT_CLOCK_LEEWAY_SECONDS). */
  clockLeewaySeconds?: number;
  /** For tests: the time to check against. */
  now?: Date;
}

/**
 * Verifies a client assertion and returns who it authenticates. Throws InvalidTokenRequestError
 * (400) for something that is not a JWS at all, InvalidClientError (401) for everything else.
 * `context` is filled in as facts are established, so a refusal can be logged with them.
 */
export async function verifyClientAssertion(
  jwt: string,
  check: AssertionCheck,
  context: AssertionContext = {},
): Promise<VerifiedAssertion> {
  if (!COMPACT_JWS.test(jwt)) {
    throw new InvalidTokenRequestError(
      'client_assertion must be a signed JWT in compact form (three base64url parts).',
    );
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claimed: JWTPayload;
  try {
    header = decodeProtectedHeader(jwt);
    claimed = decodeJwt(jwt);
  } catch {
    throw new InvalidTokenRequestError('client_assertion could not be decoded as a JWT.');
  }

  // The unverified issuer only selects whose keys to try and names the partner in the log entry of
  // a refusal (an impersonation attempt is worth seeing); nothing else is believed before the signature.
  const partner =
    typeof claimed.iss === 'string'
      ? check.compiled.convenant.partners.find((p) => p.id === claimed.iss)
      : undefined;
  if (partner) context.partner = partner.id;

  // The algorithm is ours to choose, before any key is touched: `none`, HS* and anything unknown go.
  const alg = header.alg;
  if (typeof alg !== 'string' || !(ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new InvalidClientError(
      `The client assertion's algorithm ${typeof alg === 'string' ? `'${bounded(alg, 16)}' ` : ''}is not accepted; use one of ${ASSERTION_ALGORITHMS.join(', ')}.`,
    );
  }
  if (header.crit !== undefined) {
    throw new InvalidClientError('The client assertion may not carry critical header parameters.');
  }
  if (typeof header.kid !== 'string' || header.kid === '') {
    throw new InvalidClientError("The client assertion's header must name its key with 'kid'.");
  }
  if (!partner)
    throw new InvalidClientError("The client assertion's issuer is not a partner in the convenant.");

  let resolver: KeyResolver;
  try {
    resolver = await check.keysFor(partner);
  } catch (error) {
    if (error instanceof PartnerKeysUnavailableError) {
      throw new InvalidClientError(
        `No public keys are available for partner '${partner.id}'; ask the gateway operator.`,
      );
    }
    throw error;
  }

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(jwt, resolver, {
      algorithms: [...ASSERTION_ALGORITHMS],
      audience: check.audience,
      issuer: partner.id,
      subject: partner.id,
      requiredClaims: ['exp', 'iat', 'jti'],
      // Also rejects an iat in the future beyond the tolerance (jose checks it only with maxTokenAge).
      maxTokenAge: MAX_ASSERTION_LIFETIME_SECONDS,
      clockTolerance: check.clockLeewaySeconds ?? DEFAULT_CLOCK_LEEWAY_SECONDS,
      ...(check.now ? { currentDate: check.now } : {}),
    }));
  } catch (error) {
    throw new InvalidClientError(assertionFailure(error, partner.id, check.audience));
  }

  // RFC 7523 §3 lets aud be an array that merely contains us; RFC 8725 §3.9 asks for an audience
  // that names this recipient alone: an assertion also meant for another server could be replayed
  // by it here (jose only checks that ours is among them).
  const aud = payload.aud;
  if (!(aud === check.audience || (Array.isArray(aud) && aud.length === 1 && aud[0] === check.audience))) {
    throw new InvalidClientError(
      `The client assertion's audience must be ${check.audience} alone (a string, or an array holding only it).`,
    );
  }
  const iat = payload.iat!;
  const exp = payload.exp!;
  if (exp - iat > MAX_ASSERTION_LIFETIME_SECONDS) {
    throw new InvalidClientError(
      `The client assertion lives ${exp - iat} s (exp − iat); at most ${MAX_ASSERTION_LIFETIME_SECONDS} s is accepted.`,
    );
  }
  if (exp <= iat) throw new InvalidClientError('The client assertion expires before it was issued.');
  if (typeof payload.jti !== 'string' || !JTI_PATTERN.test(payload.jti)) {
    throw new InvalidClientError(
      'The client assertion needs a jti of at least 128 random bits (22+ base64url characters, or a UUID).',
    );
  }
  const professional = payload.professional;
  if (typeof professional !== 'string' || !PROFESSIONAL_PATTERN.test(professional)) {
    throw new InvalidClientError(
      "The client assertion needs a 'professional' claim: an opaque id of 1 to 64 characters from A-Z a-z 0-9 . _ @ -.",
    );
  }
  context.professional = professional;
  const purpose = payload.purpose;
  if (purpose !== undefined && typeof purpose !== 'string') {
    throw new InvalidClientError("The client assertion's 'purpose' claim must be a string.");
  }
  return {
    partner,
    professional,
    jti: payload.jti,
    expiresAt: new Date(exp * 1000),
    ...(purpose !== undefined ? { purpose } : {}),
  };
}

/** A sentence for a failed jose check: precise enough for a partner to fix its client. */
function assertionFailure(error: unknown, partnerId: string, audience: string): string {
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return `The client assertion's kid does not name one key of partner '${partnerId}'.`;
  }
  if (error instanceof joseErrors.JWTExpired) {
    return error.claim === 'iat'
      ? `The client assertion was issued too long ago (at most ${MAX_ASSERTION_LIFETIME_SECONDS} s).`
      : 'The client assertion has expired.';
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return `The client assertion's audience must be ${audience}.`;
      case 'iss':
      case 'sub':
        return "The client assertion's iss and sub must both be the partner id.";
      case 'nbf':
        return 'The client assertion is not valid yet (nbf).';
      case 'iat':
        return error.reason === 'check_failed'
          ? 'The client assertion was issued in the future (iat); check the clock.'
          : "The client assertion's iat must be a number.";
      default:
        return `The client assertion's '${bounded(error.claim, 16)}' claim is missing or invalid.`;
    }
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return "The client assertion's signature does not verify with the partner's key.";
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
    return "The client assertion's algorithm does not fit the partner's key.";
  }
  if (error instanceof joseErrors.JOSEError) return 'The client assertion is not a valid JWT.';
  throw error;
}

export interface AssertionClaims {
  partner: string;
  professional: string;
  audience: string;
  purpose?: string;
  lifetimeSeconds?: number;
}

/**
 * Signs a client assertion with a partner's private JWK, as a partner system would: for
 * `convenant token --assertion` and the tests (the partner's own systems use their own library).
 */
export async function signClientAssertion(privateJwk: JWK, claims: AssertionClaims): Promise<string> {
  const alg = privateJwk.alg ?? 'ES256';
  const key = await importJWK(privateJwk, alg);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    professional: claims.professional,
    ...(claims.purpose ? { purpose: claims.purpose } : {}),
  })
    .setProtectedHeader({ alg, typ: 'JWT', ...(privateJwk.kid ? { kid: privateJwk.kid } : {}) })
    .setIssuer(claims.partner)
    .setSubject(claims.partner)
    .setAudience(claims.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.lifetimeSeconds ?? 60))
    .setJti(randomBytes(16).toString('base64url'))
    .sign(key);
}
