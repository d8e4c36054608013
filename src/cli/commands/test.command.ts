import type { Command } from 'commander';
import { runPolicyTests } from '../../policy/test-runner.js';
import type { CommandRegistration } from '../context.js';
import { dirOf, loadPolicy, locateText, printJson, withDir } from '../policy-source.js';

export const testCommand: CommandRegistration = (program, ctx) => {
  withDir(program.command('test').description("run the convenant's inline tests against the compiled policy"))
    .option('--json', 'machine-readable output')
    .action((dirArg: string | undefined, opts: { dir?: string; json?: boolean }, command: Command) => {
      const json = opts.json === true;
      const policy = loadPolicy(ctx, dirOf(ctx, command, dirArg, opts.dir), json);
      if (!policy) return;
      const report = runPolicyTests(policy.compiled);
      ctx.exitCode = report.failed > 0 ? 1 : 0;

      if (json) {
        printJson(ctx, {
          policyVersion: policy.compiled.version,
          passed: report.passed,
          failed: report.failed,
          results: report.results.map((r) => ({
            name: r.test.name,
            ok: r.ok,
            ...policy.locate(r.test.src),
            failures: r.failures.map((f) => ({ ...policy.locate(f.src), message: f.message })),
          })),
        });
        return;
      }
      const { style } = ctx;
      for (const r of report.results) {
        if (r.ok) {
          ctx.out(`${style('green', '✓')} ${r.test.name}`);
          continue;
        }
        ctx.out(`${style('red', '✗')} ${r.test.name}  ${style('dim', locateText(policy, r.test.src))}`);
        for (const f of r.failures) ctx.out(`    ${style('dim', locateText(policy, f.src))}  ${f.message}`);
      }
      if (report.results.length > 0) ctx.out();
      const summary = `${report.passed} passed, ${report.failed} failed`;
      ctx.out(report.failed > 0 ? style(['bold', 'red'], summary) : style('green', summary));
    });
};
