import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Console (#17): electronic signatures (21 CFR 11.200) kept with the records they sign — a randomization and a
 * consent withdrawal done by a signed-in person — and preferences remembered per caller on the server.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    ALTER TABLE allocations ADD COLUMN signature jsonb;
    COMMENT ON COLUMN allocations.signature IS
      'Electronic signature of a console user: {userId, name, signedAt, meaning}; null when an API key randomized';
    ALTER TABLE consent_withdrawals ADD COLUMN signature jsonb;
    COMMENT ON COLUMN consent_withdrawals.signature IS
      'Electronic signature of a console user: {userId, name, signedAt, meaning}; null when an API key recorded it';

    CREATE TABLE principal_preferences (
      principal_id uuid PRIMARY KEY,
      language text NOT NULL CHECK (language IN ('en', 'zh-HK')),
      updated_at timestamptz NOT NULL
    );
    COMMENT ON TABLE principal_preferences IS
      'Console preferences per caller; not about a trial, so no trial_id (like users and api_keys)';
    COMMENT ON COLUMN principal_preferences.principal_id IS 'A user id or an API key id (Principal.keyId)';
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `DROP TABLE principal_preferences;
     ALTER TABLE consent_withdrawals DROP COLUMN signature;
     ALTER TABLE allocations DROP COLUMN signature;`,
  );
}
