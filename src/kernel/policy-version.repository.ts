import { logRetentionPolicy, recordRetention } from '../access-log/log-retention.js';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { CompiledConvenant } from '../policy/compile.js';

/** A version already recorded with other content: a changed convenant must raise its version. */
export class VersionConflictError extends Error {
  constructor(readonly version: string) {
    super(`Version ${version} is already recorded with different content.`);
    this.name = 'VersionConflictError';
  }
}

export interface PolicyVersionSummary {
  version: string;
  convenant: string;
  hash: string;
  firstLoadedAt: string;
  lastLoadedAt: string;
}

export interface PolicyVersionRecord extends PolicyVersionSummary {
  /** File name → the YAML text the version was compiled from. */
  sources: Record<string, string>;
}

const COLUMNS = `version, convenant, hash,
  to_char(first_loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "firstLoadedAt",
  to_char(last_loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "lastLoadedAt"`;

/**
 * `policy_version`: every convenant version any instance has enforced, with its text. Shared by
 * all instances through PostgreSQL, so an officer sees the text behind any log entry's version
 * whichever instance wrote it.
 */
@Injectable()
export class PolicyVersionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The log retention periods of a version put in force (what the database holds purges to). */
  async recordRetention(compiled: CompiledConvenant, defaultRetention: string): Promise<void> {
    await recordRetention(this.dataSource.manager, logRetentionPolicy(compiled, defaultRetention));
  }

  /** Records (or touches) a version; throws VersionConflictError when the version has other content. */
  async record(compiled: CompiledConvenant, sources: Record<string, string>): Promise<void> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO policy_version (version, convenant, hash, sources)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (version) DO UPDATE SET last_loaded_at = now()
         WHERE policy_version.hash = EXCLUDED.hash
       RETURNING version`,
      [compiled.version, compiled.convenant.id, compiled.hash, JSON.stringify(sources)],
    );
    if (rows.length === 0) throw new VersionConflictError(compiled.version);
  }

  /** Newest first (by first load). */
  async list(): Promise<PolicyVersionSummary[]> {
    return this.dataSource.query<PolicyVersionSummary[]>(
      `SELECT ${COLUMNS} FROM policy_version ORDER BY first_loaded_at DESC, version DESC`,
    );
  }

  async get(version: string): Promise<PolicyVersionRecord | undefined> {
    const rows = await this.dataSource.query<PolicyVersionRecord[]>(
      `SELECT ${COLUMNS}, sources FROM policy_version WHERE version = $1`,
      [version],
    );
    return rows[0];
  }
}
