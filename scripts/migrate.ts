/*
 * Applies pending migrations to the configured database (DATABASE_URL, or the embedded one in DATA_DIR)
 * and exits. The service also migrates on start-up; this is for deployments that migrate as a separate step.
 */
import { loadConfig } from '../src/config';
import { createDb, migrateToLatest } from '../src/db/database';

async function main(): Promise<void> {
  const config = loadConfig();
  const db = await createDb(config.database);
  try {
    const applied = await migrateToLatest(db.knex);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
  } finally {
    await db.close();
  }
}

main().catch((error) => {
  process.stderr.write(`migrate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
