import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { bearerFor, type Who } from './support/tokens.js';

/**
 * Input hygiene over the real HTTP stack: NUL characters, invalid UTF-8, deep nesting and
 * duplicate member names are refused with 400 problem+json naming the place, before validation
 * and before any database call, and each refusal leaves exactly one denial in the access log.
 */

interface Problem {
  type: string;
  title: string;
  detail: string;
  errors: { pointer: string; detail: string }[];
}

const VTRR: Who = { partner: 'vtrr', purpose: 'triage' };
const WIJKTEAM_SIGNAL: Who = { partner: 'wijkteam', purpose: 'signalering' };

describe('input hygiene (real server)', () => {
  let t: TestApp;
  let caseId: string;
  const bearers = new Map<string, string>();
  const http = () => request(t.app.getHttpServer());
  async function as(who: Who): Promise<string> {
    const key = `${who.partner}/${who.purpose}`;
    if (!bearers.has(key)) bearers.set(key, await bearerFor(t, who));
    return bearers.get(key)!;
  }
  async function logOf(res: request.Response) {
    return t.db.dataSource.query<{ status: string; action: string; reason: string; fields: string[] }[]>(
      `SELECT status, action, reason, fields FROM access_log WHERE trace_id = $1 ORDER BY seq`,
      [res.headers['x-request-id']],
    );
  }
  async function count(sql: string): Promise<number> {
    const [row] = await t.db.dataSource.query<{ n: string }[]>(sql);
    return Number(row!.n);
  }
  async function expectRefused(res: request.Response, pointers: string[], kind: RegExp): Promise<void> {
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.body as Problem;
    expect(problem.type).toMatch(/unsafe-input$/);
    expect(problem.detail).toMatch(kind);
    expect(problem.errors.map((e) => e.pointer)).toEqual(pointers);
    const rows = await logOf(res);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'denied', fields: [] });
    expect(rows[0]!.reason).toContain('Unsafe input');
  }
  const raw = (method: 'put' | 'post', url: string, body: Buffer | string, bearer: string) =>
    http()[method](url).set('authorization', bearer).set('content-type', 'application/json').send(body);

  beforeAll(async () => {
    t = await startTestApp();
    const res = await http()
      .post('/v1/cases')
      .set('authorization', await as(VTRR))
      .send({ phase: 'acute', persons: [{ role: 'slachtoffer', fields: { 'betrokkenen.naam': 'Anna' } }] });
    expect(res.status).toBe(201);
    caseId = res.body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a NUL character in a field value, a person field and a signal; nothing is written', async () => {
    const before = await count('SELECT count(*) AS n FROM case_field_value');
    const bearer = await as(VTRR);
    await expectRefused(
      await raw(
        'put',
        `/v1/cases/${caseId}/fields`,
        '{"values":[{"field":"casus.vorm-geweld","value":"a\\u0000b"}]}',
        bearer,
      ),
      ['/values/0/value'],
      /NUL/,
    );
    await expectRefused(
      await raw(
        'post',
        '/v1/cases',
        '{"phase":"acute","persons":[{"role":"slachtoffer","fields":{"betrokkenen.naam\\u0000":"x"}}]}',
        bearer,
      ),
      ['/persons/0/fields/betrokkenen.naam\\u0000'],
      /NUL/,
    );
    await expectRefused(
      await raw(
        'post',
        '/v1/signals',
        '{"bsn":"123456782","contact":"tel\\u0000"}',
        await as(WIJKTEAM_SIGNAL),
      ),
      ['/contact'],
      /NUL/,
    );
    expect(await count('SELECT count(*) AS n FROM case_field_value')).toBe(before);
  });

  it('refuses invalid UTF-8 instead of storing U+FFFD', async () => {
    const body = Buffer.concat([
      Buffer.from('{"values":[{"field":"casus.vorm-geweld","value":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}]}'),
    ]);
    // supertest would serialise a Buffer as JSON: send the bytes as they are, with fetch.
    const server = t.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sent = await fetch(`http://127.0.0.1:${port}/v1/cases/${caseId}/fields`, {
      method: 'PUT',
      headers: { authorization: await as(VTRR), 'content-type': 'application/json' },
      body,
    });
    const res = {
      status: sent.status,
      headers: Object.fromEntries(sent.headers),
      body: await sent.json(),
    } as unknown as request.Response;
    await expectRefused(res, ['/values/0/value'], /UTF-8/);
  });

  it('refuses a body nested 5,000 deep with 400, not a stack overflow', async () => {
    const deep = '{"values":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
    const res = await raw('put', `/v1/cases/${caseId}/fields`, deep, await as(VTRR));
    await expectRefused(res, [`/values${'/0'.repeat(31)}`], /nested deeper than 32/);
  });

  it('refuses duplicate member names instead of letting the last one win', async () => {
    await expectRefused(
      await raw(
        'put',
        `/v1/cases/${caseId}/fields`,
        '{"values":[{"field":"casus.vorm-geweld","value":"a","value":"b"}]}',
        await as(VTRR),
      ),
      ['/values/0/value'],
      /duplicate/,
    );
  });

  it('refuses a NUL in a form body at the token endpoint and in a query string, logged as any refusal', async () => {
    const form = await http()
      .post('/v1/oauth/token')
      .set('content-type', 'application/x-www-form-urlencoded')
      .send('grant_type=client_credentials&scope=triage%00');
    await expectRefused(form, ['/scope'], /NUL/);
    expect(form.body.error).toBe('invalid_request');
    expect((await logOf(form))[0]!.action).toBe('authenticate');
    const query = await http()
      .get('/v1/cases?phase=acute%00')
      .set('authorization', await as(VTRR));
    await expectRefused(query, ['query phase'], /NUL/);
  });

  it('still reads well-formed bodies as before', async () => {
    const res = await http()
      .put(`/v1/cases/${caseId}/fields`)
      .set('authorization', await as(VTRR))
      .send({ values: [{ field: 'veiligheid.risicotaxatie', value: 'B-SAFER – “ü” hoog' }] });
    expect(res.status).toBe(200);
  });
});
