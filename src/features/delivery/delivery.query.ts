import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { TimeOrderedCursor } from '../../core/pagination';
import type { components } from '../../generated/openapi';
import type { DoseFacts } from './dose';

type DeliverySession = components['schemas']['DeliverySession'];

interface SessionDbRow {
  session_id: string;
  participant_id: string;
  site_code: string;
  arm_code: string;
  case_worker_id: string;
  case_worker_arm: string;
  session_date_text: string;
  duration_minutes: number;
  mode: DeliverySession['mode'];
  kind: string;
  tools_used: string[];
  notes: string | null;
  flags: DeliverySession['flags'];
  recorded_at: Date;
  recorded_at_text: string;
  corrections: DeliverySession['corrections'];
  retraction_reason: string | null;
  retracted_at: Date | null;
}

/** Sessions with the service user's site and arm, their corrections and retraction, one round trip. */
function selectSessions(db: Executor, trialId: string): Knex.QueryBuilder {
  return db('delivery_sessions as s')
    .join('participants as p', function () {
      this.on('p.trial_id', 's.trial_id').andOn('p.participant_id', 's.participant_id');
    })
    .join('allocations as a', function () {
      this.on('a.trial_id', 's.trial_id').andOn('a.participant_id', 's.participant_id');
    })
    .leftJoin('session_retractions as r', function () {
      this.on('r.trial_id', 's.trial_id').andOn('r.session_id', 's.session_id');
    })
    .where('s.trial_id', trialId)
    .select(
      's.*',
      'p.site_code',
      'a.arm_code',
      db.raw('s.session_date::text AS session_date_text'),
      db.raw('s.recorded_at::text AS recorded_at_text'),
      'r.reason as retraction_reason',
      'r.retracted_at',
      db.raw(`(SELECT coalesce(json_agg(json_build_object('reason', c.reason, 'correctedAt', c.corrected_at,
                      'before', c.before) ORDER BY c.correction), '[]')
                 FROM session_corrections c WHERE c.trial_id = s.trial_id AND c.session_id = s.session_id) AS corrections`),
    );
}

function toSession(row: SessionDbRow): DeliverySession {
  return {
    id: row.session_id,
    participantId: row.participant_id,
    siteCode: row.site_code,
    arm: row.arm_code,
    caseWorkerId: row.case_worker_id,
    caseWorkerArm: row.case_worker_arm,
    date: row.session_date_text,
    durationMinutes: row.duration_minutes,
    mode: row.mode,
    kind: row.kind,
    toolsUsed: row.tools_used,
    notes: row.notes,
    flags: row.flags,
    recordedAt: row.recorded_at.toISOString(),
    corrections: row.corrections.map((c) => ({ ...c, correctedAt: new Date(c.correctedAt).toISOString() })),
    retraction:
      row.retraction_reason === null
        ? null
        : { reason: row.retraction_reason, retractedAt: row.retracted_at!.toISOString() },
  };
}

export async function findSession(
  db: Executor,
  trialId: string,
  sessionId: string,
): Promise<DeliverySession | undefined> {
  const row: SessionDbRow | undefined = await selectSessions(db, trialId).where('s.session_id', sessionId).first();
  return row && toSession(row);
}

export interface SessionListQuery {
  participantId?: string;
  caseWorkerId?: string;
  siteCode?: string;
  flagged?: boolean;
  /** null: every site. */
  siteCodes: string[] | null;
  limit: number;
  after?: TimeOrderedCursor;
}

export async function listSessions(
  db: Executor,
  trialId: string,
  query: SessionListQuery,
): Promise<{ session: DeliverySession; cursor: TimeOrderedCursor }[]> {
  const builder = selectSessions(db, trialId);
  if (query.participantId) builder.where('s.participant_id', query.participantId);
  if (query.caseWorkerId) builder.where('s.case_worker_id', query.caseWorkerId);
  if (query.siteCode) builder.where('p.site_code', query.siteCode);
  if (query.siteCodes !== null) builder.whereIn('p.site_code', query.siteCodes);
  if (query.flagged !== undefined)
    builder.whereRaw(query.flagged ? 'cardinality(s.flags) > 0' : 'cardinality(s.flags) = 0');
  if (query.after)
    builder.whereRaw('(s.recorded_at, s.session_id) > (?::timestamptz, ?::uuid)', [query.after.at, query.after.id]);
  const rows: SessionDbRow[] = await builder
    .orderBy([{ column: 's.recorded_at' }, { column: 's.session_id' }])
    .limit(query.limit + 1);
  return rows.map((row) => ({ session: toSession(row), cursor: { at: row.recorded_at_text, id: row.session_id } }));
}

/** The arm of a case worker's current assignment (p: the participant). Bindings: none. */
const CURRENT_ASSIGNMENT_SQL = `(SELECT w.arm_code FROM case_worker_assignments w
   WHERE w.trial_id = p.trial_id AND w.participant_id = p.participant_id
   ORDER BY w.assigned_at DESC LIMIT 1)`;

/** A participant of the trial as a session's case worker: role and the arm of the current assignment. */
export async function findCaseWorker(
  db: Executor,
  trialId: string,
  participantId: string,
): Promise<{ role: string; arm: string | null } | undefined> {
  const row = await db('participants as p')
    .where({ 'p.trial_id': trialId, 'p.participant_id': participantId })
    .first<{ role: string; arm: string | null } | undefined>('p.role', db.raw(`${CURRENT_ASSIGNMENT_SQL} AS arm`));
  return row;
}

/**
 * The earliest intervention withdrawal of each participant: a `discontinued_intervention` event that is not
 * retracted, or a consent withdrawal of scope `intervention` or `all`. Bindings: none; join on trial and participant.
 */
export const INTERVENTION_WITHDRAWAL_SQL = `
  LEAST(
    (SELECT min(e.occurred_on) FROM participant_events e
      WHERE e.trial_id = p.trial_id AND e.participant_id = p.participant_id AND e.type = 'discontinued_intervention'
        AND NOT EXISTS (SELECT 1 FROM event_retractions er WHERE er.trial_id = e.trial_id AND er.event_id = e.event_id)),
    (SELECT min(w.withdrawn_on) FROM consents c
       JOIN consent_withdrawals w ON w.trial_id = c.trial_id AND w.consent_id = c.consent_id
      WHERE c.trial_id = p.trial_id AND c.participant_id = p.participant_id AND w.scope IN ('intervention', 'all'))
  )`;

/** What the dose of every randomized service user (at the sites given) is computed from, by site then label. */
export async function doseFacts(db: Executor, trialId: string, siteCodes: string[] | null): Promise<DoseFacts[]> {
  const builder = db('participants as p')
    .join('allocations as a', function () {
      this.on('a.trial_id', 'p.trial_id').andOn('a.participant_id', 'p.participant_id');
    })
    .where({ 'p.trial_id': trialId, 'p.role': 'service_user' })
    .select(
      'p.participant_id',
      'p.label',
      'p.site_code',
      'a.arm_code',
      db.raw(`((a.randomized_at AT TIME ZONE 'UTC')::date)::text AS randomized_on`),
      db.raw(`(${INTERVENTION_WITHDRAWAL_SQL})::text AS withdrawn_on`),
      db.raw(`(SELECT coalesce(json_agg(json_build_object('date', s.session_date::text, 'minutes', s.duration_minutes)
                                ORDER BY s.session_date), '[]')
                 FROM delivery_sessions s
                WHERE s.trial_id = p.trial_id AND s.participant_id = p.participant_id
                  AND NOT EXISTS (SELECT 1 FROM session_retractions r
                                   WHERE r.trial_id = s.trial_id AND r.session_id = s.session_id)) AS sessions`),
    )
    .orderBy([{ column: 'p.site_code' }, { column: 'p.label' }]);
  if (siteCodes !== null) builder.whereIn('p.site_code', siteCodes);
  const rows: {
    participant_id: string;
    label: string;
    site_code: string;
    arm_code: string;
    randomized_on: string;
    withdrawn_on: string | null;
    sessions: { date: string; minutes: number }[];
  }[] = await builder;
  return rows.map((row) => ({
    participantId: row.participant_id,
    label: row.label,
    siteCode: row.site_code,
    arm: row.arm_code,
    randomizedOn: row.randomized_on,
    withdrawnOn: row.withdrawn_on,
    sessions: row.sessions,
  }));
}

/** The ids among these that are not case workers of the trial. */
export async function notCaseWorkers(db: Executor, trialId: string, ids: readonly string[]): Promise<string[]> {
  const found: string[] = await db('participants')
    .where({ trial_id: trialId, role: 'case_worker' })
    .whereIn('participant_id', ids)
    .pluck('participant_id');
  return ids.filter((id) => !found.includes(id));
}

/** Case workers of the trial at the sites given (null: every site), with their current arm, by site then label. */
export async function caseWorkers(
  db: Executor,
  trialId: string,
  filter: { siteCode?: string; siteCodes: string[] | null },
): Promise<{ caseWorkerId: string; label: string; siteCode: string; arm: string | null }[]> {
  const builder = db('participants as p').where({ 'p.trial_id': trialId, 'p.role': 'case_worker' });
  if (filter.siteCode) builder.where('p.site_code', filter.siteCode);
  if (filter.siteCodes !== null) builder.whereIn('p.site_code', filter.siteCodes);
  const rows: { participant_id: string; label: string; site_code: string; arm: string | null }[] = await builder
    .select('p.participant_id', 'p.label', 'p.site_code', db.raw(`${CURRENT_ASSIGNMENT_SQL} AS arm`))
    .orderBy([{ column: 'p.site_code' }, { column: 'p.label' }]);
  return rows.map((r) => ({ caseWorkerId: r.participant_id, label: r.label, siteCode: r.site_code, arm: r.arm }));
}

/** Sessions with at least one flag that are not retracted, at the sites given: the derived deviations' source. */
export async function flaggedSessions(db: Executor, trialId: string, siteCodes: string[] | null) {
  const builder = selectSessions(db, trialId).whereRaw('cardinality(s.flags) > 0').whereNull('r.session_id');
  if (siteCodes !== null) builder.whereIn('p.site_code', siteCodes);
  const rows: SessionDbRow[] = await builder;
  return rows.map(toSession);
}
