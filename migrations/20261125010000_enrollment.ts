import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Enrollment: participants (service users and case workers), consent decisions and withdrawals,
 * case-worker arm assignments, and the one place participant status is derived (participant_states).
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    CREATE TABLE participants (
      trial_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      site_code text NOT NULL,
      role text NOT NULL CHECK (role IN ('service_user', 'case_worker')),
      label text NOT NULL,
      label_key text NOT NULL,
      screened_on date NOT NULL,
      eligibility jsonb NOT NULL,
      eligible boolean NOT NULL,
      unmet_criteria text[] NOT NULL,
      baseline jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (trial_id, participant_id),
      UNIQUE (trial_id, label_key),
      FOREIGN KEY (trial_id, site_code) REFERENCES trial_sites (trial_id, code),
      CHECK (eligible = (cardinality(unmet_criteria) = 0))
    );
    COMMENT ON COLUMN participants.label_key IS 'The label in Unicode NFC; labels are unique per trial by this key';
    COMMENT ON COLUMN participants.eligibility IS 'Screening answers keyed by criterion code, as recorded';
    COMMENT ON COLUMN participants.unmet_criteria IS 'Codes of failed criteria (inclusion false or exclusion true), in trial order';
    COMMENT ON COLUMN participants.baseline IS 'Baseline values keyed by variable name, validated against the trial configuration';
    CREATE INDEX participants_listing ON participants (trial_id, created_at, participant_id);
    CREATE INDEX participants_site ON participants (trial_id, site_code);

    CREATE TABLE consents (
      trial_id uuid NOT NULL,
      consent_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      form_code text NOT NULL,
      form_version text NOT NULL,
      decision text NOT NULL CHECK (decision IN ('granted', 'declined')),
      signed_on date NOT NULL,
      obtained_by text NOT NULL,
      method text NOT NULL CHECK (method IN ('written', 'electronic', 'witnessed_verbal')),
      reason text,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (trial_id, consent_id),
      UNIQUE (trial_id, participant_id, form_code, form_version),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id),
      FOREIGN KEY (trial_id, form_code, form_version) REFERENCES consent_forms (trial_id, code, version)
    );
    COMMENT ON COLUMN consents.obtained_by IS 'Who obtained the consent (initials or staff code)';

    CREATE TABLE consent_withdrawals (
      trial_id uuid NOT NULL,
      consent_id uuid NOT NULL,
      withdrawn_on date NOT NULL,
      reason text NOT NULL,
      scope text NOT NULL CHECK (scope IN ('intervention', 'follow_up', 'all')),
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (trial_id, consent_id),
      FOREIGN KEY (trial_id, consent_id) REFERENCES consents (trial_id, consent_id)
    );
    COMMENT ON TABLE consent_withdrawals IS 'A withdrawal is a new fact; the consent it withdraws is kept. The primary key allows one per consent';
    COMMENT ON COLUMN consent_withdrawals.scope IS 'intervention: stops the intervention, stays in follow-up; follow_up and all: stop follow-up';

    CREATE TABLE case_worker_assignments (
      trial_id uuid NOT NULL,
      assignment_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      arm_code text NOT NULL,
      reason text NOT NULL,
      assigned_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (trial_id, assignment_id),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id),
      FOREIGN KEY (trial_id, arm_code) REFERENCES trial_arms (trial_id, code)
    );
    COMMENT ON TABLE case_worker_assignments IS 'Which arm a case worker delivers; the latest row is current';
    CREATE INDEX case_worker_assignments_latest ON case_worker_assignments (trial_id, participant_id, assigned_at DESC);

    -- The current version of each form is the one added last.
    CREATE VIEW current_consent_forms AS
      SELECT DISTINCT ON (trial_id, code) trial_id, code, version, required
        FROM consent_forms
       ORDER BY trial_id, code, position DESC;

    -- One row per participant and form code: what the participant's decisions on that form amount to.
    CREATE VIEW participant_form_consents AS
      SELECT c.trial_id, c.participant_id, c.form_code,
             bool_or(c.decision = 'granted' AND w.consent_id IS NULL) AS granted_active,
             bool_or(c.decision = 'granted' AND w.consent_id IS NULL AND c.form_version = cur.version) AS granted_current,
             bool_or(c.decision = 'declined') AS declined,
             bool_or(w.consent_id IS NOT NULL) AS withdrawn
        FROM consents c
        JOIN current_consent_forms cur ON cur.trial_id = c.trial_id AND cur.code = c.form_code
        LEFT JOIN consent_withdrawals w ON w.trial_id = c.trial_id AND w.consent_id = c.consent_id
       GROUP BY c.trial_id, c.participant_id, c.form_code;

    -- Participant status, derived from what was recorded; the only place it is computed.
    CREATE VIEW participant_states AS
      SELECT p.trial_id, p.participant_id,
             CASE
               WHEN NOT p.eligible THEN 'ineligible'
               WHEN f.withdrew_required THEN 'withdrawn'
               WHEN f.declined_required THEN 'declined'
               WHEN f.granted_forms > 0 AND f.required_not_granted = 0 THEN 'consented'
               ELSE 'eligible'
             END AS status,
             f.reconsent_required,
             (p.eligible AND NOT f.withdrew_required AND f.required_not_current = 0 AND f.granted_forms > 0) AS consent_complete
        FROM participants p
        CROSS JOIN LATERAL (
          SELECT coalesce(bool_or(pf.withdrawn AND cur.required), false) AS withdrew_required,
                 coalesce(bool_or(pf.declined AND NOT pf.granted_active AND cur.required), false) AS declined_required,
                 count(pf.form_code) FILTER (WHERE pf.granted_active) AS granted_forms,
                 count(*) FILTER (WHERE cur.required AND NOT coalesce(pf.granted_active, false)) AS required_not_granted,
                 count(*) FILTER (WHERE cur.required AND NOT coalesce(pf.granted_current, false)) AS required_not_current,
                 coalesce(bool_or(pf.granted_active AND NOT pf.granted_current), false) AS reconsent_required
            FROM current_consent_forms cur
            LEFT JOIN participant_form_consents pf
              ON pf.trial_id = p.trial_id AND pf.participant_id = p.participant_id AND pf.form_code = cur.code
           WHERE cur.trial_id = p.trial_id
        ) f;
    COMMENT ON VIEW participant_states IS 'consent_complete: a granted, current, not withdrawn consent to every required form (the randomization precondition)';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    DROP VIEW participant_states;
    DROP VIEW participant_form_consents;
    DROP VIEW current_consent_forms;
    DROP TABLE case_worker_assignments;
    DROP TABLE consent_withdrawals;
    DROP TABLE consents;
    DROP TABLE participants;
  `);
}
