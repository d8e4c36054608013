import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { createServer, type Server } from 'node:http';
import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AccessLogRepository } from '../access-log/access-log.repository.js';
import type { AccessLogEntry } from '../access-log/access-log.types.js';
import { PolicyRegistry } from '../kernel/policy.registry.js';
import type { CompiledConvenant } from '../policy/compile.js';
import { Lifecycle } from './lifecycle.js';

/** Late commits below the newest sealed seq are looked for this far back (a bounded anti-join). */
const LATE_COMMIT_WINDOW = 1000;

/** Label value for anything not named in the convenant, so a forged token cannot add series. */
const UNKNOWN = 'unknown';

/**
 * Prometheus metrics of one gateway instance, in its own registry (tests run several apps in
 * one process). Labels carry only bounded values: route templates (never raw URLs, which hold
 * ids), status classes, and partner/purpose ids the convenant names. No personal data.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status_class'>;
  private readonly requestSeconds: Histogram<'method' | 'route'>;
  private readonly decisions: Counter<'partner' | 'purpose' | 'action' | 'outcome'>;
  private readonly logWriteSeconds: Histogram<'result'>;
  private readonly known = new WeakMap<CompiledConvenant, { partners: Set<string>; purposes: Set<string> }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly policies: PolicyRegistry,
    private readonly lifecycle: Lifecycle,
    @Inject(AccessLogRepository) accessLog: AccessLogRepository,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'convenant_http_requests_total',
      help: 'HTTP requests answered, by route template and status class.',
      labelNames: ['method', 'route', 'status_class'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'convenant_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route template.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.decisions = new Counter({
      name: 'convenant_decisions_total',
      help: 'Access log entries written (one per access per data subject), by partner, purpose, action and outcome.',
      labelNames: ['partner', 'purpose', 'action', 'outcome'],
      registers,
    });
    this.logWriteSeconds = new Histogram({
      name: 'convenant_access_log_write_seconds',
      help: 'Time of one access log INSERT (a group-commit batch or one transaction part), by result.',
      labelNames: ['result'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    accessLog.observe({
      written: (entries, seconds) => {
        this.logWriteSeconds.observe({ result: 'ok' }, seconds);
        this.countDecisions(entries);
      },
      failed: (seconds) => this.logWriteSeconds.observe({ result: 'error' }, seconds),
    });
    this.registerDatabaseGauges(registers);
    new Gauge({
      name: 'convenant_draining',
      help: '1 while this instance shuts down (readiness is down), else 0.',
      registers,
      collect() {
        this.set(lifecycle.draining ? 1 : 0);
      },
    });
    new Gauge({
      name: 'convenant_policy_info',
      help: 'The convenant version in force (value 1).',
      labelNames: ['convenant', 'version'],
      registers,
      collect() {
        this.reset();
        const compiled = policies.current();
        this.set({ convenant: compiled.convenant.id, version: compiled.version }, 1);
      },
    });
  }

  /** Counts every answered request under its route template (`/v1/cases/:caseId`, never the URL). */
  instrument(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const method = request.method;
      this.requests.inc({ method, route, status_class: `${Math.floor(reply.statusCode / 100)}xx` });
      this.requestSeconds.observe({ method, route }, reply.elapsedTime / 1000);
    });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private countDecisions(entries: readonly AccessLogEntry[]): void {
    const known = this.knownIds();
    for (const entry of entries) {
      this.decisions.inc({
        partner: entry.partner && known.partners.has(entry.partner) ? entry.partner : UNKNOWN,
        purpose: entry.purpose && known.purposes.has(entry.purpose) ? entry.purpose : UNKNOWN,
        action: entry.action,
        outcome: entry.status,
      });
    }
  }

  private knownIds(): { partners: Set<string>; purposes: Set<string> } {
    const compiled = this.policies.current();
    let known = this.known.get(compiled);
    if (!known) {
      known = {
        partners: new Set(compiled.convenant.partners.map((p) => p.id)),
        purposes: new Set(compiled.convenant.purposes.map((p) => p.id)),
      };
      this.known.set(compiled, known);
    }
    return known;
  }

  private registerDatabaseGauges(registers: Registry[]): void {
    const pool = () => (this.dataSource.driver as unknown as { master?: pg.Pool }).master;
    const poolGauge = (name: string, help: string, read: (p: pg.Pool) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const p = pool();
          this.set(p ? read(p) : 0);
        },
      });
    poolGauge(
      'convenant_db_pool_connections',
      'Connections the pool holds (busy and idle).',
      (p) => p.totalCount,
    );
    poolGauge('convenant_db_pool_idle', 'Idle connections in the pool.', (p) => p.idleCount);
    poolGauge('convenant_db_pool_waiting', 'Queries waiting for a free connection.', (p) => p.waitingCount);
    poolGauge('convenant_db_pool_max', 'Largest number of connections the pool opens.', (p) => p.options.max);

    // One query per scrape feeds these gauges (prom-client collects them concurrently, so they
    // share one promise); a scrape while the database is away reports it down instead of failing.
    const dataSource = this.dataSource;
    let snapshot: Promise<DatabaseSnapshot> | undefined;
    const read = () => {
      snapshot ??= databaseSnapshot(dataSource).finally(() => {
        setTimeout(() => (snapshot = undefined), 250).unref();
      });
      return snapshot;
    };
    const snapshotGauge = (name: string, help: string, pick: (s: DatabaseSnapshot) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(pick(await read()));
        },
      });
    snapshotGauge('convenant_database_up', '1 if this scrape reached the database, else 0.', (s) =>
      s.up ? 1 : 0,
    );
    snapshotGauge(
      'convenant_access_log_unsealed_entries',
      'Access log entries not yet in the hash chain (sealer lag, in entries).',
      (s) => s.unsealed,
    );
    snapshotGauge(
      'convenant_access_log_oldest_unsealed_seconds',
      'Age of the oldest unsealed access log entry; 0 when all are sealed (sealer lag, in time).',
      (s) => s.oldestUnsealedSeconds,
    );
    snapshotGauge(
      'convenant_access_log_last_seal_timestamp_seconds',
      'When the newest seal was written (Unix time); 0 before the first.',
      (s) => s.lastSealSeconds,
    );
  }
}

interface DatabaseSnapshot {
  up: boolean;
  unsealed: number;
  oldestUnsealedSeconds: number;
  lastSealSeconds: number;
}

/**
 * Sealer lag without scanning the log: rows above the newest sealed seq, plus late commits within
 * LATE_COMMIT_WINDOW below it (sequence order is not commit order), found by index lookups.
 */
async function databaseSnapshot(dataSource: DataSource): Promise<DatabaseSnapshot> {
  try {
    const [row] = await dataSource.query<
      { unsealed: string; oldest: number | null; last_seal: number | null }[]
    >(
      `WITH newest AS (SELECT coalesce(max(seq), 0) AS seq FROM access_log_seal),
            pending AS (
              SELECT l.occurred_at FROM access_log l, newest
               WHERE l.seq > newest.seq - $1
                 AND NOT EXISTS (SELECT 1 FROM access_log_seal s WHERE s.seq = l.seq))
       SELECT (SELECT count(*) FROM pending)::text AS unsealed,
              (SELECT extract(epoch FROM now() - min(occurred_at)) FROM pending)::float8 AS oldest,
              (SELECT extract(epoch FROM sealed_at) FROM access_log_seal ORDER BY position DESC LIMIT 1)::float8 AS last_seal`,
      [LATE_COMMIT_WINDOW],
    );
    return {
      up: true,
      unsealed: Number(row?.unsealed ?? 0),
      oldestUnsealedSeconds: row?.oldest ?? 0,
      lastSealSeconds: row?.last_seal ?? 0,
    };
  } catch {
    return { up: false, unsealed: NaN, oldestUnsealedSeconds: NaN, lastSealSeconds: NaN };
  }
}

/** Serves /metrics on its own port (METRICS_PORT), apart from the API that partners reach. */
export async function serveMetrics(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are at /metrics\n');
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** On the API port (no METRICS_PORT, not in production): GET /metrics on the Fastify instance. */
export function routeMetrics(fastify: FastifyInstance, metrics: Metrics): void {
  fastify.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.header('content-type', contentType).send(body);
  });
}
