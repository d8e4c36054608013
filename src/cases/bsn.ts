import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppConfig } from '../config/config.js';

/**
 * The BSN (burgerservicenummer) is stored only as a keyed hash (to find a person again without
 * decrypting anything) and as an AES-256-GCM ciphertext (to show it to a partner the convenant
 * allows to read the catalogue field of sensitivity `bsn`). It never appears in logs, URLs or plain database columns.
 */

/** The 11-test (elfproef) over nine digits; all-zero passes the arithmetic but is no BSN. */
export function isValidBsn(value: string): boolean {
  if (!/^\d{9}$/.test(value) || value === '000000000') return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(value[i]) * (9 - i);
  sum -= Number(value[8]);
  return sum % 11 === 0;
}

/** Injection token of the gateway's BsnCipher (built from loadBsnKeys at start). */
export const BSN_CIPHER = Symbol('BSN_CIPHER');

export interface BsnKeys {
  hmacKey: Buffer;
  encryptionKey: Buffer;
}

const FORMAT_V1 = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class BsnDecryptionError extends Error {
  override name = 'BsnDecryptionError';
}

/**
 * Hash, encrypt and decrypt with the gateway's two keys. `context` is bound into the ciphertext
 * as GCM associated data (we pass the person's id), so a ciphertext copied onto another person
 * does not decrypt.
 */
export class BsnCipher {
  constructor(private readonly keys: BsnKeys) {
    if (keys.hmacKey.length !== 32 || keys.encryptionKey.length !== 32) {
      throw new Error('BSN keys must be 32 bytes each.');
    }
  }

  hash(bsn: string): Buffer {
    return createHmac('sha256', this.keys.hmacKey).update(bsn, 'utf8').digest();
  }

  /** `version (1 byte) | iv (12) | tag (16) | ciphertext`. */
  encrypt(bsn: string, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.encryptionKey, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(bsn, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT_V1]), iv, cipher.getAuthTag(), ciphertext]);
  }

  decrypt(sealed: Buffer, context: string): string {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT_V1) {
      throw new BsnDecryptionError('Not a BSN ciphertext this gateway wrote.');
    }
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.keys.encryptionKey, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new BsnDecryptionError('The BSN ciphertext does not decrypt with this key and person.');
    }
  }
}

export const SECRETS_FILE = 'secrets.json';

interface SecretsFile {
  bsnHmacKey: string;
  bsnEncryptionKey: string;
}

/**
 * The configured keys; outside production, when none are configured, keys generated once into
 * `<dataDir>/secrets.json` (0600) and reused after, so BSNs stored in a development database stay
 * readable across restarts. Production refuses to start without configured keys (config.ts).
 */
export async function loadBsnKeys(
  config: Pick<AppConfig, 'env' | 'dataDir' | 'bsnHmacKey' | 'bsnEncryptionKey'>,
): Promise<BsnKeys> {
  if (config.bsnHmacKey && config.bsnEncryptionKey) {
    return { hmacKey: config.bsnHmacKey, encryptionKey: config.bsnEncryptionKey };
  }
  if (config.env === 'production') {
    throw new Error('BSN_HMAC_KEY and BSN_ENCRYPTION_KEY must be set in production.');
  }
  const file = path.join(config.dataDir, SECRETS_FILE);
  const stored = (await readSecrets(file)) ?? (await createSecrets(file));
  return {
    hmacKey: config.bsnHmacKey ?? Buffer.from(stored.bsnHmacKey, 'base64'),
    encryptionKey: config.bsnEncryptionKey ?? Buffer.from(stored.bsnEncryptionKey, 'base64'),
  };
}

async function readSecrets(file: string): Promise<SecretsFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (((await stat(file)).mode & 0o077) !== 0) {
    throw new Error(`${file} holds the BSN keys and must be readable by its owner only: chmod 600 ${file}`);
  }
  const parsed = JSON.parse(text) as Partial<SecretsFile>;
  if (typeof parsed.bsnHmacKey !== 'string' || typeof parsed.bsnEncryptionKey !== 'string') {
    throw new Error(`${file} lacks bsnHmacKey or bsnEncryptionKey; remove it to generate new keys.`);
  }
  return { bsnHmacKey: parsed.bsnHmacKey, bsnEncryptionKey: parsed.bsnEncryptionKey };
}

/**
 * Written to a temporary file and hard-linked into place: link() fails if the file exists, so
 * two processes starting at once (parallel tests) agree on one set of keys, and nobody reads a
 * half-written file.
 */
async function createSecrets(file: string): Promise<SecretsFile> {
  await mkdir(path.dirname(file), { recursive: true });
  const secrets: SecretsFile = {
    bsnHmacKey: randomBytes(32).toString('base64'),
    bsnEncryptionKey: randomBytes(32).toString('base64'),
  };
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  try {
    await link(temporary, file);
    return secrets;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readSecrets(file);
    if (!winner) throw error;
    return winner;
  } finally {
    await rm(temporary, { force: true });
  }
}
