import { Logger } from '@nestjs/common';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/config.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { PolicyVersionRepository } from './policy-version.repository.js';
import { PolicyInvalidError, PolicyRegistry } from './policy.registry.js';

/** The registry against a real PostgreSQL: atomic swaps, per-request pinning, refusals, version records. */
describe('PolicyRegistry reload', () => {
  let db: TestDatabase;
  let tmp: string;
  let dir: string;
  let sut: PolicyRegistry;
  const minimal = path.resolve('test/fixtures/policies/minimal');
  const head = () => path.join(dir, '00-convenant.yaml');

  beforeAll(async () => {
    // The registry logs each swap and refusal through Nest's logger; a spec has no use for it.
    Logger.overrideLogger(false);
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'convenant-registry-'));
    dir = path.join(tmp, 'minimal');
    await cp(minimal, dir, { recursive: true });
    await db.dataSource.query('DELETE FROM policy_version');
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, CONVENANT_POLICY_DIR: dir });
    sut = new PolicyRegistry(config, new PolicyVersionRepository(db.dataSource));
    await sut.onModuleInit();
  });
  afterEach(async () => {
    sut.onModuleDestroy();
    await rm(tmp, { recursive: true, force: true });
  });

  const bump = async (version: string) =>
    writeFile(head(), (await readFile(head(), 'utf8')).replace("version: '0.1'", `version: '${version}'`));

  it('keeps a pinned request on its version while a reload swaps the one in force', async () => {
    const old = sut.current();
    await bump('0.2');
    const seen = await sut.pin(async () => {
      const before = sut.current();
      const outcome = await sut.reload('endpoint');
      return { before, after: sut.current(), outcome };
    });
    expect(seen.before).toBe(old);
    expect(seen.after).toBe(old);
    expect(seen.outcome).toEqual({
      status: 'reloaded',
      version: sut.current().version,
      previousVersion: old.version,
    });
    expect(sut.current().version).toMatch(/^0\.2\+/);
    // A request that starts now gets the new version.
    expect(sut.pin(() => sut.current())).toBe(sut.current());
  });

  it('compares a reload with the live version, not with the version the caller is pinned to', async () => {
    const old = sut.current();
    await bump('0.5');
    const outcome = await sut.pin(async () => {
      await sut.reload('watch');
      // Still pinned to the old version, this caller asks again: nothing new to swap in.
      return sut.reload('endpoint');
    });
    expect(outcome.status).toBe('unchanged');
    expect(outcome.previousVersion).not.toBe(old.version);
  });

  it('answers unchanged when the folder holds the version in force, without recompiling it in', async () => {
    const old = sut.current();
    expect(await sut.reload('endpoint')).toEqual({
      status: 'unchanged',
      version: old.version,
      previousVersion: old.version,
    });
    expect(sut.current()).toBe(old);
  });

  it('refuses a failing inline test with its position, and keeps the old version', async () => {
    const old = sut.current();
    const rules = path.join(dir, '10-rules.yaml');
    await bump('0.3');
    // The first test expects the wijkteam to read plan.doelen in herstel; take that grant away.
    await writeFile(
      rules,
      (await readFile(rules, 'utf8')).replace(
        'fields: [betrokkenen.naam, plan.*, veiligheid.veiligheidsplan]',
        'fields: [betrokkenen.naam, veiligheid.veiligheidsplan]',
      ),
    );
    const error = await sut.reload('endpoint').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyInvalidError);
    const issues = (error as PolicyInvalidError).issues;
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ code: 'test-failed', file: expect.stringMatching(/10-rules\.yaml$/) });
    expect(issues[0]!.line).toBeGreaterThan(80);
    expect(sut.current()).toBe(old);
    const versions = await db.dataSource.query<{ version: string }[]>('SELECT version FROM policy_version');
    expect(versions.map((v) => v.version)).toEqual([old.version]);
  });

  it('gives changed content its own policy version even when the declared version stays', async () => {
    const old = sut.current();
    await writeFile(
      head(),
      (await readFile(head(), 'utf8')).replace('title: Minimaal convenant', 'title: Ander convenant'),
    );
    const outcome = await sut.reload('endpoint');
    expect(outcome.status).toBe('reloaded');
    expect(outcome.version).toMatch(/^0\.1\+[0-9a-f]{12}$/);
    expect(outcome.version).not.toBe(old.version);
  });

  it('runs overlapping reloads one after the other: one swaps, the next finds it unchanged', async () => {
    await bump('0.4');
    const [a, b] = await Promise.all([sut.reload('watch'), sut.reload('endpoint')]);
    expect(a.status).toBe('reloaded');
    expect(b).toEqual({ status: 'unchanged', version: a.version, previousVersion: a.version });
  });

  it('records each version with the exact text it was compiled from', async () => {
    const [row] = await db.dataSource.query<{ sources: Record<string, string> }[]>(
      'SELECT sources FROM policy_version WHERE version = $1',
      [sut.current().version],
    );
    expect(Object.keys(row!.sources).sort()).toEqual(['00-convenant.yaml', '10-rules.yaml']);
    expect(row!.sources['10-rules.yaml']).toBe(await readFile(path.join(dir, '10-rules.yaml'), 'utf8'));
  });
});
