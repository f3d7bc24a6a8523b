import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import { FOLLOW_UP_STOPS_SQL } from './follow-up.repo';
import type { VisitStatus } from './visit-schedule';

/**
 * The schedule of every randomized service user of a trial, one row per participant and visit, with
 * the status decided by the rules of `scheduleVisit` (visit-schedule.ts) written in SQL: the work
 * list and the completeness report read 300,000 rows for a 100,000-participant trial and never load
 * them into JavaScript. The API tests check that both agree on the same participants.
 * Bindings: trialId, today.
 */
const SCHEDULE_SQL = `
  WITH visit_definitions AS (
    SELECT v.code, v.label, v.day, v."windowBefore" AS window_before, v."windowAfter" AS window_after,
           (SELECT min((a->>'effectiveOn')::date) FROM jsonb_array_elements(t.follow_up_amendments) a
             WHERE jsonb_exists(a->'addedVisits', v.code)) AS added_on
      FROM trials t
     CROSS JOIN LATERAL jsonb_to_recordset(t.visits)
             AS v(code text, label text, day integer, "windowBefore" integer, "windowAfter" integer)
     WHERE t.trial_id = :trialId
  ),
  active_missed AS (
    SELECT DISTINCT ON (m.participant_id, m.visit) m.participant_id, m.visit, m.reason
      FROM missed_visits m
     WHERE m.trial_id = :trialId
       AND NOT EXISTS (SELECT 1 FROM missed_visit_retractions r
                        WHERE r.trial_id = m.trial_id AND r.missed_visit_id = m.missed_visit_id)
     ORDER BY m.participant_id, m.visit, m.recorded_at
  ),
  stops AS (SELECT * FROM (${FOLLOW_UP_STOPS_SQL}) s WHERE s.trial_id = :trialId),
  dated AS (
    SELECT p.participant_id, p.label, p.site_code, al.arm_code,
           d.code AS visit, d.label AS visit_label, d.day, d.added_on,
           (al.randomized_at AT TIME ZONE 'UTC')::date + d.day AS target_date,
           (al.randomized_at AT TIME ZONE 'UTC')::date + d.day - d.window_before AS window_opens,
           (al.randomized_at AT TIME ZONE 'UTC')::date + d.day + d.window_after AS window_closes,
           al.stratum_key, (al.randomized_at AT TIME ZONE 'UTC')::date AS randomized_on,
           a.assessed_on, a.scores, a."values", b.scores AS baseline_scores, mv.reason AS missed_reason,
           st.withdrawn_on AS stopped_on, 'withdrew from follow-up: ' || st.reason AS stop_reason
      FROM participants p
      JOIN allocations al ON al.trial_id = p.trial_id AND al.participant_id = p.participant_id
     CROSS JOIN visit_definitions d
      LEFT JOIN assessments a ON a.trial_id = p.trial_id AND a.participant_id = p.participant_id AND a.visit = d.code
      LEFT JOIN assessments b
             ON b.trial_id = p.trial_id AND b.participant_id = p.participant_id AND b.visit = 'baseline'
      LEFT JOIN active_missed mv ON mv.participant_id = p.participant_id AND mv.visit = d.code
      LEFT JOIN stops st ON st.participant_id = p.participant_id
     WHERE p.trial_id = :trialId AND p.role = 'service_user'
  )
  SELECT dated.*,
         CASE
           WHEN assessed_on IS NOT NULL THEN 'completed'
           WHEN missed_reason IS NOT NULL THEN 'missed'
           WHEN stopped_on <= window_closes THEN 'not_expected'
           WHEN added_on > window_closes THEN 'not_expected'
           WHEN :today::date < window_opens THEN 'not_due'
           WHEN :today::date <= window_closes THEN 'open'
           ELSE 'overdue'
         END AS status,
         CASE
           WHEN assessed_on IS NOT NULL THEN NULL
           WHEN missed_reason IS NOT NULL THEN missed_reason
           WHEN stopped_on <= window_closes THEN stop_reason
           WHEN added_on > window_closes
             THEN 'the visit was added by an amendment effective ' || added_on::text || ', after this window closed'
         END AS reason,
         (assessed_on BETWEEN window_opens AND window_closes) AS in_window
    FROM dated`;

export interface WorkListRow {
  participantId: string;
  label: string;
  siteCode: string;
  visit: string;
  visitLabel: string;
  day: number;
  targetDate: string;
  windowOpens: string;
  windowCloses: string;
  status: VisitStatus;
  assessedOn: string | null;
  reason: string | null;
}

export interface WorkListCursor {
  windowCloses: string;
  participantId: string;
  day: number;
}

export interface WorkListQuery {
  trialId: string;
  today: string;
  statuses: VisitStatus[];
  /** null: every site. */
  siteCodes: string[] | null;
  dueBefore?: string;
  after?: WorkListCursor;
  /** Rows to fetch; none for every row (CSV). */
  limit?: number;
}

function workListBuilder(db: Executor, query: WorkListQuery): Knex.QueryBuilder {
  const builder = db
    .select(
      'participant_id',
      'label',
      'site_code',
      'visit',
      'visit_label',
      'day',
      db.raw('target_date::text AS target_date'),
      db.raw('window_opens::text AS window_opens'),
      db.raw('window_closes::text AS window_closes'),
      'status',
      db.raw('assessed_on::text AS assessed_on'),
      'reason',
    )
    .from(db.raw(`(${SCHEDULE_SQL}) AS schedule`, { trialId: query.trialId, today: query.today }))
    .whereIn('status', query.statuses)
    .orderBy([{ column: 'window_closes' }, { column: 'participant_id' }, { column: 'day' }]);
  if (query.siteCodes) builder.whereIn('site_code', query.siteCodes);
  if (query.dueBefore) builder.where('target_date', '<', query.dueBefore);
  if (query.after)
    builder.whereRaw('(window_closes, participant_id, day) > (?::date, ?::uuid, ?::integer)', [
      query.after.windowCloses,
      query.after.participantId,
      query.after.day,
    ]);
  if (query.limit !== undefined) builder.limit(query.limit);
  return builder;
}

const toWorkListRow = (row: Record<string, unknown>): WorkListRow => ({
  participantId: row.participant_id as string,
  label: row.label as string,
  siteCode: row.site_code as string,
  visit: row.visit as string,
  visitLabel: row.visit_label as string,
  day: row.day as number,
  targetDate: row.target_date as string,
  windowOpens: row.window_opens as string,
  windowCloses: row.window_closes as string,
  status: row.status as VisitStatus,
  assessedOn: row.assessed_on as string | null,
  reason: row.reason as string | null,
});

export async function listWorkList(db: Executor, query: WorkListQuery): Promise<WorkListRow[]> {
  return (await workListBuilder(db, query)).map(toWorkListRow);
}

export interface CompletenessRow {
  visit: string;
  day: number;
  arm: string;
  siteCode: string;
  randomized: number;
  completedInWindow: number;
  completedOutOfWindow: number;
  missed: number;
  missedByReason: Record<string, number>;
  overdue: number;
  open: number;
  notDue: number;
  notExpected: number;
}

/** Statuses counted per visit × arm × site, in SQL (two levels: by status and reason, then by cell). */
export async function completenessByVisit(db: Executor, trialId: string, today: string): Promise<CompletenessRow[]> {
  const { rows } = (await db.raw(
    `SELECT visit, day, arm_code, site_code,
            sum(n)::int AS randomized,
            coalesce(sum(n) FILTER (WHERE status = 'completed' AND in_window), 0)::int AS completed_in_window,
            coalesce(sum(n) FILTER (WHERE status = 'completed' AND NOT in_window), 0)::int AS completed_out_of_window,
            coalesce(sum(n) FILTER (WHERE status = 'missed'), 0)::int AS missed,
            coalesce(jsonb_object_agg(reason, n) FILTER (WHERE status = 'missed'), '{}') AS missed_by_reason,
            coalesce(sum(n) FILTER (WHERE status = 'overdue'), 0)::int AS overdue,
            coalesce(sum(n) FILTER (WHERE status = 'open'), 0)::int AS open,
            coalesce(sum(n) FILTER (WHERE status = 'not_due'), 0)::int AS not_due,
            coalesce(sum(n) FILTER (WHERE status = 'not_expected'), 0)::int AS not_expected
       FROM (SELECT visit, day, arm_code, site_code, status, in_window,
                    CASE WHEN status = 'missed' THEN reason END AS reason, count(*) AS n
               FROM (${SCHEDULE_SQL}) AS schedule
              GROUP BY 1, 2, 3, 4, 5, 6, 7) AS cells
      GROUP BY visit, day, arm_code, site_code
      ORDER BY day, arm_code, site_code`,
    { trialId, today },
  )) as { rows: Record<string, unknown>[] };
  return rows.map((row) => ({
    visit: row.visit as string,
    day: row.day as number,
    arm: row.arm_code as string,
    siteCode: row.site_code as string,
    randomized: row.randomized as number,
    completedInWindow: row.completed_in_window as number,
    completedOutOfWindow: row.completed_out_of_window as number,
    missed: row.missed as number,
    missedByReason: row.missed_by_reason as Record<string, number>,
    overdue: row.overdue as number,
    open: row.open as number,
    notDue: row.not_due as number,
    notExpected: row.not_expected as number,
  }));
}

export interface MeasureCompletenessRow {
  measure: string;
  visit: string;
  assessments: number;
  missingScores: number;
  missingItems: number;
}

/** Missing scores and unanswered scale items per measure and visit, over randomized service users. */
export async function completenessByMeasure(db: Executor, trialId: string): Promise<MeasureCompletenessRow[]> {
  const { rows } = (await db.raw(
    `SELECT s.key AS measure, a.visit, count(*)::int AS assessments,
            count(*) FILTER (WHERE coalesce(s.value->'score', 'null'::jsonb) = 'null'::jsonb)::int AS missing_scores,
            coalesce(sum((s.value->>'missingItems')::int), 0)::int AS missing_items
       FROM assessments a
       JOIN participants p
         ON p.trial_id = a.trial_id AND p.participant_id = a.participant_id AND p.role = 'service_user'
       JOIN allocations al ON al.trial_id = a.trial_id AND al.participant_id = a.participant_id
      CROSS JOIN LATERAL jsonb_each(a.scores) s
      WHERE a.trial_id = :trialId
      GROUP BY s.key, a.visit
      ORDER BY s.key, a.visit`,
    { trialId },
  )) as { rows: Record<string, unknown>[] };
  return rows.map((row) => ({
    measure: row.measure as string,
    visit: row.visit as string,
    assessments: row.assessments as number,
    missingScores: row.missing_scores as number,
    missingItems: row.missing_items as number,
  }));
}

export interface DatasetQuery {
  trialId: string;
  today: string;
  siteCodes: string[] | null;
  /** Whether the scale items are wanted: only then is the `values` column read. */
  items?: boolean;
  after?: { participantId: string; day: number };
  limit?: number;
}

function datasetBuilder(db: Executor, query: DatasetQuery): Knex.QueryBuilder {
  const builder = db
    .select(
      'participant_id',
      'label',
      'site_code',
      'stratum_key',
      'arm_code',
      db.raw('randomized_on::text AS randomized_on'),
      'visit',
      // The page cursor's tie-breaker, read only for pages: left out of the whole dataset (CSV, outcome analyses),
      // which never shows it; 2-4 % less of Node's CPU at 218,061 rows (docs/benchmarks.md, round 4).
      ...(query.limit === undefined ? [] : ['day']),
      db.raw('target_date::text AS target_date'),
      db.raw('assessed_on::text AS assessed_on'),
      db.raw('(assessed_on - randomized_on) AS days_from_randomization'),
      'in_window',
      'status',
      'scores',
      'baseline_scores',
      // The scale items as entered, the widest column: parsed only when the items are asked for.
      ...(query.items ? ['values'] : []),
    )
    .from(db.raw(`(${SCHEDULE_SQL}) AS schedule`, { trialId: query.trialId, today: query.today }))
    .orderBy([{ column: 'participant_id' }, { column: 'day' }]);
  if (query.siteCodes) builder.whereIn('site_code', query.siteCodes);
  if (query.after)
    builder.whereRaw('(participant_id, day) > (?::uuid, ?::integer)', [query.after.participantId, query.after.day]);
  if (query.limit !== undefined) builder.limit(query.limit);
  return builder;
}

export interface DatasetDbRow {
  participant_id: string;
  label: string;
  site_code: string;
  stratum_key: string;
  arm_code: string;
  randomized_on: string;
  visit: string;
  /** Selected only for pages (with `limit`). */
  day?: number;
  target_date: string;
  assessed_on: string | null;
  days_from_randomization: number | null;
  in_window: boolean | null;
  status: string;
  scores: Record<string, unknown> | null;
  baseline_scores: Record<string, unknown> | null;
  /** Selected only with `items`. */
  values?: Record<string, unknown> | null;
}

export async function datasetPage(
  db: Executor,
  query: DatasetQuery & { limit: number },
): Promise<(DatasetDbRow & { day: number })[]> {
  return datasetBuilder(db, query);
}

/** The whole dataset row by row (a database cursor on PostgreSQL): memory stays flat at any size. */
export function streamDataset(db: Knex, query: DatasetQuery): Readable {
  return datasetBuilder(db, query).stream();
}

/**
 * The whole dataset as arrays of the rows the cursor has already delivered, so the consumer pays one asynchronous
 * step per batch instead of one per row.
 */
export async function* streamDatasetInBatches(db: Knex, query: DatasetQuery): AsyncGenerator<DatasetDbRow[]> {
  const rows = streamDataset(db, query);
  for await (const first of rows as AsyncIterable<DatasetDbRow>) {
    const batch = [first];
    for (let row = rows.read() as DatasetDbRow | null; row !== null; row = rows.read() as DatasetDbRow | null)
      batch.push(row);
    yield batch;
  }
}
