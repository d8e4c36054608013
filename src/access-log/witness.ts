import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  calculateJwkThumbprint,
  CompactSign,
  compactVerify,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';
import { NOTE_TYP, parseNote, type CheckpointNote } from './checkpoint-note.js';
import type { Queryable } from './chain.repository.js';
import { CompactRange, verifyConsistency } from './merkle.js';
import { latestTreeHead, treeConsistency, type SignedTreeHead } from './tree.js';
import { keyRing, type WitnessedCheckpoint } from './verify.js';

/**
 * A witness: keeps the newest checkpoint it saw of the access log, outside the gateway's database,
 * and accepts a new one only when an RFC 9162 consistency proof shows it extends the kept one.
 * Then it cosigns it (in the manner of C2SP tlog-cosignature: it signs "cosignature/v1", the time
 * and the checkpoint note) and stores it. A log that was cut short, or rewritten and resealed,
 * cannot produce such a proof, so the witness raises the alarm instead of moving on, and its stored
 * checkpoint lets `convenant audit verify --witness` show the damage later (docs/witness.md).
 *
 * Where checkpoints come from (LogSource) and where the witness keeps them (WitnessStore) are
 * interfaces: the gateway's HTTP API or a database, and a folder of files; a second database or a
 * partner's system implements the same two methods each.
 */

export interface LogSource {
  /** Where it reads, for messages. */
  readonly name: string;
  latest(): Promise<SignedTreeHead | null>;
  consistency(first: number, second: number): Promise<string[]>;
}

/** What a witness stores per checkpoint it accepted. */
export interface WitnessRecord {
  witness: string;
  witnessedAt: string;
  head: SignedTreeHead;
  /** Compact JWS by the witness key over cosignedText(note, time). */
  cosignature: string;
}

export interface WitnessStore {
  latest(): Promise<WitnessRecord | null>;
  /** Every record it kept, oldest first. */
  all(): Promise<WitnessRecord[]>;
  save(record: WitnessRecord): Promise<void>;
}

/** Why a witness refused a checkpoint: the log is not the one it saw grow, or not signed by the gateway. */
export class WitnessAlarm extends Error {
  constructor(
    readonly kind: 'signature' | 'truncated' | 'forked' | 'inconsistent',
    message: string,
  ) {
    super(message);
    this.name = 'WitnessAlarm';
  }
}

/** The gateway's API (GET /v1/audit/checkpoint and /v1/audit/consistency, no credentials needed). */
export function httpLogSource(baseUrl: string): LogSource {
  const base = baseUrl.replace(/\/$/, '');
  const get = async <T>(url: string): Promise<T> => {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    name: base,
    async latest() {
      const res = await fetch(`${base}/v1/audit/checkpoint`, { headers: { accept: 'application/json' } });
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`GET ${base}/v1/audit/checkpoint: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as SignedTreeHead;
    },
    async consistency(first, second) {
      return (await get<{ proof: string[] }>(`${base}/v1/audit/consistency?first=${first}&second=${second}`))
        .proof;
    },
  };
}

/** The log's database itself (a witness with read access to it, or a copy of it). */
export function databaseLogSource(db: Queryable, name = 'database'): LogSource {
  return {
    name,
    latest: () => latestTreeHead(db),
    consistency: (first, second) => treeConsistency(db, first, second),
  };
}

/**
 * A folder: `latest.json` (the newest accepted checkpoint, replaced atomically) and
 * `checkpoints.ndjson` (every accepted one, appended). Nothing in it is secret but the witness
 * key beside it (witnessKey).
 */
export class FileWitnessStore implements WitnessStore {
  constructor(private readonly dir: string) {}

  async latest(): Promise<WitnessRecord | null> {
    try {
      return JSON.parse(await readFile(path.join(this.dir, 'latest.json'), 'utf8')) as WitnessRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async all(): Promise<WitnessRecord[]> {
    let text: string;
    try {
      text = await readFile(path.join(this.dir, 'checkpoints.ndjson'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as WitnessRecord);
  }

  async save(record: WitnessRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await appendFile(path.join(this.dir, 'checkpoints.ndjson'), `${JSON.stringify(record)}\n`);
    const temp = path.join(this.dir, `latest.json.${process.pid}`);
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
    await rename(temp, path.join(this.dir, 'latest.json'));
  }
}

/** The witness's signing key: ES256, made on first use, the private half kept beside the store. */
export interface WitnessKey {
  name: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function witnessKey(dir: string, name: string): Promise<{ key: WitnessKey; created: boolean }> {
  const file = path.join(dir, 'witness-key.json');
  let privateJwk: JWK;
  let created = false;
  try {
    privateJwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateJwk = await exportJWK(pair.privateKey);
    privateJwk.kid = await calculateJwkThumbprint(privateJwk);
    privateJwk.alg = 'ES256';
    await mkdir(dir, { recursive: true });
    await writeFile(file, JSON.stringify(privateJwk), { mode: 0o600 });
    created = true;
  }
  const { d: _d, ...publicJwk } = privateJwk;
  await writeFile(
    path.join(dir, 'witness-key.pub.json'),
    `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`,
  );
  return {
    key: {
      name,
      kid: privateJwk.kid!,
      privateKey: (await importJWK(privateJwk, 'ES256')) as CryptoKey,
      publicJwk,
    },
    created,
  };
}

/** What a cosignature signs: C2SP tlog-cosignature's message, the checkpoint note after its header lines. */
export function cosignedText(note: string, time: Date): string {
  return `cosignature/v1\ntime ${Math.floor(time.getTime() / 1000)}\n${note}`;
}

/**
 * A tree head as the gateway signed it: its JWS verifies with one of the log's keys, its note
 * matches the fields beside it, and its subtree roots fold to its root. Throws WitnessAlarm.
 */
export async function checkTreeHead(
  head: SignedTreeHead,
  logKeys: readonly JWK[],
): Promise<{ note: CheckpointNote; text: string }> {
  const bad = (why: string) => new WitnessAlarm('signature', `checkpoint of ${head.size} entries: ${why}`);
  let text: string;
  try {
    const key = await keyRing(logKeys)(head.jws);
    if (!key) throw new Error('no key for its kid');
    const { payload, protectedHeader } = await compactVerify(head.jws, key, { algorithms: ['ES256'] });
    if (protectedHeader.typ !== NOTE_TYP)
      throw new Error(`not a checkpoint note (typ ${protectedHeader.typ})`);
    text = new TextDecoder().decode(payload);
  } catch (error) {
    throw bad(`not signed by the gateway (${(error as Error).message})`);
  }
  const note = parseNote(text);
  if (!note) throw bad('its signed text is not a checkpoint note');
  if (note.size !== head.size || note.rootHash !== head.rootHash || note.chainHead !== head.chainHead) {
    throw bad('the fields beside the note differ from the signed ones');
  }
  let frontier: CompactRange;
  try {
    frontier = new CompactRange(
      Number(head.size),
      head.frontier.map((h) => Buffer.from(h, 'hex')),
    );
  } catch {
    throw bad('its subtree roots do not fit its size');
  }
  if (frontier.root().toString('hex') !== note.rootHash) throw bad('its subtree roots do not give its root');
  return { note, text };
}

export interface WitnessResult {
  status: 'first' | 'extended' | 'unchanged';
  previousSize: string | null;
  size: string;
  record: WitnessRecord;
}

/**
 * One round: fetch the log's newest tree head, check it (signature, and that it extends the kept
 * one by a consistency proof), cosign and store it. A refusal throws WitnessAlarm and stores
 * nothing: the kept checkpoint stays the evidence.
 */
export async function witnessRound(options: {
  log: LogSource;
  store: WitnessStore;
  logKeys: readonly JWK[];
  key: WitnessKey;
  now?: Date;
}): Promise<WitnessResult> {
  const { log, store, logKeys, key } = options;
  const head = await log.latest();
  if (!head) throw new Error(`${log.name} has no checkpoint with a Merkle root yet`);
  const { text } = await checkTreeHead(head, logKeys);
  const kept = await store.latest();
  const size = Number(head.size);
  let status: WitnessResult['status'] = 'first';
  if (kept) {
    const keptSize = Number(kept.head.size);
    if (size < keptSize) {
      throw new WitnessAlarm(
        'truncated',
        `${log.name} now signs a tree of ${size} entries, but this witness holds one of ${keptSize} (cosigned ${kept.witnessedAt}): the log was cut short`,
      );
    }
    if (size === keptSize) {
      if (head.rootHash !== kept.head.rootHash) {
        throw new WitnessAlarm(
          'forked',
          `${log.name} signs a different tree of ${size} entries than the one this witness holds: the log was rewritten`,
        );
      }
      status = 'unchanged';
    } else {
      const proof = await log.consistency(keptSize, size);
      const ok = verifyConsistency(
        keptSize,
        size,
        Buffer.from(kept.head.rootHash, 'hex'),
        Buffer.from(head.rootHash, 'hex'),
        proof.map((h) => Buffer.from(h, 'hex')),
      );
      if (!ok) {
        throw new WitnessAlarm(
          'inconsistent',
          `${log.name}'s tree of ${size} entries does not extend the tree of ${keptSize} this witness holds ` +
            `(cosigned ${kept.witnessedAt}): entries up to ${keptSize} were rewritten or removed`,
        );
      }
      status = 'extended';
    }
  }
  const now = options.now ?? new Date();
  const cosignature = await new CompactSign(new TextEncoder().encode(cosignedText(text, now)))
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'convenant-cosignature' })
    .sign(key.privateKey);
  const record: WitnessRecord = { witness: key.name, witnessedAt: now.toISOString(), head, cosignature };
  if (status !== 'unchanged') await store.save(record);
  return { status, previousSize: kept?.head.size ?? null, size: head.size, record };
}

/**
 * A witness's kept checkpoints as the verifier takes them: only those the gateway signed (a
 * witness file cannot accuse the log of something it never signed), newest per size.
 */
export async function witnessedCheckpoints(
  store: WitnessStore,
  logKeys: readonly JWK[],
): Promise<WitnessedCheckpoint[]> {
  const bySize = new Map<string, WitnessedCheckpoint>();
  for (const record of await store.all()) {
    await checkTreeHead(record.head, logKeys);
    bySize.set(record.head.size, {
      witness: record.witness,
      size: record.head.size,
      rootHash: record.head.rootHash,
      frontier: record.head.frontier,
    });
  }
  return [...bySize.values()];
}
