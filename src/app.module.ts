import { type DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  LOG_REDACT_PATHS,
  routeOf,
  serializeError,
  serializeRequest,
  serializeResponse,
} from './common/log-hygiene.js';
import { ProblemDetailsFilter } from './kernel/problem.filter.js';
import { LoggerModule } from 'nestjs-pino';
import { AccessLogModule } from './kernel/access-log.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { CasesModule } from './cases/cases.module.js';
import type { AppConfig } from './config/config.js';
import { ConfigModule } from './config/config.module.js';
import { ConvenantModule } from './kernel/convenant.module.js';
import { ConvenantApiModule } from './audit/convenant-api.module.js';
import { DatabaseModule } from './db/database.module.js';
import { DemoModule } from './demo/demo.module.js';
import { HealthModule } from './health/health.module.js';
import { OpsModule } from './ops/ops.module.js';
import { SignalsModule } from './signals/signals.module.js';

@Module({})
export class AppModule {
  static forConfig(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forConfig(config),
        LoggerModule.forRoot({
          // Explicit: nestjs-pino's default route pattern does not match every path on Fastify.
          forRoutes: [{ path: '*splat', method: RequestMethod.ALL }],
          pinoHttp: {
            level: config.logLevel,
            // Fastify's genReqId (app.factory.ts) has put the trace id on the raw request already.
            genReqId: (req) => (req as { id?: string }).id ?? 'unknown',
            customAttributeKeys: { reqId: 'traceId' },
            // OTLP/JSON field names, so a collector correlates these lines with the trace.
            customProps: (req) => ({
              traceId: (req as { id?: string }).id,
              spanId: (req as { spanId?: string }).spanId,
              route: routeOf(req),
            }),
            // No bodies, URLs, headers, tokens, values or SQL parameters, errors included: see
            // src/common/log-hygiene.ts (route templates, not URLs; errors without their data).
            redact: { paths: LOG_REDACT_PATHS, remove: true },
            serializers: { req: serializeRequest, res: serializeResponse, err: serializeError },
          },
        }),
        DatabaseModule,
        AccessLogModule,
        ConvenantModule,
        AuthModule,
        CasesModule,
        AuditModule,
        DemoModule,
        HealthModule,
        OpsModule,
        SignalsModule,
        ConvenantApiModule,
      ],
      // A provider, not app.useGlobalFilters, so the filter can log refusals through the auth module.
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
