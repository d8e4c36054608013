import {
  chainBounds,
  readCheckpoints,
  readPurges,
  readSealed,
  readSelection,
  readUnsealed,
  type ChainFilter,
  type Queryable,
} from '../access-log/chain.repository.js';
import { checkpointLine, entryLine, headerLine, purgeLine } from '../access-log/export-file.js';
import type { Checkpoint } from '../access-log/verify.js';

/**
 * The lines of a verifiable NDJSON export (format in src/access-log/export-file.ts).
 *
 * Without a case filter the file is a chain segment: every position from the first to the last
 * sealed entry in the time range, run on to the first checkpoint at or after it, so the gateway's
 * signature covers the whole segment; the checkpoint just before the segment is included too, so
 * its starting hash is vouched for. Entries of the range not yet sealed follow (pending). At the
 * edges a segment may hold a few entries just outside the time range: chain order is commit order,
 * not occurred_at order, and a segment with holes would not verify.
 *
 * With a case filter the file is a selection: the matching entries with their seals, plus for each
 * the first checkpoint at or after it (the one whose range covers it). The verifier says what that
 * proves (verifySelection).
 */
export async function* verifiableExportLines(
  dataSource: Queryable,
  filter: ChainFilter,
): AsyncGenerator<string> {
  // One stream chunk per few hundred lines: a chunk per line costs more in the stream than the line itself.
  let batch: string[] = [];
  for await (const line of exportLines(dataSource, filter)) {
    batch.push(line);
    if (batch.length >= LINES_PER_CHUNK) {
      yield batch.join('');
      batch = [];
    }
  }
  if (batch.length > 0) yield batch.join('');
}

/** Lines per chunk of the export stream: some hundred KiB, far below any memory concern. */
const LINES_PER_CHUNK = 500;

async function* exportLines(dataSource: Queryable, filter: ChainFilter): AsyncGenerator<string> {
  const checkpoints = await readCheckpoints(dataSource);
  const described = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const covering = (position: bigint): Checkpoint | undefined => {
    // Checkpoints are few (one per CHECKPOINT_EVERY entries) and sorted: a binary search per entry.
    let lo = 0;
    let hi = checkpoints.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (BigInt(checkpoints[mid]!.position) < position) lo = mid + 1;
      else hi = mid;
    }
    return checkpoints[lo];
  };
  const exportedAt = new Date().toISOString();

  if (filter.caseId !== undefined) {
    const needed = new Map<string, Checkpoint>();
    yield headerLine({ scope: 'selection', filter: described, exportedAt, first: null, last: null });
    for await (const row of readSelection(dataSource, filter)) {
      const c = covering(BigInt(row.seal!.position));
      if (c) needed.set(c.position, c);
      yield entryLine(row);
    }
    for await (const row of readUnsealed(dataSource, filter)) yield entryLine(row);
    for (const c of needed.values()) yield checkpointLine(c);
    return;
  }

  const bounds = await chainBounds(dataSource, filter);
  if (bounds) {
    const last = covering(bounds.last);
    const end = last ? BigInt(last.position) : bounds.last;
    yield headerLine({
      scope: 'chain',
      filter: described,
      exportedAt,
      first: bounds.first.toString(),
      last: end.toString(),
    });
    for await (const row of readSealed(dataSource, bounds.first, end)) yield entryLine(row);
    for await (const row of readUnsealed(dataSource, filter)) yield entryLine(row);
    for (const range of await readPurges(dataSource)) yield purgeLine(range);
    for (const c of checkpoints) {
      const position = BigInt(c.position);
      if (position >= bounds.first - 1n && position <= end) yield checkpointLine(c);
    }
    return;
  }
  // Nothing sealed in range: what is there is pending, and the file says so.
  let header = false;
  for await (const row of readUnsealed(dataSource, filter)) {
    if (!header) {
      yield headerLine({ scope: 'chain', filter: described, exportedAt, first: null, last: null });
      header = true;
    }
    yield entryLine(row);
  }
}
