import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { entryHash, GENESIS, type LoggedEntry } from '../src/access-log/chain.js';
import { signCheckpoint } from '../src/access-log/access-log.sealer.js';
import { verifyChain, type ChainRow, type Checkpoint } from '../src/access-log/verify.js';
import { newSigningPair } from '../src/keys/dev-keys.js';
import { gatewayKeyFromJwk } from '../src/keys/gateway-key.js';
import { run } from '../src/cli/program.js';
import { freePort } from '../src/common/free-port.js';
import { startServer, stopServer, writeResult } from './harness.js';

/**
 * `npm run bench:audit`: the privacy officer's API on a seeded access log of BENCH_ENTRIES
 * (default 1,000,000) entries, over real HTTP with a real officer token, against a fresh database
 * (a new database on DATABASE_URL's server when set, else a fresh embedded PostgreSQL):
 *
 * - GET /v1/audit/events filtered by case, and POST /v1/audit/subject-report for one person
 *   (the subject travels in the body, never in a URL): p50/p95/p99 over REQUESTS requests each,
 *   4 in flight, varying case and person; baseline GET /v1/audit/keys (no database, no token) in
 *   the same run. Target p95 < 100 ms.
 * - Verification throughput: GET /v1/audit/verify over the whole chain (from the database), and
 *   `convenant audit verify --file` on the full NDJSON export (offline).
 * - Export memory: the gateway's RSS and heap sampled every 100 ms while the full NDJSON export of
 *   every entry streams to disk, against the same process at idle just before.
 * - The verifier alone on VERIFY_ENTRIES generated entries in memory, to separate its cost from
 *   the database's.
 */
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const VERIFY_ENTRIES = Number(process.env.BENCH_VERIFY_ENTRIES ?? 200_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);
const IN_FLIGHT = 4;
const CHECKPOINT_EVERY = 1000;
const RUNS = 3;

function generated(n: number): LoggedEntry {
  return {
    seq: String(n),
    occurredAt: new Date(Date.UTC(2026, 10, 23, 8, 0, 0) + n * 7).toISOString().replace('Z', '123Z'),
    traceId: randomBytes(16).toString('hex'),
    partner: ['vtrr', 'politie', 'wijkteam', 'om'][n % 4]!,
    professional: `pro-${n % 97}`,
    purpose: 'casusoverleg',
    legalBasis: ['AVG art. 6(1)(e)', 'Wmo 2015 art. 4.1.1'],
    action: 'read',
    caseId: '11111111-1111-4111-8111-111111111111',
    dataSubjectRef: `subj-${n % 1009}`,
    fields: ['betrokkenen.naam', 'plan.doelen', 'veiligheid.risiconiveau'],
    status: n % 9 === 0 ? 'denied' : 'allowed',
    ruleId: 'wijkteam-plan',
    reason: 'Deelnemer in fase herstel.',
    policyVersion: '2026.1+abc123',
    emergency: false,
    requestId: null,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Ready {
  port: string;
  token: string;
  caseIds: string[];
  subjectRefs: string[];
  seededMs: number;
  sealedMs: number;
  counts: { entries: number; sealed: number; checkpoints: number; defaults: number };
  plans: Record<string, string[]>;
}

interface Latency {
  name: string;
  requests: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const round = (ms: number) => Math.round(ms * 100) / 100;

/** REQUESTS requests, IN_FLIGHT at a time, after a warm-up of a tenth as many; times per request. */
async function latency(name: string, request: (i: number) => Promise<Response>): Promise<Latency> {
  const once = async (i: number): Promise<number> => {
    const started = performance.now();
    const res = await request(i);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
    return performance.now() - started;
  };
  for (let i = 0; i < REQUESTS / 10; i++) await once(i);
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < REQUESTS) times.push(await once(next++));
    }),
  );
  times.sort((a, b) => a - b);
  return {
    name,
    requests: times.length,
    p50Ms: round(percentile(times, 50)),
    p95Ms: round(percentile(times, 95)),
    p99Ms: round(percentile(times, 99)),
    maxMs: round(times[times.length - 1]!),
  };
}

/** The verifier alone, on generated entries in memory: its own speed, without database or file. */
async function verifierInMemory(): Promise<number> {
  const key = await gatewayKeyFromJwk((await newSigningPair()).privateJwk);
  const rows: ChainRow[] = [];
  const checkpoints: Checkpoint[] = [];
  let head: Buffer = GENESIS;
  for (let i = 1; i <= VERIFY_ENTRIES; i++) {
    const entry = generated(i);
    const hash = entryHash(head, entry);
    const position = String(i);
    rows.push({
      entry,
      seal: {
        position,
        seq: entry.seq,
        entryHash: hash.toString('hex'),
        prevHash: head.toString('hex'),
        sealedAt: entry.occurredAt,
      },
    });
    head = hash;
    if (i % CHECKPOINT_EVERY === 0) {
      checkpoints.push(await signCheckpoint(key, position, head.toString('hex')));
    }
  }
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    const report = await verifyChain({ rows, checkpoints, publicJwk: key.publicJwk });
    if (!report.ok || report.entries !== VERIFY_ENTRIES)
      throw new Error(`verification failed: ${JSON.stringify(report.failure)}`);
    rates.push(VERIFY_ENTRIES / ((performance.now() - started) / 1000));
  }
  return Math.round(median(rates));
}

/** A fresh database for the run: a new one on DATABASE_URL's server, or a fresh embedded cluster. */
async function freshDatabase(): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    return { env: { EMBEDDED_PG_PORT: String(await freePort()) }, drop: async () => {} };
  }
  const name = `convenant_bench_audit_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const own = new URL(url);
  own.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: own.toString() },
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function main(): Promise<void> {
  const inMemory = await verifierInMemory();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-audit-bench-'));
  const database = await freshDatabase();
  const runStarted = performance.now();
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer('dist/bench/audit-server.js', ['--expose-gc'], {
      PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      CONVENANT_DATA_DIR: dir,
      BENCH_ENTRIES: String(ENTRIES),
      ...database.env,
    });
  } catch (error) {
    // A server that never got ready leaves nothing behind either.
    await database.drop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const { child } = server;
  const ready = server.ready as unknown as Ready;
  try {
    if (ready.counts.sealed < ENTRIES)
      throw new Error(`only ${ready.counts.sealed} of ${ENTRIES} entries sealed`);
    const base = `http://127.0.0.1:${ready.port}`;
    const officer = { authorization: `Bearer ${ready.token}` };

    const keys = await latency('baseline: GET /v1/audit/keys (no database, no token)', () =>
      fetch(`${base}/v1/audit/keys`),
    );
    const byCase = await latency('GET /v1/audit/events?caseId=… (50 newest)', (i) =>
      fetch(`${base}/v1/audit/events?caseId=${ready.caseIds[i % ready.caseIds.length]}`, {
        headers: officer,
      }),
    );
    const bySubject = await latency('POST /v1/audit/subject-report (one person, every access)', (i) =>
      fetch(`${base}/v1/audit/subject-report`, {
        method: 'POST',
        headers: { ...officer, 'content-type': 'application/json' },
        body: JSON.stringify({ subjectRef: ready.subjectRefs[i % ready.subjectRefs.length] }),
      }),
    );

    const verifyStarted = performance.now();
    const verifyRes = await fetch(`${base}/v1/audit/verify`, { headers: officer });
    const verifyReport = (await verifyRes.json()) as { ok: boolean; entries: number; checkpoints: number };
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    if (!verifyReport.ok) throw new Error(`database verification failed: ${JSON.stringify(verifyReport)}`);
    const fromDatabase = Math.round(verifyReport.entries / verifySeconds);

    // ?gc=1: after a full collection, so heapUsed is what is alive, not garbage not yet collected.
    const memory = async (gc = false) =>
      (await (await fetch(`${base}/bench/memory${gc ? '?gc=1' : ''}`)).json()) as {
        rss: number;
        heapUsed: number;
      };
    const idle: { rss: number; heapUsed: number }[] = [];
    for (let i = 0; i < 5; i++) {
      idle.push(await memory());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const idleLive = await memory(true);
    const samples: { rss: number; heapUsed: number }[] = [];
    const live: { rss: number; heapUsed: number }[] = [];
    let exporting = true;
    const sampler = (async () => {
      for (let i = 0; exporting; i++) {
        // Every fifth sample after a collection; the others as the process is.
        if (i % 5 === 4) live.push(await memory(true));
        else samples.push(await memory());
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const file = path.join(dir, 'export.ndjson');
    const exportStarted = performance.now();
    const res = await fetch(`${base}/v1/audit/export?format=ndjson`, { headers: officer });
    if (!res.ok || !res.body) throw new Error(`export: HTTP ${res.status}`);
    // fetch's body is typed from the DOM lib (test/ui.e2e-spec.ts adds it to the project); it is Node's stream.
    await pipeline(Readable.fromWeb(res.body as NodeReadableStream), createWriteStream(file));
    const exportSeconds = (performance.now() - exportStarted) / 1000;
    exporting = false;
    await sampler;
    const bytes = (await stat(file)).size;

    const jwks = path.join(dir, 'jwks.json');
    await writeFile(jwks, JSON.stringify(await (await fetch(`${base}/v1/audit/keys`)).json()));
    const fileStarted = performance.now();
    const offline = await run(['audit', 'verify', '--file', file, '--key', jwks], {});
    const fileSeconds = (performance.now() - fileStarted) / 1000;
    if (offline.code !== 0) throw new Error(`offline verification failed: ${offline.stderr}`);
    const fileEntries = Number(/Verified (\d+) entries/.exec(offline.stdout)?.[1] ?? 0);
    const fromFile = Math.round(fileEntries / fileSeconds);

    const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
    const idleRss = median(idle.map((m) => m.rss));
    const idleHeap = median(idle.map((m) => m.heapUsed));
    const peakRss = Math.max(...samples.map((m) => m.rss));
    const peakHeap = Math.max(...samples.map((m) => m.heapUsed));
    // Flat means: the second half of the export, with twice the entries behind it, holds no more
    // live heap than the first (live: measured right after a full collection).
    const half = Math.floor(live.length / 2);
    const liveOf = (part: typeof live) => mib(Math.max(...part.map((m) => m.heapUsed)));
    const exportMemory = {
      idleLiveHeapMiB: mib(idleLive.heapUsed),
      firstHalfLiveHeapMiB: liveOf(live.slice(0, half)),
      secondHalfLiveHeapMiB: liveOf(live.slice(half)),
      liveSamples: live.length,
      idleRssMiB: mib(idleRss),
      peakRssMiB: mib(peakRss),
      rssGrowthMiB: mib(peakRss - idleRss),
      idleHeapMiB: mib(idleHeap),
      peakHeapMiB: mib(peakHeap),
      samples: samples.length,
      fileMiB: mib(bytes),
      seconds: Math.round(exportSeconds * 10) / 10,
      entriesPerSecond: Math.round(fileEntries / exportSeconds),
    };
    const latencies = [keys, byCase, bySubject];
    const target = { p95MsBelow: 100, verifyEntriesPerSecondAtLeast: 100_000 };
    const markdown =
      `# Access log at ${ENTRIES.toLocaleString('en')} entries (fresh database, ${ready.counts.checkpoints} checkpoints)\n\n` +
      `Seeded in ${(ready.seededMs / 1000).toFixed(1)} s, sealed by the real sealer in ${(ready.sealedMs / 1000).toFixed(1)} s; ` +
      `${ready.counts.defaults} entries in the DEFAULT partition.\n\n` +
      `## Officer queries over HTTP (${REQUESTS} requests each, ${IN_FLIGHT} in flight, real officer token)\n\n` +
      `| route | p50 ms | p95 ms | p99 ms | max ms | p95 / baseline p95 |\n|---|---|---|---|---|---|\n` +
      latencies
        .map(
          (l) =>
            `| ${l.name} | ${l.p50Ms} | ${l.p95Ms} | ${l.p99Ms} | ${l.maxMs} | ${(l.p95Ms / keys.p95Ms).toFixed(1)} |`,
        )
        .join('\n') +
      `\n\nTarget p95 < ${target.p95MsBelow} ms: by case ${byCase.p95Ms < target.p95MsBelow ? 'met' : 'NOT met'}, ` +
      `by subject ${bySubject.p95Ms < target.p95MsBelow ? 'met' : 'NOT met'}.\n\n` +
      `## Verification (target ≥ ${target.verifyEntriesPerSecondAtLeast.toLocaleString('en')} entries/s)\n\n` +
      `| path | entries | entries/s | / in memory |\n|---|---|---|---|\n` +
      `| GET /v1/audit/verify, whole chain from the database | ${verifyReport.entries} | ${fromDatabase} | ${(fromDatabase / inMemory).toFixed(2)} |\n` +
      `| convenant audit verify --file (the full export, ${exportMemory.fileMiB} MiB) | ${fileEntries} | ${fromFile} | ${(fromFile / inMemory).toFixed(2)} |\n` +
      `| baseline: verifyChain alone, one thread, ${VERIFY_ENTRIES} generated entries in memory | ${VERIFY_ENTRIES} | ${inMemory} | 1.0 |\n\n` +
      `Target from the database ${fromDatabase >= target.verifyEntriesPerSecondAtLeast ? 'met' : 'NOT met'}, ` +
      `from the file ${fromFile >= target.verifyEntriesPerSecondAtLeast ? 'met' : 'NOT met'}.\n\n` +
      `## Full NDJSON export (${fileEntries} entries, ${exportMemory.seconds} s, ${exportMemory.entriesPerSecond} entries/s)\n\n` +
      `| gateway process | idle | peak during export | growth |\n|---|---|---|---|\n` +
      `| RSS MiB | ${exportMemory.idleRssMiB} | ${exportMemory.peakRssMiB} | ${exportMemory.rssGrowthMiB} |\n` +
      `| heap used MiB | ${exportMemory.idleHeapMiB} | ${exportMemory.peakHeapMiB} | ${mib(peakHeap - idleHeap)} |\n\n` +
      `Live heap (after a full collection, ${exportMemory.liveSamples} samples): idle ${exportMemory.idleLiveHeapMiB} MiB, ` +
      `peak in the first half of the export ${exportMemory.firstHalfLiveHeapMiB} MiB, in the second half ${exportMemory.secondHalfLiveHeapMiB} MiB.\n` +
      `${exportMemory.samples} samples, every 100 ms. The whole run took ${((performance.now() - runStarted) / 1000).toFixed(0)} s.\n\n` +
      `## Query plans at ${ENTRIES.toLocaleString('en')} entries (EXPLAIN ANALYZE)\n\n` +
      Object.entries(ready.plans)
        .map(([name, plan]) => `### ${name}\n\n\`\`\`\n${plan.join('\n')}\n\`\`\`\n`)
        .join('\n');
    const out = await writeResult(
      'audit',
      {
        entries: ENTRIES,
        seededMs: Math.round(ready.seededMs),
        sealedMs: Math.round(ready.sealedMs),
        counts: ready.counts,
        latency: { baseline: keys, byCase, bySubject, requests: REQUESTS, inFlight: IN_FLIGHT },
        verification: { fromDatabase, fromFile, inMemory, verifyEntries: VERIFY_ENTRIES },
        exportMemory,
        target,
        plans: ready.plans,
      },
      markdown,
    );
    process.stdout.write(`${markdown}\n${out}\n`);
  } finally {
    await stopServer(child);
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
