import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { accessTokenFor } from './support/tokens.js';

describe('partner authentication over HTTP', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('issues an access token for a partner-signed assertion, and whoami shows its principal', async () => {
    const token = await accessTokenFor(t, { partner: 'vtrr', purpose: 'triage', professional: 'p1' });
    const res = await request(t.app.getHttpServer())
      .get('/v1/oauth/whoami')
      .set('authorization', `Bearer ${token}`)
      .expect(200);
    expect(res.body).toEqual({
      partner: 'vtrr',
      professional: 'p1',
      purpose: 'triage',
      tokenId: expect.any(String),
    });
  });
});
