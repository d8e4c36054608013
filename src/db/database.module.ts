import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import {
  migrate,
  MigrationsPendingError,
  openDatabase,
  pendingMigrations,
  type Database,
} from './data-source.js';

export const DATABASE = Symbol('DATABASE');

/**
 * Opens the database at start-up (embedded or DATABASE_URL), applies pending migrations (or, with
 * MIGRATIONS=check, the production default, refuses to start while any are pending), and on
 * shutdown closes the pool before stopping an embedded server: Nest calls this after the HTTP
 * server has stopped taking requests.
 */
@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<Database> => {
        const logger = new Logger('Database');
        const database = await openDatabase(config);
        if (database.embedded) logger.log(`Embedded PostgreSQL running, data in ${config.dataDir}`);
        try {
          if (config.migrations === 'check') {
            const pending = await pendingMigrations(database.dataSource);
            if (pending.length > 0) throw new MigrationsPendingError(pending);
          } else {
            const applied = await migrate(database.dataSource);
            if (applied.length > 0) logger.log(`Applied migrations: ${applied.join(', ')}`);
          }
        } catch (error) {
          await database.close();
          throw error;
        }
        return database;
      },
    },
    { provide: DataSource, inject: [DATABASE], useFactory: (database: Database) => database.dataSource },
  ],
  exports: [DATABASE, DataSource],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
