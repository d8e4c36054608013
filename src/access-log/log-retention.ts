import { createHash, randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AccessLogRepository } from './access-log.repository.js';

/** How long the log keeps each purpose's entries, and the fallback for the rest. */
export interface LogRetentionPolicy {
  /** The convenant version the retention periods come from (recorded with each run). */
  version: string;
  purposes: readonly { id: string; logRetention?: string }[];
  /** ISO-8601; for purposes without log_retention, entries without a purpose, unknown purposes. */
  defaultRetention: string;
}

/** What a purge removes (plan) or removed (run) for one purpose. */
export interface PurgeItem {
  /** null: entries logged without a purpose (e.g. a token refused before one was known). */
  purpose: string | null;
  retention: string;
  /** Entries that occurred before this moment are expired. */
  cutoff: string;
  count: number;
  fromSeq: string;
  toSeq: string;
  /** Exactly which seqs, as a PostgreSQL int8multirange in text form: `{[2,3),[5,8)}`. */
  seqs: string;
}

export interface PurgePlan {
  /** The moment the cut-offs are computed from. */
  now: string;
  items: PurgeItem[];
  total: number;
}

export interface PurgeResult extends PurgePlan {
  /** The run's id in access_log_purge_run; null when nothing was expired (nothing recorded but its log entry). */
  runId: string | null;
  traceId: string;
}

export class RetentionRoleMissingError extends Error {
  constructor(cause: string) {
    super(
      `The access log purge runs as role convenant_retention, which this connection cannot assume (${cause}). ` +
        'Create the role (migration AccessLogIntegrity does, given CREATEROLE) and GRANT convenant_retention to the login role.',
    );
    this.name = 'RetentionRoleMissingError';
  }
}

/**
 * Retention of the access log itself. An entry expires when it is older than its purpose's
 * log_retention (convenant), or the gateway's ACCESS_LOG_RETENTION when the purpose sets none.
 * Only sealed entries are removed, so a purge never races the sealer, and seals and checkpoints
 * are never removed: the chain runs on across purged positions and `convenant audit verify` checks
 * their seals' links and names the runs that account for them (access_log_purge).
 *
 * plan() is the dry run; run() removes exactly what plan() lists for the same `now`, in one
 * transaction as `SET LOCAL ROLE convenant_retention` (the only role the append-only triggers let
 * delete), records the run per purpose in access_log_purge(_run), and writes an access_log entry
 * of its own. Plain class with its collaborators passed in, so the CLI, the gateway and other
 * commands (case-data retention) can call it alike.
 */
export class AccessLogRetention {
  constructor(
    private readonly dataSource: DataSource,
    private readonly log: AccessLogRepository,
    private readonly policy: () => LogRetentionPolicy,
  ) {}

  async plan(now: Date = new Date()): Promise<PurgePlan> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const items = await this.expired(manager, now, 'plan');
      return { now: now.toISOString(), items, total: sum(items) };
    });
  }

  async run(now: Date = new Date()): Promise<PurgeResult> {
    const policy = this.policy();
    const traceId = randomBytes(16).toString('hex');
    return this.dataSource.transaction(async (manager) => {
      // The periods the database holds the deletes to: recorded (as the connecting role, which
      // convenant_retention cannot do itself) whenever the convenant's differ from those in force.
      await recordRetention(manager, policy);
      try {
        await manager.query(`SET LOCAL ROLE convenant_retention`);
      } catch (error) {
        throw new RetentionRoleMissingError((error as Error).message);
      }
      const items = await this.expired(manager, now, 'delete');
      const total = sum(items);
      let runId: string | null = null;
      if (total > 0) {
        const [run] = await manager.query<{ runId: string }[]>(
          `INSERT INTO access_log_purge_run (ran_at, removed, trace_id, policy_version)
           VALUES (now(), $1, $2, $3) RETURNING run_id::text AS "runId"`,
          [total, traceId, policy.version],
        );
        runId = run!.runId;
        await manager.query(
          `INSERT INTO access_log_purge (run_id, purpose, retention, cutoff, count, from_seq, to_seq, seqs)
           SELECT $1, p, r, c, n, f, t, s::int8multirange
             FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[])
                  AS u(p, r, c, n, f, t, s)`,
          [
            runId,
            items.map((i) => i.purpose),
            items.map((i) => i.retention),
            items.map((i) => i.cutoff),
            items.map((i) => i.count),
            items.map((i) => i.fromSeq),
            items.map((i) => i.toSeq),
            items.map((i) => i.seqs),
          ],
        );
      }
      // The purge is an access to the log like any other, and says in its reason what it removed.
      await this.log.append(
        [
          {
            requestId: null,
            traceId,
            partner: null,
            professional: 'convenant-retention',
            purpose: null,
            legalBasis: [],
            action: 'purge',
            caseId: null,
            dataSubjectRef: null,
            fields: [],
            status: 'allowed',
            ruleId: null,
            reason: describe(runId, items),
            policyVersion: policy.version,
            emergency: false,
          },
        ],
        manager,
      );
      return { now: now.toISOString(), items, total, runId, traceId };
    });
  }

  /** The expired entries per purpose; with `delete`, removes them and returns what went. */
  private async expired(manager: EntityManager, now: Date, mode: 'plan' | 'delete'): Promise<PurgeItem[]> {
    const policy = this.policy();
    const purposes = policy.purposes.map((p) => p.id);
    const retentions = policy.purposes.map((p) => p.logRetention ?? policy.defaultRetention);
    const expired = `
      policy(purpose, retention) AS (SELECT * FROM unnest($2::text[], $3::text[])),
      cutoffs AS (
        SELECT purpose, retention, $1::timestamptz - retention::interval AS cutoff FROM policy
        UNION ALL SELECT NULL::text, $4::text, $1::timestamptz - $4::interval),
      latest AS (SELECT max(cutoff) AS cutoff FROM cutoffs)`;
    // An entry's cut-off is its purpose's, or the default's for no purpose or one not in the convenant.
    const cutoff = `coalesce(
        (SELECT c.cutoff FROM cutoffs c WHERE c.purpose = l.processing_activity_id),
        (SELECT c.cutoff FROM cutoffs c WHERE c.purpose IS NULL))`;
    // Only entries a checkpoint signed before the cut-off covers: that signature is what verification
    // checks each purged position against (the entry itself is gone), and the database's guard on
    // access_log refuses any other delete.
    const where = `
      l.occurred_at < (SELECT cutoff FROM latest)
      AND l.occurred_at < ${cutoff}
      AND EXISTS (SELECT 1 FROM access_log_seal s WHERE s.seq = l.seq
        AND s.position <= (SELECT max(k.position) FROM access_log_checkpoint k WHERE k.created_at < ${cutoff}))`;
    const source =
      mode === 'delete'
        ? `gone AS (DELETE FROM access_log l WHERE ${where}
             RETURNING l.seq, l.processing_activity_id AS purpose)`
        : `gone AS (SELECT l.seq, l.processing_activity_id AS purpose FROM access_log l WHERE ${where})`;
    return manager.query<PurgeItem[]>(
      `WITH ${expired}, ${source}
       SELECT g.purpose,
              coalesce(c.retention, d.retention) AS retention,
              to_char(coalesce(c.cutoff, d.cutoff) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cutoff,
              count(*)::int AS count, min(g.seq)::text AS "fromSeq", max(g.seq)::text AS "toSeq",
              range_agg(int8range(g.seq, g.seq + 1))::text AS seqs
         FROM gone g
         LEFT JOIN cutoffs c ON c.purpose = g.purpose
         CROSS JOIN (SELECT retention, cutoff FROM cutoffs WHERE purpose IS NULL) d
        GROUP BY 1, 2, 3 ORDER BY 1 NULLS FIRST`,
      [now.toISOString(), purposes, retentions, policy.defaultRetention],
    );
  }
}

function sum(items: readonly PurgeItem[]): number {
  return items.reduce((n, i) => n + i.count, 0);
}

/**
 * The run's own log entry says what it removed, for officers, and ends with the digest of its
 * records in access_log_purge (purgeDigest): sealed into the chain, it binds those records, so a
 * record added or changed afterwards no longer matches an entry of the chain.
 */
function describe(runId: string | null, items: readonly PurgeItem[]): string {
  if (items.length === 0) return 'Access log retention: nothing expired.';
  const parts = items.map(
    (i) =>
      `${i.purpose ?? '(no purpose)'} ${i.count} (seq ${i.fromSeq}-${i.toSeq}, older than ${i.retention})`,
  );
  return (
    `Access log retention run ${runId}: removed ${sum(items)} entries: ${parts.join('; ')}. ` +
    `Records sha256:${purgeDigest(items)}`
  );
}

/** What of a run's record the digest covers, as stored in access_log_purge. */
export type PurgeRecord = Pick<
  PurgeItem,
  'purpose' | 'retention' | 'cutoff' | 'fromSeq' | 'toSeq' | 'seqs'
> & {
  count: number | string;
};

/** SHA-256 over a run's records, by purpose (none first), each as a JSON array of its fields. */
export function purgeDigest(records: readonly PurgeRecord[]): string {
  const key = (r: PurgeRecord) => (r.purpose === null ? '' : `\u0001${r.purpose}`);
  const sorted = [...records].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const text = JSON.stringify(
    sorted.map((r) => [r.purpose, r.retention, r.cutoff, String(r.count), r.fromSeq, r.toSeq, r.seqs]),
  );
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Records the convenant's log retention periods in access_log_retention_period, unless the latest
 * recording holds exactly these: the periods the database lets the retention role delete by. The
 * gateway records them whenever it puts a convenant version in force (PolicyRegistry), so the
 * retention job, whose login may only read them, finds them there.
 */
export async function recordRetention(manager: EntityManager, policy: LogRetentionPolicy): Promise<void> {
  const wanted = new Map<string | null, string>([[null, policy.defaultRetention]]);
  for (const p of policy.purposes) wanted.set(p.id, p.logRetention ?? policy.defaultRetention);
  const current = await manager.query<{ purpose: string | null; retention: string }[]>(
    `SELECT purpose, retention FROM access_log_retention_period
      WHERE set_at = (SELECT max(set_at) FROM access_log_retention_period)`,
  );
  const same = current.length === wanted.size && current.every((r) => wanted.get(r.purpose) === r.retention);
  if (same) return;
  await manager.query(
    `INSERT INTO access_log_retention_period (policy_version, purpose, retention)
     SELECT $1, p, r FROM unnest($2::text[], $3::text[]) AS u(p, r)`,
    [policy.version, [...wanted.keys()], [...wanted.values()]],
  );
}

/** The retention periods as the convenant in force and the configuration give them. */
export function logRetentionPolicy(
  compiled: { version: string; convenant: { purposes: readonly { id: string; logRetention?: string }[] } },
  defaultRetention: string,
): LogRetentionPolicy {
  return {
    version: compiled.version,
    purposes: compiled.convenant.purposes.map((p) => ({
      id: p.id,
      ...(p.logRetention === undefined ? {} : { logRetention: p.logRetention }),
    })),
    defaultRetention,
  };
}
