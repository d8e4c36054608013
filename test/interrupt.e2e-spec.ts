import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { DATABASE_NAME } from '../src/db/data-source.js';
import { embeddedClusterDir, startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { freePort, sharedDataDir, startGatewayProcess, waitUntilReady } from './support/gateway-process.js';
import pg from 'pg';

/**
 * Ctrl-C in a terminal: SIGINT to the whole foreground process group, here a gateway on its
 * embedded PostgreSQL started as a group of its own. The server must not get the signal itself:
 * the gateway drains, its last seal succeeds, and only then is the server stopped, cleanly.
 */
describe('Ctrl-C on a gateway with its embedded PostgreSQL', () => {
  let dataDir: string;

  beforeAll(async () => {
    ({ dataDir } = await sharedDataDir('interrupt-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(embeddedClusterDir(dataDir), { recursive: true, force: true });
  });

  it('stops the gateway first, seals the log, then stops the server without a crash', async () => {
    const pgPort = await freePort();
    const gateway = startGatewayProcess(
      {
        DEMO: 'false',
        LOG_LEVEL: 'info',
        CONVENANT_DATA_DIR: dataDir,
        EMBEDDED_PG_PORT: String(pgPort),
        // Nothing sealed on a timer: what is sealed at the end, the shutdown sealed.
        SEAL_INTERVAL_MS: '3600000',
        CHECKPOINT_EVERY: '1000000',
        CHECKPOINT_INTERVAL_MS: '3600000',
      },
      await freePort(),
      { detached: true },
    );
    const { child } = gateway;
    try {
      await waitUntilReady(gateway, 90_000);
      // Refused tokens: one access log row each, none sealed yet.
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${gateway.url}/v1/oauth/whoami`, { headers: { authorization: 'Bearer x' } });
        expect(res.status).toBe(401);
      }
      process.kill(-child.pid!, 'SIGINT');
      expect(await gateway.exited).toBe(0);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }

    const output = gateway.output();
    expect(output).toContain('SIGINT: draining');
    expect(output).toContain('Stopped: access log sealed, database closed');
    expect(output).not.toContain('Sealing the access log failed');
    expect(output).not.toContain('terminating connection due to administrator command');
    // A server that shut down cleanly removes its pid file, and starts again without recovery.
    expect(existsSync(path.join(embeddedClusterDir(dataDir), 'postmaster.pid'))).toBe(false);
    const serverLog: string[] = [];
    const server = await startEmbeddedPostgres({
      dataDir,
      port: pgPort,
      database: DATABASE_NAME,
      onLog: (line) => serverLog.push(line),
    });
    try {
      expect(serverLog.join('\n')).toMatch(/database system was shut down at/);
      expect(serverLog.join('\n')).not.toMatch(/automatic recovery|was interrupted/);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ logged: number; unsealed: number }>(
          `SELECT (SELECT count(*) FROM access_log)::int AS logged,
                  (SELECT count(*) FROM access_log l
                    WHERE NOT EXISTS (SELECT 1 FROM access_log_seal s WHERE s.seq = l.seq))::int AS unsealed`,
        );
        expect(rows[0]!.logged).toBeGreaterThanOrEqual(5);
        expect(rows[0]!.unsealed).toBe(0);
      } finally {
        await client.end();
      }
    } finally {
      await server.stop();
    }
  }, 180_000);
});
