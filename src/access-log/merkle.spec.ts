import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  CompactRange,
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  nodeHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
  type SubtreeHash,
} from './merkle.js';

/** n distinct leaf hashes. */
const leavesOf = (n: number, salt = 0): Buffer[] =>
  Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry ${salt}:${i}`)));

const memory =
  (leaves: readonly Buffer[]): SubtreeHash =>
  (lo, hi) =>
    Promise.resolve(rootOf(leaves, lo, hi));

/** RFC 9162 §2.1.1-2.1.4, written as the RFC writes them (recursive, on lists): the reference. */
const k = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
const mth = (d: readonly Buffer[]): Buffer =>
  d.length === 0
    ? createHash('sha256').digest()
    : d.length === 1
      ? d[0]!
      : nodeHash(mth(d.slice(0, k(d.length))), mth(d.slice(k(d.length))));
const PATH = (m: number, d: readonly Buffer[]): Buffer[] => {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s
    ? [...PATH(m, d.slice(0, s)), mth(d.slice(s))]
    : [...PATH(m - s, d.slice(s)), mth(d.slice(0, s))];
};
const SUBPROOF = (m: number, d: readonly Buffer[], b: boolean): Buffer[] => {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s
    ? [...SUBPROOF(m, d.slice(0, s), b), mth(d.slice(s))]
    : [...SUBPROOF(m - s, d.slice(s), false), mth(d.slice(0, s))];
};

const flip = (b: Buffer, at: number): Buffer => {
  const copy = Buffer.from(b);
  copy[at % copy.length]! ^= 1;
  return copy;
};

/** A tree size and a leaf index in it. */
const sizeAndIndex = fc
  .integer({ min: 1, max: 300 })
  .chain((n) => fc.tuple(fc.constant(n), fc.nat({ max: n - 1 })));
/** Two tree sizes 1 <= m <= n. */
const twoSizes = fc
  .integer({ min: 1, max: 300 })
  .chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n)));

describe('Merkle tree (RFC 9162 §2.1)', () => {
  it('hashes leaves and nodes with the RFC domain separation, and the empty tree as SHA-256("")', () => {
    const d = Buffer.from('abc');
    expect(leafHash(d)).toEqual(
      createHash('sha256')
        .update(Buffer.from([0]))
        .update(d)
        .digest(),
    );
    expect(nodeHash(d, d)).toEqual(
      createHash('sha256')
        .update(Buffer.from([1]))
        .update(d)
        .update(d)
        .digest(),
    );
    expect(EMPTY_ROOT.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('computes the root as the RFC defines MTH, for every size, also grown leaf by leaf', () => {
    const leaves = leavesOf(130);
    const range = new CompactRange();
    for (let n = 0; n <= leaves.length; n++) {
      expect(rootOf(leaves, 0, n)).toEqual(mth(leaves.slice(0, n)));
      expect(range.root()).toEqual(mth(leaves.slice(0, n)));
      expect(range.hashes().length).toBe(range.ranges().length);
      for (const [i, [lo, hi]] of range.ranges().entries())
        expect(range.hashes()[i]).toEqual(mth(leaves.slice(lo, hi)));
      if (n < leaves.length) range.append(leaves[n]!);
    }
  });

  it('gives the RFC inclusion proof for every leaf, and it verifies; a tampered one never does', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndIndex, fc.nat(), async ([n, m], at) => {
        const leaves = leavesOf(n);
        const root = mth(leaves);
        const proof = await inclusionProof(m, n, memory(leaves));
        expect(proof).toEqual(PATH(m, leaves));
        expect(verifyInclusion(m, n, leaves[m]!, proof, root)).toBe(true);
        // Any other leaf, index, root, or a changed, dropped or added proof hash: refused. (A proof can
        // hold for a neighbouring size too: the size is bound by the checkpoint's signature, not here.)
        expect(verifyInclusion(m, n, flip(leaves[m]!, at), proof, root)).toBe(false);
        expect(verifyInclusion(m, n, leaves[m]!, proof, flip(root, at))).toBe(false);
        if (n > 1) {
          expect(verifyInclusion((m + 1) % n, n, leaves[m]!, proof, root)).toBe(false);
          const i = at % proof.length;
          expect(
            verifyInclusion(
              m,
              n,
              leaves[m]!,
              proof.map((p, j) => (j === i ? flip(p, at) : p)),
              root,
            ),
          ).toBe(false);
          expect(verifyInclusion(m, n, leaves[m]!, proof.slice(1), root)).toBe(false);
        }
        expect(verifyInclusion(m, n, leaves[m]!, [...proof, root], root)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the RFC consistency proof between any two sizes, and it verifies; a tampered one never does', async () => {
    await fc.assert(
      fc.asyncProperty(twoSizes, fc.nat(), async ([m, n], at) => {
        const leaves = leavesOf(n);
        const first = mth(leaves.slice(0, m));
        const second = mth(leaves);
        const proof = await consistencyProof(m, n, memory(leaves));
        expect(proof).toEqual(m === n ? [] : SUBPROOF(m, leaves, true));
        // O(log n): at most two hashes per level.
        expect(proof.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)) + 1);
        expect(verifyConsistency(m, n, first, second, proof)).toBe(true);
        expect(verifyConsistency(m, n, flip(first, at), second, proof)).toBe(false);
        expect(verifyConsistency(m, n, first, flip(second, at), proof)).toBe(false);
        if (proof.length > 0) {
          const i = at % proof.length;
          expect(
            verifyConsistency(
              m,
              n,
              first,
              second,
              proof.map((p, j) => (j === i ? flip(p, at) : p)),
            ),
          ).toBe(false);
          expect(verifyConsistency(m, n, first, second, proof.slice(0, -1))).toBe(false);
        }
        // A tree that differs anywhere in its first m leaves is not an extension.
        const rewritten = leaves.map((l, i) => (i === at % m ? flip(l, at) : l));
        const forged = await consistencyProof(m, n, memory(rewritten));
        expect(verifyConsistency(m, n, first, mth(rewritten), forged)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a shrinking tree, and proves nothing from or to nowhere', async () => {
    const leaves = leavesOf(8);
    expect(verifyConsistency(5, 4, mth(leaves.slice(0, 5)), mth(leaves.slice(0, 4)), [])).toBe(false);
    expect(verifyConsistency(0, 8, EMPTY_ROOT, mth(leaves), [])).toBe(true);
    await expect(inclusionProof(8, 8, memory(leaves))).rejects.toThrow(RangeError);
    await expect(consistencyProof(9, 8, memory(leaves))).rejects.toThrow(RangeError);
  });
});
