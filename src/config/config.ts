import { plainToInstance } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import path from 'node:path';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const NODE_ENVS = ['development', 'production', 'test'] as const;
const MIGRATION_MODES = ['apply', 'check'] as const;

/**
 * The environment as the gateway reads it. Every variable is documented in the README's
 * configuration table; keep the two in step.
 */
class Environment {
  @IsIn(NODE_ENVS, { message: `NODE_ENV must be one of ${NODE_ENVS.join(', ')}` })
  NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  @IsString()
  HOST = '127.0.0.1';

  @IsInt({ message: 'PORT must be a whole number between 1 and 65535' })
  @Min(1, { message: 'PORT must be a whole number between 1 and 65535' })
  @Max(65535, { message: 'PORT must be a whole number between 1 and 65535' })
  PORT = 3000;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message:
      'DATABASE_URL must be a PostgreSQL URL such as postgres://user:password@host:5432/convenant (or unset it to use the embedded database)',
  })
  DATABASE_URL?: string;

  @IsString()
  CONVENANT_DATA_DIR = '.convenant';

  @IsString()
  CONVENANT_POLICY_DIR = 'policies/zvh-rotterdam-rijnmond';

  @IsInt({ message: 'EMBEDDED_PG_PORT must be a whole number between 1024 and 65535' })
  @Min(1024, { message: 'EMBEDDED_PG_PORT must be a whole number between 1024 and 65535' })
  @Max(65535, { message: 'EMBEDDED_PG_PORT must be a whole number between 1024 and 65535' })
  EMBEDDED_PG_PORT = 54329;

  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    message:
      'PUBLIC_URL must be the gateway URL as partners reach it, e.g. https://convenant.example.nl (no query or fragment)',
  })
  PUBLIC_URL?: string;

  @IsInt({ message: 'ACCESS_TOKEN_TTL_SECONDS must be a whole number between 30 and 900' })
  @Min(30, { message: 'ACCESS_TOKEN_TTL_SECONDS must be a whole number between 30 and 900' })
  @Max(900, { message: 'ACCESS_TOKEN_TTL_SECONDS must be a whole number between 30 and 900' })
  ACCESS_TOKEN_TTL_SECONDS = 300;

  @IsInt({ message: 'ASSERTION_LEEWAY_SECONDS must be a whole number between 0 and 30' })
  @Min(0, { message: 'ASSERTION_LEEWAY_SECONDS must be a whole number between 0 and 30' })
  @Max(30, { message: 'ASSERTION_LEEWAY_SECONDS must be a whole number between 0 and 30' })
  ASSERTION_LEEWAY_SECONDS = 5;

  @IsOptional()
  @Matches(/^[A-Za-z0-9+/_-]{43}=?$/, { message: 'BSN_HMAC_KEY must be 32 random bytes, base64-encoded' })
  BSN_HMAC_KEY?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9+/_-]{43}=?$/, {
    message: 'BSN_ENCRYPTION_KEY must be 32 random bytes, base64-encoded',
  })
  BSN_ENCRYPTION_KEY?: string;

  @IsInt({ message: 'SEAL_INTERVAL_MS must be a whole number between 10 and 3600000' })
  @Min(10, { message: 'SEAL_INTERVAL_MS must be a whole number between 10 and 3600000' })
  @Max(3_600_000, { message: 'SEAL_INTERVAL_MS must be a whole number between 10 and 3600000' })
  SEAL_INTERVAL_MS = 1000;

  @IsInt({ message: 'CHECKPOINT_EVERY must be a whole number of at least 1' })
  @Min(1, { message: 'CHECKPOINT_EVERY must be a whole number of at least 1' })
  CHECKPOINT_EVERY = 1000;

  @IsInt({ message: 'CHECKPOINT_INTERVAL_MS must be a whole number of at least 10' })
  @Min(10, { message: 'CHECKPOINT_INTERVAL_MS must be a whole number of at least 10' })
  CHECKPOINT_INTERVAL_MS = 60_000;

  @IsOptional()
  @IsInt({ message: 'UNSEALED_MAX_MS must be a whole number of at least 1000' })
  @Min(1000, { message: 'UNSEALED_MAX_MS must be a whole number of at least 1000' })
  UNSEALED_MAX_MS?: number;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'DEMO must be true or false' })
  DEMO?: 'true' | 'false';

  @IsOptional()
  @IsIn(MIGRATION_MODES, { message: `MIGRATIONS must be one of ${MIGRATION_MODES.join(', ')}` })
  MIGRATIONS?: (typeof MIGRATION_MODES)[number];

  @IsOptional()
  @IsInt({ message: 'METRICS_PORT must be a whole number between 1 and 65535' })
  @Min(1, { message: 'METRICS_PORT must be a whole number between 1 and 65535' })
  @Max(65535, { message: 'METRICS_PORT must be a whole number between 1 and 65535' })
  METRICS_PORT?: number;

  @IsString()
  METRICS_HOST = '127.0.0.1';

  @IsInt({ message: 'SHUTDOWN_TIMEOUT_MS must be a whole number between 0 and 600000' })
  @Min(0, { message: 'SHUTDOWN_TIMEOUT_MS must be a whole number between 0 and 600000' })
  @Max(600_000, { message: 'SHUTDOWN_TIMEOUT_MS must be a whole number between 0 and 600000' })
  SHUTDOWN_TIMEOUT_MS = 10_000;

  @IsInt({ message: 'SHUTDOWN_DELAY_MS must be a whole number between 0 and 600000' })
  @Min(0, { message: 'SHUTDOWN_DELAY_MS must be a whole number between 0 and 600000' })
  @Max(600_000, { message: 'SHUTDOWN_DELAY_MS must be a whole number between 0 and 600000' })
  SHUTDOWN_DELAY_MS = 0;

  @IsInt({ message: 'RATE_LIMIT_PER_MINUTE must be a whole number of at least 1' })
  @Min(1, { message: 'RATE_LIMIT_PER_MINUTE must be a whole number of at least 1' })
  RATE_LIMIT_PER_MINUTE = 6000;

  @IsInt({ message: 'ANON_RATE_LIMIT must be a whole number of at least 1' })
  @Min(1, { message: 'ANON_RATE_LIMIT must be a whole number of at least 1' })
  ANON_RATE_LIMIT = 120;

  @IsInt({ message: 'TOKEN_RATE_LIMIT must be a whole number of at least 1' })
  @Min(1, { message: 'TOKEN_RATE_LIMIT must be a whole number of at least 1' })
  TOKEN_RATE_LIMIT = 60;

  @IsInt({ message: 'ANON_REFUSAL_LOG_BUDGET must be a whole number of at least 1' })
  @Min(1, { message: 'ANON_REFUSAL_LOG_BUDGET must be a whole number of at least 1' })
  ANON_REFUSAL_LOG_BUDGET = 20;

  @IsOptional()
  @Matches(/^\s*https?:\/\/[^\s,/]+(\s*,\s*https?:\/\/[^\s,/]+)*\s*$/, {
    message:
      'CORS_ORIGINS must be a comma-separated list of origins such as https://fg.example.nl (scheme and host, no path), or empty for none',
  })
  CORS_ORIGINS?: string;

  @IsOptional()
  @IsString()
  TLS_CERT_FILE?: string;

  @IsOptional()
  @IsString()
  TLS_KEY_FILE?: string;

  @IsOptional()
  @IsString()
  TLS_CLIENT_CA_FILE?: string;

  @IsOptional()
  @Matches(/^(true|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)$/, {
    message:
      'TRUST_PROXY must be true (trust X-Forwarded-For from any peer) or a comma-separated list of proxy addresses or CIDRs',
  })
  TRUST_PROXY?: string;

  @IsInt({ message: 'EMERGENCY_WINDOW_MINUTES must be a whole number between 1 and 1440' })
  @Min(1, { message: 'EMERGENCY_WINDOW_MINUTES must be a whole number between 1 and 1440' })
  @Max(1440, { message: 'EMERGENCY_WINDOW_MINUTES must be a whole number between 1 and 1440' })
  EMERGENCY_WINDOW_MINUTES = 60;

  @IsOptional()
  @IsIn(['true', 'false'], { message: 'POLICY_WATCH must be true or false' })
  POLICY_WATCH?: 'true' | 'false';

  @Matches(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/, {
    message: 'ACCESS_LOG_RETENTION must be an ISO-8601 duration, e.g. P5Y',
  })
  ACCESS_LOG_RETENTION = 'P5Y';
}

/** The variables the gateway reads (the Docker files are checked against this list). */
export function environmentKeys(): string[] {
  return Object.keys(new Environment());
}

export interface AppConfig {
  env: (typeof NODE_ENVS)[number];
  host: string;
  port: number;
  /** Set when an external PostgreSQL is used; absent means: start the embedded one. */
  databaseUrl?: string;
  /** Absolute path of the local data folder (embedded database, demo keys). */
  dataDir: string;
  /** Absolute path of the convenant folder that the gateway enforces. */
  policyDir: string;
  embeddedPgPort: number;
  logLevel: (typeof LOG_LEVELS)[number];
  /** How partners reach the gateway; the token endpoint's audience is `${publicUrl}/v1/oauth/token`. */
  publicUrl: string;
  accessTokenTtlSeconds: number;
  /** Allowed clock difference for client assertions (exp, nbf, iat), in seconds. */
  assertionLeewaySeconds: number;
  /** Where demo partner keys and the gateway's signing key live: `${dataDir}/keys`. */
  keysDir: string;
  /** Keys for BSN hashing and encryption; generated into the data folder when absent (not in production). */
  bsnHmacKey?: Buffer;
  bsnEncryptionKey?: Buffer;
  /** Seed the synthetic demo (fictional people only) at start; default on in development. */
  demo: boolean;
  /** How often the access log sealer runs (it also runs early after checkpointEvery entries). */
  sealIntervalMs: number;
  /** A signed checkpoint every this many sealed entries, or after checkpointIntervalMs. */
  checkpointEvery: number;
  checkpointIntervalMs: number;
  /**
   * An access log row still outside the hash chain this long after it occurred fails verification
   * (API and CLI): five seal intervals, at least 30 s, unless UNSEALED_MAX_MS says otherwise.
   */
  unsealedMaxMs: number;
  /** At start: apply pending migrations, or refuse to serve while any are pending (production default). */
  migrations: (typeof MIGRATION_MODES)[number];
  /** When set, /metrics is served on this port (and METRICS_HOST) only, not on the API port. */
  metricsPort?: number;
  metricsHost: string;
  /** SIGTERM: readiness goes down, then after shutdownDelayMs the server stops taking requests. */
  shutdownDelayMs: number;
  /** In-flight requests get this long to finish before their connections are closed. */
  shutdownTimeoutMs: number;
  /** Requests per minute per partner (per client address before authentication). */
  rateLimitPerMinute: number;
  /** Requests per minute per client address without a valid access token. */
  anonRateLimit: number;
  /** Requests per minute per client address at the token endpoint. */
  tokenRateLimit: number;
  /** Refusals naming no partner and no case logged one by one, per address per minute; the rest are summed. */
  anonRefusalLogBudget: number;
  /** Origins allowed to call the API from a browser; empty: no CORS headers at all. */
  corsOrigins: string[];
  /** Serve HTTPS directly (PEM files); the client CA additionally requires client certificates (mTLS). */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** Behind a reverse proxy: whose X-Forwarded-For to believe for the client address (rate limits, logs). */
  trustProxy?: true | string[];
  /** How long an emergency access grant lasts when its purpose names no window. */
  emergencyWindowMinutes: number;
  /** Reload the convenant when its folder changes; default on in development. */
  policyWatch: boolean;
  /** How long access log entries are kept when their purpose sets no log_retention (ISO-8601). */
  accessLogRetention: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}.`);
    this.name = 'ConfigError';
  }
}

const INTEGER_KEYS = new Set([
  'PORT',
  'EMBEDDED_PG_PORT',
  'ACCESS_TOKEN_TTL_SECONDS',
  'ASSERTION_LEEWAY_SECONDS',
  'SEAL_INTERVAL_MS',
  'CHECKPOINT_EVERY',
  'CHECKPOINT_INTERVAL_MS',
  'UNSEALED_MAX_MS',
  'METRICS_PORT',
  'SHUTDOWN_TIMEOUT_MS',
  'SHUTDOWN_DELAY_MS',
  'RATE_LIMIT_PER_MINUTE',
  'ANON_RATE_LIMIT',
  'TOKEN_RATE_LIMIT',
  'ANON_REFUSAL_LOG_BUDGET',
  'EMERGENCY_WINDOW_MINUTES',
]);

/**
 * Reads and validates the environment. Throws a ConfigError naming every wrong variable, so the
 * process stops at start-up with a sentence that says what to set instead of failing later.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(new Environment())) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    // Only whole decimal numbers count: "3000abc" must be rejected, not read as 3000.
    raw[key] = INTEGER_KEYS.has(key) && /^\d+$/.test(value) ? Number(value) : value;
  }
  if (env.DATABASE_URL) raw.DATABASE_URL = env.DATABASE_URL;
  const parsed = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(parsed, { whitelist: false });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.flatMap((e) =>
        Object.values(e.constraints ?? {}).map((message) => `${message} (got '${String(e.value)}')`),
      ),
    );
  }
  if (parsed.NODE_ENV === 'production') {
    const missing = (['BSN_HMAC_KEY', 'BSN_ENCRYPTION_KEY', 'PUBLIC_URL'] as const).filter(
      (key) => !parsed[key],
    );
    if (missing.length > 0) {
      throw new ConfigError(missing.map((key) => `${key} must be set in production (NODE_ENV=production)`));
    }
  }
  if (Boolean(parsed.TLS_CERT_FILE) !== Boolean(parsed.TLS_KEY_FILE)) {
    throw new ConfigError([
      'TLS_CERT_FILE and TLS_KEY_FILE must be set together (PEM certificate and its key)',
    ]);
  }
  if (parsed.TLS_CLIENT_CA_FILE && !parsed.TLS_CERT_FILE) {
    throw new ConfigError([
      'TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE: client certificates need TLS',
    ]);
  }
  const dataDir = path.resolve(cwd, parsed.CONVENANT_DATA_DIR);
  return {
    env: parsed.NODE_ENV,
    host: parsed.HOST,
    port: parsed.PORT,
    ...(parsed.DATABASE_URL ? { databaseUrl: parsed.DATABASE_URL } : {}),
    dataDir,
    policyDir: path.resolve(cwd, parsed.CONVENANT_POLICY_DIR),
    embeddedPgPort: parsed.EMBEDDED_PG_PORT,
    logLevel: parsed.LOG_LEVEL,
    publicUrl: (parsed.PUBLIC_URL ?? `http://${parsed.HOST}:${parsed.PORT}`).replace(/\/$/, ''),
    accessTokenTtlSeconds: parsed.ACCESS_TOKEN_TTL_SECONDS,
    assertionLeewaySeconds: parsed.ASSERTION_LEEWAY_SECONDS,
    keysDir: path.join(dataDir, 'keys'),
    ...(parsed.BSN_HMAC_KEY ? { bsnHmacKey: Buffer.from(parsed.BSN_HMAC_KEY, 'base64') } : {}),
    ...(parsed.BSN_ENCRYPTION_KEY
      ? { bsnEncryptionKey: Buffer.from(parsed.BSN_ENCRYPTION_KEY, 'base64') }
      : {}),
    demo: parsed.DEMO ? parsed.DEMO === 'true' : parsed.NODE_ENV === 'development',
    sealIntervalMs: parsed.SEAL_INTERVAL_MS,
    checkpointEvery: parsed.CHECKPOINT_EVERY,
    checkpointIntervalMs: parsed.CHECKPOINT_INTERVAL_MS,
    unsealedMaxMs: parsed.UNSEALED_MAX_MS ?? Math.max(5 * parsed.SEAL_INTERVAL_MS, 30_000),
    migrations: parsed.MIGRATIONS ?? (parsed.NODE_ENV === 'production' ? 'check' : 'apply'),
    ...(parsed.METRICS_PORT ? { metricsPort: parsed.METRICS_PORT } : {}),
    metricsHost: parsed.METRICS_HOST,
    shutdownDelayMs: parsed.SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    rateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE,
    anonRateLimit: parsed.ANON_RATE_LIMIT,
    tokenRateLimit: parsed.TOKEN_RATE_LIMIT,
    anonRefusalLogBudget: parsed.ANON_REFUSAL_LOG_BUDGET,
    corsOrigins: (parsed.CORS_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== ''),
    ...(parsed.TRUST_PROXY
      ? {
          trustProxy:
            parsed.TRUST_PROXY === 'true'
              ? (true as const)
              : parsed.TRUST_PROXY.split(',').map((a) => a.trim()),
        }
      : {}),
    ...(parsed.TLS_CERT_FILE && parsed.TLS_KEY_FILE
      ? {
          tls: {
            certFile: path.resolve(cwd, parsed.TLS_CERT_FILE),
            keyFile: path.resolve(cwd, parsed.TLS_KEY_FILE),
            ...(parsed.TLS_CLIENT_CA_FILE
              ? { clientCaFile: path.resolve(cwd, parsed.TLS_CLIENT_CA_FILE) }
              : {}),
          },
        }
      : {}),
    emergencyWindowMinutes: parsed.EMERGENCY_WINDOW_MINUTES,
    policyWatch: parsed.POLICY_WATCH ? parsed.POLICY_WATCH === 'true' : parsed.NODE_ENV === 'development',
    accessLogRetention: parsed.ACCESS_LOG_RETENTION,
  };
}
