import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';

type Migration = Knex.Migration;

function findMigrationsDir(): string {
  // Walk up from this file: it is migrations/ beside src/ both in the source tree and in dist/.
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'migrations');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`no migrations directory above ${__dirname}`);
}

const MIGRATION_FILE = /^(\d{14}_[a-z0-9_]+)\.(ts|js)$/;

/**
 * Loads the timestamped files in migrations/ by name without extension, so that the same migration
 * is recognised whether it runs from TypeScript (tsx, jest) or from the compiled JavaScript.
 */
export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    const files = fs
      .readdirSync(findMigrationsDir())
      .filter((file) => MIGRATION_FILE.test(file) && !file.endsWith('.d.ts'));
    return [...new Set(files.map((file) => MIGRATION_FILE.exec(file)![1]!))].sort();
  },
  getMigrationName(name) {
    return name;
  },
  async getMigration(name) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- knex loads migrations synchronously by path
    return require(path.join(findMigrationsDir(), name)) as Migration;
  },
};
