import path from 'node:path';
import { ConfigError, parseConfig } from './config';

describe('parseConfig', () => {
  it('defaults to port 3000 and the embedded database in ./data', () => {
    expect(parseConfig({}, '/srv/app')).toEqual({
      port: 3000,
      database: {
        kind: 'embedded',
        dataDir: path.resolve('/srv/app', './data'),
        poolMax: 1,
        statementTimeoutMs: 30000,
        acquireTimeoutMs: 5000,
      },
      http: { rateLimit: { perMinute: 6000, burst: 600 }, corsOrigins: [] },
      adminApiKey: null,
      logLevel: 'info',
      sessions: { idleMinutes: 30, absoluteHours: 12 },
    });
  });

  it('reads the console session lifetimes and refuses an idle timeout longer than the absolute one', () => {
    expect(parseConfig({ SESSION_IDLE_MINUTES: '15', SESSION_ABSOLUTE_HOURS: '8' }).sessions).toEqual({
      idleMinutes: 15,
      absoluteHours: 8,
    });
    expect(() => parseConfig({ SESSION_IDLE_MINUTES: '0' })).toThrow(ConfigError);
    expect(() => parseConfig({ SESSION_IDLE_MINUTES: '30m' })).toThrow(ConfigError);
    expect(() => parseConfig({ SESSION_IDLE_MINUTES: '120', SESSION_ABSOLUTE_HOURS: '1' })).toThrow(
      /SESSION_IDLE_MINUTES must not be longer/,
    );
  });

  it('switches to PostgreSQL when DATABASE_URL is set', () => {
    const config = parseConfig({
      DATABASE_URL: 'postgres://u@db:5432/trialdesk',
      DATABASE_POOL_MAX: '20',
      PORT: '8080',
      LOG_LEVEL: 'warn',
    });
    expect(config.database).toEqual({
      kind: 'postgresql',
      url: 'postgres://u@db:5432/trialdesk',
      poolMax: 20,
      statementTimeoutMs: 30000,
      acquireTimeoutMs: 5000,
    });
    expect(config.port).toBe(8080);
    expect(config.logLevel).toBe('warn');
  });

  it('resolves DATA_DIR against the working directory', () => {
    expect(parseConfig({ DATA_DIR: 'var/db' }, '/srv/app').database).toMatchObject({ dataDir: '/srv/app/var/db' });
  });

  it('reads the limits, the rate limit and the CORS origins', () => {
    const config = parseConfig({
      STATEMENT_TIMEOUT_MS: '2500',
      DATABASE_ACQUIRE_TIMEOUT_MS: '800',
      RATE_LIMIT_PER_MINUTE: '120',
      RATE_LIMIT_BURST: '10',
      CORS_ORIGINS: 'https://monitor.example.org, http://localhost:5173',
    });
    expect(config.database).toMatchObject({ statementTimeoutMs: 2500, acquireTimeoutMs: 800 });
    expect(config.http).toEqual({
      rateLimit: { perMinute: 120, burst: 10 },
      corsOrigins: ['https://monitor.example.org', 'http://localhost:5173'],
    });
  });

  it('turns rate limiting off with RATE_LIMIT_PER_MINUTE=0', () => {
    expect(parseConfig({ RATE_LIMIT_PER_MINUTE: '0' }).http.rateLimit).toBeNull();
  });

  it.each([
    [{ STATEMENT_TIMEOUT_MS: '-1' }, /STATEMENT_TIMEOUT_MS must be a whole number/],
    [{ DATABASE_ACQUIRE_TIMEOUT_MS: '10' }, /DATABASE_ACQUIRE_TIMEOUT_MS must be between/],
    [{ RATE_LIMIT_BURST: '0' }, /RATE_LIMIT_BURST must be between/],
    [{ CORS_ORIGINS: '*' }, /CORS_ORIGINS/],
    [{ CORS_ORIGINS: 'https://a.example/path' }, /no path or wildcard/],
    [{ CORS_ORIGINS: 'ftp://a.example' }, /CORS_ORIGINS/],
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be between/],
    [{ DATABASE_URL: 'mysql://x' }, /postgres/],
    [{ ADMIN_API_KEY: 'short' }, /at least 32 characters/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ DATABASE_URL: 'postgres://x/y', DATABASE_POOL_MAX: '0' }, /DATABASE_POOL_MAX/],
  ])('refuses %j', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });
});
