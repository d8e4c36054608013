import 'reflect-metadata';
import type { Server } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig, type AppConfig } from './config/config.js';
import { AccessLogSealer } from './access-log/access-log.sealer.js';
import { handOverPolicy, loadEnforceablePolicy, PolicyInvalidError } from './kernel/enforceable.js';
import { MigrationsPendingError } from './db/data-source.js';
import { EmbeddedPostgresError } from './db/embedded-postgres.js';
import { removeGatewayFile, writeGatewayFile } from './ops/gateway-file.js';
import { Lifecycle } from './ops/lifecycle.js';
import { stoppedLine } from './ops/stopped-line.js';
import { Metrics, serveMetrics } from './ops/metrics.js';

async function main(): Promise<void> {
  const config = loadConfig();
  // Fail fast, before a database is started: an invalid convenant is never served. The registry
  // takes this load over instead of doing it again.
  handOverPolicy(config.policyDir, loadEnforceablePolicy(config.policyDir));
  const app = await createApp(config, { shutdownHooks: false });
  const logger = app.get(Logger);
  await app.listen({ host: config.host, port: config.port });
  const metricsServer =
    config.metricsPort === undefined
      ? undefined
      : await serveMetrics(app.get(Metrics), config.metricsHost, config.metricsPort);
  const scheme = config.tls ? 'https' : 'http';
  logger.log(`Listening on ${scheme}://${config.host}:${config.port}`, 'Gateway');
  // For `convenant token`: a missing note only costs the developer a --gateway, so it never stops the start.
  await writeGatewayFile(config).catch((error: unknown) =>
    logger.warn(`Could not write the gateway file for convenant token: ${String(error)}`, 'Gateway'),
  );
  if (metricsServer) {
    logger.log(`Metrics on http://${config.metricsHost}:${config.metricsPort}/metrics`, 'Gateway');
  }
  let stopping: Promise<void> | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      stopping ??= drainAndStop(app, config, metricsServer, signal).then(
        (sealed) => process.exit(sealed ? 0 : 1),
        (error: unknown) => {
          console.error('convenant: shutdown failed', error);
          process.exit(1);
        },
      );
    });
  }
}

/**
 * Graceful stop: readiness goes down, the load balancer gets SHUTDOWN_DELAY_MS to notice, then
 * the server stops accepting and in-flight requests finish (each awaits its own access log
 * write, so the group-commit writer is empty once they are done). Requests still running after
 * SHUTDOWN_TIMEOUT_MS lose their connections. Then app.close(): the sealer seals what is left
 * and writes a checkpoint, and the pool (and an embedded PostgreSQL) close. Resolves false (exit
 * code 1) when that last seal failed, so the closing line and the exit code say so.
 */
async function drainAndStop(
  app: NestFastifyApplication,
  config: AppConfig,
  metricsServer: Server | undefined,
  signal: string,
): Promise<boolean> {
  const logger = app.get(Logger);
  logger.log(`${signal}: draining (readiness down)`, 'Gateway');
  app.get(Lifecycle).beginDrain();
  if (config.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
  const fastify = app.getHttpAdapter().getInstance();
  const deadline = setTimeout(() => {
    logger.warn(
      `In-flight requests still running after ${config.shutdownTimeoutMs} ms; closing them`,
      'Gateway',
    );
    fastify.server.closeAllConnections();
  }, config.shutdownTimeoutMs);
  // Node closes the connections idle at close() only; one that finishes its response later stays
  // open under keep-alive and would hold the exit until the deadline. Sweep them as they go idle.
  const sweep = setInterval(() => fastify.server.closeIdleConnections(), 50);
  await fastify.close();
  clearInterval(sweep);
  clearTimeout(deadline);
  metricsServer?.close();
  const sealer = app.get(AccessLogSealer);
  await app.close();
  await removeGatewayFile(config).catch(() => undefined);
  const stopped = stoppedLine(sealer.finalSeal);
  if (stopped.ok) logger.log(stopped.text, 'Gateway');
  else logger.error(stopped.text, 'Gateway');
  return stopped.ok;
}

main().catch((error: unknown) => {
  // Start-up failures a person can fix get a sentence, not a stack trace.
  if (error instanceof ConfigError) {
    console.error(`convenant: ${error.message}`);
  } else if (
    error instanceof PolicyInvalidError ||
    error instanceof EmbeddedPostgresError ||
    error instanceof MigrationsPendingError
  ) {
    console.error(`convenant: ${error.message}`);
  } else {
    console.error('convenant: start-up failed', error);
  }
  process.exit(1);
});
