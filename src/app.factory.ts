import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { validationProblem } from './common/problem.js';
import { traceIdFrom } from './common/request-id.js';
import type { AppConfig } from './config/config.js';
import { PolicyRegistry } from './convenant/policy.registry.js';
import { registerOfficerPage } from './web/officer-page.js';

/** Bodies larger than this are refused with 413 before any parsing: case data is small. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Builds the gateway: NestJS on Fastify (PERF-NOTES: Express costs ~6x the CPU per request),
 * problem+json errors, strict validation, and the OpenAPI document at /v1/openapi.json.
 * main.ts and the e2e tests both use this, so tests exercise the real HTTP stack.
 */
export interface CreateAppOptions {
  /** Adds routes or hooks before the app is sealed (the benchmark's baseline route). */
  configure?: (app: NestFastifyApplication) => void;
}

export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: (raw: IncomingMessage) => {
      const id = traceIdFrom(raw.headers);
      // pino-http reads the same id from the raw request, so log lines and responses agree.
      (raw as { id?: string }).id = id;
      return id;
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(config), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: validationProblem,
    }),
  );
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    // W3C Trace Context: the gateway's own span in the caller's trace (or in the trace it started).
    void reply.header('traceparent', `00-${request.id}-${randomBytes(8).toString('hex')}-01`);
  });

  // One convenant version per request (PolicyRegistry.pin). preValidation, not onRequest: it runs
  // after the body is read, whose stream events would otherwise carry the handler out of the
  // pinned async context (nodejs/node#34430); guards and handlers all run after it.
  const registry = app.get(PolicyRegistry);
  fastify.addHook('preValidation', (_request, _reply, done) => registry.pin(() => done()));

  const document = openApiDocument(app);
  fastify.get('/v1/openapi.json', (_request, reply) => reply.send(document));
  registerOfficerPage(fastify);
  options.configure?.(app);

  await app.init();
  await fastify.ready();
  return app;
}

export function openApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('convenant gateway')
    .setDescription(
      'Purpose-bound access to shared case data under the convenant. Every access is logged. ' +
        'Errors are application/problem+json (RFC 9457).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return SwaggerModule.createDocument(app, config);
}
