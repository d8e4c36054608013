import path from 'node:path';
import { compileConvenant, type CompiledConvenant } from '../policy/compile.js';
import { readConvenantFolder } from '../policy/load.js';
import type { SourcePosition } from '../policy/model.js';
import { runPolicyTests } from '../policy/test-runner.js';
import { checkConvenantSources } from '../policy/validate.js';

/**
 * A convenant folder made enforceable: read, validated, compiled and self-tested, as the gateway
 * (PolicyRegistry) and the CLI commands that act for it (`token`, `keys`) need it. Nothing here
 * loads Nest or a database, so those commands start quickly.
 */

/** One reason a convenant cannot be enforced: a validation error or a failing inline test. */
export interface PolicyProblem {
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
}

export class PolicyInvalidError extends Error {
  readonly problems: string[];

  constructor(
    readonly dir: string,
    readonly issues: PolicyProblem[],
  ) {
    const problems = issues.map(problemText);
    super(`The convenant in ${dir} cannot be enforced:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
    this.name = 'PolicyInvalidError';
  }
}

/** As `convenant validate` prints it (`file:line:column error code: message`); a failed test as `convenant test` does. */
const problemText = (p: PolicyProblem): string => {
  const where = p.file !== undefined ? `${p.file}:${p.line ?? 1}:${p.column ?? 1} ` : '';
  return p.code === 'test-failed' ? `${where}${p.message}` : `${where}error ${p.code}: ${p.message}`;
};

/** A compiled convenant with the exact text it was compiled from (file name → YAML). */
export interface EnforceablePolicy {
  compiled: CompiledConvenant;
  sources: Record<string, string>;
}

const at = (p: SourcePosition | undefined) => (p ? { file: p.file, line: p.line, column: p.column } : {});

/**
 * Reads the folder once, then validates, compiles and self-tests exactly that text. Throws
 * PolicyInvalidError listing every error and failing test with its file:line:column.
 */
export function loadEnforceablePolicy(dir: string): EnforceablePolicy {
  const folder = readConvenantFolder(dir);
  const files = folder.files ?? [];
  const result = folder.files
    ? checkConvenantSources(folder.shown, files)
    : { convenant: null, diagnostics: [], locate: folder.locate };
  const errors = [...folder.diagnostics, ...result.diagnostics].filter((d) => d.severity === 'error');
  if (!result.convenant || errors.length > 0) {
    throw new PolicyInvalidError(
      dir,
      errors.map((d) => ({ code: d.code, message: d.message, ...at(d.position) })),
    );
  }
  const compiled = compileConvenant(result.convenant);
  const report = runPolicyTests(compiled);
  if (report.failed > 0) {
    throw new PolicyInvalidError(
      dir,
      report.results
        .filter((r) => !r.ok)
        .flatMap((r) =>
          r.failures.map((f) => ({
            code: 'test-failed',
            message: `test '${r.test.name}': ${f.message}`,
            ...at(result.locate(f.src)),
          })),
        ),
    );
  }
  const sources = Object.fromEntries(files.map((f) => [path.basename(f.path), f.text]));
  return { compiled, sources };
}

/** Loads, validates, compiles and self-tests a convenant folder; throws PolicyInvalidError on any failure. */
export function loadEnforceable(dir: string): CompiledConvenant {
  return loadEnforceablePolicy(dir).compiled;
}

let handedOver: { dir: string; policy: EnforceablePolicy } | undefined;

/**
 * src/main.ts loads the convenant before anything else starts (an invalid one is never served,
 * and no database is started for it) and hands that load to PolicyRegistry, which would
 * otherwise read, validate and self-test the same folder again a moment later.
 */
export function handOverPolicy(dir: string, policy: EnforceablePolicy): void {
  handedOver = { dir, policy };
}

/** The load handed over for `dir`, once; undefined when there is none (then load it). */
export function takeHandedOverPolicy(dir: string): EnforceablePolicy | undefined {
  const taken = handedOver?.dir === dir ? handedOver.policy : undefined;
  handedOver = undefined;
  return taken;
}
