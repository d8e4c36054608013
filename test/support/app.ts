import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/app.factory.js';
import { generateDevKeys } from '../../src/keys/dev-keys.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import { PolicyRegistry } from '../../src/kernel/policy.registry.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const REAL_CONVENANT = path.resolve('policies/zvh-rotterdam-rijnmond');
/** A second example, written from scratch for another kind of network: the gateway runs on either. */
export const SECOND_CONVENANT = path.resolve('policies/vh-twente');

/**
 * Every example convenant shipped in policies/ (each folder there is one), for specs about
 * behaviour that must hold whatever the convenant says: a third example is picked up without
 * touching a spec. `name` is the folder name, which is also the convenant's id.
 */
export const EXAMPLE_CONVENANTS: readonly { name: string; dir: string }[] = readdirSync(
  path.resolve('policies'),
  { withFileTypes: true },
)
  .filter((entry) => entry.isDirectory())
  .map((entry) => ({ name: entry.name, dir: path.resolve('policies', entry.name) }))
  .sort((a, b) => a.name.localeCompare(b.name));

export interface TestApp {
  app: NestFastifyApplication;
  db: TestDatabase;
  config: AppConfig;
  close(): Promise<void>;
}

export interface TestAppOptions {
  policyDir?: string;
  /**
   * The data folder (gateway key, demo partner keys). Default: a fresh temporary folder, removed
   * on close. Pass one to share keys between apps (two gateway instances); it is then kept.
   */
  dataDir?: string;
  /** A database to share with another test app (kept on close); default: a fresh one, dropped on close. */
  db?: TestDatabase;
  /** Generate demo keys for every partner into the data folder (default true), as `convenant keys --dev` does. */
  devKeys?: boolean;
  /** Extra environment, e.g. { ACCESS_TOKEN_TTL_SECONDS: '30' }. */
  env?: Record<string, string>;
}

/** The real gateway, on its own migrated database, with the real HTTP stack (no listen needed for supertest). */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase({ migrate: false }));
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'convenant-test-')));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    CONVENANT_POLICY_DIR: options.policyDir ?? REAL_CONVENANT,
    CONVENANT_DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Every test comes from one address: the per-address flood limits would otherwise bite.
    ANON_RATE_LIMIT: '100000',
    TOKEN_RATE_LIMIT: '100000',
    ANON_REFUSAL_LOG_BUDGET: '100000',
    ...options.env,
  });
  let app: NestFastifyApplication;
  try {
    app = await createApp(config);
    if (options.devKeys !== false) {
      await generateDevKeys(app.get(PolicyRegistry).current().convenant.partners, config.keysDir);
    }
  } catch (error) {
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    if (!options.db) await db.drop();
    throw error;
  }
  return {
    app,
    db,
    config,
    async close() {
      await app.close();
      if (!options.db) await db.drop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
