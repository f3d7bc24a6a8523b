import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Changes to a sub-study after the fact (issue #16): the deletion of a recording flagged for deletion (the
 * withdrawal of its audio consent), the withdrawal of an invitation before the interview, and corrections to an
 * interview, kept one row each with the fields before and after. Quota changes update `substudy_quotas` in place;
 * their before, after and reason are in the audit row.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    ALTER TABLE substudy_invitations
      ADD COLUMN withdrawn_on date,
      ADD COLUMN withdrawn_by text,
      ADD COLUMN withdrawal_reason text,
      ADD CONSTRAINT substudy_invitations_withdrawal_whole
        CHECK ((withdrawn_on IS NULL) = (withdrawn_by IS NULL) AND (withdrawn_on IS NULL) = (withdrawal_reason IS NULL)),
      ADD CONSTRAINT substudy_invitations_withdrawal_not_declined
        CHECK (withdrawn_on IS NULL OR answer IS DISTINCT FROM 'declined');
    COMMENT ON COLUMN substudy_invitations.withdrawn_on IS 'The researchers withdrew the invitation (before any interview); counted apart in Table 3';
    COMMENT ON COLUMN substudy_invitations.withdrawn_by IS 'Initials or name of the researcher who withdrew it';

    ALTER TABLE substudy_interviews
      ADD COLUMN recording_deleted_on date,
      ADD COLUMN recording_deleted_by text,
      ADD COLUMN recording_deletion_method text,
      ADD CONSTRAINT substudy_interviews_deletion_whole
        CHECK ((recording_deleted_on IS NULL) = (recording_deleted_by IS NULL)),
      ADD CONSTRAINT substudy_interviews_deletion_of_recording
        CHECK (recording_deleted_on IS NULL OR audio_recorded);
    COMMENT ON COLUMN substudy_interviews.recording_deleted_on IS 'The flagged recording was deleted on this date (after the audio consent was withdrawn)';
    COMMENT ON COLUMN substudy_interviews.recording_deletion_method IS 'How it was deleted, e.g. secure erase of the recorder and the share';

    CREATE TABLE substudy_interview_corrections (
      trial_id uuid NOT NULL,
      substudy_code text NOT NULL,
      interview_id uuid NOT NULL,
      correction integer NOT NULL CHECK (correction >= 1),
      before jsonb NOT NULL,
      after jsonb NOT NULL,
      reason text NOT NULL,
      corrected_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      corrected_by uuid,
      PRIMARY KEY (trial_id, substudy_code, interview_id, correction),
      FOREIGN KEY (trial_id, substudy_code, interview_id)
        REFERENCES substudy_interviews (trial_id, substudy_code, interview_id)
    );
    COMMENT ON TABLE substudy_interview_corrections IS 'Corrections of an interview record, numbered 1, 2, ... per interview';
    COMMENT ON COLUMN substudy_interview_corrections.before IS 'The corrected fields as they were (camelCase names of the API)';
    COMMENT ON COLUMN substudy_interview_corrections.after IS 'The same fields as corrected';
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    DROP TABLE substudy_interview_corrections;
    ALTER TABLE substudy_interviews
      DROP CONSTRAINT substudy_interviews_deletion_of_recording,
      DROP CONSTRAINT substudy_interviews_deletion_whole,
      DROP COLUMN recording_deletion_method,
      DROP COLUMN recording_deleted_by,
      DROP COLUMN recording_deleted_on;
    ALTER TABLE substudy_invitations
      DROP CONSTRAINT substudy_invitations_withdrawal_not_declined,
      DROP CONSTRAINT substudy_invitations_withdrawal_whole,
      DROP COLUMN withdrawal_reason,
      DROP COLUMN withdrawn_by,
      DROP COLUMN withdrawn_on;
  `,
  );
}
