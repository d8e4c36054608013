import type { Queryable } from './chain.repository.js';
import {
  CompactRange,
  isPowerOfTwo,
  leafHash,
  nodeHash,
  rangesOf,
  rootOf,
  splitPoint,
  type SubtreeHash,
} from './merkle.js';

/** Subtrees of this many leaves and more are stored (access_log_merkle_node); smaller ones are hashed from the seals. */
export const STORED_LEVEL = 8;
const TILE = 2 ** STORED_LEVEL;

/** The leaf hashes of positions lo + 1 .. hi (leaves [lo, hi)), from the seals' entry hashes. */
async function leavesOf(db: Queryable, lo: number, hi: number): Promise<Buffer[]> {
  const rows = (await db.query(
    `SELECT entry_hash AS hash FROM access_log_seal WHERE position > $1 AND position <= $2 ORDER BY position`,
    [lo, hi],
  )) as { hash: Buffer }[];
  if (rows.length !== hi - lo) {
    throw new MerkleGapError(`positions ${lo + 1}-${hi} hold ${rows.length} seals, not ${hi - lo}`);
  }
  return rows.map((r) => leafHash(r.hash));
}

/** The seals do not hold every position a tree needs: the chain has a gap (verification names it). */
export class MerkleGapError extends Error {
  constructor(detail: string) {
    super(`The access log's Merkle tree cannot be computed: ${detail}.`);
    this.name = 'MerkleGapError';
  }
}

/**
 * MTH(D[lo:hi]) from the database: stored nodes for perfect aligned subtrees of TILE leaves and
 * more, the seals' entry hashes below that; split as RFC 9162 splits. A stored node that is missing
 * (a subtree past the newest checkpoint) is computed from its halves.
 */
export function databaseSubtreeHash(db: Queryable): SubtreeHash {
  const mth: SubtreeHash = async (lo, hi) => {
    const size = hi - lo;
    if (size < TILE) return rootOf(await leavesOf(db, lo, hi));
    if (isPowerOfTwo(size) && lo % size === 0) {
      const level = Math.log2(size);
      const [row] = (await db.query(
        `SELECT hash FROM access_log_merkle_node WHERE level = $1 AND index = $2`,
        [level, lo / size],
      )) as { hash: Buffer }[];
      if (row) return row.hash;
      if (size === TILE) return rootOf(await leavesOf(db, lo, hi));
    }
    const k = splitPoint(size);
    return nodeHash(await mth(lo, lo + k), await mth(lo + k, hi));
  };
  return mth;
}

/** The compact range (subtree roots, biggest first) of the first n leaves, from the database. */
export async function frontierAt(db: Queryable, n: number): Promise<CompactRange> {
  const mth = databaseSubtreeHash(db);
  const hashes: Buffer[] = [];
  for (const [lo, hi] of rangesOf(n)) hashes.push(await mth(lo, hi));
  return new CompactRange(n, hashes);
}

/**
 * Stores every perfect aligned subtree of TILE leaves and more that lies within the first n
 * leaves and is not stored yet, bottom level first, and returns MTH(D[0:n]). Called with each new
 * checkpoint, inside its transaction: it reads the entry hashes sealed since the last stored tile
 * (at most a checkpoint's worth plus TILE), not the log.
 */
export async function extendTree(db: Queryable, n: number): Promise<Buffer> {
  const [done] = (await db.query(
    `SELECT coalesce(max(index) + 1, 0)::int AS tiles FROM access_log_merkle_node WHERE level = $1`,
    [STORED_LEVEL],
  )) as { tiles: number }[];
  const first = done!.tiles;
  const last = Math.floor(n / TILE);
  if (last > first) {
    const leaves = await leavesOf(db, first * TILE, last * TILE);
    const tiles: Buffer[] = [];
    for (let i = 0; i < last - first; i++) tiles.push(rootOf(leaves, i * TILE, (i + 1) * TILE));
    await insertNodes(db, STORED_LEVEL, first, tiles);
    for (let level = STORED_LEVEL + 1; 2 ** level <= n; level++) {
      const [have] = (await db.query(
        `SELECT coalesce(max(index) + 1, 0)::int AS count FROM access_log_merkle_node WHERE level = $1`,
        [level],
      )) as { count: number }[];
      const from = have!.count;
      const to = Math.floor(n / 2 ** level);
      if (to <= from) continue;
      const children = (await db.query(
        `SELECT hash FROM access_log_merkle_node WHERE level = $1 AND index >= $2 AND index < $3 ORDER BY index`,
        [level - 1, 2 * from, 2 * to],
      )) as { hash: Buffer }[];
      if (children.length !== 2 * (to - from)) {
        throw new MerkleGapError(`level ${level - 1} holds ${children.length} of ${2 * (to - from)} nodes`);
      }
      const nodes: Buffer[] = [];
      for (let i = 0; i < to - from; i++)
        nodes.push(nodeHash(children[2 * i]!.hash, children[2 * i + 1]!.hash));
      await insertNodes(db, level, from, nodes);
    }
  }
  return (await frontierAt(db, n)).root();
}

async function insertNodes(db: Queryable, level: number, from: number, hashes: Buffer[]): Promise<void> {
  await db.query(
    `INSERT INTO access_log_merkle_node (level, index, hash)
     SELECT $1, $2::bigint + i - 1, h FROM unnest($3::bytea[]) WITH ORDINALITY AS u(h, i)`,
    [level, from, hashes],
  );
}
