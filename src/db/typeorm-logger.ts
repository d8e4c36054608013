import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/** SQL text is cut here: enough to find the statement in the code, never a wall of text. */
const MAX_SQL = 300;

function sqlOf(query: string): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_SQL ? `${flat.slice(0, MAX_SQL)}…` : flat;
}

function codeOf(error: string | Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'unknown';
}

/**
 * TypeORM's logger for the gateway: statements by their SQL text only, never their parameters
 * (field values, names, reasons, professional ids, BSN hashes and ciphertext travel there), and a
 * failed statement by SQLSTATE, never the database's message (PostgreSQL echoes values in it).
 * TypeORM hands every statement to a custom logger; successful ones are not logged at all (the
 * hot path), slow and failed ones at warn.
 */
export class ParameterFreeLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  logQuery(): void {
    // Every statement passes here; logging them would cost more than the statement.
  }

  logQueryError(error: string | Error, query: string): void {
    this.logger.warn(`Statement failed (SQLSTATE ${codeOf(error)}): ${sqlOf(query)}`);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`Slow statement (${time} ms): ${sqlOf(query)}`);
  }

  logSchemaBuild(): void {
    // The schema changes only through migrations (synchronize is off).
  }

  logMigration(): void {
    // Applied migrations are reported by DatabaseModule and `convenant db migrate` in one line.
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    // TypeORM's own notices (e.g. deprecations): a string, or an object we do not print whole.
    const text = typeof message === 'string' ? message : 'TypeORM notice (not printed: not a string)';
    if (level === 'warn') this.logger.warn(text);
    else this.logger.log(text);
  }
}
