import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AccessLogSealer } from '../src/access-log/access-log.sealer.js';
import { createApp } from '../src/app.factory.js';
import { AccessTokenIssuer } from '../src/auth/access-token.js';
import { loadGatewayKey } from '../src/keys/gateway-key.js';
import { eventsQuery, type EventFilter } from '../src/audit/audit.repository.js';
import { loadConfig } from '../src/config/config.js';

/**
 * The gateway for `npm run bench:audit`, on a fresh database holding ENTRIES seeded access log
 * entries spread over six months (so over seven monthly partitions), all sealed and checkpointed
 * by the real sealer before it reports READY. One extra route, `GET /bench/memory[?gc=1]`, reports this
 * process's memory, so the bench can sample it while an export streams.
 *
 * Prints `READY {json}` with the port, an officer token, sample case ids and subject refs, the
 * seeding and sealing times and EXPLAIN plans of the events queries.
 */
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const CASES = Math.max(1, Math.floor(ENTRIES / 50));
const SUBJECTS = Math.max(1, Math.floor(ENTRIES / 20));
/** Seconds between seeded entries: 1,000,000 × 15 s is about six months. */
const SPACING_SECONDS = 15;

/** A valid version-4 UUID made from an md5 (the API validates case ids as UUIDs). */
const caseUuid = (text: string) =>
  `overlay(overlay(md5(${text}) placing '4' from 13) placing '8' from 17)::uuid`;

async function main(): Promise<void> {
  const config = loadConfig({
    // The limiter still runs, but the bench's own requests (its anonymous baseline included) must not be refused.
    RATE_LIMIT_PER_MINUTE: '1000000000',
    ANON_RATE_LIMIT: '1000000000',
    ...process.env,
    DEMO: 'false',
    ACCESS_TOKEN_TTL_SECONDS: '900',
    // The bench seals in bulk itself; the timer would only compete with it.
    SEAL_INTERVAL_MS: '3600000',
  });
  const app = await createApp(config, {
    configure: (nest) => {
      nest
        .getHttpAdapter()
        .getInstance()
        .get<{ Querystring: { gc?: string } }>('/bench/memory', (request) => {
          // The bench starts this server with --expose-gc: a full collection first, on request.
          if (request.query.gc === '1') (globalThis as { gc?: () => void }).gc?.();
          return process.memoryUsage();
        });
    },
  });
  await app.listen({ host: '127.0.0.1', port: config.port });
  const dataSource = app.get(DataSource);

  const started = performance.now();
  // Months of the seeded range first, so no entry lands in the DEFAULT partition.
  await dataSource.query(
    `SELECT access_log_create_partition(m::date)
       FROM generate_series(date_trunc('month', now() - make_interval(secs => $1::int * $2::int)), now(), '1 month') m`,
    [ENTRIES, SPACING_SECONDS],
  );
  await dataSource.query(
    `INSERT INTO access_log (occurred_at, trace_id, partner, professional, processing_activity_id, legal_basis,
                             action, case_id, data_subject_ref, fields, status, rule_id, reason, policy_version, emergency)
     SELECT now() - make_interval(secs => ($1::int - i) * $2::int),
            md5(i::text),
            (ARRAY['vtrr', 'politie', 'wijkteam', 'om', 'jbrr', 'reclassering'])[1 + i % 6],
            'pro-' || (i % 500),
            (ARRAY['triage', 'casusoverleg', 'uitvoering-plan', 'signalering'])[1 + i % 4],
            ARRAY['avg-6-1-e', 'wmo-4-1-1'],
            (ARRAY['read', 'read', 'read', 'write', 'list'])[1 + i % 5],
            ${caseUuid(`'case-' || (i % $3)`)},
            'p_' || translate(substr(md5('subject-' || (i % $4)), 1, 20), '0189', 'abcd'),
            ARRAY['betrokkenen.naam', 'veiligheid.risiconiveau'],
            CASE WHEN i % 9 = 0 THEN 'denied' ELSE 'allowed' END,
            'bench-rule',
            'Deelnemer in fase herstel.',
            '2026.1+bench',
            i % 997 = 0
       FROM generate_series(1, $1) i`,
    [ENTRIES, SPACING_SECONDS, CASES, SUBJECTS],
  );
  await dataSource.query(`ANALYZE access_log`);
  const seededMs = performance.now() - started;

  const sealStarted = performance.now();
  const sealer = app.get(AccessLogSealer);
  await sealer.sealNow();
  const sealedMs = performance.now() - sealStarted;
  const [counts] = await dataSource.query<
    { entries: number; sealed: number; checkpoints: number; defaults: number }[]
  >(
    `SELECT (SELECT count(*) FROM access_log)::int AS entries, (SELECT count(*) FROM access_log_seal)::int AS sealed,
            (SELECT count(*) FROM access_log_checkpoint)::int AS checkpoints,
            (SELECT count(*) FROM access_log_default)::int AS defaults`,
  );

  const caseIds = (
    await dataSource.query<{ id: string }[]>(
      `SELECT ${caseUuid(`'case-' || n`)}::text AS id FROM generate_series(0, $1 - 1) n ORDER BY md5(n::text) LIMIT 200`,
      [CASES],
    )
  ).map((r) => r.id);
  const subjectRefs = (
    await dataSource.query<{ ref: string }[]>(
      `SELECT 'p_' || translate(substr(md5('subject-' || n), 1, 20), '0189', 'abcd') AS ref
         FROM generate_series(0, $1 - 1) n ORDER BY md5(n::text) LIMIT 200`,
      [SUBJECTS],
    )
  ).map((r) => r.ref);

  const explain = async (filter: EventFilter): Promise<string[]> => {
    const { sql, params } = eventsQuery(filter, null, 51);
    const rows = await dataSource.query<{ 'QUERY PLAN': string }[]>(
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${sql}`,
      params,
    );
    return rows.map((r) => r['QUERY PLAN']);
  };
  const plans = {
    case: await explain({ caseId: caseIds[0]! }),
    partner: await explain({ partner: 'politie' }),
    professional: await explain({ professional: 'pro-7' }),
    emergency: await explain({ emergency: true }),
    field: await explain({ field: 'veiligheid.risiconiveau', outcome: 'denied' }),
    subjectReport: (
      await dataSource.query<{ 'QUERY PLAN': string }[]>(
        `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON)
         SELECT seq FROM access_log WHERE data_subject_ref = $1 AND action <> 'audit' ORDER BY occurred_at, seq`,
        [subjectRefs[0]],
      )
    ).map((r) => r['QUERY PLAN']),
  };

  const issuer = new AccessTokenIssuer(await loadGatewayKey(config.keysDir), config);
  const { token } = await issuer.issue({ partner: 'fg', professional: 'bench-officer', purpose: 'toezicht' });
  process.stdout.write(
    `READY ${JSON.stringify({ port: String(config.port), token, caseIds, subjectRefs, seededMs, sealedMs, counts, plans })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
