import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app';
import { createTrialdeskClient } from '../../src/client';
import { DEFAULT_DATABASE_LIMITS } from '../../src/config';
import { createDb, migrateToLatest } from '../../src/db/database';
import type { RunningService } from '../bench/service';

/**
 * The service on a database that already holds data (a restored backup), started the way
 * `src/server.ts` starts it: migrations first (a restore of the current schema needs none, which the
 * caller checks), then listening on an ephemeral port. No key is created: the key the source service
 * issued was restored with the data, so `adminKey` is the source's.
 */
export async function startServiceOnExistingDatabase(
  url: string,
  adminKey: string,
): Promise<RunningService & { migrationsApplied: string[] }> {
  const db = await createDb({ kind: 'postgresql', url, poolMax: 10, ...DEFAULT_DATABASE_LIMITS });
  let server: Server;
  let migrationsApplied: string[];
  try {
    migrationsApplied = await migrateToLatest(db.knex);
    const app = createApp({ db });
    server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
  } catch (error) {
    await db.close();
    throw error;
  }
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    db,
    baseUrl,
    adminKey,
    migrationsApplied,
    client: createTrialdeskClient({ baseUrl, apiKey: adminKey }),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.close();
    },
  };
}
