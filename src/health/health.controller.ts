import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { PolicyRegistry } from '../convenant/policy.registry.js';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly policies: PolicyRegistry,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Database reachability, the convenant version in force, and uptime' })
  check() {
    return this.health.check([
      () =>
        this.indicators
          .check('database')
          .attempt(async () => {
            await this.dataSource.query('SELECT 1');
            return {};
          })
          .withTimeout(2000),
      () => {
        const compiled = this.policies.current();
        return this.indicators
          .check('convenant')
          .up({ id: compiled.convenant.id, version: compiled.version });
      },
      () => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) }),
    ]);
  }
}
