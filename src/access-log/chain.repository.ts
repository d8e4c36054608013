import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { DataSource, EntityManager } from 'typeorm';
import { ENTRY_SELECT, type HashableEntry, type LoggedEntry } from './chain.js';
import { CanonicalWriter, COPY_ENTRY_SELECT, tupleFormat, writeCanonical } from './canonical-bytes.js';
import { byteaHex, CopyBinaryParser, int8Text, type Tuple } from './copy-binary.js';
import type { ChainLink, ChainRow, Checkpoint, PurgeRange, VerifyRow } from './verify.js';

/**
 * Where verification reads the chain: a DataSource or a pg Pool (a verification worker's own),
 * whose pages run on connections of their own, or a transaction's EntityManager, whose pages share
 * its connection and see what it sees.
 */
export type ChainSource = DataSource | EntityManager | pg.Pool;

/** A connection to run a page's COPYs on, and how to give it back. */
async function borrow(source: ChainSource): Promise<{ client: pg.ClientBase; release: () => Promise<void> }> {
  if (source instanceof pg.Pool) {
    const client = await source.connect();
    return { client, release: () => Promise.resolve(client.release()) };
  }
  // pg queues the statements of pages that share a transaction's connection.
  const shared = 'queryRunner' in source ? source.queryRunner : undefined;
  const runner = shared ?? ('connection' in source ? source.connection : source).createQueryRunner();
  const client = (await runner.connect()) as pg.ClientBase;
  return { client, release: async () => (shared ? undefined : runner.release()) };
}

/** The source as a Queryable (rows out), for the statements that are not COPYs. */
export const queryable = (source: ChainSource): Queryable =>
  source instanceof pg.Pool
    ? { query: async (sql, params) => (await source.query<Record<string, unknown>>(sql, params)).rows }
    : source;

/**
 * A page's entries by seq, and the row each seal makes with its entry. access_log's key is
 * (seq, occurred_at), as a partitioned table's must include the partition key, so nothing in the
 * schema stops a second row with a sealed row's seq: such a row is marked on the seal's row
 * (`duplicate`), and the verifier names it as inserted instead of the page keeping either one.
 */
class SeqIndex<E extends { seq: string }> {
  private readonly bySeq = new Map<string, E>();
  private readonly twice = new Set<string>();

  add(entry: E): void {
    if (this.bySeq.has(entry.seq)) this.twice.add(entry.seq);
    else this.bySeq.set(entry.seq, entry);
  }

  row<S extends { seq: string }>(seal: S): { entry: E | null; seal: S; duplicate?: true } {
    const entry = this.bySeq.get(seal.seq) ?? null;
    return this.twice.has(seal.seq) ? { entry, seal, duplicate: true } : { entry, seal };
  }
}

/** Rows per query while streaming the chain: bounded memory at any log size. */
const PAGE = 10_000;

/** A DataSource, or an EntityManager to read inside a transaction. */
export interface Queryable {
  query(query: string, parameters?: unknown[]): Promise<unknown>;
}

type SealedRow = LoggedEntry & {
  sealPosition: string;
  sealSeq: string;
  entryHash: string;
  prevHash: string;
  sealedAt: string;
  format: number | null;
};

/**
 * The chain as verifyChain reads it: sealed rows by position (with the entry, or null if the row
 * is gone), then rows without a seal by seq. Keyset pages, so a large log streams.
 */
export async function* readChain(dataSource: Queryable, from = 1n, to?: bigint): AsyncGenerator<ChainRow> {
  yield* readSealed(dataSource, from, to);
  if (to === undefined) yield* readUnsealed(dataSource, {});
}

/**
 * readChain for verification, a page at a time (one await per page, not per row). Sealed entries
 * come as their canonical text in bytes (CanonicalEntry), written from the binary COPY's fields:
 * what the chain hashes, without a JS string or an entry object per row. The few rows not yet
 * sealed come as entries.
 */
export async function* readChainPages(
  source: ChainSource,
  from = 1n,
  to?: bigint,
): AsyncGenerator<VerifyRow[]> {
  yield* verifyPages(source, VERIFY_PAGE, from, to);
  if (to === undefined) {
    for await (const row of readUnsealed(queryable(source), {})) yield [row];
  }
}

/** Positions per page while verifying (verifyPages reads several at once). */
const VERIFY_PAGE = 10_000;

const LINK_SELECT = `
  s.position::text AS "sealPosition", s.seq::text AS "sealSeq",
  encode(s.entry_hash, 'hex') AS "entryHash", encode(s.prev_hash, 'hex') AS "prevHash", s.format AS "format"`;
const SEAL_SELECT = `${LINK_SELECT},
  to_char(s.sealed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "sealedAt"`;

function toChainRow(row: SealedRow): ChainRow {
  const { sealPosition, sealSeq, entryHash, prevHash, sealedAt, format, ...entry } = row;
  return {
    entry: entry.seq === null ? null : entry,
    seal: { position: sealPosition, seq: sealSeq, entryHash, prevHash, sealedAt, format },
  };
}

/**
 * Positions [from, to] with their entries (null where the entry is gone), by position.
 *
 * Two queries per page, not a join: access_log is partitioned by occurred_at and the seal knows
 * only the seq, so a join would probe every partition's index once per seal. Sealing follows seq
 * order closely, so a page's entries are fetched as one seq range (one index range scan per
 * partition) and matched in memory; a page whose seqs spread far (late commits) asks by list.
 */
export async function* readSealed(dataSource: Queryable, from = 1n, to?: bigint): AsyncGenerator<ChainRow> {
  for await (const page of sealedPages<LoggedEntry>(dataSource, ENTRY_SELECT, PAGE, from, to)) yield* page;
}

type SealOnly = Omit<SealedRow, keyof LoggedEntry>;

/** The entries a page of seals names: one seq range when they lie close together, else by list. */
async function entriesOf<E>(
  dataSource: Queryable,
  select: string,
  seals: Pick<SealOnly, 'sealSeq'>[],
  size: number,
): Promise<E[]> {
  if (seals.length === 0) return [];
  let low = BigInt(seals[0]!.sealSeq);
  let high = low;
  for (const s of seals) {
    const seq = BigInt(s.sealSeq);
    if (seq < low) low = seq;
    if (seq > high) high = seq;
  }
  return (await (high - low < BigInt(4 * size)
    ? dataSource.query(`SELECT ${select} FROM access_log l WHERE l.seq BETWEEN $1 AND $2`, [
        low.toString(),
        high.toString(),
      ])
    : dataSource.query(`SELECT ${select} FROM access_log l WHERE l.seq = ANY ($1::bigint[])`, [
        seals.map((s) => s.sealSeq),
      ]))) as E[];
}

/**
 * Sealed rows for verification, by position, in pages of `size` positions ((lo, lo + size]), with
 * AHEAD pages asked for at once: PostgreSQL reads and sends the next pages on other backends (and
 * cores) while Node hashes this one. A range with no seal at all (a gap where seals were removed)
 * is jumped over to the next seal, so a forged far-off position costs one query, not a page per
 * missing range. Rows come out in position order.
 *
 * A page is two binary COPYs (copyPage): fields arrive as bytes, and an entry's canonical text is
 * written from them into one buffer per page without becoming a JS string.
 */
async function* verifyPages(
  source: ChainSource,
  size: number,
  from: bigint,
  to: bigint | undefined,
): AsyncGenerator<VerifyRow[]> {
  const dataSource = queryable(source);
  const [bounds] = (await dataSource.query(
    `SELECT max(position)::text AS last FROM access_log_seal WHERE ($1::bigint IS NULL OR position <= $1)`,
    [to?.toString() ?? null],
  )) as { last: string | null }[];
  if (!bounds?.last) return;
  const last = BigInt(bounds.last);
  const page = async (after: bigint) => ({
    after,
    rows: await copyPage(source, after, after + BigInt(size) < last ? after + BigInt(size) : last, size),
  });
  const queue: ReturnType<typeof page>[] = [];
  let issued = from - 1n;
  const fill = () => {
    while (queue.length < AHEAD && issued < last) {
      const next = page(issued);
      // Awaited in turn below; until then a failure must not count as unhandled (and end the process).
      next.catch(() => undefined);
      queue.push(next);
      issued += BigInt(size);
    }
  };
  fill();
  while (queue.length > 0) {
    const { after, rows } = await queue.shift()!;
    if (rows.length === 0) {
      const [next] = (await dataSource.query(
        `SELECT min(position)::text AS next FROM access_log_seal WHERE position > $1 AND position <= $2`,
        [(after + BigInt(size)).toString(), last.toString()],
      )) as { next: string | null }[];
      // Nothing up to the end: done. Past the pages already asked for: start again from there.
      if (!next?.next) {
        await Promise.all(queue.splice(0));
        break;
      }
      if (BigInt(next.next) - 1n > issued) {
        await Promise.all(queue.splice(0));
        issued = BigInt(next.next) - 1n;
      }
      fill();
      continue;
    }
    fill();
    yield rows;
  }
}

/**
 * Positions (after, upTo] with their entries, by position: two binary COPYs on one connection,
 * the seals, then the entries they name. Two statements, not a join: access_log is partitioned by
 * occurred_at and the seal knows only the seq, so a join would probe every partition's index once
 * per seal, and a hash join of the wide rows cost more than reading them. Sealing follows seq
 * order closely, so the entries are asked for as one seq range (one index range scan per
 * partition); a page whose seqs spread far (late commits) names them by the seals' own list.
 * COPY takes no bind parameters: every value put in the statements is a bigint printed here.
 */
async function copyPage(
  source: ChainSource,
  after: bigint,
  upTo: bigint,
  size: number,
): Promise<VerifyRow[]> {
  const { client, release } = await borrow(source);
  try {
    const range = `s.position > ${after} AND s.position <= ${upTo}`;
    const seals: ChainLink[] = [];
    // Numbers, not BigInts, per seal: only the bounds of the query are made of them.
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    await copyOut(
      client,
      `SELECT s.position, s.seq, s.entry_hash, s.prev_hash, s.format FROM access_log_seal s WHERE ${range} ORDER BY s.position`,
      (tuple) => {
        const seq = int8Text(tuple, 1);
        const n = Number(seq);
        if (n < low) low = n;
        if (n > high) high = n;
        seals.push({
          position: int8Text(tuple, 0),
          seq,
          entryHash: byteaHex(tuple, 2),
          prevHash: byteaHex(tuple, 3),
          format: tuple.lengths[4] === -1 ? null : tuple.bytes.readInt16BE(tuple.starts[4]),
        });
      },
    );
    if (seals.length === 0) return [];
    // A seq no double holds exactly (a forged one) is asked for by the list, as a spread page is.
    const compact = Number.isSafeInteger(low) && Number.isSafeInteger(high) && high - low < 4 * size;
    const writer = new CanonicalWriter(512 * seals.length);
    const index = new SeqIndex<HashableEntry>();
    const unrendered: string[] = [];
    await copyOut(
      client,
      `SELECT ${COPY_ENTRY_SELECT} FROM access_log l
        WHERE ${compact ? `l.seq BETWEEN ${low} AND ${high}` : `l.seq = ANY (ARRAY(SELECT seq FROM access_log_seal s WHERE ${range}))`}`,
      (tuple) => {
        const seq = int8Text(tuple, 0);
        const canonical = writeCanonical(writer, seq, tuple);
        if (canonical) index.add({ seq, canonical, format: tupleFormat(tuple) });
        else unrendered.push(seq);
      },
    );
    // Entries the byte writer cannot render exactly are read as text and serialised by canonical().
    if (unrendered.length > 0) {
      const entries = (
        await client.query<LoggedEntry>(
          `SELECT ${ENTRY_SELECT} FROM access_log l WHERE l.seq = ANY ($1::bigint[])`,
          [unrendered],
        )
      ).rows;
      for (const entry of entries) index.add(entry);
    }
    return seals.map((seal) => index.row(seal));
  } finally {
    await release();
  }
}

/** Runs `COPY (select) TO STDOUT (FORMAT binary)` and hands each tuple to `onTuple` as it arrives. */
async function copyOut(
  client: pg.ClientBase,
  select: string,
  onTuple: (tuple: Tuple) => void,
): Promise<void> {
  const parser = new CopyBinaryParser();
  const stream = client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`));
  for await (const chunk of stream as AsyncIterable<Buffer>) parser.push(chunk, onTuple);
  parser.end();
}

/** Pages in flight at once while verifying: one per core of this machine, plus the one being hashed. */
const AHEAD = 3;

/**
 * readSealed's pages, with the entry columns given by `select`. The next page is asked for before
 * this one is handed over: its queries run in PostgreSQL while the caller works on this one.
 */
async function* sealedPages<E extends { seq: string }>(
  dataSource: Queryable,
  select: string,
  size: number,
  from: bigint,
  to: bigint | undefined,
): AsyncGenerator<{ entry: E | null; seal: ChainRow['seal'] & object }[]> {
  const page = async (after: bigint) => {
    const seals = (await dataSource.query(
      `SELECT ${SEAL_SELECT} FROM access_log_seal s
        WHERE s.position > $1 AND ($2::bigint IS NULL OR s.position <= $2)
        ORDER BY s.position LIMIT $3`,
      [after.toString(), to?.toString() ?? null, size],
    )) as SealOnly[];
    return { seals, entries: await entriesOf<E>(dataSource, select, seals, size) };
  };
  let next = page(from - 1n);
  for (;;) {
    const { seals, entries } = await next;
    if (seals.length === 0) break;
    const more = seals.length === size;
    if (more) next = page(BigInt(seals[seals.length - 1]!.sealPosition));
    const index = new SeqIndex<E>();
    for (const entry of entries) index.add(entry);
    yield seals.map(({ sealPosition, sealSeq, entryHash, prevHash, sealedAt, format }) =>
      index.row({ position: sealPosition, seq: sealSeq, entryHash, prevHash, sealedAt, format }),
    );
    if (!more) break;
  }
}

/** A time range [from, to) and optionally one case: what an export selects. */
export interface ChainFilter {
  from?: string;
  to?: string;
  caseId?: string;
}

function filterSql(filter: ChainFilter, params: unknown[]): string {
  const where: string[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.from !== undefined) where.push(`l.occurred_at >= ${p(filter.from)}::timestamptz`);
  if (filter.to !== undefined) where.push(`l.occurred_at < ${p(filter.to)}::timestamptz`);
  if (filter.caseId !== undefined) where.push(`l.case_id = ${p(filter.caseId)}::uuid`);
  return where.map((w) => ` AND ${w}`).join('');
}

/** Rows not (yet) in the chain, by seq, within the filter. */
export function readUnsealed(dataSource: Queryable, filter: ChainFilter): AsyncGenerator<ChainRow> {
  return unsealed<LoggedEntry>(dataSource, ENTRY_SELECT, filter);
}

async function* unsealed<E extends { seq: string }>(
  dataSource: Queryable,
  select: string,
  filter: ChainFilter,
): AsyncGenerator<{ entry: E; seal: null }> {
  let afterSeq = '-9223372036854775808';
  for (;;) {
    const params: unknown[] = [afterSeq, PAGE];
    const rows = (await dataSource.query(
      `SELECT ${select} FROM access_log l
        WHERE l.seq > $1 AND NOT EXISTS (SELECT 1 FROM access_log_seal s WHERE s.seq = l.seq)${filterSql(filter, params)}
        ORDER BY l.seq LIMIT $2`,
      params,
    )) as E[];
    for (const entry of rows) yield { entry, seal: null };
    if (rows.length < PAGE) break;
    afterSeq = rows[rows.length - 1]!.seq;
  }
}

/** Sealed entries matching the filter, by position: a selection at scattered positions. */
export async function* readSelection(dataSource: Queryable, filter: ChainFilter): AsyncGenerator<ChainRow> {
  let after = '0';
  for (;;) {
    const params: unknown[] = [after, PAGE];
    const rows = (await dataSource.query(
      `SELECT ${SEAL_SELECT}, ${ENTRY_SELECT}
         FROM access_log l JOIN access_log_seal s ON s.seq = l.seq
        WHERE s.position > $1${filterSql(filter, params)}
        ORDER BY s.position LIMIT $2`,
      params,
    )) as SealedRow[];
    for (const row of rows) yield toChainRow(row);
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.sealPosition;
  }
}

/**
 * The chain positions of the sealed entries in a time range: the segment an unfiltered export
 * holds. Null when no sealed entry falls in the range.
 */
export async function chainBounds(
  dataSource: Queryable,
  filter: ChainFilter,
): Promise<{ first: bigint; last: bigint } | null> {
  const params: unknown[] = [];
  const where = filterSql(filter, params);
  // Unfiltered: the whole chain, purged positions included, so it verifies from the genesis hash.
  const [row] = (await dataSource.query(
    where === ''
      ? `SELECT min(position)::text AS first, max(position)::text AS last FROM access_log_seal`
      : `SELECT min(s.position)::text AS first, max(s.position)::text AS last
           FROM access_log l JOIN access_log_seal s ON s.seq = l.seq WHERE true${where}`,
    params,
  )) as { first: string | null; last: string | null }[];
  return row?.first && row.last ? { first: BigInt(row.first), last: BigInt(row.last) } : null;
}

/** Recorded retention runs, per purpose: what lets the verifier tell purged from removed. */
export async function readPurges(dataSource: Queryable): Promise<PurgeRange[]> {
  return (await dataSource.query(
    `SELECT run_id::text AS "runId", purpose, from_seq::text AS "fromSeq", to_seq::text AS "toSeq",
            count::text AS "count", seqs::text AS seqs
       FROM access_log_purge ORDER BY run_id, from_seq`,
  )) as PurgeRange[];
}

export async function readCheckpoints(dataSource: Queryable): Promise<Checkpoint[]> {
  return (await dataSource.query(
    `SELECT position::text AS "position", encode(chain_head, 'hex') AS "chainHead", count::text AS "count",
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt", jws,
            encode(root_hash, 'hex') AS "rootHash"
       FROM access_log_checkpoint c ORDER BY c.position`,
  )) as Checkpoint[];
}
