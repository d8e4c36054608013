import { DomainError } from '../common/problem.js';
import type { Queryable } from './chain.repository.js';
import { consistencyProof, inclusionProof } from './merkle.js';
import { databaseSubtreeHash, frontierAt } from './merkle.repository.js';

/**
 * The log's side of witnessing: the newest signed tree head, and RFC 9162 proofs between the
 * sizes it signed, read from the database (access_log_merkle_node and the seals). Nothing here
 * needs to be trusted: each proof is checked against roots the gateway signed.
 */

/** The newest checkpoint with a Merkle root, as witnesses fetch it. */
export interface SignedTreeHead {
  /** Tree size = chain position it covers. */
  size: string;
  /** Merkle root over positions 1..size, hex. */
  rootHash: string;
  chainHead: string;
  createdAt: string;
  /** Compact JWS (ES256, gateway key): its payload is the checkpoint note (checkpoint-note.ts). */
  jws: string;
  /** The subtree roots that fold to rootHash (RFC 9162 split, biggest first), hex: lets a witness locate a later rewrite. */
  frontier: string[];
}

/** A proof asked for sizes or positions the signed tree does not have (problem+json 400). */
export class TreeRangeError extends DomainError {
  constructor(detail: string) {
    super(400, 'tree-range', 'Not in the signed tree', detail);
  }
}

/** No checkpoint with a Merkle root was signed yet (problem+json 404). */
export class NoTreeHeadError extends DomainError {
  constructor() {
    super(
      404,
      'no-tree-head',
      'No checkpoint yet',
      'The gateway has not signed a checkpoint with a Merkle root yet.',
    );
  }
}

export async function latestTreeHead(db: Queryable): Promise<SignedTreeHead | null> {
  const [row] = (await db.query(
    `SELECT position::text AS size, encode(root_hash, 'hex') AS "rootHash", encode(chain_head, 'hex') AS "chainHead",
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt", jws
       FROM access_log_checkpoint WHERE root_hash IS NOT NULL ORDER BY position DESC LIMIT 1`,
  )) as Omit<SignedTreeHead, 'frontier'>[];
  if (!row) return null;
  const frontier = await frontierAt(db, Number(row.size));
  return { ...row, frontier: frontier.hashes().map((h) => h.toString('hex')) };
}

/** The size of the newest tree head: proofs reach no further (the tree past it is not signed). */
async function signedSize(db: Queryable): Promise<number> {
  const [row] = (await db.query(
    `SELECT coalesce(max(position), 0)::text AS size FROM access_log_checkpoint WHERE root_hash IS NOT NULL`,
  )) as { size: string }[];
  return Number(row!.size);
}

/** RFC 9162 consistency proof from size `first` to size `second` (hex, bottom up). */
export async function treeConsistency(db: Queryable, first: number, second: number): Promise<string[]> {
  const size = await signedSize(db);
  if (!(first >= 1 && first <= second && second <= size)) {
    throw new TreeRangeError(
      `a consistency proof needs 1 <= first <= second <= ${size} (the newest signed tree size); got ${first} and ${second}`,
    );
  }
  const proof = await consistencyProof(first, second, databaseSubtreeHash(db));
  return proof.map((h) => h.toString('hex'));
}

/** An entry's inclusion proof: its chain link (the leaf's data) and the RFC 9162 audit path to the tree of `size`. */
export interface InclusionProof {
  position: string;
  seq: string;
  size: string;
  /** The seal's hashes: entryHash = SHA-256(prevHash || canonical(entry)), the leaf is SHA-256(0x00 || entryHash). */
  entryHash: string;
  prevHash: string;
  proof: string[];
}

export async function treeInclusion(db: Queryable, position: number, size?: number): Promise<InclusionProof> {
  const newest = await signedSize(db);
  const n = size ?? newest;
  if (!(position >= 1 && position <= n && n <= newest)) {
    throw new TreeRangeError(
      `an inclusion proof needs 1 <= position <= size <= ${newest} (the newest signed tree size); got ${position} and ${n}`,
    );
  }
  const [seal] = (await db.query(
    `SELECT seq::text AS seq, encode(entry_hash, 'hex') AS "entryHash", encode(prev_hash, 'hex') AS "prevHash"
       FROM access_log_seal WHERE position = $1`,
    [position],
  )) as { seq: string; entryHash: string; prevHash: string }[];
  if (!seal) throw new TreeRangeError(`chain position ${position} has no seal`);
  const proof = await inclusionProof(position - 1, n, databaseSubtreeHash(db));
  return { position: String(position), size: String(n), ...seal, proof: proof.map((h) => h.toString('hex')) };
}
