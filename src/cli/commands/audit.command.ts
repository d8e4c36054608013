import type { JWK } from 'jose';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { readCheckpoints, readPurges } from '../../access-log/chain.repository.js';
import { urlOf, verifyInParallel } from '../../access-log/verify-parallel.js';
import { withPurgeCheck } from '../../access-log/verify-purges.js';
import type { ExportHeader } from '../../access-log/export-file.js';
import { readExportFile } from '../../access-log/export-reader.js';
import {
  databaseLogSource,
  FileWitnessStore,
  httpLogSource,
  WitnessAlarm,
  witnessedCheckpoints,
  witnessKey,
  witnessRound,
} from '../../access-log/witness.js';
import {
  verifyChain,
  verifySelection,
  type SelectionReport,
  type VerifyReport,
  type WitnessedCheckpoint,
} from '../../access-log/verify.js';
import { AccessLogRepository } from '../../access-log/access-log.repository.js';
import {
  AccessLogRetention,
  logRetentionPolicy,
  RetentionRoleMissingError,
  type PurgePlan,
  type PurgeResult,
} from '../../access-log/log-retention.js';
import { loadGatewayKeyRing } from '../../keys/gateway-key.js';
import { loadConfig } from '../../config/config.js';
import { openDatabase } from '../../db/data-source.js';
import type { CompiledConvenant } from '../../policy/compile.js';
import type { CliContext, CommandRegistration } from '../context.js';
import { DIR_OPTION_HELP, loadPolicy, policyDir } from '../policy-source.js';
import { table } from '../table.js';

interface VerifyOptions {
  file?: string;
  key?: string;
  from?: string;
  to?: string;
  witness?: string[];
}

interface WitnessOptions {
  url?: string;
  logKey: string;
  dir: string;
  name?: string;
}

/**
 * `convenant audit verify`: recomputes the access log's hash chain and checks every signed
 * checkpoint, from the configured database or offline from an NDJSON export. Exit 1 on the first
 * failure, naming the position and sequence number.
 */
export const auditCommand: CommandRegistration = (program, ctx) => {
  const audit = program.command('audit').description('check the integrity of the access log');
  audit
    .command('verify')
    .description('recompute the hash chain and check the signed checkpoints')
    .option('--file <export.ndjson>', 'verify an export offline instead of the database')
    .option('--key <jwks.json>', 'the JWKS from GET /v1/audit/keys (default: the local gateway key)')
    .option('--from <position>', 'first chain position to verify (earlier ones are trusted)')
    .option('--to <position>', 'last chain position to verify')
    .option(
      '--witness <folder>',
      "a witness's folder (convenant audit witness --dir): the log must still hold every checkpoint it kept (repeatable)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action((options: VerifyOptions) => verifyAction(ctx, options));
  audit
    .command('witness')
    .description(
      "fetch the gateway's newest checkpoint, check that it extends the one kept in --dir (consistency proof), cosign and keep it",
    )
    .option(
      '--url <gateway>',
      'the gateway, e.g. https://convenant.example.nl (default: read the configured database)',
    )
    .requiredOption(
      '--log-key <jwks.json>',
      'the gateway key set (GET /v1/audit/keys), pinned when the witness was set up',
    )
    .requiredOption('--dir <folder>', 'where the witness keeps its checkpoints and its own key')
    .option('--name <name>', 'how this witness names itself in cosignatures and reports', 'witness')
    .action((options: WitnessOptions) => witnessAction(ctx, options));
  audit
    .command('purge')
    .description(
      "remove access log entries older than their purpose's log_retention (seals and checkpoints stay), and record the run",
    )
    .option('--dry-run', 'list what would be removed, remove nothing')
    .option('--dir <folder>', DIR_OPTION_HELP)
    .action((options: { dryRun?: boolean; dir?: string }) => purgeAction(ctx, options));
};

async function purgeAction(ctx: CliContext, options: { dryRun?: boolean; dir?: string }): Promise<void> {
  const config = loadConfig(ctx.env);
  const policy = loadPolicy(ctx, policyDir(ctx, options.dir), false);
  if (!policy) return;
  const database = await openDatabase(config, { poolSize: 2 });
  try {
    await purgeLog(
      ctx,
      database.dataSource,
      policy.compiled,
      config.accessLogRetention,
      options.dryRun === true,
    );
  } finally {
    await database.close();
  }
}

/** The access log's own retention: what expired per purpose (dry run) or what went (run). */
export async function purgeLogEntries(
  dataSource: DataSource,
  compiled: CompiledConvenant,
  defaultRetention: string,
  dryRun: boolean,
): Promise<PurgeResult | (PurgePlan & { runId: null })> {
  const retention = new AccessLogRetention(dataSource, new AccessLogRepository(dataSource), () =>
    logRetentionPolicy(compiled, defaultRetention),
  );
  return dryRun ? { ...(await retention.plan()), runId: null } : await retention.run();
}

/**
 * The log purge, printed. Shared by `convenant audit purge` and `convenant retention run`, which
 * runs it after the case data. A connection that cannot assume convenant_retention sets exit
 * code 1 with the reason.
 */
export async function purgeLog(
  ctx: CliContext,
  dataSource: DataSource,
  compiled: CompiledConvenant,
  defaultRetention: string,
  dryRun: boolean,
): Promise<void> {
  try {
    const result = await purgeLogEntries(dataSource, compiled, defaultRetention, dryRun);
    const verb = dryRun ? 'Would remove' : 'Removed';
    ctx.out(
      `${verb} ${result.total} access log entries expired at ${result.now}` +
        (result.runId ? ` (run ${result.runId})` : '') +
        '.',
    );
    if (result.items.length > 0) {
      const rows = result.items.map((i) => [
        i.purpose ?? '(none)',
        i.retention,
        i.cutoff,
        String(i.count),
        `${i.fromSeq}-${i.toSeq}`,
      ]);
      for (const line of table(
        [['purpose', 'retention', 'older than', 'entries', 'seq range'], ...rows],
        ctx.style,
      ))
        ctx.out(line);
    }
    if (!dryRun) ctx.out('Seals and checkpoints are kept: convenant audit verify still checks the chain.');
  } catch (error) {
    if (!(error instanceof RetentionRoleMissingError)) throw error;
    ctx.err(ctx.style('red', error.message));
    ctx.exitCode = 1;
  }
}

async function verifyAction(ctx: CliContext, options: VerifyOptions): Promise<void> {
  const config = loadConfig(ctx.env);
  if (options.file && !options.key) {
    ctx.err('Offline verification needs the public key: pass --key <jwks.json> (from GET /v1/audit/keys).');
    ctx.exitCode = 1;
    return;
  }
  const publicJwk = options.key
    ? await keysFromJwks(options.key)
    : (await loadGatewayKeyRing(config.keysDir)).publicJwks();
  const range = {
    ...(options.from ? { from: BigInt(options.from) } : {}),
    ...(options.to ? { to: BigInt(options.to) } : {}),
  };
  const logKeys = Array.isArray(publicJwk) ? publicJwk : [publicJwk];
  const witnessed: WitnessedCheckpoint[] = [];
  for (const dir of options.witness ?? []) {
    try {
      witnessed.push(...(await witnessedCheckpoints(new FileWitnessStore(dir), logKeys)));
    } catch (error) {
      if (!(error instanceof WitnessAlarm)) throw error;
      ctx.err(ctx.style('red', `Witness folder ${dir}: ${error.message}`));
      ctx.exitCode = 1;
      return;
    }
  }
  const started = performance.now();
  let report: VerifyReport;
  if (options.file) {
    const file = await readExportFile(options.file);
    if (file.header?.scope === 'selection') {
      const selection = await verifySelection({
        rows: file.rows(),
        checkpoints: file.checkpoints,
        publicJwk,
      });
      printSelection(ctx, selection, file.header, (performance.now() - started) / 1000);
      return;
    }
    // A chain segment that starts past position 1 is verified from its first seal's previous hash.
    const first = file.header?.first ? BigInt(file.header.first) : undefined;
    report = await verifyChain({
      rows: file.rows(),
      checkpoints: file.checkpoints,
      purged: file.purged,
      publicJwk,
      // Pending rows in a file are judged as of the export: they were that old when it was made.
      ...(file.header ? { now: new Date(file.header.exportedAt), unsealedMaxMs: config.unsealedMaxMs } : {}),
      ...(first !== undefined && first > 1n ? { from: first } : {}),
      ...range,
      witnessed,
    });
  } else {
    // readChainPages reads three pages at once, each on a connection of its own, besides the bounds.
    const database = await openDatabase(config, { poolSize: 4 });
    try {
      const checkpoints = await readCheckpoints(database.dataSource);
      report = await verifyInParallel({
        source: database.dataSource,
        ...urlOf(database.dataSource),
        checkpoints,
        purged: await readPurges(database.dataSource),
        publicJwk,
        unsealedMaxMs: config.unsealedMaxMs,
        ...range,
        witnessed,
      });
      report = await withPurgeCheck(report, database.dataSource, checkpoints, publicJwk, {
        unsealedMaxMs: config.unsealedMaxMs,
      });
    } finally {
      await database.close();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const rate = Math.round(report.entries / Math.max(seconds, 1e-6));
  ctx.out(
    `Verified ${report.entries} entries and ${report.checkpoints} checkpoints in ${seconds.toFixed(2)} s ` +
      `(${rate} entries/s); ${report.pending} pending${report.overdue > 0 ? ` (${report.overdue} overdue)` : ''}; chain head ${report.head || '(none)'}.`,
  );
  ctx.out(
    report.anchored === null
      ? `No checkpoint in range: the entries are consistent, but no signature covers them.`
      : `Signed up to position ${report.anchored}; ${report.unanchored} entries after it are not under a checkpoint yet.`,
  );
  if (report.roots > 0) ctx.out(`Merkle roots recomputed and matched for ${report.roots} checkpoints.`);
  if (witnessed.length > 0) {
    ctx.out(`Matched ${report.witnessed} of ${witnessed.length} checkpoints kept by witnesses.`);
    // A kept checkpoint the verification could not reach proves nothing either way: not OK.
    if (report.ok && report.witnessed < witnessed.length) {
      ctx.err(
        ctx.style(
          'red',
          `FAILED: ${witnessed.length - report.witnessed} witnessed checkpoints could not be checked ` +
            `(outside --from/--to, or the tree before them is unknown): verify the whole chain.`,
        ),
      );
      ctx.exitCode = 1;
    }
  }
  for (const r of report.purgedRanges) {
    ctx.out(
      `Purged by retention run ${r.runId}: ${r.count} entries (purpose ${r.purpose ?? '-'}, seq ${r.fromSeq}–${r.toSeq}); their seals were checked.`,
    );
  }
  printOutcome(ctx, report, 'OK: the access log is intact.');
}

function printSelection(
  ctx: CliContext,
  report: SelectionReport,
  header: ExportHeader,
  seconds: number,
): void {
  const filter = Object.entries(header.filter)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  ctx.out(
    `Selection export (${filter || 'no filter'}): ${report.entries} entries checked against their seals in ` +
      `${seconds.toFixed(2)} s, ${report.links} links between neighbours, ${report.checkpoints} checkpoint signatures; ` +
      `${report.pending} pending.`,
  );
  ctx.out(
    `Proven by a signed checkpoint: ${report.anchored} entries. Not provable from this file: ${report.unanchored} ` +
      `(their chain to a checkpoint runs through entries outside the selection), nor that no matching entry was left out. ` +
      `For those, verify the database (convenant audit verify) or an unfiltered export of the same period.`,
  );
  printOutcome(ctx, report, 'OK: every entry matches its seal.');
}

/** The first failure (exit code 1), or the sentence that says what was proven. */
function printOutcome(ctx: CliContext, report: VerifyReport | SelectionReport, ok: string): void {
  const f = report.failure;
  if (!f) {
    ctx.out(ok);
    return;
  }
  ctx.err(
    ctx.style(
      'red',
      `FAILED: ${f.problem} at position ${f.position ?? '-'} (seq ${f.seq ?? '-'}): ${f.detail}`,
    ),
  );
  ctx.exitCode = 1;
}

async function witnessAction(ctx: CliContext, options: WitnessOptions): Promise<void> {
  const logKeys = await keysFromJwks(options.logKey);
  const name = options.name ?? 'witness';
  const { key, created } = await witnessKey(options.dir, name);
  if (created)
    ctx.out(
      `New witness key ${key.kid}; its public half is in ${path.join(options.dir, 'witness-key.pub.json')}.`,
    );
  const store = new FileWitnessStore(options.dir);
  const config = options.url ? null : loadConfig(ctx.env);
  const database = config ? await openDatabase(config, { poolSize: 2 }) : null;
  try {
    const log = options.url ? httpLogSource(options.url) : databaseLogSource(database!.dataSource);
    const result = await witnessRound({ log, store, logKeys, key });
    const head = result.record.head;
    const what =
      result.status === 'first'
        ? 'first checkpoint kept (nothing earlier to compare with)'
        : result.status === 'extended'
          ? `extends the kept tree of ${result.previousSize} entries (consistency proof checked)`
          : 'unchanged since the last run';
    ctx.out(
      `${name}: tree of ${head.size} entries, root ${head.rootHash}, signed ${head.createdAt}: ${what}.`,
    );
    if (result.status !== 'unchanged') ctx.out(`Cosigned and kept in ${options.dir}.`);
  } catch (error) {
    if (!(error instanceof WitnessAlarm)) throw error;
    ctx.err(
      ctx.style('red', `ALARM (${error.kind}): ${error.message}. The kept checkpoint was not replaced.`),
    );
    ctx.exitCode = 1;
  } finally {
    await database?.close();
  }
}

async function keysFromJwks(file: string): Promise<JWK[]> {
  const jwks = JSON.parse(await readFile(file, 'utf8')) as { keys?: JWK[] };
  if (!jwks.keys?.length)
    throw new Error(`${file} holds no key: expected a JWKS as served by GET /v1/audit/keys.`);
  return jwks.keys;
}
