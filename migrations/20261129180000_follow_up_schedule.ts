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
    COMMENT ON COLUMN trials.visits IS 'Ordered visit definitions (code, label, day, windowBefore, windowAfter); day 0 is the randomization date';
    COMMENT ON COLUMN trials.measures IS 'Ordered outcome measure definitions (code, type, scoring, visits)';
    COMMENT ON COLUMN trials.primary_visit IS 'Code of the visit the primary analysis uses';
    COMMENT ON COLUMN trials.follow_up_amendments IS 'Amendments of an active trial: effectiveOn, reason, amendedAt, addedVisits, changedMeasures';

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
    COMMENT ON TABLE assessments IS 'One per participant and visit; the unique key decides between concurrent duplicates';
    COMMENT ON COLUMN assessments.assessor IS 'Initials or code of the (blinded) outcome assessor';
    COMMENT ON COLUMN assessments."values" IS 'Values as entered, by measure code (scales as {"items": [...]})';
    COMMENT ON COLUMN assessments.scores IS 'Scores computed from the values when recorded or corrected, by measure code';
    COMMENT ON COLUMN assessments.corrections IS 'How many corrections replaced the values; each is kept in assessment_corrections';
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
    COMMENT ON TABLE assessment_corrections IS 'Append-only: the assessment before and after each correction, with the reason';

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
    COMMENT ON TABLE missed_visits IS 'A missed visit is a fact with a reason, append-only; retracted by a separate fact';
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
    COMMENT ON TABLE missed_visit_retractions IS 'One per missed visit; the missed visit stays visible, marked retracted';
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
    ALTER TABLE trials DROP COLUMN follow_up_amendments, DROP COLUMN primary_visit, DROP COLUMN measures, DROP COLUMN visits;
  `,
  );
}
