/*
 * The follow-up population of the benchmarks (follow-up.ts, dataset-profile.ts): the SMCM visits, the dated-visits
 * query their ceilings read, and the follow-up history added in SQL to a trial loaded by `loadTrialPopulation`.
 */
import type { Knex } from 'knex';

/** The SMCM trial's visits (code, day, window before, window after), as smcmFollowUp() declares them. */
export const VISITS_SQL = `(VALUES ('baseline', 0, 30, 14), ('m6', 182, 30, 30), ('m12', 365, 30, 30))
                    AS d(code, day, window_before, window_after)`;

/** Every randomized service user × visit, dated, with its assessment and missed-visit status (`:trialId`). */
export const DATED_SQL = `
  SELECT p.participant_id, p.label, p.site_code, al.arm_code, d.code AS visit, d.day,
         (al.randomized_at AT TIME ZONE 'UTC')::date + d.day - d.window_before AS window_opens,
         (al.randomized_at AT TIME ZONE 'UTC')::date + d.day + d.window_after AS window_closes,
         a.assessed_on, (m.participant_id IS NOT NULL) AS missed
    FROM participants p
    JOIN allocations al ON al.trial_id = p.trial_id AND al.participant_id = p.participant_id
   CROSS JOIN ${VISITS_SQL}
    LEFT JOIN assessments a ON a.trial_id = p.trial_id AND a.participant_id = p.participant_id AND a.visit = d.code
    LEFT JOIN (SELECT DISTINCT mv.participant_id, mv.visit FROM missed_visits mv
                WHERE mv.trial_id = :trialId
                  AND NOT EXISTS (SELECT 1 FROM missed_visit_retractions r
                                   WHERE r.trial_id = mv.trial_id AND r.missed_visit_id = mv.missed_visit_id)) m
           ON m.participant_id = p.participant_id AND m.visit = d.code
   WHERE p.trial_id = :trialId AND p.role = 'service_user'`;

/**
 * Spreads the trial's randomizations over the past two years (deterministic per sequence), then records
 * assessments for ~80 % of the due visits (some outside the window) and missed visits for ~8 % (with reasons), and
 * analyzes.
 */
export async function addFollowUpHistory(knex: Knex, trialId: string): Promise<void> {
  await knex.raw(
    `UPDATE allocations SET randomized_at = now() - ((sequence_number * 7919 + length(stratum_key)) % 730) * interval '1 day'
      WHERE trial_id = ?`,
    [trialId],
  );
  const dueVisits = `
    SELECT al.participant_id, d.code, (al.randomized_at AT TIME ZONE 'UTC')::date + d.day AS target,
           abs(hashtext(al.participant_id::text || d.code)) % 100 AS r
      FROM allocations al CROSS JOIN ${VISITS_SQL}
     WHERE al.trial_id = :trialId AND (al.randomized_at AT TIME ZONE 'UTC')::date + d.day - d.window_before <= current_date`;
  await knex.raw(
    `INSERT INTO assessments (trial_id, assessment_id, participant_id, visit, assessed_on, assessor, "values", scores)
     SELECT :trialId, gen_random_uuid(), participant_id, code,
            least(current_date, target + CASE WHEN r < 5 THEN 40 ELSE (r % 21) - 10 END),
            'RA', jsonb_build_object('employed', r % 3 = 0),
            jsonb_build_object('employed', jsonb_build_object('score', r % 3 = 0))
       FROM (${dueVisits}) v
      WHERE r < 80`,
    { trialId },
  );
  await knex.raw(
    `INSERT INTO missed_visits (trial_id, missed_visit_id, participant_id, visit, reason, recorded_on)
     SELECT :trialId, gen_random_uuid(), participant_id, code,
            (ARRAY['could not be contacted', 'declined the interview', 'moved away'])[1 + r % 3], current_date
       FROM (${dueVisits}) v
      WHERE r >= 80 AND r < 88`,
    { trialId },
  );
  await knex.raw('ANALYZE');
}
