import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { PolicyRegistry } from '../convenant/policy.registry.js';
import { pendingMigrations } from '../db/data-source.js';
import { Lifecycle } from '../ops/lifecycle.js';

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
  @HealthCheck()
  @ApiOperation({ summary: 'Database reachability, the convenant version in force, and uptime' })
  check() {
    return this.health.check([() => this.database(), () => this.convenant(), () => this.process()]);
  }

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process runs and answers (no dependency is checked)' })
  live() {
    return this.health.check([() => this.process()]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: database reachable, schema current, convenant loaded, not shutting down; 503 otherwise',
  })
  ready() {
    return this.health.check([
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
