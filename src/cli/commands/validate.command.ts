import type { Command } from 'commander';
import { compileConvenant } from '../../policy/compile.js';
import { checkConvenantDir } from '../../policy/validate.js';
import type { CommandRegistration } from '../context.js';
import { diagnosticJson, diagnosticLine, dirOf, printJson, withDir } from '../policy-source.js';
import { plural } from '../table.js';

export const validateCommand: CommandRegistration = (program, ctx) => {
  withDir(
    program
      .command('validate')
      .description('check a convenant folder and list every problem with file:line:column'),
  )
    .option('--json', 'machine-readable output')
    .action((dirArg: string | undefined, opts: { dir?: string; json?: boolean }, command: Command) => {
      const dir = dirOf(ctx, command, dirArg, opts.dir);
      const result = checkConvenantDir(dir);
      const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = result.diagnostics.length - errors;
      const valid = errors === 0 && result.convenant !== null;
      const policyVersion =
        valid && result.convenant ? compileConvenant(result.convenant).version : undefined;
      ctx.exitCode = valid ? 0 : 1;

      if (opts.json) {
        printJson(ctx, {
          dir,
          valid,
          ...(policyVersion ? { policyVersion } : {}),
          errors,
          warnings,
          diagnostics: result.diagnostics.map(diagnosticJson),
        });
        return;
      }
      for (const d of result.diagnostics) ctx.out(diagnosticLine(d, dir, ctx.style));
      if (result.diagnostics.length > 0) ctx.out();
      const counts = `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
      ctx.out(
        valid
          ? ctx.style(
              'green',
              `✓ ${dir}: convenant ${result.convenant?.id} ${policyVersion} is valid (${counts})`,
            )
          : ctx.style(['bold', 'red'], `✗ ${dir}: ${counts}`),
      );
    });
};
