import { calculateJwkThumbprint, errors as joseErrors, importJWK, type CryptoKey, type JWK } from 'jose';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { newSigningPair } from './dev-keys.js';

/** The algorithm the gateway signs access tokens with, and the only one it accepts for them. */
export const GATEWAY_ALG = 'ES256';

/** The gateway's own signing key: it signs access tokens and, alone, verifies them. */
export interface GatewayKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Public JWK with kid (RFC 7638 thumbprint) and alg, fit for a published JWKS. */
  publicJwk: JWK;
  kid: string;
}

export const GATEWAY_KEY = Symbol('GATEWAY_KEY');
export const GATEWAY_KEY_RING = Symbol('GATEWAY_KEY_RING');

/**
 * How long, by default, access tokens signed under a key stay acceptable after it is rotated out:
 * the longest token lifetime (ACCESS_TOKEN_TTL_SECONDS ≤ 900) twice over, which also covers the
 * rolling restart during which instances not yet restarted still sign with the old key.
 */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 1800;

export function gatewayKeyFile(keysDir: string): string {
  return path.join(keysDir, 'gateway.private.jwk.json');
}

/** Public halves of the keys rotated out, each with when it was retired and until when tokens under it pass. */
export function retiredGatewayKeysFile(keysDir: string): string {
  return path.join(keysDir, 'gateway.retired.jwks.json');
}

/** A key rotated out: its checkpoints stay verifiable for good, its access tokens until acceptUntil. */
export interface RetiredGatewayKey {
  kid: string;
  publicJwk: JWK;
  publicKey: CryptoKey;
  retiredAt: Date;
  acceptUntil: Date;
}

/** One entry of gateway.retired.jwks.json: a public JWK plus the two moments (ISO 8601). */
type RetiredJwk = JWK & { retired_at: string; accept_tokens_until: string };

/** How often, at most, an unknown kid makes the ring read the keys folder again. */
const RELOAD_COOLDOWN_MS = 5_000;

/**
 * The gateway's keys: the current one, which signs, and the retired ones. The published JWKS
 * (GET /v1/audit/keys) holds them all, because checkpoints signed under a retired key must stay
 * verifiable; access tokens under a retired key pass only until its acceptUntil. An instance
 * restarted after a rotation signs under the new key while others still run on the old one, so
 * a token naming a kid this instance does not know makes it read the folder again (at most every
 * 5 s), and the sibling's new key is then accepted without a restart.
 */
export class GatewayKeyRing {
  private lastReload = 0;

  constructor(
    public current: GatewayKey,
    public retired: readonly RetiredGatewayKey[],
    private readonly keysDir?: string,
  ) {}

  /** Every public key, current first: for the published JWKS and for checkpoint verification. */
  publicJwks(): JWK[] {
    const newer = this.newer ? [this.newer.publicJwk] : [];
    return [...newer, this.current.publicJwk, ...this.retired.map((key) => key.publicJwk)];
  }

  /**
   * The key that verifies an access token naming `kid`, at `now`. Throws jose's JWKSNoMatchingKey
   * when there is none: unknown, or retired and past its overlap.
   */
  async tokenKey(kid: string | undefined, now: Date): Promise<CryptoKey> {
    const found = this.find(kid, now);
    if (found) return found;
    if (
      kid !== undefined &&
      this.keysDir !== undefined &&
      Date.now() - this.lastReload >= RELOAD_COOLDOWN_MS
    ) {
      this.lastReload = Date.now();
      const fresh = await loadGatewayKeyRing(this.keysDir);
      // The folder's record of retirements wins; keys only this instance knew are kept.
      this.retired = mergeRetired(fresh.retired, this.retired);
      if (fresh.current.kid !== this.current.kid) this.newer = fresh.current;
      const again = this.find(kid, now);
      if (again) return again;
    }
    throw new joseErrors.JWKSNoMatchingKey();
  }

  /** The folder's current key when it is newer than this instance's (a sibling rotated and restarted). */
  private newer: GatewayKey | undefined;

  private find(kid: string | undefined, now: Date): CryptoKey | undefined {
    if (kid === undefined || kid === this.current.kid) return this.current.publicKey;
    if (this.newer?.kid === kid) return this.newer.publicKey;
    const retired = this.retired.find((key) => key.kid === kid);
    return retired && now < retired.acceptUntil ? retired.publicKey : undefined;
  }
}

function mergeRetired(
  first: readonly RetiredGatewayKey[],
  second: readonly RetiredGatewayKey[],
): RetiredGatewayKey[] {
  const byKid = new Map<string, RetiredGatewayKey>();
  for (const key of [...first, ...second]) if (!byKid.has(key.kid)) byKid.set(key.kid, key);
  return [...byKid.values()];
}

/** The current key (generated at first start, see loadGatewayKey) and the retired ones. */
export async function loadGatewayKeyRing(keysDir: string): Promise<GatewayKeyRing> {
  const current = await loadGatewayKey(keysDir);
  return new GatewayKeyRing(current, await readRetired(keysDir), keysDir);
}

async function readRetired(keysDir: string): Promise<RetiredGatewayKey[]> {
  let text: string;
  try {
    text = await readFile(retiredGatewayKeysFile(keysDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const { keys } = JSON.parse(text) as { keys: RetiredJwk[] };
  return Promise.all(
    keys.map(async ({ retired_at, accept_tokens_until, ...jwk }) => {
      const { publicKey, publicJwk, kid } = await gatewayPublicKey(jwk);
      return {
        kid,
        publicJwk,
        publicKey,
        retiredAt: new Date(retired_at),
        acceptUntil: new Date(accept_tokens_until),
      };
    }),
  );
}

export interface Rotation {
  previousKid: string;
  currentKid: string;
  acceptOldTokensUntil: Date;
}

/**
 * Replaces the signing key with a new one and retires the old: its public half goes into
 * gateway.retired.jwks.json first (kept for good, so its checkpoints verify), then the new private
 * key replaces gateway.private.jwk.json by rename, so a crash in between leaves the old key both
 * current and retired (harmless) and a reader never sees half a file. Running instances keep
 * signing with the key they started with until they are restarted; they accept the new key's
 * tokens at once (GatewayKeyRing reads the folder on an unknown kid).
 */
export async function rotateGatewayKey(
  keysDir: string,
  options: { now?: Date; overlapSeconds?: number } = {},
): Promise<Rotation> {
  const now = options.now ?? new Date();
  const overlap = options.overlapSeconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
  const ring = await loadGatewayKeyRing(keysDir);
  const acceptUntil = new Date(now.getTime() + overlap * 1000);
  const retired: RetiredJwk[] = [
    {
      ...ring.current.publicJwk,
      retired_at: now.toISOString(),
      accept_tokens_until: acceptUntil.toISOString(),
    },
    ...ring.retired.map((key) => ({
      ...key.publicJwk,
      retired_at: key.retiredAt.toISOString(),
      accept_tokens_until: key.acceptUntil.toISOString(),
    })),
  ];
  await writeAtomically(
    retiredGatewayKeysFile(keysDir),
    `${JSON.stringify({ keys: retired }, null, 2)}\n`,
    0o644,
  );
  const { privateJwk } = await newSigningPair();
  await writeAtomically(gatewayKeyFile(keysDir), `${JSON.stringify(privateJwk, null, 2)}\n`, 0o600);
  const current = await gatewayKeyFromJwk(privateJwk);
  return { previousKid: ring.current.kid, currentKid: current.kid, acceptOldTokensUntil: acceptUntil };
}

async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode, flag: 'wx' });
  await rename(temporary, file);
}

/**
 * Reads `<keysDir>/gateway.private.jwk.json`, generating it (mode 0600) at first start. Creation
 * uses O_EXCL, so two instances starting on one shared folder end up with the same key: the one
 * that lost the race reads the winner's file instead of overwriting it.
 */
export async function loadGatewayKey(keysDir: string): Promise<GatewayKey> {
  const file = gatewayKeyFile(keysDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    const { privateJwk } = await newSigningPair();
    try {
      await writeFile(file, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (writeError) {
      if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
    }
    text = await readFile(file, 'utf8');
  }
  return gatewayKeyFromJwk(JSON.parse(text) as JWK);
}

export async function gatewayKeyFromJwk(jwk: JWK): Promise<GatewayKey> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') {
    throw new Error('The gateway key must be a private EC P-256 JWK (ES256).');
  }
  return {
    privateKey: (await importJWK({ ...jwk, alg: GATEWAY_ALG }, GATEWAY_ALG)) as CryptoKey,
    ...(await gatewayPublicKey(jwk)),
  };
}

/** The public half of a gateway key as published: kid (RFC 7638 thumbprint), alg and use. */
async function gatewayPublicKey(jwk: JWK): Promise<Omit<GatewayKey, 'privateKey'>> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') {
    throw new Error('A gateway key must be an EC P-256 JWK (ES256).');
  }
  const bare = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  const kid = await calculateJwkThumbprint(bare);
  const publicJwk: JWK = { ...bare, kid, alg: GATEWAY_ALG, use: 'sig' };
  return { publicKey: (await importJWK(publicJwk, GATEWAY_ALG)) as CryptoKey, publicJwk, kid };
}
