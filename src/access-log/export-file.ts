import { entryHashHex, type LoggedEntry } from './chain.js';
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
] as const;
const MARKERS = ENTRY_KEYS.map((key, i) => `${i === 0 ? '{"type":"entry",' : ','}"${key}":`);
const SEAL_MARKER = ',"seal":';
const SEAL_MARKERS = ['{"position":', ',"seq":', ',"entryHash":', ',"prevHash":', ',"sealedAt":'];

/** A JSON string literal without escapes, as its value (what JSON.parse gives); null if it has any. */
const plain = (literal: string): string | null =>
  literal.charCodeAt(0) === 34 && literal.indexOf('\\') === -1 ? literal.slice(1, -1) : null;

/** The index after the JSON string opening at `i`, or -1 (an escaped quote does not end it). */
function stringEnd(line: string, i: number): number {
  for (let from = i + 1; ;) {
    const quote = line.indexOf('"', from);
    if (quote === -1) return -1;
    let backslashes = 0;
    while (line.charCodeAt(quote - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The index after the string, null, boolean or array of strings and nulls at `i`, or -1. */
function valueEnd(line: string, i: number): number {
  const c = line.charCodeAt(i);
  if (c === 34) return stringEnd(line, i);
  if (line.startsWith('null', i) || line.startsWith('true', i)) return i + 4;
  if (line.startsWith('false', i)) return i + 5;
  if (c !== 91) return -1;
  if (line.charCodeAt(i + 1) === 93) return i + 2;
  for (let at = i + 1; ;) {
    at = line.charCodeAt(at) === 34 ? stringEnd(line, at) : line.startsWith('null', at) ? at + 4 : -1;
    if (at === -1) return -1;
    const next = line.charCodeAt(at);
    if (next === 93) return at + 1;
    if (next !== 44) return -1;
    at++;
  }
}

/**
 * A sealed entry line read without JSON.parse of the whole line and a second JSON.stringify: the
 * entry's values stand in the line as JSON, in canonical()'s order, so their text joined is the
 * canonical text. It is used only when it hashes to the line's own seal: then it is byte for byte
 * what the gateway sealed, and, because the line was split at its real JSON tokens, exactly the
 * values the line says (what JSON.parse would give). Null for anything else (another shape, a
 * file re-encoded with other escapes, an unsealed or altered entry): the caller then reads the
 * line with parseLine and rowOf, and the verifier judges it as before, with the same findings.
 */
export function canonicalRowOf(line: string): VerifyRow | null {
  const values: string[] = [];
  let at = 0;
  for (const marker of MARKERS) {
    if (!line.startsWith(marker, at)) return null;
    at += marker.length;
    const end = valueEnd(line, at);
    if (end === -1) return null;
    values.push(line.slice(at, end));
    at = end;
  }
  if (!line.startsWith(SEAL_MARKER, at) || line.charCodeAt(line.length - 1) !== 125) return null;
  at += SEAL_MARKER.length;
  // The seal as entryLine writes it, read the same way: five strings after fixed keys.
  const sealed: string[] = [];
  for (const marker of SEAL_MARKERS) {
    if (!line.startsWith(marker, at)) return null;
    at += marker.length;
    if (line.charCodeAt(at) !== 34) return null;
    const end = stringEnd(line, at);
    if (end === -1) return null;
    const value = plain(line.slice(at, end));
    if (value === null) return null;
    sealed.push(value);
    at = end;
  }
  if (at !== line.length - 2 || line.charCodeAt(at) !== 125) return null;
  const seal: Seal = {
    position: sealed[0]!,
    seq: sealed[1]!,
    entryHash: sealed[2]!,
    prevHash: sealed[3]!,
    sealedAt: sealed[4]!,
  };
  const seq = plain(values[0]!);
  const occurredAt = plain(values[1]!);
  if (seq === null || occurredAt === null) return null;
  const entry = { seq, occurredAt, canonical: `[${values.join(',')}]` };
  if (entryHashHex(Buffer.from(seal.prevHash, 'hex'), entry) !== seal.entryHash) return null;
  return { entry, seal };
}
