import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
// Global setup runs outside Jest's module system, so it uses the compiled code (npm test builds first).
import { freePort } from '../dist/src/common/free-port.js';
import { startEmbeddedPostgres } from '../dist/src/db/embedded-postgres.js';

/**
 * One PostgreSQL server for the whole run; each test file creates its own database on it
 * (test/support/database.ts), so files run in parallel without seeing each other's rows.
 * Same rule as the gateway: DATABASE_URL when set, otherwise an embedded server under .convenant/.
 * Both the medium and the e2e project declare it: the second call finds the server running.
 */
export default async function globalSetup() {
  if (process.env.CONVENANT_TEST_ADMIN_URL) return;
  if (process.env.DATABASE_URL) {
    process.env.CONVENANT_TEST_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const root = path.resolve('.convenant', 'test');
  await mkdir(root, { recursive: true });
  const dataDir = await mkdtemp(path.join(root, 'run-'));
  // mkdtemp makes a 0700 folder; as root, PostgreSQL runs as 'postgres' and must reach it.
  await chmod(dataDir, 0o755);
  const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' });
  globalThis.__CONVENANT_TEST_PG__ = server;
  process.env.CONVENANT_TEST_ADMIN_URL = server.urlFor('postgres');
  process.env.CONVENANT_TEST_DATA_DIR = dataDir;
}
