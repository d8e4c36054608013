import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CompactSign } from 'jose';
import { DataSource, type EntityManager } from 'typeorm';
import { GATEWAY_ALG, GATEWAY_KEY, type GatewayKey } from '../keys/gateway-key.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { AccessLogRepository } from './access-log.repository.js';
import {
  canonicalFormatOf,
  ENTRY_SELECT,
  entryHash,
  GENESIS,
  type LoggedEntry,
  type WrittenEntry,
} from './chain.js';
import { DEFAULT_ORIGIN, NOTE_TYP, noteText } from './checkpoint-note.js';
import { extendTree } from './merkle.repository.js';
import { checkpointPayload, type Checkpoint } from './verify.js';

/**
 * Advisory lock key of the sealer (an arbitrary constant, 'seal' in ASCII). One sealer at a time
 * across all gateway instances: a second one skips its round instead of waiting.
 */
const SEAL_LOCK = 0x7365616c;

/** Rows sealed per transaction, so one round never holds the lock for long. */
const BATCH = 5000;

/**
 * How far back (by occurred_at, before the newest seal was written) a round looks for rows that
 * committed after rows with a higher seq were sealed. Equal to the verifier's default grace for
 * pending rows: a log row must commit within five minutes of being written, or verification
 * names it as inserted. Looking back a bounded window instead of scanning the whole log for
 * unsealed rows keeps a round's cost flat at millions of rows.
 */
export const SEAL_LOOKBACK_MS = 5 * 60_000;

/** How often the sealer makes sure the coming months' partitions of access_log exist. */
const PARTITION_CHECK_MS = 60 * 60_000;

export interface SealOptions {
  /**
   * canonical() of a row as its writer stored it (AccessLogRepository.writtenAs), when this
   * process wrote it: sealed instead of the row as read back, so an alteration in between is
   * caught by verification at that position, and without reading the row back at all. Rows of
   * other processes (and rows whose text this process no longer holds) are read and sealed as read.
   */
  writtenAs?: (seq: string) => WrittenEntry | undefined;
  /**
   * What this sealer saw in its earlier rounds (SealerMemory): where it lets a round look for
   * late commits among the few seqs it saw missing instead of every row of the last
   * SEAL_LOOKBACK_MS. Without it, each round searches the whole window.
   */
  memory?: SealerMemory;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  /** Write a checkpoint for whatever is not yet under one (graceful shutdown). */
  forceCheckpoint?: boolean;
  /** The first line of each checkpoint note: which log it is (default DEFAULT_ORIGIN). */
  origin?: string;
  /** The time a checkpoint signs (default: now); tests of retention sign checkpoints in the past. */
  clock?: () => Date;
}

export interface SealRound {
  /** False when another sealer held the lock; nothing was done. */
  locked: boolean;
  sealed: number;
  /** The seqs sealed in this round. */
  seqs: string[];
  /** Position of a checkpoint written in this round, if any. */
  checkpoint: string | null;
}

/** The key a checkpoint is signed with, and its id in the published JWKS. */
export type CheckpointKey = Pick<GatewayKey, 'privateKey' | 'kid'>;

/**
 * When a sealer last searched the whole lookback window for late commits (rows below the highest
 * sealed seq that committed after it was sealed). That search anti-joins every row of the last
 * SEAL_LOOKBACK_MS with the seals: under load, hundreds of thousands of rows, and most of
 * PostgreSQL's work per logged read when it ran every round (docs/performance.md). Late commits are
 * rare and need only be sealed eventually, well within UNSEALED_MAX_MS (30 s by default): so a
 * sealer with a memory searches the window every FULL_SEARCH_MS, and its other rounds take only
 * the rows above the highest sealed seq.
 */
export class SealerMemory {
  searchedAt = Number.NEGATIVE_INFINITY;
}

/** How often a sealer with a memory searches the lookback window for late commits. */
export const FULL_SEARCH_MS = 5_000;

/**
 * One sealing transaction: appends up to BATCH unsealed rows to the chain, in seq order, then a
 * signed checkpoint when due. Unsealed rows are those above the highest sealed seq, plus, because
 * sequence order is not commit order, rows below it that committed late, found by anti-join
 * among the rows of the last SEAL_LOOKBACK_MS: in every round without a SealerMemory, every
 * FULL_SEARCH_MS with one. Either way they are sealed in a later round rather than skipped. UNIQUE(seq)
 * and the position primary key make a double seal fail even if the lock were bypassed.
 *
 * A round reads the seqs to seal, and reads the rows themselves only for the seqs whose text this
 * process does not hold (writtenAs): a gateway seals what it wrote from memory. Each seal records
 * the canonical format it hashed (access_log_seal.format).
 */
export async function sealRound(
  dataSource: DataSource,
  key: CheckpointKey,
  options: SealOptions,
): Promise<SealRound> {
  const memory = options.memory;
  return dataSource.transaction(async (manager) => {
    const [lock] = await manager.query<
      {
        locked: boolean;
      }[]
    >(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [SEAL_LOCK]);
    if (!lock?.locked) return { locked: false, sealed: 0, seqs: [], checkpoint: null };
    const [last] = await manager.query<
      { position: string | null; hash: Buffer | null; seq: string | null; since: string | null }[]
    >(
      `SELECT s.position::text AS position, s.entry_hash AS hash,
              (SELECT max(seq) FROM access_log_seal)::text AS seq,
              (s.sealed_at - make_interval(secs => $1::double precision / 1000))::text AS since
         FROM (SELECT 1) one
         LEFT JOIN LATERAL (SELECT * FROM access_log_seal ORDER BY position DESC LIMIT 1) s ON true`,
      [SEAL_LOOKBACK_MS],
    );
    const mark = last?.seq ?? null;
    const now = Date.now();
    const search = !memory || now - memory.searchedAt >= FULL_SEARCH_MS;
    const ahead = `(SELECT l.seq FROM access_log l
                     WHERE l.seq > coalesce($2::bigint, -9223372036854775808) ORDER BY l.seq LIMIT $1)`;
    const due = await manager.query<{ seq: string }[]>(
      search
        ? `SELECT seq::text AS seq FROM (
             (SELECT l.seq FROM access_log l
               WHERE l.seq <= $2::bigint AND l.occurred_at >= $3::timestamptz
                 AND NOT EXISTS (SELECT 1 FROM access_log_seal s WHERE s.seq = l.seq))
             UNION ALL ${ahead}) unsealed ORDER BY unsealed.seq LIMIT $1`
        : `SELECT seq::text AS seq FROM ${ahead} unsealed ORDER BY unsealed.seq`,
      search ? [BATCH, mark, last?.since ?? null] : [BATCH, mark],
    );
    // A search that hit the batch limit may have left late rows behind: the next round searches again.
    if (memory && search && due.length < BATCH) memory.searchedAt = now;
    const known = new Map<string, WrittenEntry>();
    const unknown: string[] = [];
    for (const { seq } of due) {
      const written = options.writtenAs?.(seq);
      if (written) known.set(seq, written);
      else unknown.push(seq);
    }
    const read = new Map<string, LoggedEntry>();
    if (unknown.length > 0) {
      const rows = await manager.query<LoggedEntry[]>(
        `SELECT ${ENTRY_SELECT} FROM access_log l WHERE l.seq = ANY ($1::bigint[])`,
        [unknown],
      );
      for (const row of rows) read.set(row.seq, row);
    }
    let position = BigInt(last?.position ?? '0');
    let head: Buffer = last?.hash ?? GENESIS;
    const seqs: string[] = [];
    const positions: string[] = [];
    const hashes: Buffer[] = [];
    const prevs: Buffer[] = [];
    const formats: number[] = [];
    for (const { seq } of due) {
      const written = known.get(seq);
      const row = read.get(seq);
      // Read as a seq and gone by now: only a delete can do that; it stays unsealed and is named.
      if (!written && !row) continue;
      const hash = entryHash(head, written ? { seq, canonical: written.canonical } : row!);
      position++;
      positions.push(position.toString());
      seqs.push(seq);
      hashes.push(hash);
      prevs.push(head);
      formats.push(written ? written.format : canonicalFormatOf(row!));
      head = hash;
    }
    if (seqs.length > 0) {
      await manager.query(
        `INSERT INTO access_log_seal (position, seq, entry_hash, prev_hash, format)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[], $5::smallint[])`,
        [positions, seqs, hashes, prevs, formats],
      );
    }
    const checkpoint = (await checkpointDue(manager, position, options))
      ? await writeCheckpoint(manager, key, position, head, options.origin ?? DEFAULT_ORIGIN, options.clock)
      : null;
    return { locked: true, sealed: seqs.length, seqs, checkpoint };
  });
}

async function checkpointDue(
  manager: EntityManager,
  position: bigint,
  options: SealOptions,
): Promise<boolean> {
  if (position === 0n) return false;
  const [last] = await manager.query<{ position: string; age: number | string }[]>(`
    SELECT coalesce(max(position), 0)::text AS position,
           extract(epoch FROM now() - coalesce(max(created_at), (SELECT min(sealed_at) FROM access_log_seal))) * 1000 AS age
      FROM access_log_checkpoint`);
  const behind = position - BigInt(last!.position);
  if (behind <= 0n) return false;
  return (
    options.forceCheckpoint === true ||
    behind >= BigInt(options.checkpointEvery) ||
    Number(last!.age) >= options.checkpointIntervalMs
  );
}

async function writeCheckpoint(
  manager: EntityManager,
  key: CheckpointKey,
  position: bigint,
  head: Buffer,
  origin: string,
  clock: () => Date = () => new Date(),
): Promise<string> {
  // The tree's new subtrees are stored with the checkpoint that first covers them.
  const root = await extendTree(manager, Number(position));
  const { count, createdAt, jws } = await signCheckpoint(
    key,
    position.toString(),
    head.toString('hex'),
    { rootHash: root.toString('hex'), origin },
    clock(),
  );
  await manager.query(
    `INSERT INTO access_log_checkpoint (position, chain_head, count, created_at, jws, root_hash)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [position.toString(), head, count, createdAt, jws, root],
  );
  return position.toString();
}

/** The gateway's checkpoint origin: its public host and the log's path, as C2SP origins name a log. */
export function checkpointOrigin(publicUrl: string): string {
  const url = new URL(publicUrl);
  return `${url.host}${url.pathname.replace(/\/$/, '')}/access-log`;
}

/**
 * A checkpoint for the chain head after `position` entries, signed as a compact JWS. With a tree
 * (the Merkle root over positions 1..position) it signs the checkpoint note (checkpoint-note.ts),
 * what witnesses check and cosign; without, the JSON checkpointPayload checkpoints had before the
 * tree, which the verifier still reads. Every position from 1 is an entry, so the count (the tree
 * size) is the position; it is signed so that a chain cut short and re-extended is caught even
 * where positions look contiguous.
 */
export async function signCheckpoint(
  key: CheckpointKey,
  position: string,
  chainHead: string,
  tree?: { rootHash: string; origin?: string },
  at: Date = new Date(),
): Promise<Checkpoint> {
  const fields = { position, chainHead, count: position, createdAt: at.toISOString() };
  const [payload, typ] = tree
    ? [
        noteText({
          origin: tree.origin ?? DEFAULT_ORIGIN,
          size: position,
          rootHash: tree.rootHash,
          chainHead,
          createdAt: fields.createdAt,
        }),
        NOTE_TYP,
      ]
    : [checkpointPayload(fields), 'convenant-checkpoint+json'];
  const jws = await new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: GATEWAY_ALG, kid: key.kid, typ })
    .sign(key.privateKey);
  return { ...fields, ...(tree ? { rootHash: tree.rootHash } : {}), jws };
}

/**
 * A sealing pass's end: everything committed was sealed; another instance held the lock (and
 * seals what is left); or it failed (logged; the rows stay unsealed until a later pass).
 */
export type SealOutcome = 'sealed' | 'locked-elsewhere' | 'failed';

/**
 * Runs sealRound every SEAL_INTERVAL_MS, and early once CHECKPOINT_EVERY entries were appended
 * here, until nothing is left; and once more on graceful shutdown, before the database closes
 * (BeforeApplicationShutdown runs ahead of DatabaseModule's OnApplicationShutdown).
 */
@Injectable()
export class AccessLogSealer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AccessLogSealer');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private appended = 0;
  private partitionsCheckedAt = 0;
  private readonly memory = new SealerMemory();

  constructor(
    private readonly dataSource: DataSource,
    private readonly repository: AccessLogRepository,
    @Inject(GATEWAY_KEY) private readonly key: GatewayKey,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensurePartitions();
    this.timer = setInterval(() => void this.trigger(), this.config.sealIntervalMs);
    this.timer.unref();
    this.repository.onAppended((count) => {
      this.appended += count;
      if (this.appended >= this.config.checkpointEvery) void this.trigger();
    });
  }

  /** How the last seal at shutdown went, for the gateway's closing line (src/main.ts); unset before it ran. */
  finalSeal?: SealOutcome;

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    this.finalSeal = await this.sealAll(true);
  }

  /** Starts a pass unless one runs; a pass asked for meanwhile runs right after it. */
  trigger(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      if (Date.now() - this.partitionsCheckedAt >= PARTITION_CHECK_MS) await this.ensurePartitions();
      do {
        this.again = false;
        this.appended = 0;
        await this.sealAll(false);
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * This month's and next month's partitions of access_log, created if missing (at start and hourly,
   * so a month never begins without its partition). A failure is logged, not fatal: rows then land
   * in the DEFAULT partition, which is slower to query but loses nothing.
   */
  async ensurePartitions(): Promise<void> {
    this.partitionsCheckedAt = Date.now();
    try {
      await this.dataSource.query(`SELECT access_log_ensure_partitions(1)`);
    } catch (error) {
      this.logger.error(`Creating access_log partitions failed: ${(error as Error).message}`);
    }
  }

  /**
   * Seals everything committed so far and writes a checkpoint over it, after any pass under way:
   * what an export calls so the file carries the checkpoint that covers it. If another instance
   * holds the lock it returns without; the newest entries are then simply not yet under a checkpoint.
   */
  async sealNow(): Promise<void> {
    await this.running;
    await this.sealAll(true);
  }

  /** Seals until a round finds less than a batch (or another instance holds the lock). */
  async sealAll(forceCheckpoint: boolean): Promise<SealOutcome> {
    try {
      for (;;) {
        const round = await sealRound(this.dataSource, this.key, {
          writtenAs: (seq) => this.repository.writtenAs(seq),
          // A forced pass (shutdown, an export) searches for late commits whatever the memory says.
          ...(forceCheckpoint ? {} : { memory: this.memory }),
          checkpointEvery: this.config.checkpointEvery,
          checkpointIntervalMs: this.config.checkpointIntervalMs,
          forceCheckpoint,
          origin: checkpointOrigin(this.config.publicUrl),
        });
        this.repository.sealed(round.seqs);
        if (!round.locked) return 'locked-elsewhere';
        if (round.sealed < BATCH) return 'sealed';
      }
    } catch (error) {
      // Sealing lags, it does not lose anything: unsealed rows stay and the next round takes them.
      this.logger.error(`Sealing the access log failed: ${(error as Error).message}`);
      return 'failed';
    }
  }
}
