/**
 * What the access-log verifier reads and reports: the rows and seals it walks, the checkpoints
 * it checks, and the failures and report it returns (see verify.ts).
 */
import type { JWK } from 'jose';
import type { HashableEntry, LoggedEntry } from './chain.js';

/** A chain position as stored in access_log_seal; hashes are lowercase hex in exports. */
export interface Seal {
  position: string;
  seq: string;
  entryHash: string;
  prevHash: string;
  sealedAt: string;
  /**
   * The canonical format the entry was hashed in (chain.ts CanonicalFormat); null on seals made
   * before seals recorded it, and absent where a reader does not carry it (export files).
   */
  format?: number | null;
}

/**
 * One row of the log joined with its seal, in chain order (sealed rows by position, then rows
 * without a seal by seq). `entry` is null when a seal names a row that is gone; `seal` is null
 * for a row not (yet) in the chain.
 */
export interface ChainRow {
  entry: LoggedEntry | null;
  seal: Seal | null;
  /** More than one row in the log has this seal's seq (see SeqIndex in chain.repository.ts). */
  duplicate?: true;
}

/** What of a seal the verifier needs: the chain link, without when it was made. */
export type ChainLink = Omit<Seal, 'sealedAt'>;

/**
 * A ChainRow as the verifier reads it: the entry may come as its canonical text (CanonicalEntry),
 * the seal as its link alone.
 */
export interface VerifyRow {
  entry: HashableEntry | null;
  seal: ChainLink | null;
  duplicate?: true;
}

/** A signed checkpoint: the chain head after `position` entries, and the Merkle root over them. */
export interface Checkpoint {
  position: string;
  chainHead: string;
  count: string;
  createdAt: string;
  jws: string;
  /** Merkle root (hex) over positions 1..position; absent on checkpoints signed before the tree. */
  rootHash?: string | null;
}

/**
 * A checkpoint a witness outside the database holds (witness.ts): the tree size and root the
 * gateway signed and the witness cosigned. Verifying against it catches a rewrite or truncation
 * of anything up to that size, even where the database's own checkpoints were rewritten too.
 */
export interface WitnessedCheckpoint {
  /** Who holds it (the witness's name), for the report. */
  witness: string;
  size: string;
  rootHash: string;
  /** The tree's subtree roots at that size (CompactRange), hex: where a rewrite begins, to a subtree. */
  frontier?: readonly string[];
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
  | 'checkpoint-count'
  | 'checkpoint-root'
  | 'unsealed'
  | 'rewritten'
  | 'truncated'
  | 'purge-unrecorded'
  | 'purge-forged'
  | 'purge-early';

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
  /** Checkpoints whose Merkle root was recomputed and matched (those signed with a tree, in range). */
  roots: number;
  /** Witnessed checkpoints (VerifyInput.witnessed) whose tree was recomputed and matched. */
  witnessed: number;
  /** Rows after the last sealed seq, not yet sealed: normal for the newest entries. */
  pending: number;
  /** Of those, rows unsealed for longer than VerifyInput.unsealedMaxMs: a failure ('unsealed'). */
  overdue: number;
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
  /**
   * How long a row may stay outside the chain. A row that occurred longer ago than this and is
   * still unsealed fails verification ('unsealed'), naming it: unsealed rows are not covered by any
   * hash, so an insider could change or remove them unseen, and they stay that way as long as
   * sealing is stopped. Undefined: no bound (a pure check of the chain as it stands).
   */
  unsealedMaxMs?: number;
  now?: Date;
  /**
   * The chain head before `from` when another verification vouches for it (verifyInParallel: the
   * segment before this one ends at that checkpoint, checks its signature and that the head it
   * computed is the signed one). The first seal's previous hash must equal it; the checkpoint
   * there is then not checked again here, nor counted.
   */
  startHead?: string;
  /** The highest seq sealed before this range, for telling an inserted row from a late one. */
  sealedBefore?: string;
  /**
   * With startHead: the Merkle tree's subtree roots (hex, CompactRange order) over positions before
   * `from`, read from the database. They must fold to the root the checkpoint at from - 1 signed;
   * then roots are checked in this range too. Without it a range not starting at 1 checks chain
   * heads only.
   */
  startFrontier?: readonly string[];
  /** Checkpoints held by witnesses outside the database: each must match the tree at its size. */
  witnessed?: readonly WitnessedCheckpoint[];
}

export type RowSource = AsyncIterable<VerifyRow | readonly VerifyRow[]> | Iterable<VerifyRow>;
