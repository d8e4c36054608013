import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Expired rows are swept on about one call in this many, so the table stays small without a timer. */
const SWEEP_EVERY = 100;

/**
 * Remembers the jti of each accepted client assertion until it expires. `consume` is one INSERT:
 * PostgreSQL's primary key decides which of two concurrent uses (on any instance) wins.
 */
@Injectable()
export class ReplayRepository {
  private readonly logger = new Logger('ReplayRepository');
  private calls = 0;

  constructor(private readonly dataSource: DataSource) {}

  /** True the first time (partner, jti) is seen; false for a replay. */
  async consume(partner: string, jti: string, rememberUntil: Date): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO client_assertion_jti (jti, partner, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [jti, partner, rememberUntil],
    );
    if (++this.calls % SWEEP_EVERY === 0) this.sweep();
    return rows.length === 1;
  }

  /** Deletes rows whose assertions can no longer pass the expiry check anyway. */
  async deleteExpired(): Promise<number> {
    const rows = await this.dataSource.query<unknown[]>(
      `DELETE FROM client_assertion_jti WHERE expires_at < now() RETURNING 1`,
    );
    return rows.length;
  }

  private sweep(): void {
    // Not awaited: a slow sweep must not delay a token; a failed one is retried on a later call.
    this.deleteExpired().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'Sweeping expired jtis failed'),
    );
  }
}
