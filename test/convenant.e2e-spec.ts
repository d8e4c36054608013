import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { PolicyRegistry } from '../src/kernel/policy.registry.js';
import { REAL_CONVENANT, startTestApp, type TestApp } from './support/app.js';
import { bearerFor } from './support/tokens.js';

/**
 * The officers' convenant routes over the real HTTP stack: matrix, document, versions and reload,
 * each logged as an audit entry; a broken convenant is refused with every problem and file:line:column.
 */

interface ReloadProblem {
  status: number;
  type: string;
  versionInForce: string;
  errors: {
    code: string;
    detail: string;
    file?: string;
    line?: number;
    column?: number;
    position: string | null;
  }[];
}

describe('convenant API (officers only)', () => {
  let t: TestApp;
  let tmp: string;
  let dir: string;
  let officer: string;
  let vtrr: string;
  const http = () => request(t.app.getHttpServer());
  const auditReasons = async (res: request.Response) =>
    (
      await t.db.dataSource.query<{ reason: string }[]>(
        `SELECT reason FROM access_log WHERE trace_id = $1 AND action = 'audit' ORDER BY seq`,
        [res.headers['x-request-id'] as string],
      )
    ).map((r) => r.reason);

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'convenant-policy-'));
    // The folder must carry the convenant's id as its name.
    dir = path.join(tmp, 'zvh-rotterdam-rijnmond');
    await cp(REAL_CONVENANT, dir, { recursive: true });
    t = await startTestApp({ policyDir: dir });
    officer = await bearerFor(t, { partner: 'fg', purpose: 'toezicht', professional: 'fg-officer-1' });
    vtrr = await bearerFor(t, { partner: 'vtrr', purpose: 'triage' });
  });
  afterAll(async () => {
    await t.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('refuses a partner that is not an officer, and logs the refusal', async () => {
    const res = await http().get('/v1/convenant/matrix').set('authorization', vtrr);
    expect(res.status).toBe(403);
    expect((res.body as { type: string }).type).toMatch(/not-an-officer$/);
  });

  it('gives the matrix of the version in force, computed from the enforced rules', async () => {
    const res = await http().get('/v1/convenant/matrix').set('authorization', officer);
    expect(res.status).toBe(200);
    const body = res.body as {
      convenant: string;
      version: string;
      sections: string[];
      rows: {
        partner: string;
        purpose: string;
        cells: Record<string, { read: string; write: string; emergency: boolean }>;
      }[];
    };
    expect(body.convenant).toBe('zvh-rotterdam-rijnmond');
    expect(body.version).toBe(t.app.get(PolicyRegistry).current().version);
    expect(body.sections).toContain('zorg');
    const row = (partner: string, purpose: string) =>
      body.rows.find((r) => r.partner === partner && r.purpose === purpose)!;
    // The police never read health data; Veilig Thuis reads some of it in triage, and a doorbraak opens more.
    expect(row('politie', 'casusoverleg').cells.zorg!.read).toBe('none');
    expect(row('vtrr', 'triage').cells.zorg!.read).toBe('some');
    expect(row('vtrr', 'triage').cells.veiligheid!.emergency).toBe(true);
    expect(row('fg', 'toezicht').cells.zorg).toEqual(
      expect.objectContaining({ read: 'none', write: 'none', emergency: false }),
    );
    expect(await auditReasons(res)).toEqual([`Convenant matrix of version ${body.version} viewed.`]);
  });

  it('renders the document as printable HTML, and as Markdown on request', async () => {
    const html = await http().get('/v1/convenant/document').set('authorization', officer);
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.text).toContain('<html lang="nl">');
    expect(html.text).toContain('@media print');
    expect(html.text).toContain('Doorbraak (spoedtoegang)');
    expect(html.text).not.toMatch(/<script|<link|src="http/);
    const md = await http().get('/v1/convenant/document?format=markdown').set('authorization', officer);
    expect(md.status).toBe(200);
    expect(md.headers['content-type']).toMatch(/^text\/markdown/);
    expect(md.text).toMatch(/^# Convenant gegevensdeling/);
    expect(await auditReasons(md)).toEqual([expect.stringMatching(/^Convenant document \(markdown\)/)]);
    const bad = await http().get('/v1/convenant/document?format=pdf').set('authorization', officer);
    expect(bad.status).toBe(400);
  });

  it('lists the recorded versions and gives the text of one', async () => {
    const version = t.app.get(PolicyRegistry).current().version;
    const list = await http().get('/v1/convenant/versions').set('authorization', officer);
    expect(list.status).toBe(200);
    const body = list.body as { inForce: string; items: { version: string; hash: string }[] };
    expect(body.inForce).toBe(version);
    expect(body.items.map((i) => i.version)).toContain(version);
    const one = await http()
      .get(`/v1/convenant/versions/${encodeURIComponent(version)}`)
      .set('authorization', officer);
    expect(one.status).toBe(200);
    const sources = (one.body as { sources: Record<string, string> }).sources;
    expect(sources['40-rules.yaml']).toBe(await readFile(path.join(dir, '40-rules.yaml'), 'utf8'));
    const missing = await http().get('/v1/convenant/versions/0.0+000000000000').set('authorization', officer);
    expect(missing.status).toBe(404);
  });

  it('reloads: unchanged, then a new version, then refuses a broken one and keeps serving', async () => {
    const registry = t.app.get(PolicyRegistry);
    const before = registry.current().version;
    const same = await http().post('/v1/convenant/reload').set('authorization', officer);
    expect(same.status).toBe(200);
    expect(same.body).toEqual({ status: 'unchanged', version: before, previousVersion: before });

    const head = path.join(dir, '00-convenant.yaml');
    const original = await readFile(head, 'utf8');
    await writeFile(head, original.replace(/^version: '[^']*'$/m, "version: '2026.1-e2e'"));
    const changed = await http().post('/v1/convenant/reload').set('authorization', officer);
    expect(changed.status).toBe(200);
    const outcome = changed.body as { status: string; version: string; previousVersion: string };
    expect(outcome).toEqual({
      status: 'reloaded',
      version: expect.stringMatching(/^2026\.1-e2e\+/),
      previousVersion: before,
    });
    expect(registry.current().version).toBe(outcome.version);
    expect(await auditReasons(changed)).toEqual([
      `Convenant reloaded: version ${outcome.version} replaces ${before}.`,
    ]);
    // The request was pinned to the version in force when it arrived: its own audit row names
    // the old version although the swap happened during it.
    const [row] = await t.db.dataSource.query<{ policy_version: string }[]>(
      `SELECT policy_version FROM access_log WHERE trace_id = $1 AND action = 'audit'`,
      [changed.headers['x-request-id'] as string],
    );
    expect(row!.policy_version).toBe(before);

    const rules = path.join(dir, '40-rules.yaml');
    await writeFile(
      rules,
      `${await readFile(rules, 'utf8')}\n  - id: broken\n    partner: nobody\n    can: read\n    fields: [zorg.*]\n    reason: x\n`,
    );
    const refused = await http().post('/v1/convenant/reload').set('authorization', officer);
    expect(refused.status).toBe(422);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = refused.body as ReloadProblem;
    expect(problem.type).toMatch(/policy-reload-refused$/);
    expect(problem.versionInForce).toBe(outcome.version);
    expect(problem.errors.length).toBeGreaterThan(0);
    const unknown = problem.errors.find((e) => e.code === 'missing-key')!;
    expect(unknown.file).toMatch(/40-rules\.yaml$/);
    expect(unknown.line).toBeGreaterThan(700);
    expect(unknown.position).toBe(`${unknown.file}:${unknown.line}:${unknown.column}`);
    expect(registry.current().version).toBe(outcome.version);
    expect(await auditReasons(refused)).toEqual([expect.stringMatching(/^Convenant reload refused/)]);
  });
});
