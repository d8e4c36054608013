import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import request from 'supertest';
import { PolicyRegistry } from '../src/kernel/policy.registry.js';
import { basisPermitting, type CompiledConvenant } from '../src/policy/index.js';
import { EXAMPLE_CONVENANTS, startTestApp, type TestApp } from './support/app.js';
import { casePairs } from './support/convenant-choices.js';
import { bearerCache, type Who } from './support/tokens.js';

/**
 * The verwijsindex over the real HTTP stack, with real tokens, on each example convenant: two
 * partners that signal the same BSN learn of each other and of nothing else, a purpose without
 * involvement_matches learns nothing and is disclosed to no one, and the BSN is nowhere in the
 * database afterwards (checked on a pg_dump where one fits the server, and column by column).
 * The partners and purposes are chosen from the convenant: the first two partners registered for
 * a purpose with involvement matches, and a third partner under a purpose without, each with a
 * basis that permits it the BSN there; and a partner under a purpose with involvement matches
 * whose BSN bases do not apply to it, whose signal the gateway refuses.
 */

interface SignalBody {
  id: string;
  disclosed: boolean;
  involved: { partner: string; name: string; contact: string | null }[];
}
interface LogRow {
  action: string;
  status: string;
  partner: string;
  reason: string | null;
}

const BSN = '111222333';
const run = promisify(execFile);

function signallers(compiled: CompiledConvenant): { first: Who; second: Who; silent: Who; refused: Who } {
  const matches = (w: Who) => compiled.purpose(w.purpose).involvementMatches;
  const bsnBasis = (w: Who) =>
    basisPermitting(compiled.convenant, compiled.partner(w.partner), w.purpose, 'bsn') !== undefined;
  const pairs = casePairs(compiled);
  const allowed = pairs.filter(bsnBasis);
  const first = allowed.find(matches);
  const second = allowed.find((w) => matches(w) && w.partner !== first?.partner);
  const silent = allowed.find(
    (w) => !matches(w) && w.partner !== first?.partner && w.partner !== second?.partner,
  );
  const refused = pairs.find((w) => matches(w) && !bsnBasis(w));
  if (!first || !second || !silent || !refused)
    throw new Error(`${compiled.convenant.id} offers no verwijsindex to test`);
  return {
    first: { ...first, professional: 'first-7' },
    second: { ...second, professional: 'second-7' },
    silent: { ...silent, professional: 'silent-7' },
    refused: { ...refused, professional: 'refused-7' },
  };
}

describe.each(EXAMPLE_CONVENANTS)('involvement signals (verwijsindex) over HTTP on $name', ({ dir }) => {
  let t: TestApp;
  let compiled: CompiledConvenant;
  let FIRST: Who;
  let SECOND: Who;
  let SILENT: Who;
  let REFUSED: Who;
  const http = () => request(t.app.getHttpServer());
  const as = bearerCache(() => t);
  async function logOf(res: request.Response): Promise<LogRow[]> {
    return t.db.dataSource.query<LogRow[]>(
      `SELECT action, status, partner, reason FROM access_log WHERE trace_id = $1 ORDER BY seq`,
      [res.headers['x-request-id']],
    );
  }
  const signal = async (who: Who, body: Record<string, unknown>) =>
    http()
      .post('/v1/signals')
      .set('authorization', await as(who))
      .send(body);
  const list = async (who: Who) =>
    http()
      .get('/v1/signals')
      .set('authorization', await as(who));

  beforeAll(async () => {
    t = await startTestApp({ policyDir: dir });
    compiled = t.app.get(PolicyRegistry).current();
    ({ first: FIRST, second: SECOND, silent: SILENT, refused: REFUSED } = signallers(compiled));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('tells two partners that signal the same person about each other, and nothing else', async () => {
    const first = await signal(FIRST, { bsn: BSN, contact: 'Team Noord, 010-1234567' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ disclosed: true, involved: [] });
    expect(await logOf(first)).toEqual([expect.objectContaining({ action: 'signal', status: 'allowed' })]);

    const second = await signal(SECOND, { bsn: BSN });
    expect(second.status).toBe(201);
    expect((second.body as SignalBody).involved).toEqual([
      {
        partner: FIRST.partner,
        name: compiled.partner(FIRST.partner).name,
        contact: 'Team Noord, 010-1234567',
        since: expect.any(String),
      },
    ]);
    // Exactly these keys: no person, no professional, no BSN.
    expect(Object.keys(second.body as object).sort()).toEqual(
      ['disclosed', 'id', 'involved', 'purpose', 'signalledAt', 'withdrawnAt'].sort(),
    );
    const secondLog = await logOf(second);
    expect(secondLog.map((r) => r.action)).toEqual(['signal', 'signal']);
    expect(secondLog[1]!.reason).toContain(`Disclosed that ${FIRST.partner}`);

    const mine = await list(FIRST);
    expect(mine.status).toBe(200);
    const items = (mine.body as { items: SignalBody[] }).items;
    expect(items).toHaveLength(1);
    expect(items[0]!.involved).toEqual([
      expect.objectContaining({
        partner: SECOND.partner,
        contact: compiled.partner(SECOND.partner).contact ?? null,
      }),
    ]);
    expect((await logOf(mine)).some((r) => r.reason?.includes(`Disclosed that ${SECOND.partner}`))).toBe(
      true,
    );
  });

  it('discloses nothing to, and nothing about, a purpose the convenant gives no involvement matches', async () => {
    const silent = await signal(SILENT, { bsn: BSN });
    expect(silent.status).toBe(201);
    expect(silent.body).toMatchObject({ disclosed: false, involved: [] });
    const second = (await list(SECOND)).body as { items: SignalBody[] };
    expect(second.items[0]!.involved.map((i) => i.partner)).toEqual([FIRST.partner]);
  });

  it('refuses to hash a BSN under a purpose whose bases permit no BSN for the partner, and logs it', async () => {
    const before = await t.db.dataSource.query<[{ count: string }]>(
      `SELECT count(*) AS count FROM involvement_signal`,
    );
    // E.g. DOCK (welzijn) under signalering in Rotterdam, whose BSN bases (Wabb, Wbsn-z) do not apply to it.
    const res = await signal(REFUSED, { bsn: BSN });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: expect.stringContaining('no-bsn-basis') });
    expect(JSON.stringify(res.body)).not.toContain(BSN);
    expect(await logOf(res)).toEqual([
      expect.objectContaining({ action: 'signal', status: 'denied', partner: REFUSED.partner }),
    ]);
    const after = await t.db.dataSource.query<[{ count: string }]>(
      `SELECT count(*) AS count FROM involvement_signal`,
    );
    expect(after[0].count).toBe(before[0].count);
  });

  it('stops matching a withdrawn signal', async () => {
    const second = (await list(SECOND)).body as { items: SignalBody[] };
    const withdrawn = await http()
      .delete(`/v1/signals/${second.items[0]!.id}`)
      .set('authorization', await as(SECOND));
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toMatchObject({ withdrawnAt: expect.any(String) });
    const again = await http()
      .delete(`/v1/signals/${second.items[0]!.id}`)
      .set('authorization', await as(SECOND));
    expect(again.status).toBe(409);
    const notOurs = await http()
      .delete(`/v1/signals/${second.items[0]!.id}`)
      .set('authorization', await as(FIRST));
    expect(notOurs.status).toBe(404);
    expect(await logOf(notOurs)).toEqual([expect.objectContaining({ action: 'signal', status: 'denied' })]);
    const first = (await list(FIRST)).body as { items: SignalBody[] };
    expect(first.items[0]!.involved).toEqual([]);
  });

  it('refuses a BSN that fails the 11-test without echoing it, and logs the refusal', async () => {
    const res = await signal(FIRST, { bsn: '111222334' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.stringify(res.body)).not.toContain('111222334');
    expect(await logOf(res)).toEqual([expect.objectContaining({ status: 'denied' })]);
  });

  it('stores the BSN nowhere in the database in clear', async () => {
    const [{ count }] = await t.db.dataSource.query<[{ count: string }]>(
      `SELECT count(*) AS count FROM involvement_signal`,
    );
    expect(Number(count)).toBe(3);
    const needles = [
      BSN,
      Buffer.from(BSN, 'utf8').toString('hex'),
      Buffer.from(BSN, 'utf8').toString('base64'),
    ];

    // Every column of every row of every table in the schema, as PostgreSQL renders it as text.
    const tables = await t.db.dataSource.query<{ name: string }[]>(
      `SELECT quote_ident(table_name) AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    expect(tables.map((r) => r.name)).toContain('involvement_signal');
    for (const { name } of tables) {
      const rows = await t.db.dataSource.query<{ row: string }[]>(`SELECT t::text AS row FROM ${name} t`);
      for (const { row } of rows) for (const needle of needles) expect(row).not.toContain(needle);
    }

    // And a real dump, where the machine's pg_dump matches the server (PostgreSQL 15 via DATABASE_URL).
    const [{ version }] = await t.db.dataSource.query<[{ version: string }]>(
      `SELECT current_setting('server_version_num') AS version`,
    );
    const dumpVersion = await run('pg_dump', ['--version']).then(
      (r) => /(\d+)\.\d+/.exec(r.stdout)?.[1],
      () => undefined,
    );
    const dumpFits = dumpVersion !== undefined && Number(dumpVersion) === Math.floor(Number(version) / 10000);
    // On the machine's PostgreSQL 15 the dump must run; the embedded server (18) ships no pg_dump.
    if (process.env.DATABASE_URL) expect(dumpFits).toBe(true);
    if (dumpFits) {
      const { stdout } = await run('pg_dump', ['--data-only', t.db.url], { maxBuffer: 256 * 1024 * 1024 });
      expect(stdout).toContain('involvement_signal');
      for (const needle of needles) expect(stdout).not.toContain(needle);
    }
  });
});
