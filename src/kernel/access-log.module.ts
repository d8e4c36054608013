import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PolicyRegistry } from './policy.registry.js';
import { AccessLogRepository } from '../access-log/access-log.repository.js';
import { AccessLogSealer } from '../access-log/access-log.sealer.js';
import { AccessLogRetention, logRetentionPolicy } from '../access-log/log-retention.js';

@Global()
@Module({
  providers: [
    AccessLogRepository,
    AccessLogSealer,
    {
      // Retention periods are read at each call, from the convenant in force.
      provide: AccessLogRetention,
      inject: [DataSource, AccessLogRepository, PolicyRegistry, APP_CONFIG],
      useFactory: (
        dataSource: DataSource,
        log: AccessLogRepository,
        registry: PolicyRegistry,
        config: AppConfig,
      ) =>
        new AccessLogRetention(dataSource, log, () =>
          logRetentionPolicy(registry.current(), config.accessLogRetention),
        ),
    },
  ],
  exports: [AccessLogRepository, AccessLogSealer, AccessLogRetention],
})
export class AccessLogModule {}
