import { compileConvenant } from '../../policy/compile.js';
import { checkConvenantDir } from '../../policy/validate.js';
import type { CommandRegistration } from '../context.js';
import { DIR_OPTION_HELP, diagnosticJson, diagnosticLine, policyDir, printJson } from '../policy-source.js';
import { plural } from '../table.js';

export const validateCommand: CommandRegistration = (program, ctx) => {
  program
    .command('validate')
    .description('check a convenant folder and list every problem with file:line:column')
    .argument('[dir]', DIR_OPTION_HELP)
    .option('--json', 'machine-readable output')
    .action((dirArg: string | undefined, opts: { json?: boolean }) => {
      const dir = policyDir(ctx, dirArg);
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
