import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { AccessLogRepository } from './access-log/access-log.repository.js';
import { assignIdentity, RequestLog } from './access-log/request-log.js';
import { AnonymousRefusalBudget } from './auth/refusal-budget.js';
import { AccessTokenVerifier } from './auth/access-token.verifier.js';
import { DomainError, validationProblem } from './common/problem.js';
import { traceIdFrom } from './common/request-id.js';
import { recordRouteTemplates } from './common/log-hygiene.js';
import { registerRequestHygiene } from './common/request-hygiene.js';
import { hstsOverTlsOnly } from './common/transport-security.js';
import type { AppConfig } from './config/config.js';
import { Metrics, routeMetrics } from './ops/metrics.js';
import { API_VERSION, API_VERSION_HEADER, openApiDocument } from './openapi.js';
import { PolicyRegistry } from './kernel/policy.registry.js';
import { registerOfficerPage } from './web/officer-page.js';

/** Bodies larger than this are refused with 413 before any parsing: case data is small. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Builds the gateway: NestJS on Fastify (docs/performance.md: Express costs ~6x the CPU per request),
 * problem+json errors, strict validation, and the OpenAPI document at /v1/openapi.json.
 * main.ts and the e2e tests both use this, so tests exercise the real HTTP stack.
 */
export interface CreateAppOptions {
  /** Adds routes or hooks before the app is sealed (the benchmark's baseline route). */
  configure?: (app: NestFastifyApplication) => void;
  /**
   * Let Nest close the app on SIGTERM/SIGINT (default true). main.ts turns this off and runs
   * its own drain (readiness down, finish in-flight requests, then seal and close).
   */
  shutdownHooks?: boolean;
}

/** Too many requests from one partner (or, before authentication, one address) in a minute. */
export class RateLimitedError extends DomainError {
  override readonly headers: Readonly<Record<string, string>>;

  constructor(limit: number, retryAfterSeconds: number) {
    super(
      429,
      'rate-limited',
      'Too many requests',
      `More than ${limit} requests in a minute; try again in ${retryAfterSeconds} s.`,
    );
    this.headers = { 'retry-after': String(retryAfterSeconds) };
  }
}

/** Paths a load balancer or Prometheus polls: never rate-limited. */
const OPERATIONS_PATH = /^\/(health(\/(live|ready))?|metrics)$/;

export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    ...(config.tls ? { https: tlsOptions(config.tls) } : {}),
    ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}),
    genReqId: (raw: IncomingMessage) => {
      const id = traceIdFrom(raw.headers);
      // pino-http reads the same ids from the raw request, so log lines and responses agree.
      (raw as { id?: string; spanId?: string }).id = id;
      (raw as { spanId?: string }).spanId = randomBytes(8).toString('hex');
      assignIdentity(raw, id);
      return id;
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(config), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  registerRequestHygiene(app, BODY_LIMIT_BYTES);
  recordRouteTemplates(app.getHttpAdapter().getInstance());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: validationProblem,
    }),
  );
  if (options.shutdownHooks !== false) app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  // Before every other onSend hook: a response under /v1 gets its access log entry (or becomes a
  // 503) before anything else looks at it.
  const registry = app.get(PolicyRegistry);
  const budget = app.get(AnonymousRefusalBudget);
  new RequestLog(
    app.get(AccessLogRepository),
    () => registry.current().version,
    (request, action, requestId) =>
      budget.admit(request.ip, action === 'authenticate' ? 'token' : 'api', requestId),
  ).register(fastify);
  await registerHardening(app, config);
  const metrics = app.get(Metrics);
  metrics.instrument(fastify);
  // With METRICS_PORT, main.ts serves them apart; in production they are never on the API port.
  if (config.metricsPort === undefined && config.env !== 'production') routeMetrics(fastify, metrics);

  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    void reply.header(API_VERSION_HEADER, API_VERSION);
    // W3C Trace Context: the gateway's own span in the caller's trace (or in the trace it started).
    const spanId = (request.raw as { spanId?: string }).spanId ?? randomBytes(8).toString('hex');
    void reply.header('traceparent', `00-${request.id}-${spanId}-01`);
  });

  // One convenant version per request (PolicyRegistry.pin). preValidation, not onRequest: it runs
  // after the body is read, whose stream events would otherwise carry the handler out of the
  // pinned async context (nodejs/node#34430); guards and handlers all run after it.
  fastify.addHook('preValidation', (_request, _reply, done) => registry.pin(() => done()));

  // Built on its first request, not at start-up: reflecting every route costs a warm start ~0.1 s.
  let document: ReturnType<typeof openApiDocument> | undefined;
  fastify.get('/v1/openapi.json', (_request, reply) => reply.send((document ??= openApiDocument(app))));
  registerOfficerPage(fastify);
  options.configure?.(app);

  await app.init();
  await fastify.ready();
  return app;
}

/**
 * Security headers (CSP default-src 'self': the officers' page uses same-origin scripts and
 * styles only), CORS closed unless CORS_ORIGINS names origins, and a rate limit per partner.
 */
async function registerHardening(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        defaultSrc: ["'self'"],
        styleSrc: ["'self'"],
        frameAncestors: ["'none'"],
        // TLS ends at the proxy or here; a plain-HTTP demo must not be told to upgrade.
        upgradeInsecureRequests: null,
      },
    },
    hsts: false,
  });
  hstsOverTlsOnly(app.getHttpAdapter().getInstance());
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'traceparent'],
      exposedHeaders: ['x-request-id', 'traceparent', 'retry-after'],
      maxAge: 600,
    });
  }
  const verifier = app.get(AccessTokenVerifier);
  await app.register(rateLimit, {
    global: true,
    // Tight per address for callers without a valid token and at the token endpoint (README, Flood control).
    max: (_request, key) =>
      key.startsWith('partner:')
        ? config.rateLimitPerMinute
        : key.startsWith('token:')
          ? config.tokenRateLimit
          : config.anonRateLimit,
    timeWindow: 60_000,
    allowList: (request) => OPERATIONS_PATH.test(request.url.split('?')[0] ?? ''),
    // Per partner once its token verifies (the verifier caches, so this costs a hash lookup);
    // a bearer that does not verify cannot claim a partner's budget, it counts by address.
    keyGenerator: async (request) => {
      if (request.url.split('?')[0] === '/v1/oauth/token') return `token:${request.ip}`;
      const bearer = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (bearer) {
        try {
          return `partner:${(await verifier.verify(bearer)).partner}`;
        } catch {
          // not a valid access token: fall through to the address
        }
      }
      return `address:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(context.max, Math.max(1, Math.ceil(context.ttl / 1000))),
  });
}

function tlsOptions(tls: NonNullable<AppConfig['tls']>) {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    minVersion: 'TLSv1.2' as const,
    ...(tls.clientCaFile
      ? { ca: readFileSync(tls.clientCaFile), requestCert: true, rejectUnauthorized: true }
      : {}),
  };
}
