import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Convenant, Partner } from '../policy/model.js';
import { localJwksCandidates } from './jwks-locations.js';

/**
 * Demo keys for every partner of a convenant, so the gateway works on a laptop without anyone
 * handing out key material. The private halves exist only because nobody real signs with them:
 * production never generates partner keys (a partner keeps its private key to itself).
 */

/** The algorithm of demo keys: ES256 is in every partner library and cheap to verify. */
export const DEV_KEY_ALG = 'ES256';

export interface DevKeyFiles {
  partner: string;
  publicFile: string;
  privateFile: string;
  /** False when both files were already there and were kept. */
  created: boolean;
}

/** `<keysDir>/<basename of the partner's keys file>`: where the gateway looks when the convenant folder has no such file. */
export function devPublicKeyFile(partner: Partner, keysDir: string): string {
  return path.join(keysDir, path.basename(partner.keys.jwksFile ?? `${partner.id}.jwks.json`));
}

export function devPrivateKeyFile(partnerId: string, keysDir: string): string {
  return path.join(keysDir, `${partnerId}.private.jwk.json`);
}

/**
 * Writes an ES256 pair for each partner that has a JWKS file in the convenant (not for partners
 * that publish a jwks_uri: their keys are theirs). Existing pairs are kept unless `force`.
 */
export async function generateDevKeys(
  partners: readonly Partner[],
  keysDir: string,
  options: { force?: boolean } = {},
): Promise<DevKeyFiles[]> {
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  const results: DevKeyFiles[] = [];
  for (const partner of partners) {
    if (partner.keys.jwksFile === undefined) continue;
    const publicFile = devPublicKeyFile(partner, keysDir);
    const privateFile = devPrivateKeyFile(partner.id, keysDir);
    const present = (await exists(publicFile)) && (await exists(privateFile));
    if (present && !options.force) {
      results.push({ partner: partner.id, publicFile, privateFile, created: false });
      continue;
    }
    const { privateJwk, publicJwk } = await newSigningPair();
    // Private half first and 0600: a crash in between leaves an unusable pair, never a readable secret.
    await writeFile(privateFile, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
    await writeFile(publicFile, `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`, { mode: 0o644 });
    results.push({ partner: partner.id, publicFile, privateFile, created: true });
  }
  return results;
}

/**
 * Generates demo keys only for partners whose key file exists nowhere (neither in the convenant
 * folder nor in keysDir), so real keys placed by an operator are never shadowed or replaced.
 */
export async function ensureDevKeys(convenant: Convenant, keysDir: string): Promise<DevKeyFiles[]> {
  const missing: Partner[] = [];
  for (const partner of convenant.partners) {
    if (partner.keys.jwksFile === undefined) continue;
    const candidates = localJwksCandidates(convenant, partner, keysDir, { allowDataDir: true });
    let found = false;
    for (const file of candidates) if (await exists(file)) found = true;
    if (!found) missing.push(partner);
  }
  return missing.length > 0 ? generateDevKeys(missing, keysDir) : [];
}

/** A partner's demo private key, as `convenant token --assertion` and the tests sign with it. */
export async function readDevPrivateKey(partnerId: string, keysDir: string): Promise<JWK> {
  return JSON.parse(await readFile(devPrivateKeyFile(partnerId, keysDir), 'utf8')) as JWK;
}

/** A fresh ES256 pair as JWKs, both carrying the RFC 7638 thumbprint as kid. */
export async function newSigningPair(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(DEV_KEY_ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const meta = { kid, alg: DEV_KEY_ALG, use: 'sig' };
  return { privateJwk: { ...(await exportJWK(privateKey)), ...meta }, publicJwk: { ...publicJwk, ...meta } };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
