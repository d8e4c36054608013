import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { officerPartnerIds } from '../../audit/officer.js';
import { renderConvenant, type DocumentFormat } from '../../policy/render.js';
import type { CommandRegistration } from '../context.js';
import { dirOf, loadPolicy, withDir } from '../policy-source.js';

export const renderCommand: CommandRegistration = (program, ctx) => {
  withDir(
    program
      .command('render')
      .description(
        'the whole convenant as a readable Dutch document for the signing parties (printable HTML or Markdown)',
      ),
  )
    .addOption(new Option('--format <format>', 'output format').choices(['html', 'markdown']).default('html'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(
      (
        dirArg: string | undefined,
        opts: { format: DocumentFormat; out?: string; dir?: string },
        command: Command,
      ) => {
        const policy = loadPolicy(ctx, dirOf(ctx, command, dirArg, opts.dir), false);
        if (!policy) return;
        const text = renderConvenant(policy.compiled, opts.format, {
          officers: officerPartnerIds(policy.compiled.convenant),
        });
        if (opts.out !== undefined) {
          writeFileSync(opts.out, text);
          ctx.err(`Wrote ${opts.out}`);
        } else ctx.writeOut(text);
      },
    );
};
