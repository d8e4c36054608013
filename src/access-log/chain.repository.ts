import { ENTRY_SELECT, type LoggedEntry } from './chain.js';
import type { ChainRow, Checkpoint } from './verify.js';

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
};

/**
 * The chain as verifyChain reads it: sealed rows by position (with the entry, or null if the row
 * is gone), then rows without a seal by seq. Keyset pages, so a large log streams.
 */
export async function* readChain(dataSource: Queryable, from = 1n, to?: bigint): AsyncGenerator<ChainRow> {
  let after = from - 1n;
  for (;;) {
    const rows = (await dataSource.query(
      `SELECT s.position::text AS "sealPosition", s.seq::text AS "sealSeq",
              encode(s.entry_hash, 'hex') AS "entryHash", encode(s.prev_hash, 'hex') AS "prevHash",
              to_char(s.sealed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "sealedAt",
              ${ENTRY_SELECT}
         FROM access_log_seal s LEFT JOIN access_log l ON l.seq = s.seq
        WHERE s.position > $1 AND ($2::bigint IS NULL OR s.position <= $2)
        ORDER BY s.position LIMIT $3`,
      [after.toString(), to?.toString() ?? null, PAGE],
    )) as SealedRow[];
    for (const row of rows) {
      const { sealPosition, sealSeq, entryHash, prevHash, sealedAt, ...entry } = row;
      yield {
        entry: entry.seq === null ? null : entry,
        seal: { position: sealPosition, seq: sealSeq, entryHash, prevHash, sealedAt },
      };
    }
    if (rows.length < PAGE) break;
    after = BigInt(rows[rows.length - 1]!.sealPosition);
  }
  if (to !== undefined) return;
  let afterSeq = '-9223372036854775808';
  for (;;) {
    const rows = (await dataSource.query(
      `SELECT ${ENTRY_SELECT} FROM access_log l
        WHERE l.seq > $1 AND NOT EXISTS (SELECT 1 FROM access_log_seal s WHERE s.seq = l.seq)
        ORDER BY l.seq LIMIT $2`,
      [afterSeq, PAGE],
    )) as LoggedEntry[];
    for (const entry of rows) yield { entry, seal: null };
    if (rows.length < PAGE) break;
    afterSeq = rows[rows.length - 1]!.seq;
  }
}

export async function readCheckpoints(dataSource: Queryable): Promise<Checkpoint[]> {
  return (await dataSource.query(
    `SELECT position::text AS "position", encode(chain_head, 'hex') AS "chainHead", count::text AS "count",
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt", jws
       FROM access_log_checkpoint c ORDER BY c.position`,
  )) as Checkpoint[];
}
