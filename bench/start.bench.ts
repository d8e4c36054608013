import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../src/common/free-port.js';

/**
 * `npm run bench:start`: seconds from `npm start` to the first 200 from /health, as a person
 * runs it after `npm ci` (cold: a new data folder, so the embedded PostgreSQL is initialised,
 * migrated and the demo seeded) and then again with nothing changed (warm), each stopped with
 * SIGINT to its process group as Ctrl-C does. Compare the two in the same run: the box is noisy.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function timeStart(dataDir: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], {
    env: {
      ...process.env,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      CONVENANT_DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return (performance.now() - started) / 1000;
  } finally {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGINT');
    const code = await exited;
    if (code !== 0) console.error(`npm start stopped with exit code ${code}`);
  }
}

async function main(): Promise<void> {
  await mkdir(path.resolve('.convenant/bench'), { recursive: true });
  for (let run = 1; run <= RUNS; run++) {
    const dataDir = await mkdtemp(path.resolve('.convenant/bench', 'start-'));
    await chmod(dataDir, 0o755);
    try {
      const cold = await timeStart(dataDir);
      const warm = await timeStart(dataDir);
      console.log(`run ${run}: cold ${cold.toFixed(2)} s, warm ${warm.toFixed(2)} s`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
