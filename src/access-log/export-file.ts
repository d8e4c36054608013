import { isUtf8 } from 'node:buffer';
import type { CanonicalWriter } from './canonical-bytes.js';
import type { LoggedEntry } from './chain.js';
import type { ChainRow, Checkpoint, PurgeRange, Seal, VerifyRow } from './verify.js';

/**
 * The verifiable NDJSON export of the access log (GET /v1/audit/export?format=ndjson), one JSON
 * object per line, read back by `convenant audit verify --file`:
 *
 * 1. `{"type":"export",…}`: what the file holds (ExportHeader), first.
 * 2. `{"type":"entry",…}`: one entry in the events shape (seq, occurredAt, …, outcome, …), plus
 *    its `seal` (chain position, previous hash, entry hash; null while not yet sealed), in chain
 *    order. `{"type":"seal",…}` stands for a position whose entry is gone (purged by retention).
 * 3. `{"type":"purge",…}`: the retention runs that account for purged positions.
 * 4. `{"type":"checkpoint",…}`: the signed checkpoints covering the entries, last.
 *
 * Readers that only want the entries keep the lines with type "entry": their fields are the
 * events API's, so a spreadsheet import or a web page needs no second format.
 */
export const EXPORT_FORMAT = 'convenant-access-log-export/1';

/**
 * `chain`: every position from `first` to `last`, so the file verifies as one chain segment; it
 * runs on past the requested range to the checkpoint that covers it. `selection`: only the
 * entries matching a filter (e.g. one case), at scattered positions, with the checkpoints whose
 * range covers them; see verifySelection for what such a file can and cannot prove.
 */
export type ExportScope = 'chain' | 'selection';

export interface ExportHeader {
  type: 'export';
  format: typeof EXPORT_FORMAT;
  scope: ExportScope;
  /** The request's filters, as given. */
  filter: Record<string, string>;
  exportedAt: string;
  /** First and last chain position in the file (null when it holds no sealed entry). */
  first: string | null;
  last: string | null;
}

export function headerLine(header: Omit<ExportHeader, 'type' | 'format'>): string {
  return `${JSON.stringify({ type: 'export', format: EXPORT_FORMAT, ...header })}\n`;
}

/** The events shape of an entry (status is `outcome` there), the seal beside it. */
export function entryLine(row: ChainRow): string {
  const { entry, seal } = row;
  if (entry === null) return `${JSON.stringify({ type: 'seal', seal })}\n`;
  return `${JSON.stringify({
    type: 'entry',
    seq: entry.seq,
    occurredAt: entry.occurredAt,
    traceId: entry.traceId,
    partner: entry.partner,
    professional: entry.professional,
    purpose: entry.purpose,
    legalBasis: entry.legalBasis,
    action: entry.action,
    caseId: entry.caseId,
    dataSubjectRef: entry.dataSubjectRef,
    fields: entry.fields,
    outcome: entry.status,
    ruleId: entry.ruleId,
    reason: entry.reason,
    policyVersion: entry.policyVersion,
    emergency: entry.emergency,
    requestId: entry.requestId,
    seal,
  })}\n`;
}

export function purgeLine(range: PurgeRange): string {
  return `${JSON.stringify({ type: 'purge', ...range })}\n`;
}

export function checkpointLine(c: Checkpoint): string {
  return `${JSON.stringify({ type: 'checkpoint', position: c.position, chainHead: c.chainHead, count: c.count, createdAt: c.createdAt, jws: c.jws })}\n`;
}

/** Writes a whole chain export: header, rows, purge runs, then checkpoints. */
export async function* exportLines(
  rows: AsyncIterable<ChainRow> | Iterable<ChainRow>,
  checkpoints: Iterable<Checkpoint>,
  options: {
    scope?: ExportScope;
    filter?: Record<string, string>;
    first?: string | null;
    last?: string | null;
    purged?: Iterable<PurgeRange>;
  } = {},
): AsyncGenerator<string> {
  yield headerLine({
    scope: options.scope ?? 'chain',
    filter: options.filter ?? {},
    exportedAt: new Date().toISOString(),
    first: options.first ?? null,
    last: options.last ?? null,
  });
  for await (const row of rows) yield entryLine(row);
  for (const range of options.purged ?? []) yield purgeLine(range);
  for (const c of checkpoints) yield checkpointLine(c);
}

type EntryFields = Omit<LoggedEntry, 'status'> & { outcome: string };

export type ParsedLine =
  | ExportHeader
  | ({ type: 'entry'; seal: Seal | null } & EntryFields)
  | { type: 'seal'; seal: Seal }
  | ({ type: 'purge' } & PurgeRange)
  | ({ type: 'checkpoint' } & Checkpoint);

export function parseLine(line: string): ParsedLine {
  return JSON.parse(line) as ParsedLine;
}

/**
 * A parsed entry line as the chain hashes it (outcome back to status). Built field by field, not
 * by rest/spread: one object shape for every row keeps the verifier's hot loop fast.
 */
export function rowOf(line: ParsedLine): ChainRow | null {
  if (line.type === 'seal') return { entry: null, seal: line.seal };
  if (line.type !== 'entry') return null;
  return {
    entry: {
      seq: line.seq,
      occurredAt: line.occurredAt,
      traceId: line.traceId,
      partner: line.partner,
      professional: line.professional,
      purpose: line.purpose,
      legalBasis: line.legalBasis,
      action: line.action,
      caseId: line.caseId,
      dataSubjectRef: line.dataSubjectRef,
      fields: line.fields,
      status: line.outcome,
      ruleId: line.ruleId,
      reason: line.reason,
      policyVersion: line.policyVersion,
      emergency: line.emergency,
      requestId: line.requestId ?? null,
    },
    seal: line.seal,
  };
}

/**
 * The entry line's keys after "type", in entryLine's order, which is also canonical()'s; the CSV
 * export uses the same columns in the same order (src/audit/export-format.ts).
 */
export const ENTRY_KEYS = [
  'seq',
  'occurredAt',
  'traceId',
  'partner',
  'professional',
  'purpose',
  'legalBasis',
  'action',
  'caseId',
  'dataSubjectRef',
  'fields',
  'outcome',
  'ruleId',
  'reason',
  'policyVersion',
  'emergency',
  'requestId',
] as const;
const bytesOf = (text: string) => Buffer.from(text, 'utf8');
const MARKERS = ENTRY_KEYS.map((key, i) => bytesOf(`${i === 0 ? '{"type":"entry",' : ','}"${key}":`));
const SEAL_MARKER = bytesOf(',"seal":');
const FORMAT_MARKER = bytesOf(',"format":');
const SEAL_MARKERS = ['{"position":', ',"seq":', ',"entryHash":', ',"prevHash":', ',"sealedAt":'].map(
  bytesOf,
);
const QUOTE = 0x22;

/** Whether `marker` stands in `line` at `at`. */
function startsWith(line: Buffer, marker: Buffer, at: number): boolean {
  if (line.length - at < marker.length) return false;
  for (let i = 0; i < marker.length; i++) if (line[at + i] !== marker[i]) return false;
  return true;
}

const NULL = bytesOf('null');
const TRUE = bytesOf('true');
const FALSE = bytesOf('false');

/**
 * The index after the JSON value at `at` (a string, null, boolean, or array of strings and
 * nulls), or -1. Only for a line without backslashes: every quote then ends the string it is in.
 */
function valueEnd(line: Buffer, at: number): number {
  const c = line[at];
  if (c === QUOTE) {
    const end = line.indexOf(QUOTE, at + 1);
    return end === -1 ? -1 : end + 1;
  }
  if (startsWith(line, NULL, at) || startsWith(line, TRUE, at)) return at + 4;
  if (startsWith(line, FALSE, at)) return at + 5;
  if (c !== 0x5b) return -1;
  if (line[at + 1] === 0x5d) return at + 2;
  for (let i = at + 1; ;) {
    if (line[i] === QUOTE) {
      const end = line.indexOf(QUOTE, i + 1);
      if (end === -1) return -1;
      i = end + 1;
    } else if (startsWith(line, NULL, i)) i += 4;
    else return -1;
    if (line[i] === 0x5d) return i + 1;
    if (line[i] !== 0x2c) return -1;
    i++;
  }
}

/**
 * A sealed entry line (its bytes, without the newline) read without JSON.parse and a second
 * JSON.stringify: the entry's values stand in the line as JSON, in canonical()'s order, so their
 * bytes joined are the canonical text, written into `writer`.
 *
 * Only for a line that has no backslash and is valid UTF-8: then no string in it has an escape,
 * every quote delimits a string, and JSON.stringify(JSON.parse(value)) gives the value's own bytes
 * back, so the result is what parseLine and rowOf would make of the line, without hashing anything
 * twice. One difference, on purpose: a raw control character, which JSON does not allow in a
 * string, is not looked for byte by byte. canonical() never writes one, so such an entry cannot
 * match its seal and is reported as altered, where JSON.parse would refuse the whole file. Null
 * for anything else (another shape, escapes, an unsealed entry, a purged position's seal line):
 * the caller then reads the line with parseLine and rowOf, and the verifier judges it the same way.
 */
export function canonicalRowOf(line: Buffer, writer: CanonicalWriter): VerifyRow | null {
  if (line.indexOf(0x5c) !== -1 || !isUtf8(line)) return null;
  const start = writer.offset;
  let at = 0;
  let seqEnd = 0;
  for (let k = 0; k < MARKERS.length; k++) {
    const marker = MARKERS[k]!;
    if (!startsWith(line, marker, at)) return null;
    at += marker.length;
    const end = valueEnd(line, at);
    if (end === -1) return null;
    // seq, the first value, must be a string: its text is the entry's seq.
    if (k === 0) {
      if (line[at] !== QUOTE) return null;
      seqEnd = end;
    }
    // canonical() leaves a null request id out (version 1); the line writes it as null.
    const omitted = k === MARKERS.length - 1 && startsWith(line, NULL, at) && end === at + 4;
    if (!omitted) {
      writer.byte(k === 0 ? 0x5b : 0x2c);
      writer.bytes(line, at, end);
    }
    at = end;
  }
  writer.byte(0x5d);
  if (!startsWith(line, SEAL_MARKER, at) || line[line.length - 1] !== 0x7d) return null;
  at += SEAL_MARKER.length;
  // The seal as entryLine writes it, read the same way: five strings after fixed keys.
  const sealed: string[] = [];
  for (const marker of SEAL_MARKERS) {
    if (!startsWith(line, marker, at)) return null;
    at += marker.length;
    if (line[at] !== QUOTE) return null;
    const end = line.indexOf(QUOTE, at + 1);
    if (end === -1) return null;
    sealed.push(line.toString('utf8', at + 1, end));
    at = end + 1;
  }
  // Then the canonical format the seal names, a small number or null (absent in older files).
  let format: number | null | undefined;
  if (startsWith(line, FORMAT_MARKER, at)) {
    at += FORMAT_MARKER.length;
    const end = line.indexOf(0x7d, at);
    const text = end === -1 ? '' : line.toString('latin1', at, end);
    if (text === 'null') format = null;
    else if (/^[1-9][0-9]?$/.test(text)) format = Number(text);
    else return null;
    at = end;
  }
  if (at !== line.length - 2 || line[at] !== 0x7d) return null;
  const first = MARKERS[0]!.length;
  return {
    entry: { seq: line.toString('utf8', first + 1, seqEnd - 1), canonical: writer.view(start) },
    seal: {
      position: sealed[0]!,
      seq: sealed[1]!,
      entryHash: sealed[2]!,
      prevHash: sealed[3]!,
      ...(format === undefined ? {} : { format }),
    },
  };
}
