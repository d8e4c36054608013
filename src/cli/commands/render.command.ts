import { writeFileSync } from 'node:fs';
import { Option } from 'commander';
import { officerPartnerIds } from '../../audit/officer.js';
import { renderConvenant, type DocumentFormat } from '../../policy/render.js';
import type { CommandRegistration } from '../context.js';
import { DIR_OPTION_HELP, loadPolicy, policyDir } from '../policy-source.js';

export const renderCommand: CommandRegistration = (program, ctx) => {
  program
    .command('render')
    .description(
      'the whole convenant as a readable Dutch document for the signing parties (printable HTML or Markdown)',
    )
    .argument('[dir]', DIR_OPTION_HELP)
    .addOption(new Option('--format <format>', 'output format').choices(['html', 'markdown']).default('html'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action((dirArg: string | undefined, opts: { format: DocumentFormat; out?: string }) => {
      const policy = loadPolicy(ctx, policyDir(ctx, dirArg), false);
      if (!policy) return;
      const text = renderConvenant(policy.compiled, opts.format, {
        officers: officerPartnerIds(policy.compiled.convenant),
      });
      if (opts.out !== undefined) {
        writeFileSync(opts.out, text);
        ctx.err(`Wrote ${opts.out}`);
      } else ctx.writeOut(text);
    });
};
