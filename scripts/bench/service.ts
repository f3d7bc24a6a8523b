import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createApp } from '../../src/app';
import { createTrialdeskClient, TrialdeskClient } from '../../src/client';
import type { DatabaseConfig, DatabaseLimits } from '../../src/config';
import { createDb, Database, migrateToLatest } from '../../src/db/database';
import { ensureBootstrapAdminKey } from '../../src/features/api-keys/api-keys.service';

export interface RunningService {
  db: Database;
  baseUrl: string;
  adminKey: string;
  client: TrialdeskClient;
  close(): Promise<void>;
}

/**
 * The service as `src/server.ts` runs it (migrated database, bootstrap admin key), listening on an ephemeral port in
 * this process.
 */
export async function startService(
  config: DatabaseConfig,
  options: { now?: () => Date } = {},
): Promise<RunningService> {
  const db = await createDb(config);
  let server: Server;
  let adminKey: string;
  try {
    await migrateToLatest(db.knex);
    const bootstrap = await ensureBootstrapAdminKey(db.knex, null);
    if (bootstrap.kind !== 'generated') throw new Error('the benchmark expects an empty database');
    adminKey = bootstrap.key;
    const app = createApp({ db, ...(options.now ? { now: options.now } : {}) });
    server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
  } catch (error) {
    await db.close();
    throw error;
  }
  // Keep idle client connections open longer than the pauses between benchmark phases.
  server.keepAliveTimeout = 60_000;
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    db,
    baseUrl,
    adminKey,
    client: createTrialdeskClient({ baseUrl, apiKey: adminKey }),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.close();
    },
  };
}

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty database `trialdesk_bench_<random>` on the server of `serverUrl`; `drop()` removes it. */
export async function createScratchDatabase(serverUrl: string): Promise<ScratchDatabase> {
  const name = `trialdesk_bench_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const cleanup = new Client({ connectionString: serverUrl });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

export async function serverVersion(
  url: string,
): Promise<{ version: string; synchronousCommit: string; fsync: string; maxConnections: string }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const setting = async (name: string) =>
      ((await client.query(`SELECT current_setting('${name}') AS v`)).rows[0] as { v: string }).v;
    return {
      version: await setting('server_version'),
      synchronousCommit: await setting('synchronous_commit'),
      fsync: await setting('fsync'),
      maxConnections: await setting('max_connections'),
    };
  } finally {
    await client.end();
  }
}

export type EmbeddedStorage = 'memory' | 'file';

export function parseEmbeddedStorage(text: string | undefined): EmbeddedStorage {
  if (text === undefined || text === 'memory') return 'memory';
  if (text === 'file') return 'file';
  throw new Error(`--embedded-storage must be memory or file, not ${text}`);
}

/**
 * The embedded database for a benchmark: in memory (`dataDir: null`), or file-backed in a fresh directory under the
 * system's temporary directory, as `npm start` runs it by default (`DATA_DIR`, default `./data`). `remove()` deletes
 * that directory after the service has closed.
 */
export function embeddedBenchDatabase(
  storage: EmbeddedStorage,
  limits: DatabaseLimits,
): { config: DatabaseConfig; dataDir: string | null; remove(): void } {
  const dataDir = storage === 'file' ? fs.mkdtempSync(path.join(os.tmpdir(), 'trialdesk-bench-')) : null;
  return {
    config: { kind: 'embedded', dataDir, poolMax: 1, ...limits },
    dataDir,
    remove() {
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
