import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { MeasureScore } from './measure-scoring';

export interface AssessmentRow {
  assessmentId: string;
  participantId: string;
  visit: string;
  assessedOn: string;
  assessor: string | null;
  values: Record<string, unknown>;
  scores: Record<string, MeasureScore>;
  recordedAt: string;
  corrections: number;
}

interface AssessmentDbRow {
  assessment_id: string;
  participant_id: string;
  visit: string;
  assessed_on_text: string;
  assessor: string | null;
  values: Record<string, unknown>;
  scores: Record<string, MeasureScore>;
  recorded_at: Date;
  corrections: number;
}

const toAssessment = (row: AssessmentDbRow): AssessmentRow => ({
  assessmentId: row.assessment_id,
  participantId: row.participant_id,
  visit: row.visit,
  assessedOn: row.assessed_on_text,
  assessor: row.assessor,
  values: row.values,
  scores: row.scores,
  recordedAt: row.recorded_at.toISOString(),
  corrections: row.corrections,
});

export async function findAssessment(
  db: Executor,
  trialId: string,
  participantId: string,
  visit: string,
): Promise<AssessmentRow | undefined> {
  const row = await db('assessments')
    .where({ trial_id: trialId, participant_id: participantId, visit })
    .first<AssessmentDbRow | undefined>('*', db.raw('assessed_on::text AS assessed_on_text'));
  return row && toAssessment(row);
}

export async function insertAssessment(
  trx: Knex.Transaction,
  row: Omit<AssessmentRow, 'recordedAt' | 'corrections'> & { trialId: string; recordedBy: string },
): Promise<void> {
  await trx('assessments').insert({
    trial_id: row.trialId,
    assessment_id: row.assessmentId,
    participant_id: row.participantId,
    visit: row.visit,
    assessed_on: row.assessedOn,
    assessor: row.assessor,
    values: JSON.stringify(row.values),
    scores: JSON.stringify(row.scores),
    recorded_by: row.recordedBy,
  });
}

/** Replaces an assessment's content and keeps the correction; the caller holds the participant's lock. */
export async function correctAssessment(
  trx: Knex.Transaction,
  trialId: string,
  before: AssessmentRow,
  after: Pick<AssessmentRow, 'assessedOn' | 'assessor' | 'values' | 'scores'>,
  reason: string,
  correctedBy: string,
): Promise<void> {
  const correction = before.corrections + 1;
  await trx('assessments')
    .where({ trial_id: trialId, assessment_id: before.assessmentId })
    .update({
      assessed_on: after.assessedOn,
      assessor: after.assessor,
      values: JSON.stringify(after.values),
      scores: JSON.stringify(after.scores),
      corrections: correction,
    });
  const content = (a: typeof after) => ({
    assessedOn: a.assessedOn,
    assessor: a.assessor,
    values: a.values,
    scores: a.scores,
  });
  await trx('assessment_corrections').insert({
    trial_id: trialId,
    assessment_id: before.assessmentId,
    correction,
    reason,
    before: JSON.stringify(content(before)),
    after: JSON.stringify(content(after)),
    corrected_by: correctedBy,
  });
}

export interface MissedVisitRow {
  id: string;
  participantId: string;
  visit: string;
  reason: string;
  recordedOn: string;
  recordedAt: string;
  retraction: { reason: string; retractedAt: string } | null;
}

function selectMissedVisits(db: Executor): Knex.QueryBuilder {
  return db('missed_visits as m')
    .leftJoin('missed_visit_retractions as r', function () {
      this.on('r.trial_id', 'm.trial_id').andOn('r.missed_visit_id', 'm.missed_visit_id');
    })
    .select(
      'm.missed_visit_id',
      'm.participant_id',
      'm.visit',
      'm.reason',
      db.raw('m.recorded_on::text AS recorded_on'),
      'm.recorded_at',
      db.raw('r.reason AS retraction_reason'),
      'r.retracted_at',
    );
}

const toMissedVisit = (row: Record<string, unknown>): MissedVisitRow => ({
  id: row.missed_visit_id as string,
  participantId: row.participant_id as string,
  visit: row.visit as string,
  reason: row.reason as string,
  recordedOn: row.recorded_on as string,
  recordedAt: (row.recorded_at as Date).toISOString(),
  retraction: row.retracted_at
    ? { reason: row.retraction_reason as string, retractedAt: (row.retracted_at as Date).toISOString() }
    : null,
});

export async function findMissedVisit(
  db: Executor,
  trialId: string,
  participantId: string,
  visit: string,
  missedVisitId: string,
): Promise<MissedVisitRow | undefined> {
  const row = await selectMissedVisits(db)
    .where({
      'm.trial_id': trialId,
      'm.participant_id': participantId,
      'm.visit': visit,
      'm.missed_visit_id': missedVisitId,
    })
    .first();
  return row && toMissedVisit(row);
}

/** The missed-visit record in force (not retracted) for a participant's visit. */
export async function findActiveMissedVisit(
  db: Executor,
  trialId: string,
  participantId: string,
  visit: string,
): Promise<MissedVisitRow | undefined> {
  const row = await selectMissedVisits(db)
    .where({ 'm.trial_id': trialId, 'm.participant_id': participantId, 'm.visit': visit })
    .whereNull('r.missed_visit_id')
    .first();
  return row && toMissedVisit(row);
}

export async function insertMissedVisit(
  trx: Knex.Transaction,
  row: {
    trialId: string;
    id: string;
    participantId: string;
    visit: string;
    reason: string;
    recordedOn: string;
    recordedBy: string;
  },
): Promise<void> {
  await trx('missed_visits').insert({
    trial_id: row.trialId,
    missed_visit_id: row.id,
    participant_id: row.participantId,
    visit: row.visit,
    reason: row.reason,
    recorded_on: row.recordedOn,
    recorded_by: row.recordedBy,
  });
}

export async function insertMissedVisitRetraction(
  trx: Knex.Transaction,
  trialId: string,
  missedVisitId: string,
  reason: string,
): Promise<void> {
  await trx('missed_visit_retractions').insert({ trial_id: trialId, missed_visit_id: missedVisitId, reason });
}

/** What decides one participant's schedule besides the trial: assessment dates, missed visits, follow-up stop. */
export interface FollowUpFacts {
  assessments: Map<string, string>;
  missed: Map<string, { reason: string; recordedOn: string }>;
  followUpStopped: { on: string; reason: string } | null;
}

export async function findFollowUpFacts(db: Executor, trialId: string, participantId: string): Promise<FollowUpFacts> {
  const [assessments, missed, stop] = await Promise.all([
    db('assessments')
      .where({ trial_id: trialId, participant_id: participantId })
      .select('visit', db.raw('assessed_on::text AS assessed_on')),
    selectMissedVisits(db)
      .where({ 'm.trial_id': trialId, 'm.participant_id': participantId })
      .whereNull('r.missed_visit_id'),
    findFollowUpStop(db, trialId, participantId),
  ]);
  return {
    assessments: new Map(
      assessments.map((row: { visit: string; assessed_on: string }) => [row.visit, row.assessed_on]),
    ),
    missed: new Map(
      missed.map((row: Record<string, unknown>) => {
        const m = toMissedVisit(row);
        return [m.visit, { reason: m.reason, recordedOn: m.recordedOn }];
      }),
    ),
    followUpStopped: stop,
  };
}

/** SQL of the earliest withdrawal that stops follow-up per participant (scope follow_up or all). */
export const FOLLOW_UP_STOPS_SQL = `
  SELECT DISTINCT ON (c.trial_id, c.participant_id) c.trial_id, c.participant_id, w.withdrawn_on, w.reason
    FROM consent_withdrawals w
    JOIN consents c ON c.trial_id = w.trial_id AND c.consent_id = w.consent_id
   WHERE w.scope IN ('follow_up', 'all')
   ORDER BY c.trial_id, c.participant_id, w.withdrawn_on, w.recorded_at`;

export async function findFollowUpStop(
  db: Executor,
  trialId: string,
  participantId: string,
): Promise<{ on: string; reason: string } | null> {
  const row = await db
    .select(db.raw('withdrawn_on::text AS withdrawn_on'), 'reason')
    .from(db.raw(`(${FOLLOW_UP_STOPS_SQL}) AS s`))
    .where({ trial_id: trialId, participant_id: participantId })
    .first();
  return row ? { on: row.withdrawn_on, reason: `withdrew from follow-up: ${row.reason}` } : null;
}
