import path from 'node:path';
import { ConfigError, parseConfig } from './config';

describe('parseConfig', () => {
  it('defaults to port 3000 and the embedded database in ./data', () => {
    expect(parseConfig({}, '/srv/app')).toEqual({
      port: 3000,
      database: { kind: 'embedded', dataDir: path.resolve('/srv/app', './data'), poolMax: 1 },
      adminApiKey: null,
      logLevel: 'info',
    });
  });

  it('switches to PostgreSQL when DATABASE_URL is set', () => {
    const config = parseConfig({ DATABASE_URL: 'postgres://u@db:5432/trialdesk', DATABASE_POOL_MAX: '20', PORT: '8080', LOG_LEVEL: 'warn' });
    expect(config.database).toEqual({ kind: 'postgresql', url: 'postgres://u@db:5432/trialdesk', poolMax: 20 });
    expect(config.port).toBe(8080);
    expect(config.logLevel).toBe('warn');
  });

  it('resolves DATA_DIR against the working directory', () => {
    expect(parseConfig({ DATA_DIR: 'var/db' }, '/srv/app').database).toMatchObject({ dataDir: '/srv/app/var/db' });
  });

  it.each([
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
