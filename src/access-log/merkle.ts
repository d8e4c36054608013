import { hash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0) §2.1 over the access log's chain
 * positions, so that a witness checks with O(log n) hashes that a new checkpoint extends the one it
 * holds (consistency proof) and an officer proves that one entry is in a signed tree (inclusion
 * proof). No maintained JavaScript library implements RFC 9162's proofs (the popular merkletreejs
 * hashes differently and has no consistency proofs), so the algorithms are written here, from the
 * RFC's own definitions, and property-tested against them (merkle.spec.ts).
 *
 * Leaf i (0-based) is chain position i + 1; its data is that position's 32-byte entry_hash (the
 * hash chain's link, which commits to the entry and everything before it, and stays when retention
 * purges the entry). Hashes are 32-byte Buffers.
 */

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(data: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([LEAF, data]), 'buffer');
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([NODE, left, right]), 'buffer');
}

/** Scratch inputs of appendLinkHex: 0x00 || link, and 0x01 || left || right. */
const LEAF_INPUT = Buffer.alloc(33);
const NODE_INPUT = Buffer.alloc(65);
NODE_INPUT[0] = 0x01;

/** MTH of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT = hash('sha256', Buffer.alloc(0), 'buffer');

/** The largest power of two smaller than n (n > 1): where RFC 9162 splits a tree of n leaves. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The hash of the subtree over leaves [lo, hi) as RFC 9162 defines MTH(D[lo:hi]): where the hashes
 * come from (memory, the database's stored nodes) is the source's business.
 */
export type SubtreeHash = (lo: number, hi: number) => Promise<Buffer>;

/** MTH over leaf hashes in memory (RFC 9162 §2.1.1), recursively split as the RFC splits. */
export function rootOf(leaves: readonly Buffer[], lo = 0, hi = leaves.length): Buffer {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[lo]!;
  const k = splitPoint(n);
  return nodeHash(rootOf(leaves, lo, lo + k), rootOf(leaves, lo + k, hi));
}

/** The inclusion proof PATH(m, D[n]) of RFC 9162 §2.1.3.1, bottom up. */
export async function inclusionProof(m: number, n: number, mth: SubtreeHash): Promise<Buffer[]> {
  if (!(m >= 0 && m < n)) throw new RangeError(`leaf ${m} is not in a tree of ${n}`);
  const path: Buffer[] = [];
  // Walks down from the whole tree, collecting siblings top down; reversed at the end.
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (m - lo < k) {
      path.push(await mth(lo + k, hi));
      hi = lo + k;
    } else {
      path.push(await mth(lo, lo + k));
      lo += k;
    }
  }
  return path.reverse();
}

/** The consistency proof PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1. */
export async function consistencyProof(m: number, n: number, mth: SubtreeHash): Promise<Buffer[]> {
  if (!(m >= 0 && m <= n)) throw new RangeError(`no consistency proof from ${m} to ${n}`);
  if (m === 0 || m === n) return [];
  const proof: Buffer[] = [];
  let lo = 0;
  let hi = n;
  let complete = true;
  let mm = m;
  for (;;) {
    const size = hi - lo;
    if (mm === size) {
      if (!complete) proof.push(await mth(lo, hi));
      break;
    }
    const k = splitPoint(size);
    if (mm <= k) {
      proof.push(await mth(lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(await mth(lo, lo + k));
      lo += k;
      mm -= k;
      complete = false;
    }
  }
  return proof.reverse();
}

const equal = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** RFC 9162 §2.1.3.2: whether `path` proves leaf `m` (its leaf hash) is in the tree of n with `root`. */
export function verifyInclusion(
  m: number,
  n: number,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!(m >= 0 && m < n)) return false;
  let fn = m;
  let sn = n - 1;
  let r: Uint8Array = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/**
 * RFC 9162 §2.1.4.2: whether `proof` shows the tree of n with `second` extends (keeps as its first
 * m leaves) the tree of m with `first`. Equal sizes need an empty proof and equal roots; every
 * tree extends the empty one.
 */
export function verifyConsistency(
  m: number,
  n: number,
  first: Uint8Array,
  second: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!(m >= 0 && m <= n)) return false;
  if (m === n) return proof.length === 0 && equal(first, second);
  if (m === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(m) ? [first, ...proof] : [...proof];
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return equal(fr, first) && equal(sr, second) && sn === 0;
}

/**
 * A tree grown leaf by leaf, holding only the roots of its perfect subtrees from the left (the
 * "compact range" of [0, size)): O(log n) hashes, O(1) amortised per leaf. What the verifier keeps
 * while it walks the chain, to compare its root with each signed checkpoint's.
 */
export class CompactRange {
  /**
   * Roots of the perfect subtrees, biggest (leftmost) first; their sizes are the 1-bits of size.
   * Kept as hex: node:crypto's one-shot hash returns hex about three times faster than a Buffer
   * here, and the verifier appends a leaf per entry.
   */
  private readonly nodes: string[];
  private n: number;

  constructor(size = 0, nodes: readonly Uint8Array[] = []) {
    if (popcount(size) !== nodes.length) {
      throw new RangeError(
        `a compact range of ${size} leaves has ${popcount(size)} hashes, not ${nodes.length}`,
      );
    }
    this.n = size;
    this.nodes = nodes.map((h) => Buffer.from(h).toString('hex'));
  }

  get size(): number {
    return this.n;
  }

  /** The subtree roots, biggest first. */
  hashes(): Buffer[] {
    return this.nodes.map((h) => Buffer.from(h, 'hex'));
  }

  /**
   * Appends the leaf for a chain link given as hex (the verifier's form), hashing from reused
   * buffers, as the verifier does this once per entry of a log of millions.
   */
  appendLinkHex(entryHashHex: string): void {
    if (LEAF_INPUT.write(entryHashHex, 1, 32, 'hex') !== 32)
      throw new TypeError('a chain hash is 32 bytes of hex');
    this.push(hash('sha256', LEAF_INPUT, 'hex'));
  }

  append(leaf: Uint8Array): void {
    this.push(Buffer.from(leaf).toString('hex'));
  }

  /** Each trailing 1-bit of the size is a subtree of the same size as the one being carried. */
  private push(leafHex: string): void {
    let node = leafHex;
    for (let size = this.n; size % 2 === 1; size = Math.floor(size / 2)) {
      NODE_INPUT.write(this.nodes.pop()!, 1, 32, 'hex');
      NODE_INPUT.write(node, 33, 32, 'hex');
      node = hash('sha256', NODE_INPUT, 'hex');
    }
    this.nodes.push(node);
    this.n++;
  }

  /** MTH(D[0:size]): the subtree roots folded from the right, as RFC 9162 splits. */
  root(): Buffer {
    const nodes = this.hashes();
    if (nodes.length === 0) return EMPTY_ROOT;
    let root = nodes[nodes.length - 1]!;
    for (let i = nodes.length - 2; i >= 0; i--) root = nodeHash(nodes[i]!, root);
    return root;
  }

  /**
   * The leaf ranges [lo, hi) of the subtrees, biggest first, matching hashes(): where two trees of
   * the same size first differ, when their hashes are compared one by one.
   */
  ranges(): [number, number][] {
    return rangesOf(this.n);
  }
}

/** The leaf ranges [lo, hi) of the perfect subtrees that make up a tree of n leaves, biggest first. */
export function rangesOf(n: number): [number, number][] {
  const out: [number, number][] = [];
  let lo = 0;
  for (let bit = 2 ** Math.floor(Math.log2(Math.max(n, 1))); bit >= 1; bit /= 2) {
    if (Math.floor(n / bit) % 2 === 1) {
      out.push([lo, lo + bit]);
      lo += bit;
    }
  }
  return out;
}

/** For sizes past 2^31, where JavaScript's bitwise operators no longer apply. */
export function isPowerOfTwo(n: number): boolean {
  return n >= 1 && 2 ** Math.round(Math.log2(n)) === n;
}

function popcount(n: number): number {
  let count = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) count += x % 2;
  return count;
}
