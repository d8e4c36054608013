import { rm } from 'node:fs/promises';

/** Declared by two projects: the first call stops the server and removes its data, the second finds nothing. */
export default async function globalTeardown() {
  const server = globalThis.__CONVENANT_TEST_PG__;
  const dataDir = process.env.CONVENANT_TEST_DATA_DIR;
  globalThis.__CONVENANT_TEST_PG__ = undefined;
  delete process.env.CONVENANT_TEST_DATA_DIR;
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  // As root from a private folder the cluster lives under the temporary folder instead.
  if (server) await rm(server.clusterDir, { recursive: true, force: true });
}
