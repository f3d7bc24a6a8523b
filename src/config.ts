import path from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type DatabaseConfig =
  | { kind: 'embedded'; dataDir: string | null; poolMax: 1 }
  | { kind: 'postgresql'; url: string; poolMax: number };

export interface Config {
  port: number;
  database: DatabaseConfig;
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

/** Parses and validates the environment once; the only place that knows variable names. */
export function parseConfig(env: Env, cwd: string = process.cwd()): Config {
  const port = integerInRange(env, 'PORT', 3000, 0, 65535);
  const databaseUrl = env.DATABASE_URL?.trim();
  let database: DatabaseConfig;
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
    }
    database = { kind: 'postgresql', url: databaseUrl, poolMax: integerInRange(env, 'DATABASE_POOL_MAX', 10, 1, 500) };
  } else {
    database = { kind: 'embedded', dataDir: path.resolve(cwd, env.DATA_DIR || './data'), poolMax: 1 };
  }
  const adminApiKey = env.ADMIN_API_KEY ? env.ADMIN_API_KEY : null;
  if (adminApiKey !== null && adminApiKey.length < 32) {
    // 32 characters of a random alphabet carry at least 128 bits for base16 and more for base64.
    throw new ConfigError('ADMIN_API_KEY must be at least 32 characters of random text (128 bits or more)');
  }
  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  return { port, database, adminApiKey, logLevel };
}

export function loadConfig(): Config {
  return parseConfig(process.env);
}

/** The PostgreSQL server the test suite uses instead of the embedded database, when set. */
export function testDatabaseUrl(): string | null {
  return process.env.TEST_DATABASE_URL?.trim() || null;
}
