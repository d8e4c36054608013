import type { JWK } from 'jose';
import type { Queryable } from './chain.repository.js';
import { purgeDigest, type PurgeRecord } from './log-retention.js';
import { keyRing, signedFields, type Checkpoint, type Failure, type VerifyReport } from './verify.js';

/**
 * Each retention run checked against the chain and the retention in force, after verifyChain has
 * found the chain intact (so the entries and checkpoints read here are the sealed, signed ones).
 * The purged entries themselves are gone; what remains to check is:
 *
 * 1. the run is an entry of the chain: its own `purge` entry (by the run's trace id) is sealed, at a
 *    position after every position it purged, and ends with the digest of the run's records: a
 *    record in access_log_purge_run/access_log_purge without such an entry, or changed after it,
 *    fails ('purge-unrecorded', 'purge-forged');
 * 2. each record's retention is the one in force for its purpose when the run happened
 *    (access_log_retention_period), and its cut-off is no later than the run's time minus it;
 * 3. every purged position is covered by a checkpoint the gateway signed before that cut-off: the
 *    entry existed before the cut-off, so it was older than its retention when it went
 *    ('purge-early' names the first position that was not).
 */

interface RunRow {
  runId: string;
  traceId: string;
  position: string | null;
  occurredAt: string | null;
  reason: string | null;
}

interface ItemRow extends PurgeRecord {
  runId: string;
  inForce: string | null;
  cutoffOk: boolean;
  minPosition: string | null;
  maxPosition: string | null;
}

export async function verifyPurges(
  db: Queryable,
  checkpoints: readonly Checkpoint[],
  publicJwk: JWK | readonly JWK[],
  options: { now?: Date; unsealedMaxMs?: number } = {},
): Promise<Failure | null> {
  const runs = (await db.query(
    `SELECT r.run_id::text AS "runId", r.trace_id AS "traceId", e.position, e."occurredAt", e.reason
       FROM access_log_purge_run r
       LEFT JOIN LATERAL (
         SELECT s.position::text AS position,
                to_char(l.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "occurredAt", l.reason
           FROM access_log l LEFT JOIN access_log_seal s ON s.seq = l.seq
          WHERE l.trace_id = r.trace_id AND l.action = 'purge'
          ORDER BY s.position NULLS LAST LIMIT 1) e ON true
      ORDER BY r.run_id`,
  )) as RunRow[];
  if (runs.length === 0) return null;
  const items = (await db.query(
    `SELECT p.run_id::text AS "runId", p.purpose, p.retention,
            to_char(p.cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cutoff,
            p.count::text AS count, p.from_seq::text AS "fromSeq", p.to_seq::text AS "toSeq", p.seqs::text AS seqs,
            (SELECT coalesce(
                      (SELECT f.retention FROM access_log_retention_period f
                        WHERE f.set_at = v.set_at AND f.purpose = p.purpose),
                      (SELECT f.retention FROM access_log_retention_period f
                        WHERE f.set_at = v.set_at AND f.purpose IS NULL))
               FROM (SELECT max(set_at) AS set_at FROM access_log_retention_period
                      WHERE set_at <= e.occurred_at) v) AS "inForce",
            coalesce(p.cutoff <= e.occurred_at - p.retention::interval, false) AS "cutoffOk",
            (SELECT min(s.position)::text FROM access_log_seal s WHERE p.seqs @> s.seq) AS "minPosition",
            (SELECT max(s.position)::text FROM access_log_seal s WHERE p.seqs @> s.seq) AS "maxPosition"
       FROM access_log_purge p
       JOIN access_log_purge_run r ON r.run_id = p.run_id
       LEFT JOIN LATERAL (
         SELECT l.occurred_at FROM access_log l WHERE l.trace_id = r.trace_id AND l.action = 'purge' LIMIT 1) e ON true
      ORDER BY p.run_id, p.from_seq`,
  )) as ItemRow[];
  // The checkpoints by position with the time they signed (not the stored column).
  const keys = keyRing(publicJwk);
  const signedAt: { position: number; createdAt: number }[] = [];
  for (const c of checkpoints) {
    const signed = await signedFields(c, keys);
    if (signed) signedAt.push({ position: Number(c.position), createdAt: Date.parse(signed.createdAt) });
  }
  signedAt.sort((a, b) => a.position - b.position);
  const now = (options.now ?? new Date()).getTime();

  for (const run of runs) {
    const own = items.filter((i) => i.runId === run.runId);
    const first = own[0];
    const at = { position: first?.minPosition ?? null, seq: first?.fromSeq ?? null };
    if (run.reason === null) {
      return {
        ...at,
        problem: 'purge-unrecorded',
        detail: `retention run ${run.runId} is recorded, but the chain holds no purge entry of it (trace ${run.traceId})`,
      };
    }
    if (run.position === null) {
      // Its entry is not sealed yet: fine while it is recent, as for any entry.
      const age = now - Date.parse(run.occurredAt!);
      if (options.unsealedMaxMs === undefined || age <= options.unsealedMaxMs) continue;
      return {
        ...at,
        problem: 'purge-unrecorded',
        detail: `retention run ${run.runId}'s purge entry is not in the chain`,
      };
    }
    if (!run.reason.endsWith(`Records sha256:${purgeDigest(own)}`)) {
      return {
        ...at,
        problem: 'purge-forged',
        detail: `retention run ${run.runId}: its records in access_log_purge differ from those its purge entry (position ${run.position}) sealed`,
      };
    }
    for (const item of own) {
      const where = { position: item.minPosition, seq: item.fromSeq };
      const purpose = item.purpose ?? '(no purpose)';
      if (item.maxPosition !== null && Number(item.maxPosition) >= Number(run.position)) {
        return {
          ...where,
          problem: 'purge-unrecorded',
          detail: `retention run ${run.runId} purged position ${item.maxPosition}, after its own purge entry at ${run.position}`,
        };
      }
      if (item.inForce !== item.retention || !item.cutoffOk) {
        return {
          ...where,
          problem: 'purge-early',
          detail:
            `retention run ${run.runId} purged ${purpose} entries older than ${item.retention} (cut-off ${item.cutoff}); ` +
            `the retention in force then was ${item.inForce ?? 'none recorded'}`,
        };
      }
      // Positions up to the newest checkpoint signed before the cut-off were in the log before it.
      const cutoff = Date.parse(item.cutoff);
      let covered = 0;
      for (const c of signedAt) if (c.createdAt < cutoff && c.position > covered) covered = c.position;
      if (item.maxPosition !== null && Number(item.maxPosition) > covered) {
        const [young] = (await db.query(
          `SELECT min(s.position)::text AS position, (array_agg(s.seq::text ORDER BY s.position))[1] AS seq
             FROM access_log_seal s, access_log_purge p
            WHERE p.run_id = $1 AND p.from_seq = $2 AND p.seqs @> s.seq AND s.position > $3`,
          [item.runId, item.fromSeq, covered],
        )) as { position: string; seq: string }[];
        return {
          position: young!.position,
          seq: young!.seq,
          problem: 'purge-early',
          detail:
            `retention run ${run.runId} purged position ${young!.position} (${purpose}, older than ${item.retention}), ` +
            `but no checkpoint signed before the cut-off ${item.cutoff} covers it: it was not yet that old`,
        };
      }
    }
  }
  return null;
}

/** A chain report with the purge check added: run only on an intact chain, its failure is the report's. */
export async function withPurgeCheck(
  report: VerifyReport,
  db: Queryable,
  checkpoints: readonly Checkpoint[],
  publicJwk: JWK | readonly JWK[],
  options: { now?: Date; unsealedMaxMs?: number } = {},
): Promise<VerifyReport> {
  if (!report.ok) return report;
  const failure = await verifyPurges(db, checkpoints, publicJwk, options);
  return failure ? { ...report, ok: false, failure } : report;
}
