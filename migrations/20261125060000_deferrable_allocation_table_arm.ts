import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Editing a trial in set-up rewrites its arms (delete, insert) inside one transaction. The uploaded
 * allocation table of a `list` trial references the arms, so that reference is checked at commit
 * instead of per statement: a PATCH that keeps the arms keeps the table, and one that changes arms
 * or randomization discards the table in the same transaction (trials.service).
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    ALTER TABLE allocation_table_rows ALTER CONSTRAINT allocation_table_rows_trial_id_arm_code_fkey DEFERRABLE INITIALLY DEFERRED;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    ALTER TABLE allocation_table_rows ALTER CONSTRAINT allocation_table_rows_trial_id_arm_code_fkey NOT DEFERRABLE;
  `);
}
