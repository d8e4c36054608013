import { loadConfig } from '../../config/config.js';
import { loadEnforceable } from '../../kernel/policy.registry.js';
import { openDatabase, pendingMigrations } from '../../db/data-source.js';
import { RetentionRoleError } from '../../retention/retention.repository.js';
import { RetentionService, type RetentionPlan } from '../../retention/retention.service.js';
import type { CliContext, CommandRegistration } from '../context.js';
import { purgeLog, purgeLogEntries } from './audit.command.js';
import { RetentionRoleMissingError } from '../../access-log/log-retention.js';

interface RunOptions {
  dryRun?: boolean;
  asOf?: string;
  json?: boolean;
}

/**
 * `convenant retention run [--dry-run]`: removes case data whose basis has lapsed under the
 * retention periods of the convenant in force (CONVENANT_POLICY_DIR), and logs what went; then
 * the access log entries past their purpose's log_retention (as `convenant audit purge`). The
 * database user must be allowed to `SET ROLE convenant_retention` (README: database roles).
 */
export const retentionCommand: CommandRegistration = (program, ctx) => {
  const retention = program.command('retention').description('remove data whose retention period has passed');
  retention
    .command('run')
    .description("remove case data whose basis has lapsed under each purpose's retention period")
    .option('--dry-run', 'list what would be removed, per case, category and count; remove nothing')
    .option('--as-of <date-time>', 'with --dry-run: what would be removed at this moment (ISO 8601)')
    .option('--json', 'print the plan as JSON')
    .action((options: RunOptions) => runAction(ctx, options));
};

async function runAction(ctx: CliContext, options: RunOptions): Promise<void> {
  if (options.asOf !== undefined && !options.dryRun) {
    ctx.err('--as-of only goes with --dry-run: a real run always removes as of now.');
    ctx.exitCode = 1;
    return;
  }
  const now = options.asOf !== undefined ? new Date(options.asOf) : new Date();
  if (Number.isNaN(now.getTime())) {
    ctx.err(`--as-of must be an ISO 8601 date-time such as 2031-01-01T00:00:00Z (got '${options.asOf}').`);
    ctx.exitCode = 1;
    return;
  }
  const config = loadConfig(ctx.env);
  const compiled = loadEnforceable(config.policyDir);
  const database = await openDatabase(config, { poolSize: 2 });
  try {
    const pending = await pendingMigrations(database.dataSource);
    if (pending.length > 0) {
      ctx.err(
        `The database schema is not current (pending: ${pending.join(', ')}): run convenant db migrate first.`,
      );
      ctx.exitCode = 1;
      return;
    }
    const service = new RetentionService(database.dataSource, compiled);
    try {
      const plan = options.dryRun ? await service.plan(now) : await service.run(now);
      // Then the access log's own retention (log_retention per purpose). After the case data, so
      // the entries recording this run's removals are new and stay; --as-of is for case data only.
      if (options.json) {
        const accessLog = await purgeLogEntries(
          database.dataSource,
          compiled,
          config.accessLogRetention,
          options.dryRun === true,
        );
        ctx.out(JSON.stringify({ dryRun: options.dryRun === true, ...plan, accessLog }, null, 2));
        return;
      }
      print(ctx, plan, options);
    } catch (error) {
      if (!(error instanceof RetentionRoleError) && !(error instanceof RetentionRoleMissingError))
        throw error;
      ctx.err(error.message);
      ctx.exitCode = 1;
      return;
    }
    ctx.out('');
    await purgeLog(ctx, database.dataSource, compiled, config.accessLogRetention, options.dryRun === true);
  } finally {
    await database.close();
  }
}

function print(ctx: CliContext, plan: RetentionPlan, options: RunOptions): void {
  ctx.out(`Retention as of ${plan.now} under convenant ${plan.policyVersion}`);
  for (const c of plan.cases) {
    const scope = c.wholeCase
      ? `whole case: ${c.values} value(s), ${c.persons} person(s), ${c.participations} participation(s), ` +
        `${c.phaseChanges} phase change(s), ${c.emergencyGrants} emergency grant(s)`
      : `${c.values} value(s)`;
    ctx.out(`  ${c.reference}  ${scope}`);
    for (const k of c.categories)
      ctx.out(`      ${k.section}/${k.sensitivity}  under ${k.purpose}  ${k.count}`);
  }
  for (const s of plan.signals) ctx.out(`  involvement signals under ${s.purpose}  ${s.count}`);
  const t = plan.totals;
  const verb = options.dryRun ? 'Would remove' : 'Removed';
  ctx.out(
    `${verb}: ${t.cases} whole case(s), ${t.values} value(s) in ${plan.cases.length} case(s), ${t.signals} signal(s).`,
  );
  if (!options.dryRun && plan.cases.length + t.signals > 0) {
    ctx.out('Logged as retention entries in the access log.');
  }
}
