import { compactVerify, importJWK, type JWK } from 'jose';
import { entryHashHex, GENESIS, type LoggedEntry } from './chain.js';

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

export interface VerifyReport {
  ok: boolean;
  /** Sealed entries whose hash was recomputed. */
  entries: number;
  checkpoints: number;
  /** Rows after the last sealed seq, not yet sealed: normal for the newest entries. */
  pending: number;
  /** Chain head after the last verified position (hex). */
  head: string;
  /** The first thing wrong, in chain order; null when ok. */
  failure: Failure | null;
}

export interface VerifyInput {
  rows: AsyncIterable<ChainRow> | Iterable<ChainRow>;
  checkpoints: readonly Checkpoint[];
  publicJwk: JWK;
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
  const key = await importJWK(input.publicJwk, 'ES256');
  const pendingSince = (input.now ?? new Date()).getTime() - (input.pendingGraceMs ?? 5 * 60_000);
  // The head is kept both as bytes (the next hash's input) and hex (what seals are compared with).
  let head: Buffer = from === 1n ? GENESIS : Buffer.alloc(0);
  let headHex = head.toString('hex');
  let expected = from;
  let entries = 0;
  let checked = 0;
  let pending = 0;
  let maxSealedSeq = 0n;
  const report = (failure: Failure | null): VerifyReport => ({
    ok: failure === null,
    entries,
    checkpoints: checked,
    pending,
    head: headHex,
    failure,
  });

  const iterator = toAsyncIterator(input.rows);
  const lookahead: ChainRow[] = [];
  const next = async (): Promise<ChainRow | undefined> => {
    if (lookahead.length > 0) return lookahead.shift();
    const step = await iterator.next();
    return step.done ? undefined : step.value;
  };

  for (let row = await next(); row !== undefined; row = await next()) {
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
      return report({
        problem: 'removed',
        position: seal.position,
        seq: seal.seq,
        detail: `entry seq ${seal.seq} is sealed but no longer in the log`,
      });
    }
    const computed = entryHashHex(head, entry);
    if (computed !== seal.entryHash) {
      // A swap of two entries looks like an alteration at the first of them; finding the entry
      // that belongs here further on says which it is.
      for (let i = 0; i < REORDER_LOOKAHEAD; i++) {
        const ahead = lookahead[i] ?? (await pull(iterator, lookahead));
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
    expected++;
    const checkpoint = checkpoints.get(seal.position);
    if (checkpoint) {
      const failure = await checkCheckpoint(checkpoint, headHex, key);
      if (failure) return report(failure);
      checked++;
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

async function checkCheckpoint(
  c: Checkpoint,
  head: string,
  key: Awaited<ReturnType<typeof importJWK>>,
): Promise<Failure | null> {
  const at = { position: c.position, seq: null };
  let signed: CheckpointPayload;
  try {
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

function toAsyncIterator<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}

async function pull<T>(iterator: AsyncIterator<T> | Iterator<T>, buffer: T[]): Promise<T | undefined> {
  const step = await iterator.next();
  if (step.done) return undefined;
  buffer.push(step.value);
  return step.value;
}

/**
 * The NDJSON export format, one JSON object per line: first every row in chain order as
 * `{"type":"entry","entry":…,"seal":…}`, then `{"type":"checkpoint",…}` lines. Offline
 * verification (`convenant audit verify --file`) reads exactly this; exports must write it with
 * these functions.
 */
export type ExportLine = ({ type: 'entry' } & ChainRow) | ({ type: 'checkpoint' } & Checkpoint);

export function entryLine(row: ChainRow): string {
  return `${JSON.stringify({ type: 'entry', entry: row.entry, seal: row.seal })}\n`;
}

export function checkpointLine(c: Checkpoint): string {
  return `${JSON.stringify({ type: 'checkpoint', position: c.position, chainHead: c.chainHead, count: c.count, createdAt: c.createdAt, jws: c.jws })}\n`;
}

/** Writes a whole export: rows, then checkpoints. */
export async function* exportLines(
  rows: AsyncIterable<ChainRow> | Iterable<ChainRow>,
  checkpoints: Iterable<Checkpoint>,
): AsyncGenerator<string> {
  for await (const row of rows) yield entryLine(row);
  for (const c of checkpoints) yield checkpointLine(c);
}

export function parseExportLine(line: string): ExportLine {
  return JSON.parse(line) as ExportLine;
}
