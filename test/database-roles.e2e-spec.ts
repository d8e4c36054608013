import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import request from 'supertest';
import { run } from '../src/cli/program.js';
import { createDataSource, migrate } from '../src/db/data-source.js';
import { REAL_CONVENANT, startTestApp, type TestApp } from './support/app.js';
import { databaseUrl, type TestDatabase } from './support/database.js';
import { bearerFor } from './support/tokens.js';

/**
 * The production roles against a real PostgreSQL: docker/postgres-init/10-roles.sh's SQL makes
 * them (run here as the superuser, as the postgres image does), the owner migrates, the gateway
 * serves as `convenant_gateway` and the retention job runs as `convenant_retention_job`; each
 * can do its work and nothing the others may.
 */

const ROLES_SCRIPT = 'docker/postgres-init/10-roles.sh';

/** The script's SQL with its psql variables (:'literal', :"identifier") filled in. */
function rolesSql(vars: Record<string, string>): string {
  const script = readFileSync(ROLES_SCRIPT, 'utf8');
  const sql = /<<'SQL'\n([\s\S]*?)\nSQL\n/.exec(script)?.[1];
  if (sql === undefined) throw new Error(`${ROLES_SCRIPT} has no <<'SQL' … SQL block`);
  return sql.replace(/:(['"])(\w+)\1/g, (_match, quote: string, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`${ROLES_SCRIPT} uses :${quote}${name}${quote}, not set here`);
    return quote === "'" ? pg.Client.prototype.escapeLiteral(value) : pg.escapeIdentifier(value);
  });
}

function urlAs(database: string, user: string, password: string): string {
  const url = new URL(databaseUrl(database));
  url.username = user;
  url.password = password;
  return url.toString();
}

/** Runs one statement as `url`'s user; resolves to the error message, or 'ok'. */
async function attempt(url: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end();
  }
}

describe('least-privileged database roles (docker/postgres-init/10-roles.sh + migrations)', () => {
  const name = `convenant_roles_${randomBytes(6).toString('hex')}`;
  const passwords = {
    owner_password: randomBytes(12).toString('base64url'),
    gateway_password: randomBytes(12).toString('base64url'),
    retention_password: randomBytes(12).toString('base64url'),
  };
  const owner = urlAs(name, 'convenant_owner', passwords.owner_password);
  const gateway = urlAs(name, 'convenant_gateway', passwords.gateway_password);
  const retention = urlAs(name, 'convenant_retention_job', passwords.retention_password);
  let admin: pg.Client;
  let t: TestApp;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: process.env.CONVENANT_TEST_ADMIN_URL });
    await admin.connect();
    // As the postgres image does: the superuser makes the database, then runs the init script in it.
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    const inDb = new pg.Client({ connectionString: databaseUrl(name) });
    await inDb.connect();
    try {
      await inDb.query(rolesSql({ ...passwords, dbname: name }));
    } finally {
      await inDb.end();
    }
    // The migrate job: the owner, no superuser.
    const ownerSource = createDataSource(owner, { poolSize: 2, applicationName: 'convenant-test-owner' });
    await ownerSource.initialize();
    await migrate(ownerSource);
    const db: TestDatabase = {
      url: gateway,
      name,
      dataSource: ownerSource,
      drop: async () => {
        await ownerSource.destroy();
        await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      },
    };
    t = await startTestApp({ db, env: { MIGRATIONS: 'check' } });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await t?.db.drop();
    await admin?.end();
  });

  it('makes the owner a plain login role that owns the schema, and the others members of their groups', async () => {
    const { rows } = await admin.query<{ rolname: string; rolsuper: boolean; groups: string[] }>(
      `SELECT r.rolname, r.rolsuper,
              ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                     WHERE m.member = r.oid ORDER BY 1)::text[] AS groups
         FROM pg_roles r
        WHERE r.rolname IN ('convenant_owner', 'convenant_gateway', 'convenant_retention_job')
        ORDER BY 1`,
    );
    expect(rows).toEqual([
      { rolname: 'convenant_gateway', rolsuper: false, groups: ['convenant_app'] },
      { rolname: 'convenant_owner', rolsuper: false, groups: [] },
      { rolname: 'convenant_retention_job', rolsuper: false, groups: ['convenant_retention'] },
    ]);
    const tables = await attempt(
      owner,
      `DO $$ BEGIN
         IF EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'convenant_owner')
         THEN RAISE EXCEPTION 'a table not owned by convenant_owner'; END IF;
       END $$`,
    );
    expect(tables).toBe('ok');
  });

  it('serves as convenant_gateway: register, read, add a participation, change phase, officer queries, verification', async () => {
    const http = () => request(t.app.getHttpServer());
    const vtrr = await bearerFor(t, { partner: 'vtrr', purpose: 'triage' });
    const created = await http()
      .post('/v1/cases')
      .set('authorization', vtrr)
      .send({ phase: 'acute', persons: [{ role: 'slachtoffer', fields: { 'betrokkenen.naam': 'Test' } }] });
    expect(created.status).toBe(201);
    const caseId = (created.body as { id: string }).id;
    expect((await http().get(`/v1/cases/${caseId}`).set('authorization', vtrr)).status).toBe(200);
    const added = await http()
      .post(`/v1/cases/${caseId}/participations`)
      .set('authorization', vtrr)
      .send({ partner: 'wijkteam', purposes: ['uitvoering-plan'] });
    expect(added.status).toBe(201);
    const phase = await http()
      .post(`/v1/cases/${caseId}/phase`)
      .set('authorization', vtrr)
      .send({ phase: 'stabilisatie', reason: 'De acute dreiging is geweken na het huisverbod.' });
    expect({ status: phase.status, body: phase.body }).toMatchObject({ status: 200 });
    const officer = await bearerFor(t, { partner: 'fg', purpose: 'toezicht', professional: 'fg-officer-1' });
    const events = await http().get('/v1/audit/events').set('authorization', officer);
    expect(events.status).toBe(200);
    expect((events.body as { items: unknown[] }).items.length).toBeGreaterThan(0);
    const verified = await http().get('/v1/audit/verify').set('authorization', officer);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ ok: true });
  });

  it('as convenant_gateway: no UPDATE, DELETE or TRUNCATE on the log, no trigger switched off, no DDL, no retention', async () => {
    const refusals = {
      update: await attempt(gateway, `UPDATE access_log SET reason = 'rewritten'`),
      delete: await attempt(gateway, 'DELETE FROM access_log'),
      truncate: await attempt(gateway, 'TRUNCATE access_log'),
      updatePartition: await attempt(gateway, `UPDATE access_log_default SET reason = 'x'`),
      seal: await attempt(gateway, 'DELETE FROM access_log_seal'),
      checkpoint: await attempt(gateway, `UPDATE access_log_checkpoint SET jws = 'x'`),
      trigger: await attempt(gateway, 'ALTER TABLE access_log DISABLE TRIGGER access_log_append_only'),
      replicationRole: await attempt(gateway, `SET session_replication_role = replica`),
      createTable: await attempt(gateway, 'CREATE TABLE gateway_was_here (x int)'),
      dropTable: await attempt(gateway, 'DROP TABLE cases'),
      caseValues: await attempt(gateway, 'DELETE FROM case_field_value'),
      cases: await attempt(gateway, 'DELETE FROM cases'),
      retentionRole: await attempt(gateway, 'SET ROLE convenant_retention'),
      ownerRole: await attempt(gateway, 'SET ROLE convenant_owner'),
    };
    for (const [what, message] of Object.entries(refusals)) {
      expect({ what, refused: message !== 'ok' }).toEqual({ what, refused: true });
      expect({ what, message }).toEqual({ what, message: expect.stringMatching(/denied|must be|refused/) });
    }
  });

  it('runs retention as convenant_retention_job, which can neither write cases nor change the schema', async () => {
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: retention,
      CONVENANT_POLICY_DIR: REAL_CONVENANT,
      CONVENANT_DATA_DIR: t.config.dataDir,
    };
    const result = await run(['retention', 'run', '--json'], env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const refusals = {
      insertCase: await attempt(retention, `INSERT INTO cases DEFAULT VALUES`),
      deleteWithoutRole: await attempt(retention, 'DELETE FROM access_log'),
      updateLog: await attempt(retention, `SET ROLE convenant_retention; UPDATE access_log SET reason = 'x'`),
      createTable: await attempt(retention, 'CREATE TABLE retention_was_here (x int)'),
      trigger: await attempt(retention, 'ALTER TABLE access_log DISABLE TRIGGER access_log_append_only'),
      appRole: await attempt(retention, 'SET ROLE convenant_app'),
    };
    for (const [what, message] of Object.entries(refusals)) {
      expect({ what, refused: message !== 'ok' }).toEqual({ what, refused: true });
    }
    // The chain still verifies after the run, read by the gateway's role.
    const verified = await run(['audit', 'verify'], { ...env, DATABASE_URL: gateway });
    expect({ code: verified.code, out: verified.stdout + verified.stderr }).toMatchObject({ code: 0 });
  });
});
