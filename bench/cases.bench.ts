import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../src/common/free-port.js';
import { load, median, startServer, stopServer, writeResult, type Pass } from './harness.js';

/**
 * `npm run bench`: GET /v1/cases/{id} with a real token on the seeded demo, against a bare peer
 * in its own process (bench/peer.ts: Fastify + pg, the same statement, no Nest, token, policy or
 * log) on the same database. Alternating passes in one run, medians reported, with the CPU each
 * pass cost per request in the serving Node process and in PostgreSQL, and the access log's bytes
 * per read. The box is shared and noisy: the ratio inside one run is the figure to read.
 */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const PASSES = Number(process.env.BENCH_PASSES ?? 3);
/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ) on every platform we run. */
const TICKS_PER_SECOND = 100;

interface Measured extends Pass {
  /** CPU of the serving Node process per request, µs. */
  nodeCpuUs: number;
  /** CPU of PostgreSQL's processes (backends, writers) per request, µs. */
  postgresCpuUs: number;
  /** Growth of access_log (all partitions, indexes, TOAST) and its seals per request, bytes. */
  logBytesPerRequest: number;
  /** Access log rows per request. */
  logRowsPerRequest: number;
}

/** utime + stime of a process in ticks; 0 once it is gone. */
async function cpuTicks(pid: string): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const dataDir = path.resolve('.convenant/bench');
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o755);
  const { child, ready } = await startServer('dist/bench/server.js', [], {
    PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    CONVENANT_DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(await freePort()),
  });
  const peer = await startServer('dist/bench/peer.js', [], {
    PORT: String(await freePort()),
    DATABASE_URL: ready.databaseUrl!,
    BENCH_PARTNER: ready.partner!,
    BENCH_PURPOSE: ready.purpose!,
    BENCH_FIELDS: ready.fields!,
  }).catch(async (error: unknown) => {
    await stopServer(child);
    throw error;
  });
  const db = new pg.Client({ connectionString: ready.databaseUrl });
  await db.connect();
  const postgresPids = async () =>
    (await db.query<{ pid: string }>(`SELECT pid::text AS pid FROM pg_stat_activity`)).rows.map((r) => r.pid);
  const logState = async () => {
    const { rows } = await db.query<{ bytes: string; rows: string }>(
      `SELECT (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('access_log'))
                + pg_total_relation_size('access_log_seal') AS bytes,
              (SELECT count(*) FROM access_log) AS rows`,
    );
    return { bytes: Number(rows[0]!.bytes), rows: Number(rows[0]!.rows) };
  };

  /** CPU ticks of PostgreSQL's processes now, by pid. */
  const postgresTicks = async () =>
    new Map(
      await Promise.all((await postgresPids()).map(async (pid) => [pid, await cpuTicks(pid)] as const)),
    );

  const measured = async (name: string, url: string, pid: string, headers?: Record<string, string>) => {
    const ticks = async () => ({ node: await cpuTicks(pid), postgres: await postgresTicks() });
    const log0 = await logState();
    const before = await ticks();
    const pass = await load(name, {
      url,
      connections: CONNECTIONS,
      durationSeconds: DURATION,
      warmupSeconds: WARMUP,
      ...(headers ? { headers } : {}),
    });
    const after = await ticks();
    // Let the sealer catch up, so the seals of this pass are counted in it.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const log1 = await logState();
    // Warm-up requests cost CPU and log rows too: divide by every request the pass made.
    const requests = pass.total + (pass.requestsPerSecond * WARMUP || 0);
    const perRequestUs = (delta: number) => Math.round(((delta / TICKS_PER_SECOND) * 1e6) / requests);
    return {
      ...pass,
      nodeCpuUs: perRequestUs(after.node - before.node),
      // A backend that started during the pass counts whole; one that ended is lost (pools keep theirs).
      postgresCpuUs: perRequestUs(
        [...after.postgres].reduce((sum, [p, t]) => sum + t - (before.postgres.get(p) ?? 0), 0),
      ),
      logBytesPerRequest: Math.round((log1.bytes - log0.bytes) / requests),
      logRowsPerRequest: Number(((log1.rows - log0.rows) / requests).toFixed(2)),
    } satisfies Measured;
  };

  try {
    const peerPasses: Measured[] = [];
    const gatewayPasses: Measured[] = [];
    for (let i = 0; i < PASSES; i++) {
      peerPasses.push(
        await measured(
          'bare peer: Fastify + pg, same statement',
          `${peer.ready.url}/peer/cases/${ready.caseId}`,
          peer.ready.pid!,
        ),
      );
      gatewayPasses.push(
        await measured(
          'gateway: GET /v1/cases/{id} (token, policy, access log)',
          `http://127.0.0.1:${ready.port}/v1/cases/${ready.caseId}`,
          ready.pid!,
          { authorization: `Bearer ${ready.token}` },
        ),
      );
    }
    const mid = (passes: Measured[], by: (p: Measured) => number) =>
      by([...passes].sort((a, b) => by(a) - by(b))[Math.floor(passes.length / 2)]!);
    const summary = (passes: Measured[]): Measured => ({
      ...median(passes),
      nodeCpuUs: mid(passes, (p) => p.nodeCpuUs),
      postgresCpuUs: mid(passes, (p) => p.postgresCpuUs),
      logBytesPerRequest: mid(passes, (p) => p.logBytesPerRequest),
      logRowsPerRequest: mid(passes, (p) => p.logRowsPerRequest),
    });
    const p = summary(peerPasses);
    const g = summary(gatewayPasses);
    const ratio = g.requestsPerSecond / p.requestsPerSecond;
    const ratios = gatewayPasses.map((pass, i) =>
      (pass.requestsPerSecond / peerPasses[i]!.requestsPerSecond).toFixed(2),
    );
    const target = { ratioAtLeast: 0.75, p99MsAtMost: 25 };
    const markdown =
      `# GET /v1/cases/{id} vs. a bare peer in its own process (${CONNECTIONS} connections, ${PASSES} × ${DURATION}s, medians)\n\n` +
      `| route | req/s | p50 ms | p99 ms | Node CPU µs/req | PostgreSQL CPU µs/req | log bytes/req | log rows/req | non-2xx | errors |\n` +
      `|---|---|---|---|---|---|---|---|---|---|\n` +
      [p, g]
        .map(
          (m) =>
            `| ${m.name} | ${m.requestsPerSecond.toFixed(0)} | ${m.p50Ms} | ${m.p99Ms} | ${m.nodeCpuUs} | ${m.postgresCpuUs} | ${m.logBytesPerRequest} | ${m.logRowsPerRequest} | ${m.non2xx} | ${m.errors} |`,
        )
        .join('\n') +
      `\n\nThroughput ratio gateway/peer: **${ratio.toFixed(2)}** (per pass: ${ratios.join(', ')}; target ≥ ${target.ratioAtLeast}); ` +
      `gateway p99 ${g.p99Ms} ms (target ≤ ${target.p99MsAtMost} ms).\n`;
    const file = await writeResult(
      'cases',
      {
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        passes: PASSES,
        peer: p,
        gateway: g,
        ratio,
        target,
        raw: { peer: peerPasses, gateway: gatewayPasses },
      },
      markdown,
    );
    process.stdout.write(`${markdown}\nWritten to ${file}\n`);
    if (g.non2xx > 0 || p.non2xx > 0)
      throw new Error('Some requests failed: the figures are not comparable.');
  } finally {
    await db.end();
    await stopServer(peer.child);
    await stopServer(child);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
