import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/config.js';
import { migrate, openDatabase, pendingMigrations, type Database } from '../../db/data-source.js';
import type { CliContext, CommandRegistration } from '../context.js';

/**
 * `convenant db …`: the migration commands behind `npm run migration:run|revert|generate`. They use
 * the gateway's own configuration, so without DATABASE_URL they act on the embedded database.
 */
export const dbCommand: CommandRegistration = (program, ctx) => {
  const db = program.command('db').description('apply, undo, inspect or draft database migrations');

  db.command('migrate')
    .description('apply every pending migration, each in its own transaction')
    .action(() =>
      withDatabase(ctx, async ({ dataSource }) => {
        const applied = await migrate(dataSource);
        ctx.out(
          applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'Nothing to apply: the schema is current.',
        );
      }),
    );

  db.command('revert')
    .description('undo the most recent migration')
    .action(() =>
      withDatabase(ctx, async ({ dataSource }) => {
        await dataSource.undoLastMigration({ transaction: 'each' });
        ctx.out(`Reverted. Pending now: ${(await pendingMigrations(dataSource)).join(', ') || 'none'}`);
      }),
    );

  db.command('status')
    .description('list migrations not yet applied')
    .action(() =>
      withDatabase(ctx, async ({ dataSource }) => {
        const pending = await pendingMigrations(dataSource);
        ctx.out(pending.length > 0 ? `Pending: ${pending.join(', ')}` : 'The schema is current.');
        if (pending.length > 0) ctx.exitCode = 1;
      }),
    );

  db.command('generate')
    .description('draft a migration from the difference between entities and the database, for review')
    .argument('<name>', 'PascalCase name, e.g. AddCaseIndexes')
    .action((name: string) =>
      withDatabase(ctx, async ({ dataSource }) => {
        if (!/^[A-Z][A-Za-z0-9]+$/.test(name)) {
          ctx.err(`The name must be PascalCase letters and digits, e.g. AddCaseIndexes (got '${name}').`);
          ctx.exitCode = 1;
          return;
        }
        const sql = await dataSource.driver.createSchemaBuilder().log();
        if (sql.upQueries.length === 0) {
          ctx.out('No differences between the entities and the database: nothing to generate.');
          return;
        }
        const timestamp = Date.now();
        const file = path.join('migrations', `${timestamp}-${kebab(name)}.ts`);
        const lines = (queries: { query: string }[]) =>
          queries.map((q) => `    await queryRunner.query(${JSON.stringify(q.query)});`).join('\n');
        await writeFile(
          file,
          `import type { MigrationInterface, QueryRunner } from 'typeorm';\n\n` +
            `/** Drafted by \`convenant db generate\`: review every statement before committing. */\n` +
            `export class ${name}${timestamp} implements MigrationInterface {\n` +
            `  name = '${name}${timestamp}';\n\n` +
            `  async up(queryRunner: QueryRunner): Promise<void> {\n${lines(sql.upQueries)}\n  }\n\n` +
            `  async down(queryRunner: QueryRunner): Promise<void> {\n${lines([...sql.downQueries].reverse())}\n  }\n}\n`,
        );
        ctx.out(`Wrote ${file}. Review it, then add ${name}${timestamp} to migrations/index.ts.`);
      }),
    );
};

async function withDatabase(ctx: CliContext, work: (db: Database) => Promise<void>): Promise<void> {
  const database = await openDatabase(loadConfig(ctx.env), { poolSize: 2 });
  try {
    await work(database);
  } finally {
    await database.close();
  }
}

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}
