import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Allocations migrated in with a running trial's history (issue #20) were decided by the system the trial left, not
 * by this trial's seed: they are marked with the import that wrote them, so that the allocation export and
 * scripts/verify-allocations.py can tell them from the allocations the published commitment covers.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    ALTER TABLE allocations ADD COLUMN import_id uuid;
    COMMENT ON COLUMN allocations.import_id IS 'The history import that wrote this allocation (its arm came from the previous system, not the seed); NULL when trialdesk randomized';
    COMMENT ON COLUMN randomization_strata.block_number IS 'Current permuted block (1-based); NULL for other methods and before the first allocation; 0 after a history import: block 0 (start 1, size = the highest imported sequence number) stands for the imported slots, so block 1, the first drawn from the seed, starts after them';
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(knex, `ALTER TABLE allocations DROP COLUMN import_id;`);
}
