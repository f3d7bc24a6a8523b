import { createTestDatabase, TestDatabase } from './support/database';

/** Small global tables that Citus would replicate to every node (docs/scaling.md). */
const REFERENCE_TABLES = new Set([
  'trials',
  'api_keys',
  // Console users and their sessions (#17): people, like API keys, belong to no one trial.
  'users',
  'sessions',
  // Console preferences per caller (#17): of a user or a key, about no trial.
  'principal_preferences',
  'system_audit_events',
  'system_audit_chain_head',
  'knex_migrations',
  'knex_migrations_lock',
]);

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.close());

interface ConstraintRow {
  table_name: string;
  constraint_name: string;
  constraint_type: 'p' | 'u';
  columns: string[];
}

export function violations(
  tables: { table_name: string; has_trial_id: boolean }[],
  constraints: ConstraintRow[],
): string[] {
  const problems: string[] = [];
  for (const table of tables) {
    if (REFERENCE_TABLES.has(table.table_name)) continue;
    if (!table.has_trial_id) problems.push(`${table.table_name} has no trial_id column`);
  }
  const withPrimaryKey = new Set(constraints.filter((c) => c.constraint_type === 'p').map((c) => c.table_name));
  for (const table of tables) {
    if (!REFERENCE_TABLES.has(table.table_name) && !withPrimaryKey.has(table.table_name))
      problems.push(`${table.table_name} has no primary key`);
  }
  for (const c of constraints) {
    if (REFERENCE_TABLES.has(c.table_name)) continue;
    if (!c.columns.includes('trial_id'))
      problems.push(`${c.table_name}.${c.constraint_name} does not include trial_id`);
  }
  return problems;
}

describe('schema distribution rule', () => {
  it('every table outside the reference tables carries trial_id in every primary key and unique constraint', async () => {
    const tables = (
      await db.knex.raw(`
        SELECT c.relname AS table_name,
               EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'trial_id' AND NOT a.attisdropped) AS has_trial_id
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`)
    ).rows;
    const constraints = (
      await db.knex.raw(`
        SELECT t.relname AS table_name, k.conname AS constraint_name, k.contype AS constraint_type,
               array_agg(a.attname::text ORDER BY a.attname) AS columns
          FROM pg_constraint k
          JOIN pg_class t ON t.oid = k.conrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (k.conkey)
         WHERE n.nspname = current_schema() AND k.contype IN ('p', 'u')
         GROUP BY t.relname, k.conname, k.contype`)
    ).rows;
    const uniqueIndexes = (
      await db.knex.raw(`
        SELECT t.relname AS table_name, i.relname AS constraint_name, 'u' AS constraint_type,
               array_agg(a.attname::text ORDER BY a.attname) AS columns
          FROM pg_index x
          JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_class t ON t.oid = x.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (x.indkey)
         WHERE n.nspname = current_schema() AND x.indisunique AND NOT x.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
         GROUP BY t.relname, i.relname`)
    ).rows;
    expect(tables.length).toBeGreaterThan(5);
    expect(violations(tables, [...constraints, ...uniqueIndexes])).toEqual([]);
  });

  it('would catch a table that breaks the rule', () => {
    expect(
      violations(
        [
          { table_name: 'participants', has_trial_id: true },
          { table_name: 'orphans', has_trial_id: false },
        ],
        [
          { table_name: 'participants', constraint_name: 'participants_pkey', constraint_type: 'p', columns: ['id'] },
          {
            table_name: 'participants',
            constraint_name: 'participants_label_key',
            constraint_type: 'u',
            columns: ['label', 'trial_id'],
          },
        ],
      ),
    ).toEqual([
      'orphans has no trial_id column',
      'orphans has no primary key',
      'participants.participants_pkey does not include trial_id',
    ]);
  });
});
