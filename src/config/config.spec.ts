import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('uses the embedded database and local folders when nothing is set', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toEqual({
      env: 'development',
      host: '127.0.0.1',
      port: 3000,
      dataDir: path.resolve('/srv/app', '.convenant'),
      policyDir: path.resolve('/srv/app', 'policies/zvh-rotterdam-rijnmond'),
      embeddedPgPort: 54329,
      logLevel: 'info',
      publicUrl: 'http://127.0.0.1:3000',
      accessTokenTtlSeconds: 300,
      assertionLeewaySeconds: 5,
      keysDir: path.resolve('/srv/app', '.convenant', 'keys'),
      demo: true,
      sealIntervalMs: 1000,
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
      migrations: 'apply',
      metricsHost: '127.0.0.1',
      shutdownDelayMs: 0,
      shutdownTimeoutMs: 10_000,
      rateLimitPerMinute: 6000,
      anonRateLimit: 120,
      tokenRateLimit: 60,
      unsealedMaxMs: 30000,
      anonRefusalLogBudget: 20,
      corsOrigins: [],
      emergencyWindowMinutes: 60,
      policyWatch: true,
      accessLogRetention: 'P5Y',
    });
    expect(config.databaseUrl).toBeUndefined();
  });

  it('checks migrations instead of applying them in production, unless told', () => {
    const production = {
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://convenant.example.nl',
      BSN_HMAC_KEY: 'a'.repeat(43) + '=',
      BSN_ENCRYPTION_KEY: 'b'.repeat(43) + '=',
    };
    expect(loadConfig(production).migrations).toBe('check');
    expect(loadConfig({ ...production, MIGRATIONS: 'apply' }).migrations).toBe('apply');
    expect(() => loadConfig({ MIGRATIONS: 'maybe' })).toThrow(/MIGRATIONS must be one of apply, check/);
  });

  it('reads the operations settings: metrics port, CORS origins, TLS files in pairs', () => {
    const config = loadConfig(
      {
        METRICS_PORT: '9464',
        CORS_ORIGINS: 'https://fg.example.nl, https://zvh.example.nl',
        TLS_CERT_FILE: 'tls/cert.pem',
        TLS_KEY_FILE: 'tls/key.pem',
        TLS_CLIENT_CA_FILE: 'tls/partners-ca.pem',
      },
      '/srv/app',
    );
    expect(config).toMatchObject({
      metricsPort: 9464,
      corsOrigins: ['https://fg.example.nl', 'https://zvh.example.nl'],
      tls: {
        certFile: '/srv/app/tls/cert.pem',
        keyFile: '/srv/app/tls/key.pem',
        clientCaFile: '/srv/app/tls/partners-ca.pem',
      },
    });
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
    ]);
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS must be a comma-separated list/);
    expect(() => loadConfig({ TLS_CERT_FILE: 'cert.pem' })).toThrow(/must be set together/);
    expect(() => loadConfig({ TLS_CLIENT_CA_FILE: 'ca.pem' })).toThrow(/client certificates need TLS/);
  });

  it('watches the convenant folder in development only, unless POLICY_WATCH says otherwise', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).policyWatch).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test', POLICY_WATCH: 'true' }).policyWatch).toBe(true);
    expect(loadConfig({ POLICY_WATCH: 'false' }).policyWatch).toBe(false);
    expect(() => loadConfig({ POLICY_WATCH: 'yes' })).toThrow(/POLICY_WATCH must be true or false/);
  });

  it('takes DATABASE_URL when it is a PostgreSQL URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/convenant' }).databaseUrl).toBe(
      'postgres://u:p@db:5432/convenant',
    );
  });

  it('names every wrong variable in one error', () => {
    const attempt = () => loadConfig({ PORT: '3000abc', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/PORT must be a whole number.*got '3000abc'/);
      expect(problems).toMatch(/DATABASE_URL must be a PostgreSQL URL.*got 'mysql:\/\/x'/);
      expect(problems).toMatch(/LOG_LEVEL must be one of .*got 'loud'/);
    }
  });

  it('takes ACCESS_LOG_RETENTION as an ISO-8601 duration and refuses anything else', () => {
    expect(loadConfig({ ACCESS_LOG_RETENTION: 'P7Y' }).accessLogRetention).toBe('P7Y');
    expect(() => loadConfig({ ACCESS_LOG_RETENTION: '5 years' })).toThrow(
      /ACCESS_LOG_RETENTION must be an ISO-8601 duration/,
    );
  });

  it('demands real secrets and a public URL in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u:p@db/c' })).toThrow(
      /BSN_HMAC_KEY must be set in production.*BSN_ENCRYPTION_KEY must be set in production.*PUBLIC_URL must be set/,
    );
  });

  it('keeps the demo off in production and on in development unless told', () => {
    expect(loadConfig({}).demo).toBe(true);
    expect(loadConfig({ DEMO: 'false' }).demo).toBe(false);
    expect(() => loadConfig({ DEMO: 'yes' })).toThrow(/DEMO must be true or false/);
  });

  it('rejects a port out of range', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT must be a whole number between 1 and 65535/);
  });
});
