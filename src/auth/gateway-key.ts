import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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

export function gatewayKeyFile(keysDir: string): string {
  return path.join(keysDir, 'gateway.private.jwk.json');
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
  const bare = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  const kid = await calculateJwkThumbprint(bare);
  const publicJwk: JWK = { ...bare, kid, alg: GATEWAY_ALG, use: 'sig' };
  return {
    privateKey: (await importJWK({ ...jwk, alg: GATEWAY_ALG }, GATEWAY_ALG)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, GATEWAY_ALG)) as CryptoKey,
    publicJwk,
    kid,
  };
}
