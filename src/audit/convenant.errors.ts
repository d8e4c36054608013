import { HttpStatus } from '@nestjs/common';
import { DomainError } from '../common/problem.js';
import type { PolicyProblem } from '../kernel/policy.registry.js';

/** A reload found a convenant that cannot be enforced; the version in force keeps serving. */
export class PolicyReloadRefusedError extends DomainError {
  constructor(versionInForce: string, problems: readonly PolicyProblem[]) {
    super(
      HttpStatus.UNPROCESSABLE_ENTITY,
      'policy-reload-refused',
      'Convenant reload refused',
      `The convenant folder holds ${problems.length} problem${problems.length === 1 ? '' : 's'} ` +
        `(validation errors or failing inline tests); version ${versionInForce} stays in force.`,
      {
        versionInForce,
        errors: problems.map((p) => ({
          code: p.code,
          detail: p.message,
          ...(p.file !== undefined ? { file: p.file, line: p.line ?? 1, column: p.column ?? 1 } : {}),
          position: p.file !== undefined ? `${p.file}:${p.line ?? 1}:${p.column ?? 1}` : null,
        })),
      },
    );
  }
}

export class PolicyVersionNotFoundError extends DomainError {
  constructor() {
    super(
      HttpStatus.NOT_FOUND,
      'policy-version-not-found',
      'Convenant version not found',
      'No convenant version with this name was ever enforced here.',
    );
  }
}
