import { plainToInstance } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import path from 'node:path';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const NODE_ENVS = ['development', 'production', 'test'] as const;

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
  @IsIn(['true', 'false'], { message: 'DEMO must be true or false' })
  DEMO?: 'true' | 'false';

  @Matches(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/, {
    message: 'ACCESS_LOG_RETENTION must be an ISO-8601 duration, e.g. P5Y',
  })
  ACCESS_LOG_RETENTION = 'P5Y';
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
  'SEAL_INTERVAL_MS',
  'CHECKPOINT_EVERY',
  'CHECKPOINT_INTERVAL_MS',
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
    keysDir: path.join(dataDir, 'keys'),
    ...(parsed.BSN_HMAC_KEY ? { bsnHmacKey: Buffer.from(parsed.BSN_HMAC_KEY, 'base64') } : {}),
    ...(parsed.BSN_ENCRYPTION_KEY
      ? { bsnEncryptionKey: Buffer.from(parsed.BSN_ENCRYPTION_KEY, 'base64') }
      : {}),
    demo: parsed.DEMO ? parsed.DEMO === 'true' : parsed.NODE_ENV === 'development',
    sealIntervalMs: parsed.SEAL_INTERVAL_MS,
    checkpointEvery: parsed.CHECKPOINT_EVERY,
    checkpointIntervalMs: parsed.CHECKPOINT_INTERVAL_MS,
    accessLogRetention: parsed.ACCESS_LOG_RETENTION,
  };
}
