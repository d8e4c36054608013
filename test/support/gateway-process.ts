import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { generateDevKeys } from '../../src/keys/dev-keys.js';
import { loadGatewayKey } from '../../src/keys/gateway-key.js';
import { freePort } from '../../src/common/free-port.js';
import { loadEnforceable } from '../../src/kernel/policy.registry.js';
import { REAL_CONVENANT } from './app.js';

/**
 * The gateway as operators run it: `node dist/src/main.js` in a process of its own, configured by
 * environment only, on a loopback port. Output goes to a buffer that failures quote.
 */
export interface GatewayProcess {
  child: ChildProcess;
  port: number;
  url: string;
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

/** The audience partners put in client assertions: the same for every instance behind the proxy. */
export const PUBLIC_URL = 'http://convenant.test';

/** `detached`: a process group of its own, as a terminal gives a command (signal it with -pid). */
export function startGatewayProcess(
  env: Record<string, string>,
  port: number,
  options: { detached?: boolean } = {},
): GatewayProcess {
  const { NODE_OPTIONS: _jest, DATABASE_URL: _outer, ...inherited } = process.env;
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: {
      ...inherited,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PUBLIC_URL,
      CONVENANT_POLICY_DIR: REAL_CONVENANT,
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Waits until GET /health/ready answers 200 (or throws with the process's output). */
export async function waitUntilReady(gateway: GatewayProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gateway.child.exitCode !== null) {
      throw new Error(`gateway exited early (${gateway.child.exitCode}):\n${gateway.output()}`);
    }
    try {
      if ((await fetch(`${gateway.url}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway did not become ready:\n${gateway.output()}`);
}

/**
 * A data folder as an operator would provision it for several instances: the gateway's signing
 * key made once and shared, and demo partner keys standing in for the partners' published keys.
 */
export async function sharedDataDir(prefix: string): Promise<{ dataDir: string; keysDir: string }> {
  await mkdir(path.resolve('.convenant/test'), { recursive: true });
  const dataDir = await mkdtemp(path.resolve('.convenant/test', prefix));
  await chmod(dataDir, 0o755);
  const keysDir = path.join(dataDir, 'keys');
  await loadGatewayKey(keysDir);
  await generateDevKeys(loadEnforceable(REAL_CONVENANT).convenant.partners, keysDir);
  return { dataDir, keysDir };
}

export { freePort };
