import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { testDatabaseUrl } from '../../src/config';
import { Database, embeddedDatabase, knexForPostgres, openEmbedded } from '../../src/db/database';

export interface TestDatabase extends Database {
  /** Connection string of the per-file database on the PostgreSQL server; null on PGlite. */
  url: string | null;
}

/** A fresh database for one test file, copied from the migrated template made by global-setup. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = process.env.TRIALDESK_TEST_TEMPLATE;
  if (!template)
    throw new Error(
      'TRIALDESK_TEST_TEMPLATE is not set: run the tests through jest (global-setup builds the template)',
    );
  const serverUrl = testDatabaseUrl();
  if (serverUrl) {
    const name = `trialdesk_t_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const knex = knexForPostgres(url.toString(), 10);
    return {
      knex,
      kind: 'postgresql',
      url: url.toString(),
      close: async () => {
        await knex.destroy();
        const cleanup = new Client({ connectionString: serverUrl });
        await cleanup.connect();
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await cleanup.end();
      },
    };
  }
  const pglite = await openEmbedded({ dataDir: null, loadDataDir: new Blob([fs.readFileSync(template)]) });
  return { ...embeddedDatabase(pglite), url: null };
}
