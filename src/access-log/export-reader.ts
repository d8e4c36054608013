import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { CanonicalWriter } from './canonical-bytes.js';
import { canonicalRowOf, parseLine, rowOf, type ExportHeader } from './export-file.js';
import type { Checkpoint, PurgeRange, VerifyRow } from './verify.js';

const CHUNK = 1 << 20;
const isRowLine = (line: string) => line.startsWith('{"type":"entry"') || line.startsWith('{"type":"seal"');

/**
 * Reads an NDJSON export (export-file.ts) for verification. The header is the first line and the
 * purge and checkpoint lines come after every entry, so they are read from the two ends of the
 * file instead of in a pass over all of it; the entries then stream in batches of one 1 MiB read,
 * split by hand (faster than readline, and one await per batch instead of per line).
 */
export async function readExportFile(file: string): Promise<{
  header: ExportHeader | null;
  checkpoints: Checkpoint[];
  purged: PurgeRange[];
  rows: () => AsyncGenerator<VerifyRow[]>;
}> {
  const handle = await open(file, 'r');
  let header: ExportHeader | null = null;
  const checkpoints: Checkpoint[] = [];
  const purged: PurgeRange[] = [];
  try {
    const { size } = await handle.stat();
    const first = Buffer.alloc(Math.min(size, 64 * 1024));
    await handle.read(first, 0, first.length, 0);
    const line = first.toString('utf8').split('\n', 1)[0]!;
    if (line.startsWith('{"type":"export"')) {
      const parsed = parseLine(line);
      if (parsed.type === 'export') header = parsed;
    }
    // Backwards from the end, whole lines only, until the first entry line (or the start). Bytes are
    // carried, not text, so a character split between two reads stays whole.
    let end = size;
    let carry = Buffer.alloc(0);
    const tail: string[] = [];
    for (let reached = false; end > 0 && !reached;) {
      const start = Math.max(0, end - CHUNK);
      const read = Buffer.alloc(end - start);
      await handle.read(read, 0, read.length, start);
      let block = Buffer.concat([read, carry]);
      // Up to the first line break, the bytes may be the end of a line that starts further back.
      const newline = block.indexOf(10);
      const cut = start === 0 ? 0 : newline === -1 ? block.length : newline + 1;
      carry = block.subarray(0, cut);
      block = block.subarray(cut);
      const lines = block.toString('utf8').split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        const l = lines[i]!;
        if (isRowLine(l)) {
          reached = true;
          break;
        }
        if (l.trim() !== '') tail.push(l);
      }
      end = start;
    }
    for (const l of tail.reverse()) {
      const parsed = parseLine(l);
      if (parsed.type === 'checkpoint') {
        const { type: _type, ...checkpoint } = parsed;
        checkpoints.push(checkpoint);
      } else if (parsed.type === 'purge') {
        const { type: _type, ...range } = parsed;
        purged.push(range);
      }
    }
  } finally {
    await handle.close();
  }
  checkpoints.sort((a, b) => (BigInt(a.position) < BigInt(b.position) ? -1 : 1));
  return { header, checkpoints, purged, rows: () => rowBatches(file) };
}

const ENTRY_LINE = Buffer.from('{"type":"entry"');
const SEAL_LINE = Buffer.from('{"type":"seal"');
const startsWith = (bytes: Buffer, prefix: Buffer, at: number, end: number) =>
  end - at >= prefix.length && bytes.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;

/**
 * The entry and seal lines, a batch per read. Lines stay bytes: the fast reading (canonicalRowOf)
 * copies an entry's values from them into the hash input, and only a line it declines is decoded
 * and parsed as JSON.
 */
async function* rowBatches(file: string): AsyncGenerator<VerifyRow[]> {
  let rest = Buffer.alloc(0);
  const rowsOf = (bytes: Buffer, start: number, end: number, rows: VerifyRow[], writer: CanonicalWriter) => {
    for (let at = start; at < end;) {
      let newline = bytes.indexOf(10, at);
      if (newline === -1 || newline > end) newline = end;
      let lineEnd = newline;
      if (lineEnd > at && bytes[lineEnd - 1] === 13) lineEnd--;
      if (startsWith(bytes, ENTRY_LINE, at, lineEnd) || startsWith(bytes, SEAL_LINE, at, lineEnd)) {
        const line = bytes.subarray(at, lineEnd);
        // The fast reading where it provably gives the same row; the full parse everywhere else.
        const row = canonicalRowOf(line, writer) ?? rowOf(parseLine(line.toString('utf8')));
        if (row) rows.push(row);
      }
      at = newline + 1;
    }
  };
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
    const bytes = chunk as Buffer;
    const rows: VerifyRow[] = [];
    const writer = new CanonicalWriter(bytes.length + rest.length);
    const firstBreak = bytes.indexOf(10);
    if (firstBreak === -1) {
      rest = Buffer.concat([rest, bytes]);
      continue;
    }
    // The line cut by the previous read, whole again; then the lines of this read but its last.
    const joined = Buffer.concat([rest, bytes.subarray(0, firstBreak + 1)]);
    rowsOf(joined, 0, joined.length - 1, rows, writer);
    const lastBreak = bytes.lastIndexOf(10);
    rowsOf(bytes, firstBreak + 1, lastBreak, rows, writer);
    rest = Buffer.from(bytes.subarray(lastBreak + 1));
    yield rows;
  }
  if (rest.length > 0) {
    const rows: VerifyRow[] = [];
    rowsOf(rest, 0, rest.length, rows, new CanonicalWriter(rest.length));
    yield rows;
  }
}
