import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../src/common/free-port.js';

/**
 * The gateway as a user starts it: `node dist/src/main.js` with no DATABASE_URL, so it must bring
 * up the embedded PostgreSQL under its data folder, reuse it on the next start, stop it on
 * SIGTERM, and refuse to start with a sentence when configuration or convenant are wrong.
 */
describe('gateway process (embedded PostgreSQL, no DATABASE_URL)', () => {
  let dataDir: string;

  beforeAll(async () => {
    await mkdir(path.resolve('.convenant/test'), { recursive: true });
    dataDir = await mkdtemp(path.resolve('.convenant/test/startup-'));
    await chmod(dataDir, 0o755);
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });

  it('starts, serves /health, stops PostgreSQL on SIGTERM, and reuses the data on restart', async () => {
    const ports = { PORT: await freePort(), EMBEDDED_PG_PORT: await freePort() };
    const env = {
      CONVENANT_DATA_DIR: dataDir,
      PORT: String(ports.PORT),
      EMBEDDED_PG_PORT: String(ports.EMBEDDED_PG_PORT),
    };

    const first = startGateway(env);
    const health = await waitForHealth(ports.PORT, first);
    expect(health.status).toBe('ok');
    expect(health.info.convenant.version).toMatch(/^2026\.\d+\+[0-9a-f]{12}$/);
    const firstLoaded = await firstLoadedAt(dataDir, ports.EMBEDDED_PG_PORT);

    // A CLI command beside the running gateway uses its database and leaves it running.
    const cli = await runCli(['db', 'status'], env);
    expect(cli).toEqual({ code: 0, stdout: expect.stringContaining('The schema is current.') as string });
    expect((await fetch(`http://127.0.0.1:${ports.PORT}/health`)).status).toBe(200);

    await stop(first);
    await expect(canConnect(ports.EMBEDDED_PG_PORT)).resolves.toBe(false);

    const second = startGateway(env);
    await waitForHealth(ports.PORT, second);
    // Same cluster, same rows: the first start's record of the convenant version is still there.
    expect(await firstLoadedAt(dataDir, ports.EMBEDDED_PG_PORT)).toEqual(firstLoaded);
    await stop(second);
  }, 120_000);

  it('refuses to start on a wrong setting, naming it', async () => {
    const result = await runToExit({ CONVENANT_DATA_DIR: dataDir, PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("PORT must be a whole number between 1 and 65535 (got 'eighty')");
  });

  it('refuses to serve an invalid convenant, with file:line:column for each error', async () => {
    const result = await runToExit({
      CONVENANT_DATA_DIR: dataDir,
      PORT: String(await freePort()),
      EMBEDDED_PG_PORT: String(await freePort()),
      CONVENANT_POLICY_DIR: 'test/fixtures/policies/unknown-refs',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot be enforced');
    expect(result.stderr).toMatch(/unknown-refs\/[\w.-]+\.ya?ml:\d+:\d+ error/);
  }, 60_000);
});

async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, ['bin/convenant.js', ...args], {
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout };
}

function startGateway(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: { ...cleanEnv(), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.setEncoding('utf8');
  return child;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, NODE_OPTIONS: _jest, ...rest } = process.env;
  return rest;
}

async function runToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = startGateway(env);
  let stderr = '';
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr };
}

async function waitForHealth(
  port: number,
  child: ChildProcess,
): Promise<{ status: string; info: { convenant: { version: string } } }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const deadline = Date.now() + 50_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited early (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) return (await res.json()) as { status: string; info: { convenant: { version: string } } };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway did not become healthy: ${stderr}`);
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function firstLoadedAt(dataDir: string, port: number): Promise<Date> {
  const { readFile } = await import('node:fs/promises');
  const password = (await readFile(path.join(dataDir, 'pg-password'), 'utf8')).trim();
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    database: 'convenant',
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ first_loaded_at: Date }>(
      'SELECT first_loaded_at FROM policy_version',
    );
    return rows[0]!.first_loaded_at;
  } finally {
    await client.end();
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
