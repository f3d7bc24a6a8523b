import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Source-data verification (#21): a monitor's mark that a record, or one item in it, was checked against the
 * source documents, with the fingerprint of the value verified; and the trial's key items, which SDV coverage
 * counts. Data queries raised by the automatic checks (soft ranges, missing items) say which check raised them, and
 * a check raises at most one query per item; an answer given through a correction of the queried record says so.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    CREATE TABLE sdv_marks (
      trial_id uuid NOT NULL,
      sdv_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('participant', 'consent', 'event', 'assessment', 'adverse_event', 'session')),
      record_id uuid NOT NULL,
      pointer text NOT NULL,
      participant_id uuid NOT NULL,
      verified_on date NOT NULL,
      value_hash text NOT NULL,
      verified_by uuid,
      marked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (trial_id, sdv_id),
      UNIQUE (trial_id, kind, record_id, pointer),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id)
    );
    COMMENT ON TABLE sdv_marks IS 'Source-data verification marks; a mark is valid while the value it names still has value_hash';
    COMMENT ON COLUMN sdv_marks.record_id IS 'Id of the record in the table of its kind (no foreign key: the kinds live in different tables)';
    COMMENT ON COLUMN sdv_marks.pointer IS 'JSON pointer to the item verified inside the record document; empty for the whole record';
    COMMENT ON COLUMN sdv_marks.verified_on IS 'Day of the monitoring visit on which the value was checked against the source';
    COMMENT ON COLUMN sdv_marks.value_hash IS 'SHA-256 of the canonical JSON of the value verified; a different current value clears the mark';
    COMMENT ON COLUMN sdv_marks.verified_by IS 'API key of the monitor (or admin) who marked it';

    CREATE TABLE sdv_key_items (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      kind text NOT NULL CHECK (kind IN ('participant', 'consent', 'event', 'assessment', 'adverse_event', 'session')),
      pointer text NOT NULL,
      PRIMARY KEY (trial_id, kind, pointer)
    );
    COMMENT ON TABLE sdv_key_items IS 'Items SDV coverage counts per record of a kind (e.g. assessment /values/hope)';

    ALTER TABLE data_queries ADD COLUMN auto_check text CHECK (auto_check IN ('soft_range', 'missing_item'));
    COMMENT ON COLUMN data_queries.auto_check IS 'The automatic check that raised the query; null for a query raised by a person';
    CREATE UNIQUE INDEX data_queries_one_per_check ON data_queries (trial_id, target_kind, target_id, pointer, auto_check)
      WHERE auto_check IS NOT NULL;

    ALTER TABLE data_query_messages ADD COLUMN via_correction boolean NOT NULL DEFAULT false;
    COMMENT ON COLUMN data_query_messages.via_correction IS 'An answer given by correcting the queried record through its own correction operation';
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    'ALTER TABLE data_query_messages DROP COLUMN via_correction; DROP INDEX data_queries_one_per_check; ALTER TABLE data_queries DROP COLUMN auto_check; DROP TABLE sdv_key_items; DROP TABLE sdv_marks;',
  );
}
