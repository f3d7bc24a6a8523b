import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * The incentive ledger: append-only entries, an issue and (perhaps) one reversing void per issue.
 * Amounts are integer minor units with their currency, copied from the incentive type at issue time.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    CREATE TABLE incentive_ledger (
      trial_id uuid NOT NULL,
      entry_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      incentive_code text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('issue', 'void')),
      amount_minor bigint NOT NULL,
      currency char(3) NOT NULL,
      issued_on date NOT NULL,
      reference text,
      note text,
      voids_entry_id uuid,
      reason text,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, entry_id),
      UNIQUE (trial_id, voids_entry_id),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id),
      FOREIGN KEY (trial_id, incentive_code) REFERENCES incentive_types (trial_id, code),
      FOREIGN KEY (trial_id, voids_entry_id) REFERENCES incentive_ledger (trial_id, entry_id),
      CHECK ((kind = 'issue') = (voids_entry_id IS NULL)),
      CHECK ((kind = 'issue') = (amount_minor > 0)),
      CHECK (kind = 'void' OR reference IS NOT NULL),
      CHECK (kind = 'issue' OR reason IS NOT NULL)
    );
    COMMENT ON TABLE incentive_ledger IS 'Append-only: corrections are void entries that reverse an issue; nothing is edited or deleted';
    COMMENT ON COLUMN incentive_ledger.amount_minor IS 'Minor units of currency, copied from the incentive type at issue time; negative for a void';
    COMMENT ON COLUMN incentive_ledger.issued_on IS 'Date the incentive was handed over (for a void, the date of the entry it reverses)';
    COMMENT ON COLUMN incentive_ledger.reference IS 'E.g. the coupon serial; unique per trial among issues';
    COMMENT ON COLUMN incentive_ledger.voids_entry_id IS 'For a void: the issue it reverses (at most one void per issue)';
    CREATE UNIQUE INDEX incentive_ledger_reference ON incentive_ledger (trial_id, reference) WHERE kind = 'issue';
    CREATE INDEX incentive_ledger_by_participant ON incentive_ledger (trial_id, participant_id);

    CREATE FUNCTION refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the incentive ledger is append-only: % is refused; void an entry instead', TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END;
    $$;
    CREATE TRIGGER incentive_ledger_append_only BEFORE UPDATE OR DELETE ON incentive_ledger
      FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
    CREATE TRIGGER incentive_ledger_no_truncate BEFORE TRUNCATE ON incentive_ledger
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    DROP TABLE incentive_ledger;
    DROP FUNCTION refuse_ledger_change();
  `);
}
