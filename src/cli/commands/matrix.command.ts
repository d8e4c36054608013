import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { buildMatrix, matrixCsv, matrixHtml, matrixMarkdown, matrixTable } from '../../policy/matrix.js';
import type { CommandRegistration } from '../context.js';
import { dirOf, loadPolicy, withDir } from '../policy-source.js';

const FORMATS = ['table', 'markdown', 'csv', 'html'] as const;
type Format = (typeof FORMATS)[number];

export const matrixCommand: CommandRegistration = (program, ctx) => {
  withDir(
    program
      .command('matrix')
      .description(
        'partner × purpose × catalogue section: read/write all, some or none, and what a doorbraak opens',
      ),
  )
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--json', 'machine-readable output (the officers API shape, with the fields behind each cell)')
    .action(
      (
        dirArg: string | undefined,
        opts: { format: Format; out?: string; json?: boolean; dir?: string },
        command: Command,
      ) => {
        const json = opts.json === true;
        const policy = loadPolicy(ctx, dirOf(ctx, command, dirArg, opts.dir), json);
        if (!policy) return;
        const matrix = buildMatrix(policy.compiled);
        const text = json
          ? `${JSON.stringify(matrix, null, 2)}\n`
          : opts.format === 'markdown'
            ? matrixMarkdown(matrix)
            : opts.format === 'csv'
              ? matrixCsv(matrix)
              : opts.format === 'html'
                ? matrixHtml(matrix)
                : `${matrixTable(matrix).join('\n')}\n`;
        if (opts.out !== undefined) {
          writeFileSync(opts.out, text);
          ctx.err(`Wrote ${opts.out}`);
        } else ctx.writeOut(text);
      },
    );
};
