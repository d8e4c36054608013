import { CommanderError } from 'commander';
import { compileConvenant, type CompiledConvenant } from '../../policy/compile.js';
import { diffConvenants, diffText } from '../../policy/diff.js';
import type { Diagnostic } from '../../policy/model.js';
import { checkConvenantSources } from '../../policy/validate.js';
import type { CliContext, CommandRegistration } from '../context.js';
import { folderAtRevision, GitSourceError, parseRange } from '../git-source.js';
import {
  DIR_OPTION_HELP,
  diagnosticJson,
  diagnosticLine,
  loadPolicy,
  policyDir,
  printJson,
} from '../policy-source.js';

interface DiffOptions {
  git?: string;
  dir?: string;
  json?: boolean;
  failOnWiden?: boolean;
}

/** Exit codes: 0 not widened (or widened without --fail-on-widen), 1 widened with it, 2 usage or invalid input. */
export const DIFF_EXIT = { ok: 0, widened: 1, usage: 2 } as const;

function usage(ctx: CliContext, json: boolean, message: string): void {
  ctx.exitCode = DIFF_EXIT.usage;
  if (json) printJson(ctx, { error: { code: 'usage', message } });
  else ctx.err(ctx.style(['bold', 'red'], message));
}

/**
 * The convenant folder at a revision. The old side of a diff (`olderFormat`) may be in an older
 * version of the format: it is read leniently (src/policy/load-upgrade.ts), and what was filled in
 * is collected in `notes`, which the diff reports.
 */
function atRevision(
  ctx: CliContext,
  dir: string,
  revision: string,
  json: boolean,
  notes?: Diagnostic[],
): CompiledConvenant | undefined {
  const folder = folderAtRevision(dir, revision);
  if (folder.files.length === 0) {
    usage(ctx, json, `There is no convenant in ${folder.dir} at revision ${revision}.`);
    return undefined;
  }
  const result = checkConvenantSources(folder.dir, folder.files, { olderFormat: notes !== undefined });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (result.convenant && errors.length === 0) {
    notes?.push(...result.diagnostics.filter((d) => d.code === 'older-format'));
    return compileConvenant(result.convenant);
  }
  ctx.exitCode = DIFF_EXIT.usage;
  const message = `The convenant in ${folder.dir} at ${revision} has ${errors.length} error${errors.length === 1 ? '' : 's'}.`;
  if (json)
    printJson(ctx, {
      error: { code: 'invalid-convenant', message, diagnostics: errors.map(diagnosticJson) },
    });
  else {
    for (const d of errors) ctx.err(diagnosticLine(d, folder.dir, ctx.style));
    ctx.err(ctx.style(['bold', 'red'], message));
  }
  return undefined;
}

function fromFolder(ctx: CliContext, dir: string, json: boolean): CompiledConvenant | undefined {
  const policy = loadPolicy(ctx, dir, json);
  if (!policy) ctx.exitCode = DIFF_EXIT.usage;
  return policy?.compiled;
}

export const diffCommand: CommandRegistration = (program, ctx) => {
  program
    .command('diff')
    .description(
      'what a change to the convenant means: per partner and purpose the fields newly reachable or taken ' +
        'away (health and criminal data first), and changes to partners, purposes, legal bases, retention. ' +
        'Exit 0: not widened (or no --fail-on-widen); 1: widened with --fail-on-widen; 2: usage or invalid convenant.',
    )
    .argument('[old]', 'the old convenant folder')
    .argument('[new]', 'the new convenant folder')
    .option(
      '--git <range>',
      'compare the convenant folder (--dir) at two git revisions, e.g. main..HEAD (just A: with the working folder)',
    )
    .option('--dir <dir>', `with --git: ${DIR_OPTION_HELP}`)
    .option('--fail-on-widen', 'exit 1 when the new version widens access')
    .option('--json', 'machine-readable output')
    // Usage errors exit 2, so that 1 always means "widened".
    .exitOverride((error) => {
      if (error.exitCode === 0) throw error;
      throw new CommanderError(DIFF_EXIT.usage, error.code, error.message);
    })
    .action((oldArg: string | undefined, newArg: string | undefined, opts: DiffOptions) => {
      const json = opts.json === true;
      let before: CompiledConvenant | undefined;
      let after: CompiledConvenant | undefined;
      const notes: Diagnostic[] = [];
      if (opts.git !== undefined) {
        if (oldArg !== undefined || newArg !== undefined) {
          usage(ctx, json, 'Give either two folders or --git <range>, not both.');
          return;
        }
        const dir = policyDir(ctx, opts.dir);
        try {
          const [from, to] = parseRange(opts.git);
          before = atRevision(ctx, dir, from, json, notes);
          if (!before) return;
          after = to === undefined ? fromFolder(ctx, dir, json) : atRevision(ctx, dir, to, json);
        } catch (error) {
          if (!(error instanceof GitSourceError)) throw error;
          usage(ctx, json, error.message);
          return;
        }
      } else {
        if (oldArg === undefined || newArg === undefined) {
          usage(ctx, json, 'Give two convenant folders (old and new), or --git <range>.');
          return;
        }
        before = fromFolder(ctx, oldArg, json);
        if (!before) return;
        after = fromFolder(ctx, newArg, json);
      }
      if (!after) return;
      const diff = diffConvenants(before, after);
      if (json) printJson(ctx, notes.length > 0 ? { ...diff, olderFormat: notes.map(diagnosticJson) } : diff);
      else {
        if (notes.length > 0) {
          ctx.err(
            `Note: the old version is in an older format; ${notes.length} part${notes.length === 1 ? ' was' : 's were'} read as that format meant them (no change in access):`,
          );
          for (const d of notes) ctx.err(`  ${diagnosticLine(d, '', ctx.style)}`);
        }
        for (const line of diffText(diff)) ctx.out(line);
      }
      ctx.exitCode = diff.widened && opts.failOnWiden === true ? DIFF_EXIT.widened : DIFF_EXIT.ok;
    });
};
