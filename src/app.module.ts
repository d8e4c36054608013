import { type DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ProblemDetailsFilter } from './common/problem.js';
import { LoggerModule } from 'nestjs-pino';
import { AccessLogModule } from './access-log/access-log.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { CasesModule } from './cases/cases.module.js';
import type { AppConfig } from './config/config.js';
import { ConfigModule } from './config/config.module.js';
import { ConvenantModule } from './convenant/convenant.module.js';
import { ConvenantApiModule } from './convenant/convenant-api.module.js';
import { DatabaseModule } from './db/database.module.js';
import { DemoModule } from './demo/demo.module.js';
import { HealthModule } from './health/health.module.js';

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
            redact: ['req.headers.authorization', 'req.headers.cookie', 'req.query'],
            serializers: {
              // Query strings are never logged: personal data must not travel in URLs, but if a
              // client puts it there anyway it must not end up in our logs either.
              req: (req: { id: string; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                url: req.url.split('?')[0],
              }),
            },
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
        ConvenantApiModule,
      ],
      // A provider, not app.useGlobalFilters, so the filter can log refusals through the auth module.
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
