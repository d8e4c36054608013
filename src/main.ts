import 'reflect-metadata';
import { Logger } from 'nestjs-pino';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/config.js';
import { loadEnforceable, PolicyInvalidError } from './convenant/policy.registry.js';
import { EmbeddedPostgresError } from './db/embedded-postgres.js';

async function main(): Promise<void> {
  const config = loadConfig();
  // Fail fast, before a database is started: an invalid convenant is never served.
  loadEnforceable(config.policyDir);
  const app = await createApp(config);
  await app.listen({ host: config.host, port: config.port });
  app.get(Logger).log(`Listening on http://${config.host}:${config.port}`, 'Gateway');
}

main().catch((error: unknown) => {
  // Start-up failures a person can fix get a sentence, not a stack trace.
  if (error instanceof ConfigError) {
    console.error(`convenant: ${error.message}`);
  } else if (error instanceof PolicyInvalidError || error instanceof EmbeddedPostgresError) {
    console.error(`convenant: ${error.message}`);
  } else {
    console.error('convenant: start-up failed', error);
  }
  process.exit(1);
});
