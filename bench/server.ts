import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app.factory.js';
import { AccessTokenIssuer } from '../src/auth/access-token.js';
import { loadGatewayKey } from '../src/keys/gateway-key.js';
import { loadConfig } from '../src/config/config.js';
import { PolicyRegistry } from '../src/kernel/policy.registry.js';

const BENCH_PARTNER = 'wijkteam';
const BENCH_PURPOSE = 'uitvoering-plan';

/**
 * The gateway as it runs, on the seeded demo. Prints `READY {json}` with its port and pid, a case
 * and a token for it, the database URL and the catalogue's field ids (for the bare peer,
 * bench/peer.ts, which reads the same case with the same statement in its own process).
 */
async function main(): Promise<void> {
  const config = loadConfig({
    // The limiter still runs (its cost is measured), but one partner's load must not be refused.
    RATE_LIMIT_PER_MINUTE: '1000000000',
    ...process.env,
    DEMO: 'true',
    ACCESS_TOKEN_TTL_SECONDS: '900',
  });
  const app = await createApp(config);
  await app.listen({ host: '127.0.0.1', port: config.port });
  const [row] = await app.get(DataSource).query<{ id: string }[]>(
    `SELECT c.id FROM cases c JOIN case_participation p ON p.case_id = c.id
      WHERE p.partner = $1 AND $2 = ANY (p.purposes) AND p.valid_from <= now()
        AND (p.valid_until IS NULL OR p.valid_until > now()) AND c.phase = 'herstel'
      ORDER BY c.reference LIMIT 1`,
    [BENCH_PARTNER, BENCH_PURPOSE],
  );
  if (!row) throw new Error('The demo has no herstel case for the bench partner.');
  const issuer = new AccessTokenIssuer(await loadGatewayKey(config.keysDir), config);
  const { token } = await issuer.issue({
    partner: BENCH_PARTNER,
    professional: 'bench',
    purpose: BENCH_PURPOSE,
  });
  const dataSource = app.get(DataSource);
  process.stdout.write(
    `READY ${JSON.stringify({
      port: String(config.port),
      pid: String(process.pid),
      caseId: row.id,
      token,
      partner: BENCH_PARTNER,
      purpose: BENCH_PURPOSE,
      databaseUrl: (dataSource.options as { url?: string }).url ?? '',
      fields: app
        .get(PolicyRegistry)
        .current()
        .convenant.fields.map((f) => f.id)
        .join(','),
    })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
