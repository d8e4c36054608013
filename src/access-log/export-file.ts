import type { LoggedEntry } from './chain.js';
import type { ChainRow, Checkpoint, PurgeRange, Seal } from './verify.js';

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
