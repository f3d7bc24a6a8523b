import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { FidelityScale } from './delivery-configuration';

/** The fields of a session a correction may change; what `session_corrections.before` keeps. */
export interface SessionFields {
  caseWorkerId: string;
  caseWorkerArm: string;
  date: string;
  durationMinutes: number;
  mode: 'in_person' | 'phone' | 'video';
  kind: string;
  toolsUsed: string[];
  notes: string | null;
  flags: string[];
}

const columnsOf = (fields: SessionFields) => ({
  case_worker_id: fields.caseWorkerId,
  case_worker_arm: fields.caseWorkerArm,
  session_date: fields.date,
  duration_minutes: fields.durationMinutes,
  mode: fields.mode,
  kind: fields.kind,
  tools_used: fields.toolsUsed,
  notes: fields.notes,
  flags: fields.flags,
});

export async function insertSession(
  trx: Knex.Transaction,
  row: SessionFields & { trialId: string; sessionId: string; participantId: string; recordedBy: string },
): Promise<void> {
  await trx('delivery_sessions').insert({
    trial_id: row.trialId,
    session_id: row.sessionId,
    participant_id: row.participantId,
    recorded_by: row.recordedBy,
    ...columnsOf(row),
  });
}

/** Locks the session row; undefined when the trial has no such session. */
export async function lockSession(
  trx: Knex.Transaction,
  trialId: string,
  sessionId: string,
): Promise<{ participantId: string; retracted: boolean } | undefined> {
  const row = await trx('delivery_sessions as s')
    .where({ 's.trial_id': trialId, 's.session_id': sessionId })
    .forUpdate()
    .first<{ participant_id: string; retracted: boolean } | undefined>(
      's.participant_id',
      trx.raw(
        'EXISTS (SELECT 1 FROM session_retractions r WHERE r.trial_id = s.trial_id AND r.session_id = s.session_id) AS retracted',
      ),
    );
  return row && { participantId: row.participant_id, retracted: row.retracted };
}

/** Replaces the session's fields and keeps the ones before as correction number n + 1. */
export async function correctSession(
  trx: Knex.Transaction,
  input: {
    trialId: string;
    sessionId: string;
    before: SessionFields;
    after: SessionFields;
    reason: string;
    by: string;
  },
): Promise<void> {
  const { count } = (await trx('session_corrections')
    .where({ trial_id: input.trialId, session_id: input.sessionId })
    .count<{ count: string }[]>('* as count')
    .first())!;
  await trx('session_corrections').insert({
    trial_id: input.trialId,
    session_id: input.sessionId,
    correction: Number(count) + 1,
    reason: input.reason,
    before: JSON.stringify(input.before),
    corrected_by: input.by,
  });
  await trx('delivery_sessions')
    .where({ trial_id: input.trialId, session_id: input.sessionId })
    .update(columnsOf(input.after));
}

export async function insertSessionRetraction(
  trx: Knex.Transaction,
  row: { trialId: string; sessionId: string; reason: string; by: string },
): Promise<void> {
  await trx('session_retractions').insert({
    trial_id: row.trialId,
    session_id: row.sessionId,
    reason: row.reason,
    retracted_by: row.by,
  });
}

export interface FidelityReviewRow {
  reviewId: string;
  siteCode: string;
  reviewedOn: string;
  reviewers: string[];
  sources: ('staff_interview' | 'service_user_interview' | 'observation' | 'chart_review')[];
  scores: Record<string, number>;
  scale: FidelityScale;
  recordedAt: string;
}

export async function insertFidelityReview(
  trx: Knex.Transaction,
  row: Omit<FidelityReviewRow, 'recordedAt'> & { trialId: string; recordedBy: string },
): Promise<void> {
  await trx('fidelity_reviews').insert({
    trial_id: row.trialId,
    review_id: row.reviewId,
    site_code: row.siteCode,
    reviewed_on: row.reviewedOn,
    reviewers: row.reviewers,
    sources: row.sources,
    scores: JSON.stringify(row.scores),
    scale: JSON.stringify(row.scale),
    recorded_by: row.recordedBy,
  });
}

/** Reviews of the trial, optionally of one site and limited to sites (null: every site). */
export async function listFidelityReviews(
  db: Executor,
  trialId: string,
  filter: { siteCode?: string; siteCodes: string[] | null; reviewId?: string },
): Promise<FidelityReviewRow[]> {
  const builder = db('fidelity_reviews').where({ trial_id: trialId });
  if (filter.siteCode) builder.where('site_code', filter.siteCode);
  if (filter.siteCodes !== null) builder.whereIn('site_code', filter.siteCodes);
  if (filter.reviewId) builder.where('review_id', filter.reviewId);
  const rows: {
    review_id: string;
    site_code: string;
    reviewed_on_text: string;
    reviewers: string[];
    sources: FidelityReviewRow['sources'];
    scores: Record<string, number>;
    scale: FidelityReviewRow['scale'];
    recorded_at: Date;
  }[] = await builder
    .select('*', db.raw('reviewed_on::text AS reviewed_on_text'))
    .orderBy([{ column: 'reviewed_on' }, { column: 'recorded_at' }]);
  return rows.map((row) => ({
    reviewId: row.review_id,
    siteCode: row.site_code,
    reviewedOn: row.reviewed_on_text,
    reviewers: row.reviewers,
    sources: row.sources,
    scores: row.scores,
    scale: row.scale,
    recordedAt: row.recorded_at.toISOString(),
  }));
}

export interface SupervisionRow {
  supervisionId: string;
  date: string;
  kind: 'individual' | 'group' | 'field_mentoring';
  siteCode: string;
  caseWorkerIds: string[];
  supervisor: string;
  durationMinutes: number;
  recordedAt: string;
}

export async function insertSupervision(
  trx: Knex.Transaction,
  row: Omit<SupervisionRow, 'recordedAt'> & { trialId: string; recordedBy: string },
): Promise<void> {
  await trx('supervision_sessions').insert({
    trial_id: row.trialId,
    supervision_id: row.supervisionId,
    supervised_on: row.date,
    kind: row.kind,
    site_code: row.siteCode,
    case_worker_ids: row.caseWorkerIds,
    supervisor: row.supervisor,
    duration_minutes: row.durationMinutes,
    recorded_by: row.recordedBy,
  });
}

export async function listSupervision(
  db: Executor,
  trialId: string,
  filter: { supervisionId?: string },
): Promise<SupervisionRow[]> {
  const builder = db('supervision_sessions').where({ trial_id: trialId });
  if (filter.supervisionId) builder.where('supervision_id', filter.supervisionId);
  const rows: {
    supervision_id: string;
    date_text: string;
    kind: SupervisionRow['kind'];
    site_code: string;
    case_worker_ids: string[];
    supervisor: string;
    duration_minutes: number;
    recorded_at: Date;
  }[] = await builder
    .select('*', db.raw('supervised_on::text AS date_text'))
    .orderBy([{ column: 'supervised_on' }, { column: 'recorded_at' }]);
  return rows.map((row) => ({
    supervisionId: row.supervision_id,
    date: row.date_text,
    kind: row.kind,
    siteCode: row.site_code,
    caseWorkerIds: row.case_worker_ids,
    supervisor: row.supervisor,
    durationMinutes: row.duration_minutes,
    recordedAt: row.recorded_at.toISOString(),
  }));
}

export interface DeviationRow {
  deviationId: string;
  participantId: string | null;
  siteCode: string | null;
  category: string;
  severity: 'minor' | 'major';
  occurredOn: string;
  description: string;
  correctiveAction: string | null;
  recordedAt: string;
}

export async function insertDeviation(
  trx: Knex.Transaction,
  row: Omit<DeviationRow, 'recordedAt'> & { trialId: string; recordedBy: string },
): Promise<void> {
  await trx('protocol_deviations').insert({
    trial_id: row.trialId,
    deviation_id: row.deviationId,
    participant_id: row.participantId,
    site_code: row.siteCode,
    category: row.category,
    severity: row.severity,
    occurred_on: row.occurredOn,
    description: row.description,
    corrective_action: row.correctiveAction,
    recorded_by: row.recordedBy,
  });
}

export async function listDeviations(
  db: Executor,
  trialId: string,
  filter: { deviationId?: string; siteCodes: string[] | null },
): Promise<DeviationRow[]> {
  const builder = db('protocol_deviations').where({ trial_id: trialId });
  if (filter.deviationId) builder.where('deviation_id', filter.deviationId);
  if (filter.siteCodes !== null) builder.whereIn('site_code', filter.siteCodes);
  const rows: {
    deviation_id: string;
    participant_id: string | null;
    site_code: string | null;
    category: string;
    severity: DeviationRow['severity'];
    occurred_on_text: string;
    description: string;
    corrective_action: string | null;
    recorded_at: Date;
  }[] = await builder.select('*', db.raw('occurred_on::text AS occurred_on_text'));
  return rows.map((row) => ({
    deviationId: row.deviation_id,
    participantId: row.participant_id,
    siteCode: row.site_code,
    category: row.category,
    severity: row.severity,
    occurredOn: row.occurred_on_text,
    description: row.description,
    correctiveAction: row.corrective_action,
    recordedAt: row.recorded_at.toISOString(),
  }));
}
