import { sealRound } from '../src/access-log/access-log.sealer.js';
import { loadGatewayKey } from '../src/keys/gateway-key.js';
import { run } from '../src/cli/program.js';
import type { RetentionPlan } from '../src/retention/retention.service.js';
import { REAL_CONVENANT, startTestApp, type TestApp } from './support/app.js';

/**
 * `convenant retention run` on the seeded demo, next to a running gateway on the same database:
 * the dry run lists what would go, the real run removes exactly that, and the access log's hash
 * chain and checkpoints still verify afterwards.
 */
describe('convenant retention run on the demo', () => {
  let t: TestApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp({ env: { DEMO: 'true' } });
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: t.db.url,
      CONVENANT_DATA_DIR: t.config.dataDir,
      CONVENANT_POLICY_DIR: REAL_CONVENANT,
    };
    // Seeding the demo's 240 cases takes most of this on a shared, loaded machine.
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const count = async (sql: string) => Number((await t.db.dataSource.query<[{ n: string }]>(sql))[0].n);

  it('lists what would go, removes exactly that, and the access log still verifies', async () => {
    const casesBefore = await count(`SELECT count(*) AS n FROM cases`);
    const valuesBefore = await count(`SELECT count(*) AS n FROM case_field_value`);
    expect(casesBefore).toBeGreaterThanOrEqual(200);

    const text = await run(['retention', 'run', '--dry-run'], env);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Retention as of .* under convenant 2026\.\d+\+[0-9a-f]{12}$/m);
    expect(text.stdout).toMatch(/^ {2}ZVH-\d{4}-\d{6} {2}whole case: \d+ value\(s\)/m);
    expect(text.stdout).toMatch(/^ {6}\S+\/\S+ {2}under \S+ {2}\d+$/m);
    expect(text.stdout).toMatch(/^Would remove: [1-9]\d* whole case\(s\), [1-9]\d* value\(s\)/m);
    // The same run covers the access log's own retention (log_retention per purpose).
    expect(text.stdout).toMatch(/^Would remove \d+ access log entries expired at /m);
    // A dry run removes nothing.
    expect(await count(`SELECT count(*) AS n FROM cases`)).toBe(casesBefore);

    const dry = await run(['retention', 'run', '--dry-run', '--json'], env);
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.stdout) as RetentionPlan & {
      dryRun: boolean;
      accessLog: { total: number; runId: string | null };
    };
    expect(planned.accessLog).toMatchObject({ total: expect.any(Number), runId: null });
    expect(planned.dryRun).toBe(true);
    expect(planned.totals.cases).toBeGreaterThan(0);
    // Both kinds: closed cases that go as a whole, and closed cases that keep what triage still justifies.
    expect(planned.cases.some((c) => !c.wholeCase)).toBe(true);

    const real = await run(['retention', 'run', '--json'], env);
    expect(real.stderr).toBe('');
    expect(real.code).toBe(0);
    const done = JSON.parse(real.stdout) as RetentionPlan & { accessLog: { total: number } };
    expect(done.ids).toEqual(planned.ids);
    expect(done.accessLog.total).toBe(planned.accessLog.total);
    expect(await count(`SELECT count(*) AS n FROM cases`)).toBe(casesBefore - planned.totals.cases);
    expect(await count(`SELECT count(*) AS n FROM case_field_value`)).toBe(
      valuesBefore - planned.totals.values,
    );
    expect(await count(`SELECT count(*) AS n FROM access_log WHERE action = 'retention'`)).toBe(
      planned.cases.length + planned.signals.length,
    );

    const again = await run(['retention', 'run', '--dry-run', '--json'], env);
    expect((JSON.parse(again.stdout) as RetentionPlan).totals).toEqual({ cases: 0, values: 0, signals: 0 });

    const key = await loadGatewayKey(t.config.keysDir);
    await sealRound(t.db.dataSource, key, {
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
      forceCheckpoint: true,
    });
    const verified = await run(['audit', 'verify'], env);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('OK: the access log is intact.');
  });

  it('refuses --as-of on a real run', async () => {
    const result = await run(['retention', 'run', '--as-of', '2040-01-01T00:00:00Z'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--as-of only goes with --dry-run');
  });
});
