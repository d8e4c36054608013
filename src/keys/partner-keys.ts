import { Inject, Injectable } from '@nestjs/common';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';
import { readFile } from 'node:fs/promises';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { CompiledConvenant } from '../policy/compile.js';
import type { Convenant, Partner } from '../policy/model.js';
import { localJwksCandidates } from './jwks-locations.js';

/** What jose's key-set functions are: given a JWS header, the one key that verifies it. */
export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/** The partner's keys cannot be used at all (missing or unsafe file): an operator must act. */
export class PartnerKeysUnavailableError extends Error {
  constructor(
    readonly partnerId: string,
    reason: string,
  ) {
    super(`The public keys of partner '${partnerId}' are unavailable: ${reason}`);
    this.name = 'PartnerKeysUnavailableError';
  }
}

export { localJwksCandidates } from './jwks-locations.js';

const PUBLIC_KTY = new Set(['EC', 'OKP', 'RSA']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const;

/**
 * Refuses a key set that holds anything but public asymmetric keys. A symmetric or private key
 * in a partner's JWKS is a configuration accident that could let others forge that partner's
 * assertions (RFC 8725 §2.1, §3.1), so the whole set is refused rather than filtered.
 */
export function checkPublicKeySet(partnerId: string, value: unknown): JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new PartnerKeysUnavailableError(partnerId, 'the file is not a JWKS with at least one key.');
  }
  for (const key of keys as unknown[]) {
    const jwk = key as JWK | null;
    if (typeof jwk !== 'object' || jwk === null || !PUBLIC_KTY.has(String(jwk.kty))) {
      throw new PartnerKeysUnavailableError(partnerId, 'every key must be an EC, OKP or RSA public key.');
    }
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
      throw new PartnerKeysUnavailableError(
        partnerId,
        'the file holds private key material; publish only public keys.',
      );
    }
    if (typeof jwk.kid !== 'string' || jwk.kid === '') {
      throw new PartnerKeysUnavailableError(
        partnerId,
        'every key needs a kid, so a token can name the key that signed it.',
      );
    }
  }
  return value as JSONWebKeySet;
}

/** Remote key sets: refetch at most every 30 s on an unknown kid, trust a fetched set 10 min. */
const REMOTE_OPTIONS = { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 };

/**
 * Resolves the public keys of a partner: the JWKS file the convenant names, or the partner's own
 * `jwks_uri` (fetched and cached by jose). File-based sets are read once per policy version, so a
 * new convenant version with new key files takes effect without a restart of this cache.
 */
@Injectable()
export class PartnerKeys {
  private version?: string;
  private readonly local = new Map<string, KeyResolver>();
  private readonly remote = new Map<string, KeyResolver>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** The key resolver for a partner. Throws PartnerKeysUnavailableError when there is none. */
  async resolverFor(compiled: CompiledConvenant, partner: Partner): Promise<KeyResolver> {
    if (partner.keys.jwksUri !== undefined) return this.remoteResolver(partner, partner.keys.jwksUri);
    if (this.version !== compiled.version) {
      this.local.clear();
      this.version = compiled.version;
    }
    const cached = this.local.get(partner.id);
    if (cached) return cached;
    const resolver = createLocalJWKSet(await this.readLocalSet(compiled.convenant, partner));
    // Only successful reads are cached: a missing file may be provided (or generated) a moment later.
    this.local.set(partner.id, resolver);
    return resolver;
  }

  private async readLocalSet(convenant: Convenant, partner: Partner): Promise<JSONWebKeySet> {
    const candidates = localJwksCandidates(convenant, partner, this.config.keysDir, {
      allowDataDir: this.config.env !== 'production',
    });
    for (const file of candidates) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new PartnerKeysUnavailableError(partner.id, `${file} is not valid JSON.`);
      }
      return checkPublicKeySet(partner.id, parsed);
    }
    throw new PartnerKeysUnavailableError(
      partner.id,
      `no JWKS file found (looked in ${candidates.join(', ')}).`,
    );
  }

  private remoteResolver(partner: Partner, uri: string): KeyResolver {
    const cached = this.remote.get(uri);
    if (cached) return cached;
    const url = new URL(uri);
    // Keys fetched over plain HTTP could be swapped by anyone on the path.
    if (url.protocol !== 'https:' && this.config.env === 'production') {
      throw new PartnerKeysUnavailableError(partner.id, 'jwks_uri must use https in production.');
    }
    const resolver = createRemoteJWKSet(url, REMOTE_OPTIONS);
    this.remote.set(uri, resolver);
    return resolver;
  }
}
