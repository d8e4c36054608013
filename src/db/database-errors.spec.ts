import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { freePort } from '../common/free-port.js';
import { isDatabaseUnavailable } from './database-errors.js';

describe('isDatabaseUnavailable', () => {
  it('recognises a refused connection as node-postgres reports it', async () => {
    // A loopback port nobody listens on: the real error object, not a made-up one.
    const client = new pg.Client({
      host: '127.0.0.1',
      port: await freePort(),
      user: 'nobody',
      connectionTimeoutMillis: 2000,
    });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('looks inside TypeORM wrappers and causes, by SQLSTATE and by message', () => {
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    expect(isDatabaseUnavailable(new QueryFailedError('SELECT 1', [], shutdown))).toBe(true);
    expect(
      isDatabaseUnavailable(new Error('outer', { cause: new Error('Connection terminated unexpectedly') })),
    ).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
  });

  it('leaves real query errors alone: they are bugs or bad input, not an outage', () => {
    const syntax = Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' });
    const unique = Object.assign(new Error('duplicate key value'), { code: '23505' });
    expect(isDatabaseUnavailable(new QueryFailedError('SELEC 1', [], syntax))).toBe(false);
    expect(isDatabaseUnavailable(unique)).toBe(false);
    expect(isDatabaseUnavailable('Connection terminated')).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
  });
});
