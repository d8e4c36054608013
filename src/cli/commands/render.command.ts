import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { officerPartnerIds } from '../../audit/officer.js';
import { renderConvenant } from '../../policy/render.js';
import { documentGaps } from '../../policy/validate-agreement.js';
import { BrowserUnavailableError } from '../chromium.js';
import type { CommandRegistration } from '../context.js';
import { dirOf, loadPolicy, withDir } from '../policy-source.js';

type RenderFormat = 'html' | 'markdown' | 'pdf';

export const renderCommand: CommandRegistration = (program, ctx) => {
  withDir(
    program
      .command('render')
      .description(
        'the whole convenant as a readable Dutch document for the signing parties (printable HTML, Markdown, or PDF where a Chromium is available)',
      ),
  )
    .addOption(
      new Option('--format <format>', 'output format').choices(['html', 'markdown', 'pdf']).default('html'),
    )
    .option('--out <file>', 'write to a file instead of stdout (required for pdf)')
    .option('--pdf <file>', 'print the document to this PDF file (same as --format pdf --out <file>)')
    .action(
      async (
        dirArg: string | undefined,
        opts: { format: RenderFormat; out?: string; pdf?: string; dir?: string },
        command: Command,
      ) => {
        const format: RenderFormat = opts.pdf !== undefined ? 'pdf' : opts.format;
        const out = opts.pdf ?? opts.out;
        if (format === 'pdf' && out === undefined) {
          ctx.err('A PDF is written to a file: give --pdf <file>, or --out <file> with --format pdf.');
          ctx.exitCode = 2;
          return;
        }
        const policy = loadPolicy(ctx, dirOf(ctx, command, dirArg, opts.dir), false);
        if (!policy) return;
        const officers = officerPartnerIds(policy.compiled.convenant);
        for (const gap of documentGaps(policy.compiled.convenant))
          ctx.err(`warning: the document is not complete: ${gap}.`);
        const text = renderConvenant(policy.compiled, format === 'pdf' ? 'html' : format, { officers });
        if (format === 'pdf') {
          const { htmlToPdf } = await import('./render-pdf.js');
          try {
            writeFileSync(out!, await htmlToPdf(text, ctx.env));
          } catch (error) {
            if (!(error instanceof BrowserUnavailableError)) throw error;
            ctx.err(`Cannot print a PDF: ${error.message}`);
            ctx.exitCode = 1;
            return;
          }
          ctx.err(`Wrote ${out!}`);
        } else if (out !== undefined) {
          writeFileSync(out, text);
          ctx.err(`Wrote ${out}`);
        } else ctx.writeOut(text);
      },
    );
};
