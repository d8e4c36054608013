import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import type { AppConfig } from '../config/config.js';
import { ParameterFreeLogger } from './typeorm-logger.js';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres.js';

export const DATABASE_NAME = 'convenant';

export function createDataSource(
  url: string,
  options: { poolSize?: number; applicationName?: string } = {},
): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    // The schema changes only through the hand-reviewed migrations in migrations/.
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migration',
    entities: [],
    // Drops SQL parameters and database messages, which carry personal data (typeorm-logger.ts).
    logger: new ParameterFreeLogger(),
    applicationName: options.applicationName ?? 'convenant',
    // A database that cannot be reached must fail a request within seconds (503), not hang it.
    extra: { max: options.poolSize ?? 20, connectionTimeoutMillis: 5000 },
  });
}

/** An open database: the data source, and the embedded server behind it if we started one. */
export interface Database {
  dataSource: DataSource;
  embedded?: RunningPostgres;
  close(): Promise<void>;
}

/**
 * Opens the database the configuration names: DATABASE_URL when set, otherwise an embedded
 * PostgreSQL under the data folder. Closing stops the pool first, then the embedded server.
 */
export async function openDatabase(
  config: Pick<AppConfig, 'databaseUrl' | 'dataDir' | 'embeddedPgPort'>,
  options: { onEmbeddedLog?: (line: string) => void; poolSize?: number } = {},
): Promise<Database> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.dataDir,
        port: config.embeddedPgPort,
        database: DATABASE_NAME,
        ...(options.onEmbeddedLog ? { onLog: options.onEmbeddedLog } : {}),
      });
  const url = config.databaseUrl ?? embedded!.url;
  const dataSource = createDataSource(url, options.poolSize ? { poolSize: options.poolSize } : {});
  try {
    await dataSource.initialize();
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  return {
    dataSource,
    ...(embedded ? { embedded } : {}),
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

/** Advisory lock key held while migrating ('migr' in ASCII). */
const MIGRATION_LOCK = 0x6d696772;

/**
 * Applies pending migrations, each in its own transaction; returns the names applied. Gateway
 * instances starting together on one database take turns (session advisory lock): the second
 * finds nothing left to apply instead of racing the first over the same CREATE TABLE.
 */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

/** Start-up with MIGRATIONS=check found migrations not applied: the gateway does not serve. */
export class MigrationsPendingError extends Error {
  constructor(readonly pending: string[]) {
    super(
      `The database schema is behind: ${pending.length} migration(s) pending (${pending.join(', ')}). ` +
        'Apply them with `convenant db migrate` (same DATABASE_URL), or start once with MIGRATIONS=apply.',
    );
    this.name = 'MigrationsPendingError';
  }
}

/** Names of migrations not yet applied (start-up refuses to serve while any remain unapplied). */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const [table] = await dataSource.query<{ present: boolean }[]>(
    `SELECT to_regclass('schema_migration') IS NOT NULL AS present`,
  );
  const executed = table?.present
    ? new Set(
        (await dataSource.query<{ name: string }[]>(`SELECT name FROM schema_migration`)).map((r) => r.name),
      )
    : new Set<string>();
  return MIGRATIONS.map((m) => m.name).filter((name) => !executed.has(name));
}
