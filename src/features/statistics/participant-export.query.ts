import type { Knex } from 'knex';
import type { Readable } from 'node:stream';

/*
 * The participant export as one query read row by row (a database cursor on PostgreSQL), so that the
 * service never holds the whole trial in memory.
 */
export function streamExportRows(db: Knex, trialId: string, siteCodes: string[] | null): Readable {
  const query = db('participants as p')
    .join('participant_states as s', function joinStates() {
      this.on('s.trial_id', 'p.trial_id').andOn('s.participant_id', 'p.participant_id');
    })
    .where('p.trial_id', trialId)
    .select(
      'p.participant_id',
      'p.label',
      'p.site_code',
      'p.role',
      's.status',
      'p.screened_on',
      'p.eligible',
      'p.unmet_criteria',
      'p.baseline',
      db.raw(`coalesce(
        (SELECT a.arm_code FROM allocations a WHERE a.trial_id = p.trial_id AND a.participant_id = p.participant_id),
        (SELECT c.arm_code FROM case_worker_assignments c WHERE c.trial_id = p.trial_id AND c.participant_id = p.participant_id
          ORDER BY c.assigned_at DESC, c.assignment_id DESC LIMIT 1)) AS arm`),
      db.raw(
        `(SELECT (a.randomized_at AT TIME ZONE 'UTC')::date FROM allocations a WHERE a.trial_id = p.trial_id AND a.participant_id = p.participant_id) AS randomized_on`,
      ),
      db.raw(
        `(SELECT a.sequence_number FROM allocations a WHERE a.trial_id = p.trial_id AND a.participant_id = p.participant_id) AS sequence_number`,
      ),
      db.raw(
        `(SELECT a.error_reason IS NOT NULL FROM allocations a WHERE a.trial_id = p.trial_id AND a.participant_id = p.participant_id) AS randomization_error`,
      ),
      db.raw(`CASE WHEN s.consent_withdrawn THEN 'withdrawn'
                   WHEN s.status IN ('consented', 'randomized', 'not_randomized') OR s.consent_complete THEN 'granted'
                   WHEN EXISTS (SELECT 1 FROM consents c JOIN current_consent_forms f ON f.trial_id = c.trial_id AND f.code = c.form_code AND f.required
                                 WHERE c.trial_id = p.trial_id AND c.participant_id = p.participant_id AND c.decision = 'declined') THEN 'declined'
                   ELSE 'none' END AS consent_status`),
      db.raw(`(SELECT max(c.signed_on) FROM consents c JOIN current_consent_forms f ON f.trial_id = c.trial_id AND f.code = c.form_code AND f.required
                WHERE c.trial_id = p.trial_id AND c.participant_id = p.participant_id) AS consent_signed_on`),
      db.raw(`(SELECT w.withdrawn_on FROM consent_withdrawals w JOIN consents c ON c.trial_id = w.trial_id AND c.consent_id = w.consent_id
                WHERE c.trial_id = p.trial_id AND c.participant_id = p.participant_id ORDER BY w.withdrawn_on LIMIT 1) AS consent_withdrawn_on`),
      db.raw(`(SELECT w.scope FROM consent_withdrawals w JOIN consents c ON c.trial_id = w.trial_id AND c.consent_id = w.consent_id
                WHERE c.trial_id = p.trial_id AND c.participant_id = p.participant_id ORDER BY w.withdrawn_on LIMIT 1) AS withdrawal_scope`),
      db.raw(`(SELECT json_build_object(
                  'intervention_not_received', min(e.occurred_on) FILTER (WHERE e.type = 'intervention_not_received'),
                  'discontinued_intervention', min(e.occurred_on) FILTER (WHERE e.type = 'discontinued_intervention'),
                  'lost_to_follow_up', min(e.occurred_on) FILTER (WHERE e.type = 'lost_to_follow_up'),
                  'follow_up_completed', min(e.occurred_on) FILTER (WHERE e.type = 'follow_up_completed'))
                 FROM participant_events e
                WHERE e.trial_id = p.trial_id AND e.participant_id = p.participant_id
                  AND NOT EXISTS (SELECT 1 FROM event_retractions r WHERE r.trial_id = e.trial_id AND r.event_id = e.event_id)) AS flags`),
      db.raw(`(SELECT CASE WHEN e.type = 'excluded_from_analysis' THEN e.occurred_on END
                 FROM participant_events e
                WHERE e.trial_id = p.trial_id AND e.participant_id = p.participant_id AND e.type IN ('excluded_from_analysis', 'included_in_analysis')
                  AND NOT EXISTS (SELECT 1 FROM event_retractions r WHERE r.trial_id = e.trial_id AND r.event_id = e.event_id)
                ORDER BY e.occurred_on DESC, e.recorded_at DESC LIMIT 1) AS excluded_on`),
    )
    .orderBy([{ column: 'p.created_at' }, { column: 'p.participant_id' }]);
  if (siteCodes) query.whereIn('p.site_code', siteCodes);
  return query.stream();
}
