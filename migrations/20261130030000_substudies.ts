import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * The qualitative sub-study (issue #16): a sampling frame of quotas per site × arm × role, invitations
 * and their answers, interviews with their audio consent and transcript lifecycle, the coupon each
 * interview earned (a link to the incentive ledger, which stays the one place money is recorded), and
 * rounds of transcript coding whose agreement is computed from the stored codings.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    CREATE TABLE substudies (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      code text NOT NULL,
      title text NOT NULL,
      audio_consent_form text NOT NULL,
      incentive_code text,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      created_by uuid,
      PRIMARY KEY (trial_id, code)
    );
    COMMENT ON TABLE substudies IS 'A study embedded in the trial (e.g. the process evaluation) sampling its participants';
    COMMENT ON COLUMN substudies.audio_consent_form IS 'Code of the trial consent form that audio-recorded interviews need';
    COMMENT ON COLUMN substudies.incentive_code IS 'Incentive type issued per interview (the coupon); null when none';

    CREATE TABLE substudy_quotas (
      trial_id uuid NOT NULL,
      substudy_code text NOT NULL,
      site_code text NOT NULL,
      arm text NOT NULL,
      role text NOT NULL CHECK (role IN ('service_user', 'case_worker')),
      target integer NOT NULL CHECK (target >= 0),
      PRIMARY KEY (trial_id, substudy_code, site_code, arm, role),
      FOREIGN KEY (trial_id, substudy_code) REFERENCES substudies (trial_id, code)
    );
    COMMENT ON TABLE substudy_quotas IS 'The purposeful sampling frame: how many to interview per site, arm and role';
    COMMENT ON COLUMN substudy_quotas.arm IS 'Arm code (never a masked label)';

    CREATE TABLE substudy_invitations (
      trial_id uuid NOT NULL,
      substudy_code text NOT NULL,
      invitation_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      site_code text NOT NULL,
      arm text NOT NULL,
      role text NOT NULL CHECK (role IN ('service_user', 'case_worker')),
      invited_on date NOT NULL,
      invited_by text NOT NULL,
      answer text CHECK (answer IN ('accepted', 'declined')),
      answered_on date,
      answer_reason text,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, substudy_code, invitation_id),
      UNIQUE (trial_id, substudy_code, participant_id),
      FOREIGN KEY (trial_id, substudy_code) REFERENCES substudies (trial_id, code),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id),
      CHECK ((answer IS NULL) = (answered_on IS NULL))
    );
    COMMENT ON TABLE substudy_invitations IS 'One invitation per participant and sub-study; answered once';
    COMMENT ON COLUMN substudy_invitations.arm IS 'The arm at invitation (allocation, or case-worker assignment): the quota cell counted';
    COMMENT ON COLUMN substudy_invitations.invited_by IS 'Initials or name of the researcher who invited';

    CREATE TABLE substudy_interviews (
      trial_id uuid NOT NULL,
      substudy_code text NOT NULL,
      interview_id uuid NOT NULL,
      invitation_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      conducted_on date NOT NULL,
      interviewer text NOT NULL,
      duration_minutes integer NOT NULL CHECK (duration_minutes > 0),
      location text NOT NULL,
      audio_recorded boolean NOT NULL,
      audio_consent_id uuid,
      transcribed_by text,
      transcribed_on date,
      checked_by text,
      checked_on date,
      deidentified_by text,
      deidentified_on date,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, substudy_code, interview_id),
      UNIQUE (trial_id, substudy_code, invitation_id),
      FOREIGN KEY (trial_id, substudy_code, invitation_id)
        REFERENCES substudy_invitations (trial_id, substudy_code, invitation_id),
      FOREIGN KEY (trial_id, audio_consent_id) REFERENCES consents (trial_id, consent_id),
      CHECK (audio_recorded = (audio_consent_id IS NOT NULL)),
      CHECK ((transcribed_by IS NULL) = (transcribed_on IS NULL)),
      CHECK ((checked_by IS NULL) = (checked_on IS NULL)),
      CHECK ((deidentified_by IS NULL) = (deidentified_on IS NULL)),
      CHECK (checked_on IS NULL OR transcribed_on IS NOT NULL),
      CHECK (deidentified_on IS NULL OR transcribed_on IS NOT NULL)
    );
    COMMENT ON TABLE substudy_interviews IS 'One interview per accepted invitation';
    COMMENT ON COLUMN substudy_interviews.audio_consent_id IS 'The granted audio consent the recording relied on; its withdrawal flags the recording for deletion';

    CREATE TABLE substudy_coupons (
      trial_id uuid NOT NULL,
      substudy_code text NOT NULL,
      interview_id uuid NOT NULL,
      entry_id uuid NOT NULL,
      PRIMARY KEY (trial_id, substudy_code, interview_id),
      UNIQUE (trial_id, entry_id),
      FOREIGN KEY (trial_id, substudy_code, interview_id)
        REFERENCES substudy_interviews (trial_id, substudy_code, interview_id),
      FOREIGN KEY (trial_id, entry_id) REFERENCES incentive_ledger (trial_id, entry_id)
    );
    COMMENT ON TABLE substudy_coupons IS 'The ledger entry issued for an interview: at most one per interview';

    CREATE TABLE substudy_coding_rounds (
      trial_id uuid NOT NULL,
      substudy_code text NOT NULL,
      round integer NOT NULL CHECK (round >= 1),
      coders jsonb NOT NULL,
      codings jsonb NOT NULL,
      note text,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, substudy_code, round),
      FOREIGN KEY (trial_id, substudy_code) REFERENCES substudies (trial_id, code)
    );
    COMMENT ON TABLE substudy_coding_rounds IS 'Codings of transcript units by two or more coders; agreement is computed from them';
    COMMENT ON COLUMN substudy_coding_rounds.codings IS 'Array of {unit, coder, code} as submitted';
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    DROP TABLE substudy_coding_rounds;
    DROP TABLE substudy_coupons;
    DROP TABLE substudy_interviews;
    DROP TABLE substudy_invitations;
    DROP TABLE substudy_quotas;
    DROP TABLE substudies;
  `,
  );
}
