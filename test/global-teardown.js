import { rm } from 'node:fs/promises';

export default async function globalTeardown() {
  await globalThis.__CONVENANT_TEST_PG__?.stop();
  const dataDir = process.env.CONVENANT_TEST_DATA_DIR;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
