import type { Knex } from 'knex';
import { withoutJit } from '../../db/database';
import type { ConsortAggregation, ReasonedCountInput } from './consort';

/*
 * CONSORT read model: one SQL statement that classifies every screened service user as of a date and
 * returns flat counts (metric, arm, reason, n). Only what is dated on or before asOf counts: screening,
 * consent decisions and withdrawals, randomization (UTC date) and event dates; retracted events never
 * count. Lost to follow-up also comes from the schedule: the primary visit missed (not retracted) or
 * overdue as of asOf; one box entry per participant, the earliest reason. Did not receive the allocated intervention
 * also comes from sessions (issue #15): with a delivery plan, a participant whose intervention period (or time to an
 * intervention withdrawal) ended before asOf with fewer than the arm's minimumSessions sessions; an explicit
 * intervention_not_received event wins, and the participant is counted once either way. Rules: docs/consort.md.
 *
 * Shape (#19, docs/benchmarks.md "Round 3"): one pass over the cohort. The sparse facts (events, the required forms'
 * declines and withdrawals from one scan of consents, missed visits, short doses) are reduced without touching the
 * cohort to one row per participant, `facts`: a JSON object from box (declined, other, not_received, lost,
 * discontinued, excluded) to that box's one reason (JSON null when none was given). The cohort (participants ⟕
 * allocations, screened and site-filtered) is read once, joined to them and grouped by (eligible, unmet criteria, arm,
 * facts), which leaves a handful of groups; every count is a sum over those groups. Grouping by the one facts column
 * rather than a column per box keeps the planner's group estimate small enough for a hash aggregate (with thirteen
 * keys it expected a group per participant and sorted them on disk). Nothing cohort-sized is materialised, so nothing
 * spills, and consents are read once. A fact of a participant outside the cohort (another site, screened after asOf,
 * not a service user) finds no cohort row and counts nowhere, as before.
 */
const CONSORT_SQL = `
WITH ev AS (
  SELECT e.participant_id, e.type, e.reason, e.occurred_on, e.recorded_at
    FROM participant_events e
   WHERE e.trial_id = :trialId AND e.occurred_on <= :asOf::date
     AND NOT EXISTS (SELECT 1 FROM event_retractions r WHERE r.trial_id = e.trial_id AND r.event_id = e.event_id)
),
required_consents AS (
  SELECT c.participant_id, c.decision, c.reason, c.signed_on, w.scope, w.withdrawn_on
    FROM consents c
    LEFT JOIN consent_withdrawals w ON w.trial_id = c.trial_id AND w.consent_id = c.consent_id
                                   AND w.withdrawn_on <= :asOf::date
   WHERE c.trial_id = :trialId
     AND c.form_code IN (SELECT code FROM consent_forms WHERE trial_id = :trialId AND required)
     AND (w.consent_id IS NOT NULL OR (c.decision = 'declined' AND c.signed_on <= :asOf::date))
),
withdrawals AS (
  SELECT participant_id, scope, withdrawn_on FROM required_consents WHERE scope IS NOT NULL
),
alloc AS (
  SELECT a.participant_id, a.arm_code, (a.randomized_at AT TIME ZONE 'UTC')::date AS randomized_on
    FROM allocations a
   WHERE a.trial_id = :trialId AND (a.randomized_at AT TIME ZONE 'UTC')::date <= :asOf::date
),
decline_reasons AS (
  SELECT DISTINCT ON (participant_id) participant_id, reason
    FROM (SELECT participant_id, coalesce(reason, 'declined consent') AS reason, signed_on AS on_date, 1 AS priority
            FROM required_consents WHERE decision = 'declined' AND signed_on <= :asOf::date
          UNION ALL
          SELECT participant_id, reason, occurred_on, 2 FROM ev WHERE type = 'declined'
          UNION ALL
          SELECT participant_id, 'withdrew consent', withdrawn_on, 3 FROM withdrawals) d
   ORDER BY participant_id, on_date, priority
),
other_reasons AS (
  SELECT DISTINCT ON (participant_id) participant_id, reason FROM ev WHERE type = 'not_randomized'
   ORDER BY participant_id, occurred_on, recorded_at
),
primary_visit AS (
  SELECT t.primary_visit AS code, (v->>'day')::int AS day, (v->>'windowAfter')::int AS window_after
    FROM trials t CROSS JOIN LATERAL jsonb_array_elements(t.visits) v
   WHERE t.trial_id = :trialId AND v->>'code' = t.primary_visit
),
primary_assessed AS (
  SELECT a.participant_id FROM assessments a JOIN primary_visit pv ON pv.code = a.visit
   WHERE a.trial_id = :trialId AND a.assessed_on <= :asOf::date
),
primary_missed AS (
  SELECT DISTINCT ON (m.participant_id) m.participant_id, m.reason, m.recorded_on
    FROM missed_visits m JOIN primary_visit pv ON pv.code = m.visit
   WHERE m.trial_id = :trialId AND m.recorded_on <= :asOf::date
     AND NOT EXISTS (SELECT 1 FROM missed_visit_retractions r
                      WHERE r.trial_id = m.trial_id AND r.missed_visit_id = m.missed_visit_id)
   ORDER BY m.participant_id, m.recorded_on, m.recorded_at
),
primary_lost AS (
  SELECT pm.participant_id, pm.reason, pm.recorded_on AS on_date FROM primary_missed pm
   WHERE NOT EXISTS (SELECT 1 FROM primary_assessed pa WHERE pa.participant_id = pm.participant_id)
  UNION ALL
  SELECT al.participant_id, 'overdue', al.randomized_on + pv.day + pv.window_after + 1
    FROM primary_visit pv JOIN alloc al ON al.randomized_on + pv.day + pv.window_after < :asOf::date
   WHERE NOT EXISTS (SELECT 1 FROM primary_assessed pa WHERE pa.participant_id = al.participant_id)
     AND NOT EXISTS (SELECT 1 FROM primary_missed pm WHERE pm.participant_id = al.participant_id)
     AND NOT EXISTS (SELECT 1 FROM withdrawals w
                      WHERE w.participant_id = al.participant_id AND w.scope IN ('follow_up', 'all')
                        AND w.withdrawn_on <= al.randomized_on + pv.day + pv.window_after)
),
delivery_plan AS (
  SELECT (t.delivery->>'interventionPeriodDays')::int AS period, p->>'arm' AS arm_code, (p->>'minimumSessions')::int AS minimum
    FROM trials t CROSS JOIN LATERAL jsonb_array_elements(t.delivery->'arms') p
   WHERE t.trial_id = :trialId AND t.delivery IS NOT NULL
),
intervention_stop AS (
  SELECT participant_id, min(on_date) AS stopped_on
    FROM (SELECT participant_id, occurred_on AS on_date FROM ev WHERE type = 'discontinued_intervention'
          UNION ALL SELECT participant_id, withdrawn_on FROM withdrawals WHERE scope IN ('intervention', 'all')) s
   GROUP BY participant_id
),
dose_short AS (
  SELECT al.participant_id, dp.minimum, pe.period_end
    FROM delivery_plan dp
    JOIN alloc al ON al.arm_code = dp.arm_code
    LEFT JOIN intervention_stop st ON st.participant_id = al.participant_id
   CROSS JOIN LATERAL (SELECT LEAST(al.randomized_on + dp.period - 1, st.stopped_on - 1) AS period_end) pe
   WHERE pe.period_end < :asOf::date
     AND (SELECT count(*) FROM delivery_sessions s
           WHERE s.trial_id = :trialId AND s.participant_id = al.participant_id
             AND s.session_date BETWEEN al.randomized_on AND pe.period_end
             AND NOT EXISTS (SELECT 1 FROM session_retractions r
                              WHERE r.trial_id = s.trial_id AND r.session_id = s.session_id)) < dp.minimum
),
arm_boxes AS (
  SELECT DISTINCT ON (participant_id, box) participant_id, box, reason
    FROM (SELECT participant_id, 'not_received' AS box, reason, occurred_on AS on_date, 0 AS priority FROM ev WHERE type = 'intervention_not_received'
          UNION ALL SELECT participant_id, 'not_received', 'fewer than ' || minimum || ' sessions', period_end, 1 FROM dose_short
          UNION ALL SELECT participant_id, 'discontinued', reason, occurred_on, 0 FROM ev WHERE type = 'discontinued_intervention'
          UNION ALL SELECT participant_id, 'discontinued', 'withdrew consent', withdrawn_on, 0 FROM withdrawals WHERE scope = 'intervention'
          UNION ALL SELECT participant_id, 'lost', reason, occurred_on, 0 FROM ev WHERE type = 'lost_to_follow_up'
          UNION ALL SELECT participant_id, 'lost', 'withdrew consent', withdrawn_on, 0 FROM withdrawals WHERE scope IN ('follow_up', 'all')
          UNION ALL SELECT participant_id, 'lost', reason, on_date, 0 FROM primary_lost) b
   ORDER BY participant_id, box, priority, on_date
),
analysis AS (
  SELECT DISTINCT ON (participant_id) participant_id, type, reason
    FROM ev WHERE type IN ('excluded_from_analysis', 'included_in_analysis')
   ORDER BY participant_id, occurred_on DESC, recorded_at DESC
),
sparse AS (
  SELECT participant_id, jsonb_object_agg(box, reason) AS facts
    FROM (SELECT participant_id, 'declined' AS box, reason FROM decline_reasons
          UNION ALL SELECT participant_id, 'other', reason FROM other_reasons
          UNION ALL SELECT participant_id, box, reason FROM arm_boxes
          UNION ALL SELECT participant_id, 'excluded', reason FROM analysis WHERE type = 'excluded_from_analysis') f
   GROUP BY participant_id
),
cohort AS (
  SELECT p.eligible, CASE WHEN NOT p.eligible THEN p.unmet_criteria END AS unmet_criteria, a.arm_code, s.facts, count(*) AS n
    FROM participants p
    LEFT JOIN allocations a ON a.trial_id = p.trial_id AND a.participant_id = p.participant_id
                           AND (a.randomized_at AT TIME ZONE 'UTC')::date <= :asOf::date
    LEFT JOIN sparse s ON s.participant_id = p.participant_id
   WHERE p.trial_id = :trialId AND p.role = 'service_user' AND p.screened_on <= :asOf::date
     AND (:sites::jsonb IS NULL OR p.site_code IN (SELECT jsonb_array_elements_text(:sites::jsonb)))
   GROUP BY 1, 2, 3, 4
),
g AS (
  SELECT CASE WHEN NOT eligible THEN 'ineligible'
              WHEN arm_code IS NOT NULL THEN 'randomized'
              WHEN facts -> 'declined' IS NOT NULL THEN 'declined'
              WHEN facts -> 'other' IS NOT NULL THEN 'other'
              ELSE 'pending' END AS state,
         unmet_criteria, arm_code, facts, n
    FROM cohort
)
SELECT 'assessed' AS metric, NULL AS arm, NULL AS reason, coalesce(sum(n), 0) AS n FROM g
UNION ALL SELECT 'state', state, NULL, sum(n) FROM g GROUP BY state
UNION ALL SELECT 'unmet', NULL, code, sum(n) FROM g CROSS JOIN LATERAL unnest(g.unmet_criteria) AS code GROUP BY code
UNION ALL SELECT state, NULL, facts->>state, sum(n) FROM g WHERE state IN ('declined', 'other') GROUP BY state, facts->>state
UNION ALL SELECT 'allocated', arm_code, NULL, sum(n) FROM g WHERE arm_code IS NOT NULL GROUP BY arm_code
UNION ALL SELECT box, arm_code, facts->>box, sum(n)
            FROM g CROSS JOIN LATERAL unnest(ARRAY['not_received', 'lost', 'discontinued', 'excluded']) AS box
           WHERE arm_code IS NOT NULL AND facts -> box IS NOT NULL GROUP BY box, arm_code, facts->>box
`;

interface Row {
  metric: string;
  arm: string | null;
  reason: string | null;
  n: number;
}

export interface ConsortQuery {
  trialId: string;
  asOf: string;
  /** Restrict to these sites; null for all. */
  siteCodes: string[] | null;
  /** Arm codes in trial order. */
  arms: string[];
}

function reasoned(rows: Row[], metric: string, arm: string | null = null): ReasonedCountInput {
  const matching = rows.filter((r) => r.metric === metric && r.arm === arm);
  return {
    total: matching.reduce((sum, r) => sum + Number(r.n), 0),
    reasons: matching.map((r) => ({ reason: r.reason, count: Number(r.n) })),
  };
}

export async function consortAggregation(db: Knex, q: ConsortQuery): Promise<ConsortAggregation> {
  const result = await withoutJit(db, (trx) =>
    trx.raw(CONSORT_SQL, {
      trialId: q.trialId,
      asOf: q.asOf,
      sites: q.siteCodes === null ? null : JSON.stringify(q.siteCodes),
    }),
  );
  const rows: Row[] = result.rows;
  const single = (metric: string, arm: string | null = null) =>
    Number(rows.find((r) => r.metric === metric && r.arm === arm)?.n ?? 0);
  const state = (name: string) => single('state', name);
  return {
    assessedForEligibility: single('assessed'),
    excludedTotal: state('ineligible') + state('declined') + state('other'),
    ineligibleTotal: state('ineligible'),
    unmetCriteria: rows.filter((r) => r.metric === 'unmet').map((r) => ({ code: r.reason!, count: Number(r.n) })),
    declinedToParticipate: reasoned(rows, 'declined'),
    notRandomized: reasoned(rows, 'other'),
    pendingRandomization: state('pending'),
    randomized: state('randomized'),
    arms: q.arms.map((arm) => ({
      label: arm,
      allocated: single('allocated', arm),
      didNotReceiveAllocatedIntervention: reasoned(rows, 'not_received', arm),
      lostToFollowUp: reasoned(rows, 'lost', arm),
      discontinuedIntervention: reasoned(rows, 'discontinued', arm),
      excludedFromAnalysis: reasoned(rows, 'excluded', arm),
    })),
  };
}
