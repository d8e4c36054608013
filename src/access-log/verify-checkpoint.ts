/**
 * Checking one checkpoint during a chain walk (see verify.ts): its signature against the key
 * ring, its fields, its Merkle root, and what a witnessed root that differs says.
 */
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { NOTE_TYP, parseNote } from './checkpoint-note.js';
import { CompactRange } from './merkle.js';
import type { Checkpoint, CheckpointPayload, Failure, WitnessedCheckpoint } from './verify-types.js';

export function checkpointPayload(c: Omit<Checkpoint, 'jws'>): string {
  const payload: CheckpointPayload = {
    position: c.position,
    chainHead: c.chainHead,
    count: c.count,
    createdAt: c.createdAt,
  };
  return JSON.stringify(payload);
}
type KeyRing = (jws: string) => Promise<Awaited<ReturnType<typeof importJWK>> | null>;

/**
 * Picks the key for a checkpoint by the `kid` in its JWS header. A lone key without a kid serves
 * every checkpoint; otherwise an unknown kid finds no key, and the checkpoint fails as unsigned.
 */
export function keyRing(jwks: JWK | readonly JWK[]): KeyRing {
  const list: readonly JWK[] = Array.isArray(jwks) ? jwks : [jwks as JWK];
  const imported = new Map<JWK, ReturnType<typeof importJWK>>();
  const load = (jwk: JWK) => {
    let key = imported.get(jwk);
    if (!key) imported.set(jwk, (key = importJWK(jwk, 'ES256')));
    return key;
  };
  return async (jws) => {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(jws).kid;
    } catch {
      return null;
    }
    const jwk =
      list.find((k) => kid !== undefined && k.kid === kid) ??
      (list.length === 1 && list[0]!.kid === undefined ? list[0] : undefined);
    return jwk ? load(jwk) : null;
  };
}

/** Whether a missing entry's seq is one a recorded retention run removed; a missing entry outside them was removed. */
/** What a checkpoint's JWS signs, in either format: the JSON payload, or the note with its tree. */
export async function signedFields(
  c: Checkpoint,
  keys: KeyRing,
): Promise<(CheckpointPayload & { rootHash?: string }) | null> {
  try {
    const key = await keys(c.jws);
    if (!key) return null;
    const { payload, protectedHeader } = await compactVerify(c.jws, key, { algorithms: ['ES256'] });
    const text = new TextDecoder().decode(payload);
    if (protectedHeader.typ !== NOTE_TYP) return JSON.parse(text) as CheckpointPayload;
    const note = parseNote(text);
    if (!note) return null;
    return {
      position: note.size,
      chainHead: note.chainHead,
      count: note.size,
      createdAt: note.createdAt,
      rootHash: note.rootHash,
    };
  } catch {
    return null;
  }
}

/** What checking a checkpoint found: the failure, or whether its Merkle root was compared too. */
type CheckpointCheck = { failure: Failure } | { failure: null; root: boolean };

export async function checkCheckpoint(
  c: Checkpoint,
  head: string,
  keys: KeyRing,
  tree: CompactRange | null = null,
): Promise<CheckpointCheck> {
  const fail = (failure: Failure): CheckpointCheck => ({ failure });
  const at = { position: c.position, seq: null };
  const signed = await signedFields(c, keys);
  if (!signed) {
    return fail({
      ...at,
      problem: 'checkpoint-signature',
      detail: `checkpoint ${c.position}: signature invalid`,
    });
  }
  if (
    signed.position !== c.position ||
    signed.chainHead !== c.chainHead ||
    signed.count !== c.count ||
    // A stored root must be the signed one; an export may leave it out (the signed one is used).
    (c.rootHash != null && signed.rootHash !== c.rootHash)
  ) {
    return fail({
      ...at,
      problem: 'checkpoint-signature',
      detail: `checkpoint ${c.position}: stored fields differ from the signed ones`,
    });
  }
  if (signed.chainHead !== head) {
    return fail({
      ...at,
      problem: 'checkpoint-head',
      detail: `checkpoint ${c.position}: chain head differs`,
    });
  }
  if (signed.count !== c.position) {
    return fail({
      ...at,
      problem: 'checkpoint-count',
      detail: `checkpoint ${c.position}: signed count ${signed.count} differs from the position`,
    });
  }
  if (signed.rootHash === undefined || tree === null || tree.size !== Number(c.position)) {
    return { failure: null, root: false };
  }
  if (tree.root().toString('hex') !== signed.rootHash) {
    return fail({
      ...at,
      problem: 'checkpoint-root',
      detail: `checkpoint ${c.position}: Merkle root differs`,
    });
  }
  return { failure: null, root: true };
}

/**
 * A witnessed root that the recomputed tree does not have: the chain was rewritten up to that size
 * and resealed. The witness's subtree roots say in which subtree it first differs, and the last
 * checkpoint that verified says it lies after that; the first position past both is named.
 */
export function rewrittenFailure(
  w: WitnessedCheckpoint,
  tree: CompactRange,
  anchored: string | null,
): Failure {
  let lo = 0;
  let hi = Number(w.size);
  const ours = tree.hashes().map((h) => h.toString('hex'));
  if (w.frontier && w.frontier.length === ours.length) {
    const i = ours.findIndex((h, j) => h !== w.frontier![j]);
    if (i >= 0) [lo, hi] = tree.ranges()[i]!;
  }
  if (anchored !== null && Number(anchored) > lo) lo = Number(anchored);
  return {
    problem: 'rewritten',
    position: String(lo + 1),
    seq: null,
    detail:
      `witness ${w.witness} holds the gateway's checkpoint of ${w.size} entries with Merkle root ${w.rootHash}; ` +
      `the log's tree at that size differs: entries were rewritten or replaced, the first of them in positions ${lo + 1}–${hi}`,
  };
}
