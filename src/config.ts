import path from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Limits that protect the database from one slow statement or a crowd of waiting requests. */
export interface DatabaseLimits {
  /** PostgreSQL's statement_timeout for every connection, in ms (0: none). */
  statementTimeoutMs: number;
  /** How long a request waits for a free pool connection before it is answered 503, in ms. */
  acquireTimeoutMs: number;
}

export type DatabaseConfig =
  | ({ kind: 'embedded'; dataDir: string | null; poolMax: 1 } & DatabaseLimits)
  | ({ kind: 'postgresql'; url: string; poolMax: number } & DatabaseLimits);

/** Requests per API key: a token bucket refilled at `perMinute`, holding at most `burst`. */
export interface RateLimitConfig {
  perMinute: number;
  burst: number;
}

export interface HttpConfig {
  /** null: no rate limiting (RATE_LIMIT_PER_MINUTE=0). */
  rateLimit: RateLimitConfig | null;
  /** Origins allowed to call the API from a browser; empty (the default) sends no CORS headers at all. */
  corsOrigins: string[];
}

export const DEFAULT_HTTP_CONFIG: HttpConfig = { rateLimit: { perMinute: 6000, burst: 600 }, corsOrigins: [] };
export const DEFAULT_DATABASE_LIMITS: DatabaseLimits = { statementTimeoutMs: 30_000, acquireTimeoutMs: 5_000 };

/** Console sessions: ended after `idleMinutes` without a request and `absoluteHours` after sign-in at the latest. */
export interface SessionConfig {
  idleMinutes: number;
  absoluteHours: number;
}

export const DEFAULT_SESSION_CONFIG: SessionConfig = { idleMinutes: 30, absoluteHours: 12 };

export interface Config {
  port: number;
  sessions: SessionConfig;
  database: DatabaseConfig;
  http: HttpConfig;
  /** A bootstrap admin key; its digest is stored at start-up. */
  adminApiKey: string | null;
  logLevel: LogLevel;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integerInRange(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** CORS_ORIGINS: comma-separated exact origins (scheme://host[:port]); no wildcards, so a key can never be used from any page. */
function parseOrigins(raw: string | undefined): string[] {
  if (!raw?.trim()) return [];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((origin) => {
      let url: URL;
      try {
        url = new URL(origin);
      } catch {
        throw new ConfigError(`CORS_ORIGINS: "${origin}" is not an origin like https://monitor.example.org`);
      }
      if (!/^https?:$/.test(url.protocol) || url.origin !== origin) {
        throw new ConfigError(
          `CORS_ORIGINS: "${origin}" is not an origin like https://monitor.example.org (scheme, host and port only, no path or wildcard)`,
        );
      }
      return origin;
    });
}

/** Parses and validates the environment once; the only place that knows variable names. */
export function parseConfig(env: Env, cwd: string = process.cwd()): Config {
  const port = integerInRange(env, 'PORT', 3000, 0, 65535);
  const databaseUrl = env.DATABASE_URL?.trim();
  const limits: DatabaseLimits = {
    statementTimeoutMs: integerInRange(
      env,
      'STATEMENT_TIMEOUT_MS',
      DEFAULT_DATABASE_LIMITS.statementTimeoutMs,
      0,
      3_600_000,
    ),
    acquireTimeoutMs: integerInRange(
      env,
      'DATABASE_ACQUIRE_TIMEOUT_MS',
      DEFAULT_DATABASE_LIMITS.acquireTimeoutMs,
      100,
      600_000,
    ),
  };
  let database: DatabaseConfig;
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
    }
    database = {
      kind: 'postgresql',
      url: databaseUrl,
      poolMax: integerInRange(env, 'DATABASE_POOL_MAX', 10, 1, 500),
      ...limits,
    };
  } else {
    database = { kind: 'embedded', dataDir: path.resolve(cwd, env.DATA_DIR || './data'), poolMax: 1, ...limits };
  }
  const perMinute = integerInRange(
    env,
    'RATE_LIMIT_PER_MINUTE',
    DEFAULT_HTTP_CONFIG.rateLimit!.perMinute,
    0,
    10_000_000,
  );
  const burst = integerInRange(env, 'RATE_LIMIT_BURST', DEFAULT_HTTP_CONFIG.rateLimit!.burst, 1, 10_000_000);
  const corsOrigins = parseOrigins(env.CORS_ORIGINS);
  const http: HttpConfig = { rateLimit: perMinute === 0 ? null : { perMinute, burst }, corsOrigins };
  const adminApiKey = env.ADMIN_API_KEY ? env.ADMIN_API_KEY : null;
  if (adminApiKey !== null && adminApiKey.length < 32) {
    // 32 characters of a random alphabet carry at least 128 bits for base16 and more for base64.
    throw new ConfigError('ADMIN_API_KEY must be at least 32 characters of random text (128 bits or more)');
  }
  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const sessions: SessionConfig = {
    idleMinutes: integerInRange(env, 'SESSION_IDLE_MINUTES', DEFAULT_SESSION_CONFIG.idleMinutes, 1, 24 * 60),
    absoluteHours: integerInRange(env, 'SESSION_ABSOLUTE_HOURS', DEFAULT_SESSION_CONFIG.absoluteHours, 1, 7 * 24),
  };
  if (sessions.idleMinutes > sessions.absoluteHours * 60)
    throw new ConfigError('SESSION_IDLE_MINUTES must not be longer than SESSION_ABSOLUTE_HOURS');
  return { port, sessions, database, http, adminApiKey, logLevel };
}

export function loadConfig(): Config {
  return parseConfig(process.env);
}

/** The PostgreSQL server the test suite uses instead of the embedded database, when set. */
export function testDatabaseUrl(): string | null {
  return process.env.TEST_DATABASE_URL?.trim() || null;
}
