import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { JWK } from 'jose';
import type { DataSource } from 'typeorm';
import { queryable, readChainPages, type ChainSource } from './chain.repository.js';
import { frontierAt, MerkleGapError } from './merkle.repository.js';
import {
  verifyChain,
  type Checkpoint,
  type PurgeRange,
  type VerifyReport,
  type WitnessedCheckpoint,
} from './verify.js';

/**
 * Verifying the whole chain from the database, split over worker threads. One thread reads,
 * renders and hashes about 110,000 entries a second here, and the chain is sequential; but every
 * checkpoint carries the chain head at its position, so the chain falls apart into segments that
 * end at checkpoints, each verifiable on its own from the head the checkpoint before it signed.
 * Segment k verifies that checkpoint (its signature, and that the head it computed is the signed
 * one); segment k + 1 starts from the same head (VerifyInput.startHead). Every entry is hashed once,
 * every checkpoint checked once, and merged in order the reports are what one pass would report.
 */

/** Below this many positions a worker's start-up costs more than it saves. */
export const PARALLEL_FROM = 200_000;

/** How far past its end a segment reads, so a swap across a boundary is still found as reordered. */
const LOOKAHEAD = 1024n;

export interface Segment {
  from: bigint;
  /** Last position, a checkpoint's; undefined for the last segment (to the end, unsealed rows too). */
  to: bigint | undefined;
  /** The signed head before `from`, for every segment but the first. */
  startHead?: string;
  /** The Merkle tree's subtree roots before `from` (VerifyInput.startFrontier), where known. */
  startFrontier?: string[];
}

const HASH_HEX = /^[0-9a-f]{64}$/;

/**
 * Splits positions [from, to ?? last] into at most `parts` segments of about equal length, each
 * but the last ending at a checkpoint. Fewer when the checkpoints do not allow more; one (the whole
 * range, as asked) when the range is short.
 */
export function planSegments(
  checkpoints: readonly Checkpoint[],
  range: { from: bigint; to: bigint | undefined; last: bigint },
  parts: number,
  minimum = PARALLEL_FROM,
): Segment[] {
  const end = range.to ?? range.last;
  const whole: Segment[] = [{ from: range.from, to: range.to }];
  if (parts < 2 || end - range.from + 1n < BigInt(minimum)) return whole;
  // Checkpoints strictly inside the range, with a head that can start the next segment.
  const inside = checkpoints
    .filter((c) => HASH_HEX.test(c.chainHead))
    .map((c) => ({ position: BigInt(c.position), head: c.chainHead }))
    .filter((c) => c.position >= range.from && c.position < end)
    .sort((a, b) => (a.position < b.position ? -1 : 1));
  const segments: Segment[] = [];
  let start = range.from;
  let startHead: string | undefined;
  const length = (end - range.from + 1n) / BigInt(parts);
  for (let k = 1; k < parts; k++) {
    const target = range.from + length * BigInt(k);
    const cut = inside.find((c) => c.position >= target && c.position >= start);
    if (!cut) break;
    segments.push({ from: start, to: cut.position, ...(startHead ? { startHead } : {}) });
    start = cut.position + 1n;
    startHead = cut.head;
  }
  if (segments.length === 0) return whole;
  segments.push({ from: start, to: range.to, ...(startHead ? { startHead } : {}) });
  return segments;
}

/**
 * The segments' reports as one pass over the whole range would give it: up to the first segment
 * that failed, counts added up; the anchor, the entries after it and the head from the last
 * segment that got that far; pending rows from the last segment (the only one that reads them).
 */
export function mergeReports(reports: readonly VerifyReport[]): VerifyReport {
  const failed = reports.findIndex((r) => !r.ok);
  const used = failed === -1 ? reports : reports.slice(0, failed + 1);
  const last = used[used.length - 1]!;
  const purgedRanges = new Map<string, PurgeRange>();
  for (const r of used)
    for (const range of r.purgedRanges) purgedRanges.set(`${range.runId}:${range.fromSeq}`, range);
  return {
    ok: last.ok,
    entries: used.reduce((n, r) => n + r.entries, 0),
    checkpoints: used.reduce((n, r) => n + r.checkpoints, 0),
    anchored: [...used].reverse().find((r) => r.anchored !== null)?.anchored ?? null,
    unanchored: last.anchored !== null ? last.unanchored : used.reduce((n, r) => n + r.unanchored, 0),
    purged: used.reduce((n, r) => n + r.purged, 0),
    purgedRanges: [...purgedRanges.values()],
    roots: used.reduce((n, r) => n + r.roots, 0),
    witnessed: used.reduce((n, r) => n + r.witnessed, 0),
    pending: last.pending,
    overdue: last.overdue,
    head: last.head,
    failure: last.failure,
  };
}

/** What a verification worker is given (verify-worker.ts). */
export interface WorkerTask {
  url: string;
  segment: Segment;
  checkpoints: Checkpoint[];
  purged: PurgeRange[];
  publicJwk: JWK | JWK[];
  sealedBefore?: string;
  now: number;
  pendingGraceMs?: number;
  unsealedMaxMs?: number;
  witnessed?: WitnessedCheckpoint[];
}

/** The worker script next to this module in dist/ (under ts-jest this module is the .ts source). */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return path.join(path.dirname(here), 'verify-worker.js');
  return path.resolve(path.dirname(here), '../../dist/src/access-log/verify-worker.js');
}

function inWorker(task: WorkerTask): Promise<VerifyReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerScript(), { workerData: task });
    let settled = false;
    worker.once('message', (message: { report?: VerifyReport; error?: string }) => {
      settled = true;
      if (message.report) resolve(message.report);
      else reject(new Error(`verification worker: ${message.error ?? 'no report'}`));
    });
    worker.once('error', (error) => {
      settled = true;
      // @types/node 24 types a worker's error as unknown: a thrown non-Error still rejects with one.
      reject(error instanceof Error ? error : new Error('verification worker failed', { cause: error }));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`verification worker exited with code ${code} before reporting`));
    });
  });
}

/** The connection URL a TypeORM DataSource was made with, for workers to connect the same way. */
export function urlOf(dataSource: DataSource): { url?: string } {
  const url = (dataSource.options as { url?: string }).url;
  return url ? { url } : {};
}

export interface ParallelVerifyInput {
  /** Where to read: `url` lets workers open connections of their own; without it, all runs here. */
  source: ChainSource;
  url?: string;
  checkpoints: Checkpoint[];
  purged: PurgeRange[];
  publicJwk: JWK | JWK[];
  from?: bigint;
  to?: bigint;
  now?: Date;
  pendingGraceMs?: number;
  /** See VerifyInput.unsealedMaxMs: only the last segment reads unsealed rows. */
  unsealedMaxMs?: number;
  /** Checkpoints held by witnesses (VerifyInput.witnessed). */
  witnessed?: WitnessedCheckpoint[];
  /** Worker threads at most (default: the cores this process may use). */
  workers?: number;
  /** Positions below which it all runs in this thread (default PARALLEL_FROM). */
  minimum?: number;
  /** How a segment is verified: in a worker thread by default; tests run them in-process. */
  runSegment?: (task: Omit<WorkerTask, 'url'>) => Promise<VerifyReport>;
}

/**
 * verifyChain over the database, in segments on worker threads when the range is long enough and
 * a connection URL is known; in this thread otherwise (short ranges, a transaction's manager).
 */
export async function verifyInParallel(input: ParallelVerifyInput): Promise<VerifyReport> {
  const from = input.from ?? 1n;
  const task = (segment: Segment, sealedBefore?: string | null): Omit<WorkerTask, 'url'> => ({
    segment,
    checkpoints: input.checkpoints,
    purged: input.purged,
    publicJwk: input.publicJwk,
    now: (input.now ?? new Date()).getTime(),
    ...(input.pendingGraceMs !== undefined ? { pendingGraceMs: input.pendingGraceMs } : {}),
    ...(input.unsealedMaxMs !== undefined ? { unsealedMaxMs: input.unsealedMaxMs } : {}),
    ...(input.witnessed ? { witnessed: input.witnessed } : {}),
    ...(sealedBefore ? { sealedBefore } : {}),
  });
  const here = () => verifySegment(input.source, task({ from, to: input.to }));
  const parts = input.workers ?? availableParallelism();
  const url = input.url;
  const run = input.runSegment ?? (url ? (t: Omit<WorkerTask, 'url'>) => inWorker({ ...t, url }) : null);
  if (!run || parts < 2) return here();
  const db = queryable(input.source);
  const [bounds] = (await db.query(
    `SELECT max(position)::text AS last FROM access_log_seal WHERE ($1::bigint IS NULL OR position <= $1)`,
    [input.to?.toString() ?? null],
  )) as { last: string | null }[];
  if (!bounds?.last) return here();
  const segments = planSegments(
    input.checkpoints,
    { from, to: input.to, last: BigInt(bounds.last) },
    parts,
    input.minimum,
  );
  if (segments.length < 2) return here();
  // Each later segment carries the tree on from the stored nodes; it checks they give the signed root.
  for (const segment of segments) {
    const boundary = input.checkpoints.find((c) => BigInt(c.position) === segment.from - 1n);
    if (segment.startHead && boundary?.rootHash) {
      try {
        const frontier = await frontierAt(db, Number(segment.from - 1n));
        segment.startFrontier = frontier.hashes().map((h) => h.toString('hex'));
      } catch (error) {
        // Seals missing before it: the segment before names that; this one checks chain heads only.
        if (!(error instanceof MerkleGapError)) throw error;
      }
    }
  }
  // The last segment tells inserted rows from late ones by the highest seq sealed anywhere before it.
  const lastFrom = segments[segments.length - 1]!.from;
  const [before] = (await db.query(
    `SELECT max(seq)::text AS seq FROM access_log_seal WHERE position >= $1 AND position < $2`,
    [from.toString(), lastFrom.toString()],
  )) as { seq: string | null }[];
  const reports = await Promise.all(
    segments.map((segment, i) => run(task(segment, i === segments.length - 1 ? before?.seq : null))),
  );
  return mergeReports(reports);
}

/** Runs one segment: what verify-worker.ts does with its task, here so it can be tested in-process. */
export async function verifySegment(
  source: ChainSource,
  task: Omit<WorkerTask, 'url'>,
): Promise<VerifyReport> {
  const { segment } = task;
  return verifyChain({
    // Read a little past the end: the look-ahead that tells a swap from an alteration needs it.
    rows: readChainPages(source, segment.from, segment.to === undefined ? undefined : segment.to + LOOKAHEAD),
    checkpoints: task.checkpoints,
    purged: task.purged,
    publicJwk: task.publicJwk,
    from: segment.from,
    ...(segment.to !== undefined ? { to: segment.to } : {}),
    ...(segment.startHead ? { startHead: segment.startHead } : {}),
    ...(segment.startFrontier ? { startFrontier: segment.startFrontier } : {}),
    ...(task.witnessed ? { witnessed: task.witnessed } : {}),
    ...(task.sealedBefore ? { sealedBefore: task.sealedBefore } : {}),
    now: new Date(task.now),
    ...(task.pendingGraceMs !== undefined ? { pendingGraceMs: task.pendingGraceMs } : {}),
    ...(task.unsealedMaxMs !== undefined ? { unsealedMaxMs: task.unsealedMaxMs } : {}),
  });
}
