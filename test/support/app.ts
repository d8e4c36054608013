import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import path from 'node:path';
import { createApp } from '../../src/app.factory.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const REAL_CONVENANT = path.resolve('policies/zvh-rotterdam-rijnmond');

export interface TestApp {
  app: NestFastifyApplication;
  db: TestDatabase;
  config: AppConfig;
  close(): Promise<void>;
}

/** The real gateway, on its own migrated database, with the real HTTP stack (no listen needed for supertest). */
export async function startTestApp(options: { policyDir?: string } = {}): Promise<TestApp> {
  const db = await createTestDatabase({ migrate: false });
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    CONVENANT_POLICY_DIR: options.policyDir ?? REAL_CONVENANT,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const app = await createApp(config);
  return {
    app,
    db,
    config,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
