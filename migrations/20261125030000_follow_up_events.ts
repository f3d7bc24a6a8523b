import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Follow-up events (append-only, retracted by a separate fact) and participant status that knows
 * `declined` and `not_randomized` events.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    CREATE TABLE participant_events (
      trial_id uuid NOT NULL,
      event_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      type text NOT NULL CHECK (type IN ('declined', 'not_randomized', 'intervention_not_received', 'discontinued_intervention',
                                         'lost_to_follow_up', 'follow_up_completed', 'excluded_from_analysis', 'included_in_analysis')),
      occurred_on date NOT NULL,
      reason text,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      recorded_by uuid,
      PRIMARY KEY (trial_id, event_id),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id)
    );
    COMMENT ON TABLE participant_events IS 'Follow-up events, append-only; CONSORT counts them by occurred_on';
    COMMENT ON COLUMN participant_events.recorded_by IS 'API key that recorded the event';
    CREATE INDEX participant_events_by_participant ON participant_events (trial_id, participant_id, occurred_on);

    CREATE TABLE event_retractions (
      trial_id uuid NOT NULL,
      event_id uuid NOT NULL,
      reason text NOT NULL,
      retracted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (trial_id, event_id),
      FOREIGN KEY (trial_id, event_id) REFERENCES participant_events (trial_id, event_id)
    );
    COMMENT ON TABLE event_retractions IS 'A retraction is a new fact; the event stays visible, marked retracted. One per event';

    CREATE OR REPLACE VIEW participant_states AS
      SELECT p.trial_id, p.participant_id,
             CASE
               WHEN NOT p.eligible THEN 'ineligible'
               WHEN f.withdrew_required THEN 'withdrawn'
               WHEN a.participant_id IS NOT NULL THEN 'randomized'
               WHEN f.declined_required OR ev.declined THEN 'declined'
               WHEN ev.not_randomized THEN 'not_randomized'
               WHEN f.granted_forms > 0 AND f.required_not_granted = 0 THEN 'consented'
               ELSE 'eligible'
             END AS status,
             f.reconsent_required,
             (p.eligible AND NOT f.withdrew_required AND f.required_not_current = 0 AND f.granted_forms > 0) AS consent_complete,
             f.withdrew_required AS consent_withdrawn
        FROM participants p
        LEFT JOIN allocations a ON a.trial_id = p.trial_id AND a.participant_id = p.participant_id
        CROSS JOIN LATERAL (
          SELECT coalesce(bool_or(e.type = 'declined'), false) AS declined,
                 coalesce(bool_or(e.type = 'not_randomized'), false) AS not_randomized
            FROM participant_events e
           WHERE e.trial_id = p.trial_id AND e.participant_id = p.participant_id
             AND NOT EXISTS (SELECT 1 FROM event_retractions r WHERE r.trial_id = e.trial_id AND r.event_id = e.event_id)
        ) ev
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
        ) f;;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    DROP VIEW participant_states;
    CREATE VIEW participant_states AS
      SELECT p.trial_id, p.participant_id,
             CASE
               WHEN NOT p.eligible THEN 'ineligible'
               WHEN f.withdrew_required THEN 'withdrawn'
               WHEN a.participant_id IS NOT NULL THEN 'randomized'
               WHEN f.declined_required THEN 'declined'
               WHEN f.granted_forms > 0 AND f.required_not_granted = 0 THEN 'consented'
               ELSE 'eligible'
             END AS status,
             f.reconsent_required,
             (p.eligible AND NOT f.withdrew_required AND f.required_not_current = 0 AND f.granted_forms > 0) AS consent_complete,
             f.withdrew_required AS consent_withdrawn
        FROM participants p
        LEFT JOIN allocations a ON a.trial_id = p.trial_id AND a.participant_id = p.participant_id
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
        ) f;;
    DROP TABLE event_retractions;
    DROP TABLE participant_events;
  `);
}
