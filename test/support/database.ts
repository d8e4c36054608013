import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, migrate } from '../../src/db/data-source.js';

export interface TestDatabase {
  url: string;
  name: string;
  /** Migrated data source; undefined when created with { migrate: false }. */
  dataSource: DataSource;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.CONVENANT_TEST_ADMIN_URL;
  if (!url)
    throw new Error('CONVENANT_TEST_ADMIN_URL is not set: run tests through jest (test/global-setup.ts).');
  return url;
}

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh database of its own for one test file, with the real migrations applied. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `convenant_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const dataSource = createDataSource(url, { poolSize: 5, applicationName: 'convenant-test' });
  await dataSource.initialize();
  if (options.migrate !== false) await migrate(dataSource);
  return {
    url,
    name,
    dataSource,
    async drop() {
      if (dataSource.isInitialized) await dataSource.destroy();
      const client = new pg.Client({ connectionString: adminUrl() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
