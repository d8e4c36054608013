import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { compileConvenant, type CompiledConvenant } from '../policy/compile.js';
import { runPolicyTests } from '../policy/test-runner.js';
import { checkConvenantDir, formatDiagnostic } from '../policy/validate.js';

export class PolicyInvalidError extends Error {
  constructor(
    readonly dir: string,
    readonly problems: string[],
  ) {
    super(`The convenant in ${dir} cannot be enforced:\n  ${problems.join('\n  ')}`);
    this.name = 'PolicyInvalidError';
  }
}

/**
 * The convenant the gateway enforces, compiled once. Start-up fails closed: a convenant with
 * validation errors or failing inline tests is refused and the gateway does not serve.
 * Each version is recorded with its source text, so any past decision can be traced to its text.
 */
@Injectable()
export class PolicyRegistry implements OnModuleInit {
  private readonly logger = new Logger('Convenant');
  private compiled?: CompiledConvenant;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    const compiled = loadEnforceable(this.config.policyDir);
    await this.record(compiled);
    this.compiled = compiled;
    this.logger.log(`Enforcing convenant ${compiled.convenant.id} version ${compiled.version}`);
  }

  /** The compiled convenant in force. */
  current(): CompiledConvenant {
    if (!this.compiled) throw new Error('The convenant is not loaded yet.');
    return this.compiled;
  }

  private async record(compiled: CompiledConvenant): Promise<void> {
    const sources: Record<string, string> = {};
    for (const file of compiled.convenant.files) {
      sources[path.basename(file)] = await readFile(file, 'utf8');
    }
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO policy_version (version, convenant, hash, sources)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (version) DO UPDATE SET last_loaded_at = now()
         WHERE policy_version.hash = EXCLUDED.hash
       RETURNING version`,
      [compiled.version, compiled.convenant.id, compiled.hash, JSON.stringify(sources)],
    );
    if (rows.length === 0) {
      throw new PolicyInvalidError(this.config.policyDir, [
        `version ${compiled.version} is already recorded with different content; raise the convenant's version`,
      ]);
    }
  }
}

/** Loads, validates, compiles and self-tests a convenant folder; throws PolicyInvalidError on any failure. */
export function loadEnforceable(dir: string): CompiledConvenant {
  const result = checkConvenantDir(dir);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.convenant || errors.length > 0) {
    throw new PolicyInvalidError(dir, errors.map(formatDiagnostic));
  }
  const compiled = compileConvenant(result.convenant);
  const report = runPolicyTests(compiled);
  if (report.failed > 0) {
    throw new PolicyInvalidError(
      dir,
      report.results
        .filter((r) => !r.ok)
        .flatMap((r) =>
          r.failures.map(
            (f) => `${formatPosition(result.locate(f.src))} test '${r.test.name}': ${f.message}`,
          ),
        ),
    );
  }
  return compiled;
}

function formatPosition(p: { file: string; line: number; column: number }): string {
  return `${p.file}:${p.line}:${p.column}`;
}
