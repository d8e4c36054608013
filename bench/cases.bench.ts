import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../src/common/free-port.js';
import { load, median, startServer, stopServer, writeResult, type Pass } from './harness.js';

/**
 * `npm run bench`: GET /v1/cases/{id} with a real token on the seeded demo, against a baseline
 * route in the same server and the same run that reads the same case with no auth, policy or log.
 * Three alternating passes each, medians reported; the figure that matters is the ratio.
 */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const PASSES = Number(process.env.BENCH_PASSES ?? 3);

async function main(): Promise<void> {
  const dataDir = path.resolve('.convenant/bench');
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o755);
  const env: Record<string, string> = {
    PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    CONVENANT_DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(await freePort()),
  };
  const { child, ready } = await startServer('dist/bench/server.js', [], env);
  try {
    const base = `http://127.0.0.1:${ready.port}`;
    const options = { connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP };
    const baseline: Pass[] = [];
    const gateway: Pass[] = [];
    for (let i = 0; i < PASSES; i++) {
      baseline.push(
        await load('baseline: same read, no auth/policy/log', {
          ...options,
          url: `${base}/bench/baseline/${ready.caseId}`,
        }),
      );
      gateway.push(
        await load('GET /v1/cases/{id} (token, policy, access log)', {
          ...options,
          url: `${base}/v1/cases/${ready.caseId}`,
          headers: { authorization: `Bearer ${ready.token}` },
        }),
      );
    }
    const b = median(baseline);
    const g = median(gateway);
    const ratio = g.requestsPerSecond / b.requestsPerSecond;
    const target = { ratioAtLeast: 0.6, p99MsBelow: 25 };
    const markdown =
      `# GET /v1/cases/{id} vs. baseline (${CONNECTIONS} connections, ${PASSES} × ${DURATION}s, medians)\n\n` +
      `| route | req/s | p50 ms | p99 ms | non-2xx | errors |\n|---|---|---|---|---|---|\n` +
      [b, g]
        .map(
          (p) =>
            `| ${p.name} | ${p.requestsPerSecond.toFixed(0)} | ${p.p50Ms} | ${p.p99Ms} | ${p.non2xx} | ${p.errors} |`,
        )
        .join('\n') +
      `\n\nThroughput ratio gateway/baseline: **${ratio.toFixed(2)}** (target ≥ ${target.ratioAtLeast}); ` +
      `gateway p99 ${g.p99Ms} ms (target < ${target.p99MsBelow} ms).\n`;
    const file = await writeResult(
      'cases',
      {
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        passes: PASSES,
        baseline: b,
        gateway: g,
        ratio,
        target,
        raw: { baseline, gateway },
      },
      markdown,
    );
    process.stdout.write(`${markdown}\nWritten to ${file}\n`);
    if (g.non2xx > 0 || b.non2xx > 0)
      throw new Error('Some requests failed: the figures are not comparable.');
  } finally {
    await stopServer(child);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
