import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Follow-up schedule: visits and measures in the trial configuration, one assessment per participant
 * and visit (corrected in place, every correction kept), and missed visits retracted like events.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    ALTER TABLE trials
      ADD COLUMN visits jsonb NOT NULL DEFAULT '[]',
      ADD COLUMN measures jsonb NOT NULL DEFAULT '[]',
      ADD COLUMN primary_visit text,
      ADD COLUMN follow_up_amendments jsonb NOT NULL DEFAULT '[]';
    COMMENT ON COLUMN trials.visits IS 'Ordered visits (code, label, day, windowBefore, windowAfter)';
    COMMENT ON COLUMN trials.measures IS 'Ordered outcome measure definitions (code, type, scoring, visits)';
    COMMENT ON COLUMN trials.primary_visit IS 'Code of the visit the primary analysis uses';
    COMMENT ON COLUMN trials.follow_up_amendments IS 'Amendments once active (effectiveOn, reason, what they added)';

    CREATE TABLE assessments (
      trial_id uuid NOT NULL,
      assessment_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      visit text NOT NULL,
      assessed_on date NOT NULL,
      assessor text,
      "values" jsonb NOT NULL,
      scores jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      corrections integer NOT NULL DEFAULT 0 CHECK (corrections >= 0),
      PRIMARY KEY (trial_id, assessment_id),
      UNIQUE (trial_id, participant_id, visit),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id)
    );
    COMMENT ON TABLE assessments IS 'One per participant and visit; the unique key decides concurrent duplicates';
    COMMENT ON COLUMN assessments.assessor IS 'Initials or code of the (blinded) outcome assessor';
    COMMENT ON COLUMN assessments."values" IS 'Values as entered, by measure code (scales as {"items": [...]})';
    COMMENT ON COLUMN assessments.scores IS 'Scores computed from the values (recorded or corrected), by measure code';
    COMMENT ON COLUMN assessments.corrections IS 'Corrections so far; each is kept in assessment_corrections';
    CREATE INDEX assessments_by_visit ON assessments (trial_id, visit);

    CREATE TABLE assessment_corrections (
      trial_id uuid NOT NULL,
      assessment_id uuid NOT NULL,
      correction integer NOT NULL CHECK (correction >= 1),
      reason text NOT NULL,
      before jsonb NOT NULL,
      after jsonb NOT NULL,
      corrected_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      corrected_by uuid,
      PRIMARY KEY (trial_id, assessment_id, correction),
      FOREIGN KEY (trial_id, assessment_id) REFERENCES assessments (trial_id, assessment_id)
    );
    COMMENT ON TABLE assessment_corrections IS 'Append-only: the assessment before and after each correction';

    CREATE TABLE missed_visits (
      trial_id uuid NOT NULL,
      missed_visit_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      visit text NOT NULL,
      reason text NOT NULL,
      recorded_on date NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, missed_visit_id),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id)
    );
    COMMENT ON TABLE missed_visits IS 'A missed visit, append-only; retracted by a separate fact';
    COMMENT ON COLUMN missed_visits.recorded_on IS 'The date the visit was declared missed; CONSORT asOf compares it';
    CREATE INDEX missed_visits_by_participant ON missed_visits (trial_id, participant_id, visit);

    CREATE TABLE missed_visit_retractions (
      trial_id uuid NOT NULL,
      missed_visit_id uuid NOT NULL,
      reason text NOT NULL,
      retracted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (trial_id, missed_visit_id),
      FOREIGN KEY (trial_id, missed_visit_id) REFERENCES missed_visits (trial_id, missed_visit_id)
    );
    COMMENT ON TABLE missed_visit_retractions IS 'One per missed visit; the missed visit stays, marked retracted';
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    DROP TABLE missed_visit_retractions;
    DROP TABLE missed_visits;
    DROP TABLE assessment_corrections;
    DROP TABLE assessments;
    ALTER TABLE trials DROP COLUMN follow_up_amendments, DROP COLUMN primary_visit,
      DROP COLUMN measures, DROP COLUMN visits;
  `,
  );
}
