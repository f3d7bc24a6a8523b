import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Intervention delivery (issue #15): the delivery plan and fidelity scale in the trial configuration,
 * sessions (corrected in place, every correction kept; retracted by a separate fact), supervision,
 * fidelity reviews and recorded protocol deviations.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    ALTER TABLE trials
      ADD COLUMN delivery jsonb,
      ADD COLUMN fidelity_scale jsonb,
      ADD COLUMN delivery_amendments jsonb NOT NULL DEFAULT '[]';
    COMMENT ON COLUMN trials.delivery IS 'Delivery plan per arm (session kinds, interval, minutes, minimumSessions), tools, supervision plan';
    COMMENT ON COLUMN trials.fidelity_scale IS 'Fidelity scale: areas, items scored 1-5, high-fidelity threshold';
    COMMENT ON COLUMN trials.delivery_amendments IS 'Amendments of delivery and fidelity scale once active (effectiveOn, reason, changes)';

    CREATE TABLE delivery_sessions (
      trial_id uuid NOT NULL,
      session_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      case_worker_id uuid NOT NULL,
      case_worker_arm text NOT NULL,
      session_date date NOT NULL,
      duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
      mode text NOT NULL CHECK (mode IN ('in_person', 'phone', 'video')),
      kind text NOT NULL,
      tools_used text[] NOT NULL,
      notes text,
      flags text[] NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, session_id),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id),
      FOREIGN KEY (trial_id, case_worker_id) REFERENCES participants (trial_id, participant_id),
      FOREIGN KEY (trial_id, case_worker_arm) REFERENCES trial_arms (trial_id, code)
    );
    COMMENT ON TABLE delivery_sessions IS 'Sessions delivered to randomized service users; corrected in place (kept in session_corrections)';
    COMMENT ON COLUMN delivery_sessions.case_worker_arm IS 'Arm the worker was assigned to when the session was recorded or last corrected';
    COMMENT ON COLUMN delivery_sessions.flags IS 'Possible contamination or off-plan delivery (SessionFlag codes); each is a derived deviation';
    CREATE INDEX delivery_sessions_by_participant ON delivery_sessions (trial_id, participant_id, session_date);
    CREATE INDEX delivery_sessions_by_worker ON delivery_sessions (trial_id, case_worker_id, session_date);

    CREATE TABLE session_corrections (
      trial_id uuid NOT NULL,
      session_id uuid NOT NULL,
      correction integer NOT NULL CHECK (correction >= 1),
      reason text NOT NULL,
      before jsonb NOT NULL,
      corrected_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      corrected_by uuid,
      PRIMARY KEY (trial_id, session_id, correction),
      FOREIGN KEY (trial_id, session_id) REFERENCES delivery_sessions (trial_id, session_id)
    );
    COMMENT ON TABLE session_corrections IS 'Append-only: the session fields before each correction';

    CREATE TABLE session_retractions (
      trial_id uuid NOT NULL,
      session_id uuid NOT NULL,
      reason text NOT NULL,
      retracted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      retracted_by uuid,
      PRIMARY KEY (trial_id, session_id),
      FOREIGN KEY (trial_id, session_id) REFERENCES delivery_sessions (trial_id, session_id)
    );
    COMMENT ON TABLE session_retractions IS 'One per session; the session stays, marked retracted, and counts nowhere';

    CREATE TABLE supervision_sessions (
      trial_id uuid NOT NULL,
      supervision_id uuid NOT NULL,
      supervised_on date NOT NULL,
      kind text NOT NULL CHECK (kind IN ('individual', 'group', 'field_mentoring')),
      site_code text NOT NULL,
      case_worker_ids uuid[] NOT NULL CHECK (cardinality(case_worker_ids) >= 1),
      supervisor text NOT NULL,
      duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, supervision_id),
      FOREIGN KEY (trial_id, site_code) REFERENCES trial_sites (trial_id, code)
    );
    COMMENT ON TABLE supervision_sessions IS 'Supervision of case workers (individual, group, field mentoring)';
    COMMENT ON COLUMN supervision_sessions.case_worker_ids IS 'Case-worker participants of the trial who attended';

    CREATE TABLE fidelity_reviews (
      trial_id uuid NOT NULL,
      review_id uuid NOT NULL,
      site_code text NOT NULL,
      reviewed_on date NOT NULL,
      reviewers text[] NOT NULL,
      sources text[] NOT NULL,
      scores jsonb NOT NULL,
      scale jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, review_id),
      FOREIGN KEY (trial_id, site_code) REFERENCES trial_sites (trial_id, code)
    );
    COMMENT ON TABLE fidelity_reviews IS 'Fidelity reviews of a site, scored item by item';
    COMMENT ON COLUMN fidelity_reviews.scale IS 'The fidelity scale as it was when the review was recorded (totals keep their maximum)';

    CREATE TABLE protocol_deviations (
      trial_id uuid NOT NULL,
      deviation_id uuid NOT NULL,
      participant_id uuid,
      site_code text,
      category text NOT NULL,
      severity text NOT NULL CHECK (severity IN ('minor', 'major')),
      occurred_on date NOT NULL,
      description text NOT NULL,
      corrective_action text,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, deviation_id),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id),
      FOREIGN KEY (trial_id, site_code) REFERENCES trial_sites (trial_id, code)
    );
    COMMENT ON TABLE protocol_deviations IS 'Deviations recorded by staff; derived ones (flagged sessions) are computed, not stored';
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    DROP TABLE protocol_deviations;
    DROP TABLE fidelity_reviews;
    DROP TABLE supervision_sessions;
    DROP TABLE session_retractions;
    DROP TABLE session_corrections;
    DROP TABLE delivery_sessions;
    ALTER TABLE trials DROP COLUMN delivery_amendments, DROP COLUMN fidelity_scale, DROP COLUMN delivery;
  `,
  );
}
