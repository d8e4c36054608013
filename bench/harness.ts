import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** What one autocannon pass measured, in the units we report. */
export interface Pass {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
}

export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

/**
 * One measured pass. The promise form of autocannon, because with a callback it ignores
 * `warmup` (PERF-NOTES); warm-up requests are not counted.
 */
export async function load(name: string, options: LoadOptions): Promise<Pass> {
  // autocannon 9 supports `warmup`; its community types (@types/autocannon) do not list it yet.
  const settings: autocannon.Options & { warmup: { connections: number; duration: number } } = {
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    warmup: { connections: options.connections, duration: options.warmupSeconds },
    ...(options.headers ? { headers: options.headers } : {}),
  };
  const result = await autocannon(settings);
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

/** Median of each figure over several passes: the box is noisy (±15-25 % between passes). */
export function median(passes: readonly Pass[]): Pass {
  const mid = <T>(values: T[], by: (v: T) => number) => {
    const sorted = [...values].sort((a, b) => by(a) - by(b));
    return by(sorted[Math.floor(sorted.length / 2)]!);
  };
  return {
    name: passes[0]!.name,
    requestsPerSecond: mid([...passes], (p) => p.requestsPerSecond),
    p50Ms: mid([...passes], (p) => p.p50Ms),
    p99Ms: mid([...passes], (p) => p.p99Ms),
    non2xx: passes.reduce((n, p) => n + p.non2xx, 0),
    errors: passes.reduce((n, p) => n + p.errors, 0),
    total: passes.reduce((n, p) => n + p.total, 0),
  };
}

/**
 * Starts a compiled bench server in its own process, so the load generator does not share its
 * event loop, with `nodeOptions` before the script. BENCH_CPU_PROF=<dir> has it write a V8 CPU profile there when it stops (open it in
 * Chrome's DevTools): where a request's time goes, measured instead of guessed.
 */
export async function startServer(
  script: string,
  nodeOptions: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; ready: Record<string, string> }> {
  const profile = process.env.BENCH_CPU_PROF;
  const child = spawn(
    process.execPath,
    [...nodeOptions, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), script],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  child.stdout?.setEncoding('utf8');
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      const line = buffer.split('\n').find((l) => l.startsWith('READY '));
      if (line) resolve(JSON.parse(line.slice('READY '.length)) as Record<string, string>);
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code} before it was ready`)));
  });
  return { child, ready };
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Writes the result as JSON and as a short Markdown table under bench/results/. */
export async function writeResult(
  name: string,
  result: Record<string, unknown>,
  markdown: string,
): Promise<string> {
  const dir = path.resolve('bench/results');
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  const base = path.join(dir, `${name}-${stamp}`);
  await writeFile(
    `${base}.json`,
    `${JSON.stringify({ ...result, machine, at: new Date().toISOString() }, null, 2)}\n`,
  );
  await writeFile(`${base}.md`, markdown);
  await writeFile(path.join(dir, `${name}-latest.md`), markdown);
  return `${base}.json`;
}
