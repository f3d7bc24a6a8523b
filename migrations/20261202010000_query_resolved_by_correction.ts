import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Data queries (#21): an open query raised by an automatic check is closed by the correction that puts its item
 * right, with a message of its own, action 'resolve' (the query's status becomes 'closed', as a monitor's close).
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    ALTER TABLE data_query_messages DROP CONSTRAINT data_query_messages_action_check;
    ALTER TABLE data_query_messages ADD CONSTRAINT data_query_messages_action_check
      CHECK (action IN ('raise', 'answer', 'close', 'reopen', 'resolve'));
    COMMENT ON COLUMN data_query_messages.action IS
      'raise, answer, close, reopen (steps taken by people) or resolve (a correction put right the item an automatic check queried)';
  `,
  );
}

/** Fails while a 'resolve' message exists: the append-only conversation is not rewritten to go back. */
export async function down(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    COMMENT ON COLUMN data_query_messages.action IS NULL;
    ALTER TABLE data_query_messages DROP CONSTRAINT data_query_messages_action_check;
    ALTER TABLE data_query_messages ADD CONSTRAINT data_query_messages_action_check
      CHECK (action IN ('raise', 'answer', 'close', 'reopen'));
  `,
  );
}
