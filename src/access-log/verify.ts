// Why this file is over 500 lines: verifyChain is one pass over the chain, and its state (expected
// position, previous hash, seals, checkpoints, purges, the first failure) is shared by every step.
// Splitting the loop would spread that state over modules. Separate parts live elsewhere:
// verify-checkpoint.ts, verify-purges.ts, verify-parallel.ts and verify-types.ts.
import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { JWK } from 'jose';
import { CompactRange } from './merkle.js';
import {
  canonicalTextOf,
  chainHasher,
  entryHashHex,
  formatOfHashable,
  GENESIS,
  type HashableEntry,
} from './chain.js';
import type {
  ChainLink,
  Checkpoint,
  Failure,
  Problem,
  PurgeRange,
  RowSource,
  VerifyInput,
  VerifyReport,
  VerifyRow,
} from './verify-types.js';
import { checkCheckpoint, keyRing, rewrittenFailure } from './verify-checkpoint.js';
export type {
  ChainLink,
  ChainRow,
  Checkpoint,
  CheckpointPayload,
  Failure,
  Problem,
  PurgeRange,
  RowSource,
  Seal,
  VerifyInput,
  VerifyReport,
  VerifyRow,
  WitnessedCheckpoint,
} from './verify-types.js';
export { checkpointPayload, keyRing, signedFields } from './verify-checkpoint.js';

/**
 * Reads a RowSource one row at a time, with look-ahead, flattening batches. A queue with a read
 * index, not Array.shift: batches hold thousands of rows.
 */
function rowReader(source: RowSource) {
  const iterator: AsyncIterator<VerifyRow | readonly VerifyRow[]> | Iterator<VerifyRow> =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let queue: readonly VerifyRow[] = [];
  let index = 0;
  let done = false;
  const fill = async (): Promise<boolean> => {
    if (done) return false;
    const step = await iterator.next();
    if (step.done) {
      done = true;
      return false;
    }
    const batch: readonly VerifyRow[] = Array.isArray(step.value) ? step.value : [step.value as VerifyRow];
    // The batch itself when the queue is used up (no copy per row); joined only while peeking ahead.
    queue = index >= queue.length ? batch : [...queue.slice(index), ...batch];
    index = 0;
    return true;
  };
  let served = 0;
  return {
    /**
     * The next row if it is already here, without a promise: with async hooks on (the gateway's
     * AsyncLocalStorage) a promise per row cost more than hashing it. Undefined means: ask next().
     */
    take(): VerifyRow | undefined {
      // A page of rows taken without a macrotask turn would keep the event loop from reading the
      // socket or file the next pages come from, and the sender stalls on a full buffer meanwhile.
      if (index >= queue.length || (++served & 1023) === 0) return undefined;
      return queue[index++];
    },
    async next(): Promise<VerifyRow | undefined> {
      await yieldToIo();
      while (index >= queue.length) if (!(await fill())) return undefined;
      return queue[index++];
    },
    /** The row `offset` places after the one last returned by next(), without consuming it. */
    async peek(offset: number): Promise<VerifyRow | undefined> {
      while (index + offset >= queue.length) if (!(await fill())) return undefined;
      return queue[index + offset];
    },
  };
}

/** How far ahead a mismatching entry is looked for, to tell "reordered" from "altered". */
const REORDER_LOOKAHEAD = 1024;

/**
 * Recomputes the chain and checks every checkpoint in range; stops at the first failure, because
 * after it every later hash differs too and says nothing more. Pure: reads only its input.
 *
 * The loop runs once per entry, a million times for a large log, so it allocates as little as it
 * can: chain positions as numbers (exact up to 2^53 entries), the head as the hex it is compared
 * in, one reused hash input (chainHasher), and the checkpoints in position order instead of a
 * lookup per entry.
 */
export async function verifyChain(input: VerifyInput): Promise<VerifyReport> {
  const from = safePosition(input.from ?? 1n);
  const to = input.to === undefined ? null : safePosition(input.to);
  const inRange = (position: number) => position >= from && (to === null || position <= to);
  // In range and by position; `next` is the first one the chain has not reached yet.
  const checkpoints = input.checkpoints
    .filter((c) => inRange(Number(c.position)))
    .sort((a, b) => Number(a.position) - Number(b.position));
  const checkpointPositions = checkpoints.map((c) => Number(c.position));
  let next = 0;
  // The checkpoint just before the range, when there is one, vouches for the head the range starts from.
  const before =
    from > 1 && input.startHead === undefined
      ? input.checkpoints.find((c) => Number(c.position) === from - 1)
      : undefined;
  const keys = keyRing(input.publicJwk);
  const purge = purgeLedger(input.purged ?? []);
  // The Merkle tree over positions, when its state before `from` is known.
  let tree: CompactRange | null = from === 1 ? new CompactRange() : null;
  let treeFailure: Failure | null = null;
  if (from > 1 && input.startFrontier !== undefined) {
    const boundary = input.checkpoints.find((c) => Number(c.position) === from - 1);
    const given = new CompactRange(
      from - 1,
      input.startFrontier.map((h) => Buffer.from(h, 'hex')),
    );
    if (boundary?.rootHash) {
      if (given.root().toString('hex') === boundary.rootHash) tree = given;
      else
        treeFailure = {
          problem: 'checkpoint-root',
          position: boundary.position,
          seq: null,
          detail: `checkpoint ${boundary.position}: the stored Merkle nodes do not give its root`,
        };
    }
  }
  const witnessed = [...(input.witnessed ?? [])]
    .filter((w) => inRange(Number(w.size)))
    .sort((a, b) => Number(a.size) - Number(b.size));
  let nextWitnessed = 0;
  let roots = 0;
  let witnessChecked = 0;
  const nowMs = (input.now ?? new Date()).getTime();
  const pendingSince = nowMs - (input.pendingGraceMs ?? 5 * 60_000);
  const unsealedSince = input.unsealedMaxMs === undefined ? null : nowMs - input.unsealedMaxMs;
  /** Seqs of unsealed rows past the bound, the first few of them by seq (they are read in seq order). */
  const overdueSeqs: string[] = [];
  const hashNext = chainHasher();
  // Null until the range's first seal gives it (a range that does not start at the genesis).
  let head: string | null = input.startHead ?? (from === 1 ? GENESIS.toString('hex') : null);
  let expected = from;
  let entries = 0;
  let checked = 0;
  let pending = 0;
  let overdue = 0;
  let anchored: string | null = null;
  let sinceAnchor = 0;
  let purged = 0;
  let maxSealedSeq = input.sealedBefore === undefined ? 0 : Number(input.sealedBefore);
  const report = (failure: Failure | null): VerifyReport => ({
    ok: failure === null,
    entries,
    checkpoints: checked,
    anchored,
    unanchored: sinceAnchor,
    purged,
    purgedRanges: purge.used(),
    roots,
    witnessed: witnessChecked,
    pending,
    overdue,
    head: head ?? '',
    failure,
  });
  /** The first failure, at this seal's position and seq. */
  const failAt = (seal: ChainLink, problem: Problem, detail: string) =>
    report({ problem, position: seal.position, seq: seal.seq, detail });
  /** The checkpoint at the position just verified, if there is one: its signature and head. */
  const checkpointAt = async (position: number): Promise<Failure | null> => {
    while (next < checkpoints.length && checkpointPositions[next]! < position) next++;
    const checkpoint = checkpoints[next];
    if (checkpoint === undefined || checkpointPositions[next] !== position) return null;
    next++;
    const check = await checkCheckpoint(checkpoint, head!, keys, tree);
    if (check.failure) return check.failure;
    checked++;
    if (check.root) roots++;
    anchored = checkpoint.position;
    sinceAnchor = 0;
    return null;
  };
  /** The witnessed checkpoints at this position: the tree here must have their root. */
  const witnessedAt = (position: number): Failure | null => {
    while (nextWitnessed < witnessed.length && Number(witnessed[nextWitnessed]!.size) <= position) {
      const w = witnessed[nextWitnessed++]!;
      if (Number(w.size) < position || tree === null) continue;
      if (tree.root().toString('hex') === w.rootHash) {
        witnessChecked++;
        continue;
      }
      return rewrittenFailure(w, tree, anchored);
    }
    return null;
  };

  if (treeFailure) return report(treeFailure);
  const reader = rowReader(input.rows);

  for (
    let row = reader.take() ?? (await reader.next());
    row !== undefined;
    row = reader.take() ?? (await reader.next())
  ) {
    const { entry, seal } = row;
    if (seal === null) {
      if (entry === null) continue;
      // Rows are read sealed-first, so maxSealedSeq is final here. An old row below it was skipped
      // by the chain (sealers take rows in seq order), so it was put in afterwards.
      const occurred = Date.parse(occurredAtOf(entry));
      if (Number(entry.seq) < maxSealedSeq && occurred < pendingSince) {
        return report({
          problem: 'inserted',
          position: null,
          seq: entry.seq,
          detail: `entry seq ${entry.seq} is in the log but not in the chain, although later entries are`,
        });
      }
      pending++;
      if (unsealedSince !== null && occurred < unsealedSince) {
        overdue++;
        if (overdueSeqs.length < OVERDUE_NAMED) overdueSeqs.push(entry.seq);
      }
      continue;
    }
    const position = Number(seal.position);
    if (position < from) continue;
    if (to !== null && position > to) break;
    const sealSeq = Number(seal.seq);
    if (sealSeq > maxSealedSeq) maxSealedSeq = sealSeq;
    if (position !== expected) {
      return report({
        problem: 'removed',
        position: String(expected),
        seq: null,
        detail: `chain position ${expected} is missing (next present: ${seal.position})`,
      });
    }
    if (head === null) {
      if (!HASH_HEX.test(seal.prevHash)) {
        return failAt(seal, 'chain-broken', `the seal's previous hash is not a SHA-256 hash`);
      }
      head = seal.prevHash;
      if (before) {
        const { failure } = await checkCheckpoint(before, head, keys);
        if (failure) return report(failure);
        checked++;
        anchored = before.position;
      }
    }
    if (seal.prevHash !== head) {
      return failAt(seal, 'chain-broken', `the seal's previous hash does not match the chain head before it`);
    }
    if (row.duplicate) {
      return failAt(
        seal,
        'inserted',
        `seq ${seal.seq} is in the log more than once: a row was put in beside the sealed one`,
      );
    }
    if (entry === null) {
      if (!purge.take(seal.seq)) {
        return failAt(
          seal,
          'removed',
          `entry seq ${seal.seq} is sealed but no longer in the log, and no retention run accounts for it`,
        );
      }
      // Purged by retention: the seal is all that is left, and its link to the next one is checked.
      if (!HASH_HEX.test(seal.entryHash)) {
        return failAt(seal, 'chain-broken', `the seal's entry hash is not a SHA-256 hash`);
      }
      head = seal.entryHash;
      tree?.appendLinkHex(seal.entryHash);
      purged++;
      expected++;
      const failure = (await checkpointAt(position)) ?? witnessedAt(position);
      if (failure) return report(failure);
      continue;
    }
    const computed = hashNext(head, entry);
    if (computed !== seal.entryHash) {
      // A swap of two entries looks like an alteration at the first of them; finding the entry
      // that belongs here further on says which it is.
      for (let i = 0; i < REORDER_LOOKAHEAD; i++) {
        const ahead = await reader.peek(i);
        if (ahead === undefined) break;
        if (ahead.entry && hashNext(head, ahead.entry) === seal.entryHash) {
          return failAt(
            seal,
            'reordered',
            `the entry sealed at position ${seal.position} (seq ${ahead.entry.seq}) now stands at position ${ahead.seal?.position ?? '?'}`,
          );
        }
      }
      return failAt(seal, 'altered', `entry seq ${entry.seq} differs from what was sealed`);
    }
    // The seal names the format it hashed; an entry of another shape hashing the same cannot be.
    const shape = seal.format == null ? undefined : formatOfHashable(entry);
    if (shape !== undefined && shape !== seal.format) {
      return failAt(
        seal,
        'chain-broken',
        `the seal says canonical format ${seal.format}, entry seq ${entry.seq} is in format ${shape}`,
      );
    }
    head = computed;
    tree?.appendLinkHex(computed);
    entries++;
    sinceAnchor++;
    expected++;
    // Compared here, not in checkpointAt: an async call per entry would cost a promise per entry.
    if (next < checkpointPositions.length && checkpointPositions[next]! <= position) {
      const failure = await checkpointAt(position);
      if (failure) return report(failure);
    }
    if (nextWitnessed < witnessed.length && Number(witnessed[nextWitnessed]!.size) <= position) {
      const failure = witnessedAt(position);
      if (failure) return report(failure);
    }
  }
  // A checkpoint beyond the last entry means entries after it were removed from the end.
  for (const checkpoint of checkpoints.slice(next)) {
    if (Number(checkpoint.position) >= expected) {
      return report({
        problem: 'removed',
        position: String(expected),
        seq: null,
        detail: `checkpoint at position ${checkpoint.position} counts ${checkpoint.count} entries; the chain ends at ${expected - 1}`,
      });
    }
  }
  // A witness that saw more of the chain than is left: the end was cut off (the last segment only).
  const beyond =
    to === null ? witnessed.slice(nextWitnessed).find((w) => Number(w.size) >= expected) : undefined;
  if (beyond) {
    return report({
      problem: 'truncated',
      position: String(expected),
      seq: null,
      detail:
        `witness ${beyond.witness} holds a checkpoint of ${beyond.size} entries signed by the gateway; ` +
        `the chain ends at position ${expected - 1}`,
    });
  }
  if (overdue > 0) {
    const more = overdue > overdueSeqs.length ? ` and ${overdue - overdueSeqs.length} more` : '';
    return report({
      problem: 'unsealed',
      position: null,
      seq: overdueSeqs[0]!,
      detail:
        `${overdue} entries are not in the chain although they occurred more than ` +
        `${Math.round(input.unsealedMaxMs! / 1000)} s before this verification: seq ${overdueSeqs.join(', ')}${more}`,
    });
  }
  return report(null);
}

/** How many overdue unsealed seqs a failure names (it counts them all). */
const OVERDUE_NAMED = 20;

const HASH_HEX = /^[0-9a-f]{64}$/;

/** A range bound as the verifier counts positions: a number, exact for any log this side of 2^53 entries. */
function safePosition(position: bigint): number {
  // A bound past 2^53 (the API takes 18 digits) means "to the end": no chain is that long.
  if (position > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  return position < 1n ? 1 : Number(position);
}

/** When an entry happened: its own field, or, for canonical text without it, the text's second value. */
function occurredAtOf(entry: HashableEntry): string {
  if (entry.occurredAt !== undefined) return entry.occurredAt;
  return 'canonical' in entry ? String((JSON.parse(canonicalTextOf(entry)) as unknown[])[1]) : '';
}

function purgeLedger(ranges: readonly PurgeRange[]) {
  // Half-open [lo, hi) pairs of every run, sorted, for a binary search per missing entry.
  const spans: { lo: bigint; hi: bigint; range: PurgeRange }[] = [];
  for (const range of ranges) {
    for (const m of range.seqs.matchAll(/\[(-?\d+),(-?\d+)\)/g)) {
      spans.push({ lo: BigInt(m[1]!), hi: BigInt(m[2]!), range });
    }
  }
  spans.sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const touched = new Set<PurgeRange>();
  return {
    take(seq: string): boolean {
      const n = BigInt(seq);
      let lo = 0;
      let hi = spans.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (spans[mid]!.hi <= n) lo = mid + 1;
        else hi = mid;
      }
      const span = spans[lo];
      if (!span || n < span.lo) return false;
      touched.add(span.range);
      return true;
    },
    used: () => [...touched],
  };
}

export interface SelectionReport {
  ok: boolean;
  /** Entries whose hash was recomputed from their own seal's previous hash. */
  entries: number;
  /** Of those, entries in a contiguous run of positions that ends at a verified checkpoint. */
  anchored: number;
  /** Entries whose run ends before any checkpoint in the file: consistent with their seals, not proven. */
  unanchored: number;
  /** Links between neighbouring positions that were both in the selection, checked. */
  links: number;
  /** Checkpoints whose signature was checked (a checkpoint's head only where its entry is present). */
  checkpoints: number;
  /** Entries not yet sealed when exported. */
  pending: number;
  failure: Failure | null;
}

/**
 * Verifies a selection of the log (a filtered export, e.g. one case): entries at scattered chain
 * positions. It checks what such a file can prove and counts the rest honestly: each entry against
 * its own seal (a changed field shows), the link between neighbours that are both present, every
 * checkpoint's signature, and a checkpoint's head where its own position is present. An entry is
 * anchored (proven by the gateway's signature) only when the file holds every position from it up
 * to a checkpoint. Completeness (that no matching entry was left out) cannot be proven from a
 * selection: the chain between two selected entries runs through entries that are not in it.
 */
export async function verifySelection(input: {
  rows: RowSource;
  checkpoints: readonly Checkpoint[];
  publicJwk: JWK | readonly JWK[];
}): Promise<SelectionReport> {
  const keys = keyRing(input.publicJwk);
  const checkpoints = new Map(input.checkpoints.map((c) => [c.position, c]));
  let entries = 0;
  let anchored = 0;
  let unanchored = 0;
  let links = 0;
  let checked = 0;
  let pending = 0;
  let run = 0;
  let last: ChainLink | null = null;
  const report = (failure: Failure | null): SelectionReport => ({
    ok: failure === null,
    entries,
    anchored,
    unanchored: unanchored + run,
    links,
    checkpoints: checked,
    pending,
    failure,
  });
  const reader = rowReader(input.rows);
  for (
    let row = reader.take() ?? (await reader.next());
    row !== undefined;
    row = reader.take() ?? (await reader.next())
  ) {
    const { entry, seal } = row;
    if (seal === null) {
      if (entry !== null) pending++;
      continue;
    }
    if (entry === null) continue;
    const position = BigInt(seal.position);
    if (last !== null && position <= BigInt(last.position)) {
      return report({
        problem: 'reordered',
        position: seal.position,
        seq: seal.seq,
        detail: `position ${seal.position} follows position ${last.position}: the file is out of chain order`,
      });
    }
    if (last !== null && position === BigInt(last.position) + 1n) {
      if (seal.prevHash !== last.entryHash) {
        return report({
          problem: 'chain-broken',
          position: seal.position,
          seq: seal.seq,
          detail: `the seal's previous hash does not match the entry at position ${last.position}`,
        });
      }
      links++;
    } else {
      unanchored += run;
      run = 0;
    }
    if (entryHashHex(Buffer.from(seal.prevHash, 'hex'), entry) !== seal.entryHash) {
      return report({
        problem: 'altered',
        position: seal.position,
        seq: seal.seq,
        detail: `entry seq ${entry.seq} differs from what was sealed`,
      });
    }
    entries++;
    run++;
    last = seal;
    const checkpoint = checkpoints.get(seal.position);
    if (checkpoint) {
      const { failure } = await checkCheckpoint(checkpoint, seal.entryHash, keys);
      if (failure) return report(failure);
      checked++;
      anchored += run;
      run = 0;
      checkpoints.delete(seal.position);
    }
  }
  // The rest have no entry here: their signature is still checked, so a forged one shows.
  for (const c of checkpoints.values()) {
    const { failure } = await checkCheckpoint(c, c.chainHead, keys);
    if (failure) return report(failure);
    checked++;
  }
  return report(null);
}
