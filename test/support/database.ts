import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { testDatabaseUrl } from '../../src/config';
import { DEFAULT_DATABASE_LIMITS } from '../../src/config';
import { Database, embeddedDatabase, knexForPostgres, migrateToLatest, openEmbedded } from '../../src/db/database';

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
    // Bursts of hundreds of concurrent requests test correctness, not latency (the benchmarks and the
    // pool-exhaustion drill cover waiting): requests may queue for a connection for up to 60 s here.
    const knex = knexForPostgres(url.toString(), 10, { ...DEFAULT_DATABASE_LIMITS, acquireTimeoutMs: 60_000 });
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
  return { ...(await openEmbeddedCopy(template)), url: null };
}

/** Test databases are tiny; a small buffer pool halves PGlite's start-up (see EmbeddedOptions.sharedBuffers). */
export const TEST_SHARED_BUFFERS = '16MB';

/**
 * PGlite reads `loadDataDir` with Blob.arrayBuffer(), which on Node 20 costs ~0.6 s of CPU for the 26 MB
 * template (it copies chunk by chunk); this Blob hands over the bytes already read from the file.
 */
class TarballBlob extends Blob {
  constructor(private readonly tarball: Buffer) {
    super([], { type: 'application/x-tar' });
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    const { buffer, byteOffset, byteLength } = this.tarball;
    return Promise.resolve(buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer);
  }
}

async function openEmbeddedCopy(templateFile: string): Promise<Database> {
  const loadDataDir = new TarballBlob(fs.readFileSync(templateFile));
  return embeddedDatabase(await openEmbedded({ dataDir: null, loadDataDir, sharedBuffers: TEST_SHARED_BUFFERS }));
}

/**
 * An embedded database whatever TEST_DATABASE_URL says (for tests of PGlite itself): a copy of the template
 * when the run is on PGlite, otherwise a freshly initialised and migrated one.
 */
export async function createEmbeddedTestDatabase(): Promise<Database> {
  const template = process.env.TRIALDESK_TEST_TEMPLATE;
  if (template && !testDatabaseUrl()) return openEmbeddedCopy(template);
  const db = embeddedDatabase(await openEmbedded({ dataDir: null, sharedBuffers: TEST_SHARED_BUFFERS }));
  await migrateToLatest(db.knex);
  return db;
}
