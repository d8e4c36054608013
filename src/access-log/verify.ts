import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { entryHashHex, GENESIS, type HashableEntry, type LoggedEntry } from './chain.js';

/** A chain position as stored in access_log_seal; hashes are lowercase hex in exports. */
export interface Seal {
  position: string;
  seq: string;
  entryHash: string;
  prevHash: string;
  sealedAt: string;
}

/**
 * One row of the log joined with its seal, in chain order (sealed rows by position, then rows
 * without a seal by seq). `entry` is null when a seal names a row that is gone; `seal` is null
 * for a row not (yet) in the chain.
 */
export interface ChainRow {
  entry: LoggedEntry | null;
  seal: Seal | null;
}

/** A ChainRow as the verifier reads it: the entry may come as its canonical text (CanonicalEntry). */
export interface VerifyRow {
  entry: HashableEntry | null;
  seal: Seal | null;
}

/** A signed checkpoint: the chain head after `position` entries. */
export interface Checkpoint {
  position: string;
  chainHead: string;
  count: string;
  createdAt: string;
  jws: string;
}

/** What a checkpoint's JWS signs, in this field order. */
export interface CheckpointPayload {
  position: string;
  chainHead: string;
  count: string;
  createdAt: string;
}

export type Problem =
  | 'altered'
  | 'removed'
  | 'inserted'
  | 'reordered'
  | 'chain-broken'
  | 'checkpoint-signature'
  | 'checkpoint-head'
  | 'checkpoint-count';

export interface Failure {
  problem: Problem;
  /** Chain position where it goes wrong (null for a row outside the chain). */
  position: string | null;
  /** Sequence number of the entry concerned, when there is one. */
  seq: string | null;
  detail: string;
}

/**
 * What one retention run removed for one purpose: `count` entries with seq in [fromSeq, toSeq]
 * (access_log_purge). Their seals stay, so the chain runs on across them.
 */
export interface PurgeRange {
  runId: string;
  purpose: string | null;
  fromSeq: string;
  toSeq: string;
  count: string;
  /** Exactly which seqs, as PostgreSQL renders an int8multirange: `{[2,3),[5,8)}`. */
  seqs: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Sealed entries whose hash was recomputed. */
  entries: number;
  checkpoints: number;
  /**
   * Position of the last checkpoint whose signature and chain head checked out: every entry up to
   * it is covered by the gateway's signature. Null when none was in range.
   */
  anchored: string | null;
  /** Entries verified after the last checkpoint: consistent, but no signature covers them yet. */
  unanchored: number;
  /**
   * Positions whose entry was removed by a recorded retention run: only the seal's link to its
   * neighbours was checked there (the entry is gone, so its hash cannot be recomputed).
   */
  purged: number;
  /** The retention runs that account for them, as recorded. */
  purgedRanges: PurgeRange[];
  /** Rows after the last sealed seq, not yet sealed: normal for the newest entries. */
  pending: number;
  /** Chain head after the last verified position (hex). */
  head: string;
  /** The first thing wrong, in chain order; null when ok. */
  failure: Failure | null;
}

export interface VerifyInput {
  /** Rows in chain order; an async source may hand them over in batches (fewer awaits per row). */
  rows: RowSource;
  checkpoints: readonly Checkpoint[];
  /**
   * The gateway's public key, or a key set (JWKS keys) to pick from by each checkpoint's `kid`,
   * so checkpoints signed before and after a key rotation both verify.
   */
  publicJwk: JWK | readonly JWK[];
  /** Recorded retention runs: a missing entry they account for is purged, not removed. */
  purged?: readonly PurgeRange[];
  /**
   * Start of the range verified. Positions before it are trusted: the first seal's prev_hash is
   * taken as given, which is why a range is only as strong as the checkpoints inside it.
   */
  from?: bigint;
  to?: bigint;
  /**
   * Sequence order is not commit order: a row can commit after later rows were sealed, and then
   * waits one sealing round below the highest sealed seq. Such a row counts as pending while its
   * occurred_at is younger than this (default 5 minutes before `now`), as inserted after that.
   */
  pendingGraceMs?: number;
  now?: Date;
}

export type RowSource = AsyncIterable<VerifyRow | readonly VerifyRow[]> | Iterable<VerifyRow>;

/**
 * Reads a RowSource one row at a time, with look-ahead, flattening batches. A queue with a read
 * index, not Array.shift: batches hold thousands of rows.
 */
function rowReader(source: RowSource) {
  const iterator: AsyncIterator<VerifyRow | readonly VerifyRow[]> | Iterator<VerifyRow> =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let queue: VerifyRow[] = [];
  let index = 0;
  let done = false;
  const fill = async (): Promise<boolean> => {
    if (done) return false;
    const step = await iterator.next();
    if (step.done) {
      done = true;
      return false;
    }
    const value = step.value;
    if (index >= queue.length) {
      queue = [];
      index = 0;
    }
    if (Array.isArray(value)) for (const row of value as readonly VerifyRow[]) queue.push(row);
    else queue.push(value as VerifyRow);
    return true;
  };
  return {
    async next(): Promise<VerifyRow | undefined> {
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

export function checkpointPayload(c: Omit<Checkpoint, 'jws'>): string {
  const payload: CheckpointPayload = {
    position: c.position,
    chainHead: c.chainHead,
    count: c.count,
    createdAt: c.createdAt,
  };
  return JSON.stringify(payload);
}

/**
 * Recomputes the chain and checks every checkpoint in range; stops at the first failure, because
 * after it every later hash differs too and says nothing more. Pure: reads only its input.
 */
export async function verifyChain(input: VerifyInput): Promise<VerifyReport> {
  const from = input.from ?? 1n;
  const to = input.to ?? null;
  const inRange = (position: bigint) => position >= from && (to === null || position <= to);
  const checkpoints = new Map(
    input.checkpoints.filter((c) => inRange(BigInt(c.position))).map((c) => [c.position, c]),
  );
  // The checkpoint just before the range, when there is one, vouches for the head the range starts from.
  const before = from > 1n ? input.checkpoints.find((c) => BigInt(c.position) === from - 1n) : undefined;
  const keys = keyRing(input.publicJwk);
  const purge = purgeLedger(input.purged ?? []);
  const pendingSince = (input.now ?? new Date()).getTime() - (input.pendingGraceMs ?? 5 * 60_000);
  // The head is kept both as bytes (the next hash's input) and hex (what seals are compared with).
  let head: Buffer = from === 1n ? GENESIS : Buffer.alloc(0);
  let headHex = head.toString('hex');
  let expected = from;
  let entries = 0;
  let checked = 0;
  let pending = 0;
  let anchored: string | null = null;
  let sinceAnchor = 0;
  let purged = 0;
  let maxSealedSeq = 0n;
  const report = (failure: Failure | null): VerifyReport => ({
    ok: failure === null,
    entries,
    checkpoints: checked,
    anchored,
    unanchored: sinceAnchor,
    purged,
    purgedRanges: purge.used(),
    pending,
    head: headHex,
    failure,
  });

  const reader = rowReader(input.rows);

  for (let row = await reader.next(); row !== undefined; row = await reader.next()) {
    const { entry, seal } = row;
    if (seal === null) {
      if (entry === null) continue;
      // Rows are read sealed-first, so maxSealedSeq is final here. An old row below it was skipped
      // by the chain (sealers take rows in seq order), so it was put in afterwards.
      if (BigInt(entry.seq) < maxSealedSeq && Date.parse(entry.occurredAt) < pendingSince) {
        return report({
          problem: 'inserted',
          position: null,
          seq: entry.seq,
          detail: `entry seq ${entry.seq} is in the log but not in the chain, although later entries are`,
        });
      }
      pending++;
      continue;
    }
    const position = BigInt(seal.position);
    if (position < from) continue;
    if (to !== null && position > to) break;
    if (BigInt(seal.seq) > maxSealedSeq) maxSealedSeq = BigInt(seal.seq);
    if (position !== expected) {
      return report({
        problem: 'removed',
        position: expected.toString(),
        seq: null,
        detail: `chain position ${expected} is missing (next present: ${position})`,
      });
    }
    if (head.length === 0) {
      head = Buffer.from(seal.prevHash, 'hex');
      headHex = seal.prevHash;
      if (before) {
        const failure = await checkCheckpoint(before, headHex, keys);
        if (failure) return report(failure);
        checked++;
        anchored = before.position;
      }
    }
    if (seal.prevHash !== headHex) {
      return report({
        problem: 'chain-broken',
        position: seal.position,
        seq: seal.seq,
        detail: `the seal's previous hash does not match the chain head before it`,
      });
    }
    if (entry === null) {
      if (!purge.take(seal.seq)) {
        return report({
          problem: 'removed',
          position: seal.position,
          seq: seal.seq,
          detail: `entry seq ${seal.seq} is sealed but no longer in the log, and no retention run accounts for it`,
        });
      }
      // Purged by retention: the seal is all that is left, and its link to the next one is checked.
      headHex = seal.entryHash;
      head = Buffer.from(headHex, 'hex');
      purged++;
      expected++;
      const checkpoint = checkpoints.get(seal.position);
      if (checkpoint) {
        const failure = await checkCheckpoint(checkpoint, headHex, keys);
        if (failure) return report(failure);
        checked++;
        anchored = seal.position;
        sinceAnchor = 0;
        checkpoints.delete(seal.position);
      }
      continue;
    }
    const computed = entryHashHex(head, entry);
    if (computed !== seal.entryHash) {
      // A swap of two entries looks like an alteration at the first of them; finding the entry
      // that belongs here further on says which it is.
      for (let i = 0; i < REORDER_LOOKAHEAD; i++) {
        const ahead = await reader.peek(i);
        if (ahead === undefined) break;
        if (ahead.entry && entryHashHex(head, ahead.entry) === seal.entryHash) {
          return report({
            problem: 'reordered',
            position: seal.position,
            seq: seal.seq,
            detail: `the entry sealed at position ${seal.position} (seq ${ahead.entry.seq}) now stands at position ${ahead.seal?.position ?? '?'}`,
          });
        }
      }
      return report({
        problem: 'altered',
        position: seal.position,
        seq: seal.seq,
        detail: `entry seq ${entry.seq} differs from what was sealed`,
      });
    }
    headHex = computed;
    head = Buffer.from(computed, 'hex');
    entries++;
    sinceAnchor++;
    expected++;
    const checkpoint = checkpoints.get(seal.position);
    if (checkpoint) {
      const failure = await checkCheckpoint(checkpoint, headHex, keys);
      if (failure) return report(failure);
      checked++;
      anchored = seal.position;
      sinceAnchor = 0;
      checkpoints.delete(seal.position);
    }
  }
  // A checkpoint beyond the last entry means entries after it were removed from the end.
  for (const checkpoint of checkpoints.values()) {
    if (BigInt(checkpoint.position) >= expected) {
      return report({
        problem: 'removed',
        position: expected.toString(),
        seq: null,
        detail: `checkpoint at position ${checkpoint.position} counts ${checkpoint.count} entries; the chain ends at ${expected - 1n}`,
      });
    }
  }
  return report(null);
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

async function checkCheckpoint(c: Checkpoint, head: string, keys: KeyRing): Promise<Failure | null> {
  const at = { position: c.position, seq: null };
  let signed: CheckpointPayload;
  try {
    const key = await keys(c.jws);
    if (!key) throw new Error('no key for this kid');
    const { payload } = await compactVerify(c.jws, key, { algorithms: ['ES256'] });
    signed = JSON.parse(new TextDecoder().decode(payload)) as CheckpointPayload;
  } catch {
    return { ...at, problem: 'checkpoint-signature', detail: `checkpoint ${c.position}: signature invalid` };
  }
  if (signed.position !== c.position || signed.chainHead !== c.chainHead || signed.count !== c.count) {
    return {
      ...at,
      problem: 'checkpoint-signature',
      detail: `checkpoint ${c.position}: stored fields differ from the signed ones`,
    };
  }
  if (signed.chainHead !== head) {
    return { ...at, problem: 'checkpoint-head', detail: `checkpoint ${c.position}: chain head differs` };
  }
  if (signed.count !== c.position) {
    return {
      ...at,
      problem: 'checkpoint-count',
      detail: `checkpoint ${c.position}: signed count ${signed.count} differs from the position`,
    };
  }
  return null;
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
  let last: Seal | null = null;
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
  for (let row = await reader.next(); row !== undefined; row = await reader.next()) {
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
      const failure = await checkCheckpoint(checkpoint, seal.entryHash, keys);
      if (failure) return report(failure);
      checked++;
      anchored += run;
      run = 0;
      checkpoints.delete(seal.position);
    }
  }
  // The rest have no entry here: their signature is still checked, so a forged one shows.
  for (const c of checkpoints.values()) {
    const failure = await checkCheckpoint(c, c.chainHead, keys);
    if (failure) return report(failure);
    checked++;
  }
  return report(null);
}
