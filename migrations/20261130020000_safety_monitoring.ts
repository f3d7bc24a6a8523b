import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Safety and data monitoring (#21): the trial's reporting clocks, adverse events with their follow-up,
 * corrections and reports, and data queries with their conversation.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    CREATE TABLE safety_settings (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      time_zone text NOT NULL,
      initial_report_hours integer NOT NULL CHECK (initial_report_hours BETWEEN 1 AND 720),
      fatal_or_life_threatening_days integer NOT NULL CHECK (fatal_or_life_threatening_days BETWEEN 1 AND 90),
      other_serious_days integer NOT NULL CHECK (other_serious_days BETWEEN 1 AND 90),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (trial_id)
    );
    COMMENT ON TABLE safety_settings IS 'Reporting clocks of a trial; a trial without a row uses 24 h / 7 d / 15 d in UTC';
    COMMENT ON COLUMN safety_settings.time_zone IS 'IANA zone deadlines are shown in; they are computed in UTC';

    CREATE TABLE adverse_events (
      trial_id uuid NOT NULL,
      adverse_event_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      term text NOT NULL,
      onset_on date NOT NULL,
      severity text NOT NULL CHECK (severity IN ('mild', 'moderate', 'severe')),
      serious jsonb,
      relatedness text NOT NULL
        CHECK (relatedness IN ('not_related', 'unlikely', 'possible', 'probable', 'definite')),
      expected boolean NOT NULL,
      action text NOT NULL,
      reported_by text NOT NULL,
      aware_at timestamptz,
      outcome text CHECK (outcome IN ('recovered', 'recovering', 'not_recovered', 'recovered_with_sequelae',
        'fatal', 'unknown')),
      resolved_on date,
      reported_to_sponsor_at timestamptz,
      reported_to_ethics_at timestamptz,
      revision integer NOT NULL DEFAULT 0 CHECK (revision >= 0),
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, adverse_event_id),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id)
    );
    COMMENT ON TABLE adverse_events IS 'One adverse event as currently known; every change is kept in adverse_event_entries';
    COMMENT ON COLUMN adverse_events.serious IS 'null: not serious; else {"criteria": [...]} (ICH E2A criteria)';
    COMMENT ON COLUMN adverse_events.reported_by IS 'Who reported the event to the site (participant, case worker, clinician, …)';
    COMMENT ON COLUMN adverse_events.aware_at IS 'When the site became aware: the reporting clocks start here';
    COMMENT ON COLUMN adverse_events.outcome IS 'Last outcome given by a follow-up; null while none was given';
    COMMENT ON COLUMN adverse_events.revision IS 'Follow-ups, corrections and reports so far (the entry numbers)';
    CREATE INDEX adverse_events_by_participant ON adverse_events (trial_id, participant_id, onset_on);

    CREATE TABLE adverse_event_entries (
      trial_id uuid NOT NULL,
      adverse_event_id uuid NOT NULL,
      entry integer NOT NULL CHECK (entry >= 1),
      kind text NOT NULL CHECK (kind IN ('follow_up', 'correction', 'report')),
      note text,
      before jsonb NOT NULL,
      after jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, adverse_event_id, entry),
      FOREIGN KEY (trial_id, adverse_event_id) REFERENCES adverse_events (trial_id, adverse_event_id)
    );
    COMMENT ON TABLE adverse_event_entries IS 'Append-only history of an adverse event: the changed fields before and after';
    COMMENT ON COLUMN adverse_event_entries.note IS 'Follow-up narrative, or the reason of a correction';

    CREATE TABLE data_queries (
      trial_id uuid NOT NULL,
      query_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      target_kind text NOT NULL,
      target_id uuid NOT NULL,
      pointer text NOT NULL,
      status text NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
      raised_at timestamptz NOT NULL,
      raised_by uuid,
      status_changed_at timestamptz NOT NULL,
      PRIMARY KEY (trial_id, query_id),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id)
    );
    COMMENT ON TABLE data_queries IS 'A query on one recorded item (record id + JSON pointer); the status moves only forward or re-opens';
    COMMENT ON COLUMN data_queries.participant_id IS 'The participant the queried record belongs to (its site decides scope)';
    COMMENT ON COLUMN data_queries.raised_at IS 'From the application clock (ctx.now), so ageing is testable';
    CREATE INDEX data_queries_by_status ON data_queries (trial_id, status, raised_at);

    CREATE TABLE data_query_messages (
      trial_id uuid NOT NULL,
      query_id uuid NOT NULL,
      seq integer NOT NULL CHECK (seq >= 1),
      action text NOT NULL CHECK (action IN ('raise', 'answer', 'close', 'reopen')),
      text text NOT NULL,
      at timestamptz NOT NULL,
      by_key uuid,
      by_role text NOT NULL,
      PRIMARY KEY (trial_id, query_id, seq),
      FOREIGN KEY (trial_id, query_id) REFERENCES data_queries (trial_id, query_id)
    );
    COMMENT ON TABLE data_query_messages IS 'Append-only conversation of a query: what each action said, by whom';
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    DROP TABLE data_query_messages;
    DROP TABLE data_queries;
    DROP TABLE adverse_event_entries;
    DROP TABLE adverse_events;
    DROP TABLE safety_settings;
  `,
  );
}
