/*
 * For the knex CLI (e.g. `npx knex migrate:make name -x ts`, `npx knex migrate:status`) against
 * a PostgreSQL server given by DATABASE_URL. The service itself migrates on start-up
 * (src/server.ts) through the same migration source, on either database.
 */
import type { Knex } from 'knex';
import { loadConfig } from './src/config';
import { migrationSource } from './src/db/migrations';

const config = loadConfig();
if (config.database.kind !== 'postgresql') {
  throw new Error(
    'knexfile.ts drives a PostgreSQL server: set DATABASE_URL. The embedded database migrates when the service starts.',
  );
}

const knexConfig: Knex.Config = {
  client: 'pg',
  connection: config.database.url,
  migrations: { migrationSource, extension: 'ts', directory: './migrations' },
};

export default knexConfig;
