import type { Command } from 'commander';
import { PolicyError, compileConvenant, type CompiledConvenant } from '../policy/compile.js';
import type { LoadResult } from '../policy/load.js';
import type { Diagnostic, SourceRef } from '../policy/model.js';
import { checkConvenantDir, oneLineMessage } from '../policy/validate.js';
import type { CliContext, Styler } from './context.js';

/** Helpers the policy commands share: where the convenant is, loading it, and reporting failure. */

export const DEFAULT_POLICY_DIR = 'policies/zvh-rotterdam-rijnmond';

export const DIR_OPTION_HELP = `convenant folder (default: $CONVENANT_POLICY_DIR or ${DEFAULT_POLICY_DIR})`;

export function policyDir(ctx: CliContext, given: string | undefined): string {
  return given ?? (ctx.env.CONVENANT_POLICY_DIR || DEFAULT_POLICY_DIR);
}

/**
 * The convenant folder of a command that reads one. Every such command takes it both ways:
 * `convenant validate <dir>`, as jurists type it, and `--dir <dir>`, as scripts and the other
 * commands (`diff --git`, `audit purge`) name it, so no spelling in the docs is ever refused.
 */
export function withDir(command: Command): Command {
  return command.argument('[dir]', DIR_OPTION_HELP).option('--dir <dir>', DIR_OPTION_HELP);
}

/** The folder given to a command built with `withDir`; both spellings at once must agree. */
export function dirOf(
  ctx: CliContext,
  command: Command,
  positional: string | undefined,
  option: string | undefined,
): string {
  if (positional !== undefined && option !== undefined && positional !== option) {
    command.error(`error: the folder is given twice ('${positional}' and --dir '${option}'); give it once.`);
  }
  return policyDir(ctx, positional ?? option);
}

export const positionText = (p: { file: string; line: number; column: number }): string =>
  `${p.file}:${p.line}:${p.column}`;

/** `file:line:column severity code: message`, the shape editors and CI annotate from. */
export function diagnosticLine(d: Diagnostic, dir: string, style: Styler): string {
  const where = d.position ? positionText(d.position) : dir;
  const severity = style(d.severity === 'error' ? ['bold', 'red'] : ['bold', 'yellow'], d.severity);
  return `${style('dim', where)} ${severity} ${d.code}: ${oneLineMessage(d)}`;
}

export function diagnosticJson(d: Diagnostic) {
  return { severity: d.severity, code: d.code, message: d.message, ...(d.position ?? {}) };
}

export const printJson = (ctx: CliContext, value: unknown): void => ctx.out(JSON.stringify(value, null, 2));

export interface LoadedPolicy {
  compiled: CompiledConvenant;
  locate: LoadResult['locate'];
}

/**
 * Loads, validates and compiles. A convenant with errors is not compiled at all: the commands
 * that explain, test or compile it refuse, point at `validate`, and exit 1.
 */
export function loadPolicy(ctx: CliContext, dir: string, json: boolean): LoadedPolicy | undefined {
  const result = checkConvenantDir(dir);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (result.convenant && errors.length === 0) {
    return { compiled: compileConvenant(result.convenant), locate: (src) => result.locate(src) };
  }
  const message = `The convenant in ${dir} has ${errors.length || 'unreadable'} error${errors.length === 1 ? '' : 's'}; run \`convenant validate ${dir}\` for details.`;
  fail(ctx, json, { code: 'invalid-convenant', message, diagnostics: errors.map(diagnosticJson) }, () => {
    for (const d of errors) ctx.err(diagnosticLine(d, dir, ctx.style));
  });
  return undefined;
}

/** Reports a failure (JSON on stdout, or a sentence on stderr) and sets exit code 1. */
export function fail(
  ctx: CliContext,
  json: boolean,
  error: { code: string; message: string; [key: string]: unknown },
  details?: () => void,
): void {
  ctx.exitCode = 1;
  if (json) {
    printJson(ctx, { error });
    return;
  }
  details?.();
  ctx.err(ctx.style(['bold', 'red'], error.message));
}

/**
 * Runs a command body, turning the policy's typed errors (unknown partner, purpose, flag; a
 * purpose the partner is not registered for) into a sentence and exit code 1. Anything else is a
 * bug and propagates.
 */
export function reportingPolicyErrors(ctx: CliContext, json: boolean, body: () => void): void {
  try {
    body();
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    fail(ctx, json, { code: error.code, message: error.message });
  }
}

export const locateText = (policy: LoadedPolicy, src: SourceRef): string => positionText(policy.locate(src));
