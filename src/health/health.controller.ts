import { Controller, Get, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { DomainError } from '../common/problem.js';
import { DataSource } from 'typeorm';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import { pendingMigrations } from '../db/data-source.js';
import { Lifecycle } from '../ops/lifecycle.js';

/** A check is down: problem+json (503) that still carries every check's result. */
export class HealthDownError extends DomainError {
  constructor(result: unknown) {
    const { info, error, details } = (result ?? {}) as Record<string, unknown>;
    super(
      HttpStatus.SERVICE_UNAVAILABLE,
      'unhealthy',
      'Unhealthy',
      'One or more checks are down; see error.',
      {
        info,
        error,
        details,
      },
    );
  }
}

/**
 * Liveness (is the process worth keeping: restart it if not) is apart from readiness (should it
 * get traffic now): a database outage or a drain takes an instance out of the load balancer,
 * but restarting it would not help, so /health/live stays up through both.
 */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly policies: PolicyRegistry,
    private readonly lifecycle: Lifecycle,
  ) {}

  @Get()
  // terminus documents its result itself only where its ESM build can require @nestjs/swagger,
  // which differs between Node.js 20 and 24; documented here so openapi.json is the same on both.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOkResponse({
    description: 'Every check is up: `status`, `info`, `error` and `details` per check (terminus).',
  })
  @ApiServiceUnavailableResponse({ description: 'A check is down; the same shape names which and why.' })
  @ApiOperation({ summary: 'Database reachability, the convenant version in force, and uptime' })
  check() {
    return this.run([() => this.database(), () => this.convenant(), () => this.process()]);
  }

  @Get('live')
  // terminus documents its result itself only where its ESM build can require @nestjs/swagger,
  // which differs between Node.js 20 and 24; documented here so openapi.json is the same on both.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOkResponse({
    description: 'Every check is up: `status`, `info`, `error` and `details` per check (terminus).',
  })
  @ApiServiceUnavailableResponse({ description: 'A check is down; the same shape names which and why.' })
  @ApiOperation({ summary: 'Liveness: the process runs and answers (no dependency is checked)' })
  live() {
    return this.run([() => this.process()]);
  }

  @Get('ready')
  // terminus documents its result itself only where its ESM build can require @nestjs/swagger,
  // which differs between Node.js 20 and 24; documented here so openapi.json is the same on both.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOkResponse({
    description: 'Every check is up: `status`, `info`, `error` and `details` per check (terminus).',
  })
  @ApiServiceUnavailableResponse({ description: 'A check is down; the same shape names which and why.' })
  @ApiOperation({
    summary:
      'Readiness: database reachable, schema current, convenant loaded, not shutting down; 503 otherwise',
  })
  ready() {
    return this.run([
      () => {
        const check = this.indicators.check('lifecycle');
        return this.lifecycle.draining ? check.down({ draining: true }) : check.up({ draining: false });
      },
      () => this.database(),
      () =>
        this.indicators
          .check('migrations')
          .attempt(async () => {
            const pending = await pendingMigrations(this.dataSource);
            if (pending.length > 0) throw new Error(`pending: ${pending.join(', ')}`);
            return { pending: 0 };
          })
          .withTimeout(2000),
      () => this.convenant(),
    ]);
  }

  private async run(checks: HealthIndicatorFunction[]) {
    try {
      return await this.health.check(checks);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) throw new HealthDownError(error.getResponse());
      throw error;
    }
  }

  private database() {
    return this.indicators
      .check('database')
      .attempt(async () => {
        await this.dataSource.query('SELECT 1');
        return {};
      })
      .withTimeout(2000);
  }

  private convenant() {
    const compiled = this.policies.current();
    return this.indicators.check('convenant').up({ id: compiled.convenant.id, version: compiled.version });
  }

  private process() {
    return this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) });
  }
}
