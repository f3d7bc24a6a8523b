import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { testDatabaseUrl } from '../../src/config';
import { knexForPglite, knexForPostgres, migrateToLatest, openEmbedded } from '../../src/db/database';
import { TEST_SHARED_BUFFERS } from './database';
import { buildConsole } from '../../scripts/build-console';

/**
 * Builds one migrated template per test run; every test file then starts from a copy of it
 * (CREATE DATABASE ... TEMPLATE on PostgreSQL, a data-directory dump on PGlite) instead of
 * migrating again.
 */
export default async function globalSetup(): Promise<void> {
  // The console is served from dist/console; build it once per run so tests see the current source.
  buildConsole();
  const serverUrl = testDatabaseUrl();
  if (serverUrl) {
    const template = `trialdesk_tpl_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${template}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${template}`;
    const knex = knexForPostgres(url.toString(), 1);
    await migrateToLatest(knex);
    await knex.destroy();
    process.env.TRIALDESK_TEST_TEMPLATE = template;
    return;
  }
  const pglite = await openEmbedded({ dataDir: null, sharedBuffers: TEST_SHARED_BUFFERS });
  const knex = knexForPglite(pglite);
  await migrateToLatest(knex);
  // Every test file unpacks this tarball, so keep it small. The tests connect to `postgres` only and never
  // create databases: template0 and template1 go (41 MB -> 26 MB), and a checkpoint leaves no WAL to replay
  // when each copy starts.
  for (const template of ['template0', 'template1']) {
    await knex.raw(`ALTER DATABASE ${template} IS_TEMPLATE false`);
    await knex.raw(`DROP DATABASE ${template}`);
  }
  await knex.raw('CHECKPOINT');
  const dump = await pglite.dumpDataDir('none');
  await knex.destroy();
  const file = path.join(os.tmpdir(), `trialdesk-template-${process.pid}.tar`);
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  process.env.TRIALDESK_TEST_TEMPLATE = file;
}
