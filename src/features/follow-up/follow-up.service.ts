import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Readable } from 'node:stream';
import { isUniqueViolation, readSnapshot, streamInSnapshot, withoutJit, withTransaction } from '../../db/database';
import type { components } from '../../generated/openapi';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors';
import { decodeCursor, encodeCursor, Page } from '../../core/pagination';
import { recordAudit } from '../audit/audit.service';
import { isFutureDate } from '../participants/participants';
import { lockVisibleParticipant, requireVisibleParticipant } from '../participants/participants.service';
import type { TrialView } from '../trials/trials';
import { loadTrial, lockTrialShared } from '../trials/trials.service';
import { datasetColumns, datasetHeader, datasetLine, DatasetRow, DICTIONARY_FIELDS } from './analysis-dataset';
import { daysBetween } from './calendar';
import { BASELINE_VISIT, Visit } from './follow-up-configuration';
import * as query from './follow-up.query';
import * as repo from './follow-up.repo';
import { scoreAssessment } from './measure-scoring';
import { UseCaseContext, withExecutor } from '../../core/use-case-context';
import type { PerProtocolReason } from '../outcomes/per-protocol';
import { perProtocolExclusionsOf } from '../outcomes/per-protocol.service';
import { isInWindow, scheduleFor, VisitStatus, windowOf } from './visit-schedule';
import { answerQueryByCorrection, raiseAssessmentChecks } from '../safety/data-queries.service';

type AssessmentInput = components['schemas']['AssessmentInput'];
type AssessmentCorrection = components['schemas']['AssessmentCorrection'];
type AssessmentView = components['schemas']['Assessment'];
type MissedVisitView = components['schemas']['MissedVisit'];
type ParticipantSchedule = components['schemas']['ParticipantSchedule'];
type WorkListItem = components['schemas']['WorkListItem'];
type FollowUpCompleteness = components['schemas']['FollowUpCompleteness'];
type AnalysisDatasetPage = components['schemas']['AnalysisDatasetPage'];
type AnalysisDictionary = components['schemas']['AnalysisDatasetDictionary'];

const utcDate = (instant: string) => instant.slice(0, 10);

/** "Today" for schedules and work lists: the UTC date of the context's clock. */
const todayOf = (ctx: UseCaseContext): string => ctx.now().toISOString().slice(0, 10);

/**
 * The trial's visits and measures, read after taking the trial's row lock (FOR SHARE) inside the
 * transaction: an amendment committed meanwhile is seen, one in flight waits for this change.
 */
async function activeTrialUnderLock(trx: Knex.Transaction, trialId: string): Promise<TrialView> {
  const trial = await lockTrialShared(trx, trialId);
  if (trial.status === 'setup')
    throw new ConflictError('trial-not-active', `Trial ${trialId} is in set-up.`, { trialStatus: trial.status });
  return trial;
}

function visitOf(trial: TrialView, code: string, pointer: string | null): Visit {
  const visit = trial.visits.find((v) => v.code === code);
  if (visit) return visit;
  if (pointer === null) throw new NotFoundError(`Trial ${trial.id} has no visit ${code}.`);
  throw new ValidationError([{ pointer, detail: `"${code}" is not a visit of this trial` }]);
}

/** Days and window relative to the randomization date; null for a baseline recorded before randomization. */
function toAssessmentView(row: repo.AssessmentRow, visit: Visit, randomizedOn: string | null): AssessmentView {
  return {
    id: row.assessmentId,
    participantId: row.participantId,
    visit: row.visit,
    assessedOn: row.assessedOn,
    assessor: row.assessor,
    values: row.values as AssessmentView['values'],
    scores: row.scores as AssessmentView['scores'],
    inWindow: randomizedOn === null ? null : isInWindow(windowOf(visit, randomizedOn), row.assessedOn),
    daysFromRandomization: randomizedOn === null ? null : daysBetween(randomizedOn, row.assessedOn),
    recordedAt: row.recordedAt,
    corrections: row.corrections,
  };
}

interface AssessmentParticipant {
  role: string;
  screenedOn: string;
  randomizedOn: string | null;
}

/**
 * Whether an assessment of this visit on this date fits the participant; throws the 409 otherwise.
 * The follow-up stop is read inside the caller's transaction, after the participant's lock.
 */
function assertAssessable(
  visit: Visit,
  assessedOn: string,
  participant: AssessmentParticipant,
  stopped: { on: string; reason: string } | null,
): void {
  if (participant.role !== 'service_user')
    throw new ConflictError('assessment-not-allowed', 'Outcomes are assessed for service users, not case workers.');
  if (assessedOn < participant.screenedOn)
    throw new ConflictError(
      'assessment-not-allowed',
      `assessedOn ${assessedOn} is before the participant was screened on ${participant.screenedOn}.`,
    );
  if (visit.code !== BASELINE_VISIT) {
    if (participant.randomizedOn === null)
      throw new ConflictError(
        'participant-not-randomized',
        `Visit ${visit.code} follows randomization; this participant is not randomized.`,
      );
    if (assessedOn < participant.randomizedOn)
      throw new ConflictError(
        'assessment-not-allowed',
        `assessedOn ${assessedOn} is before the randomization on ${participant.randomizedOn}.`,
      );
  }
  if (stopped && assessedOn >= stopped.on)
    throw new ConflictError(
      'follow-up-stopped',
      `Follow-up stopped on ${stopped.on} (${stopped.reason}); no assessment on or after that date.`,
      { stoppedOn: stopped.on },
    );
}

function scoresOrThrow(trial: TrialView, visit: string, values: Record<string, unknown>) {
  const { scores, errors } = scoreAssessment(trial.measures, visit, values);
  if (errors.length) throw new ValidationError(errors);
  return scores;
}

export async function recordAssessment(
  ctx: UseCaseContext,
  input: { trialId: string; participantId: string; assessment: AssessmentInput },
): Promise<AssessmentView> {
  const { trialId, participantId, assessment } = input;
  try {
    return await withTransaction(ctx.db, async (trx) => {
      const trial = await activeTrialUnderLock(trx, trialId);
      if (isFutureDate(assessment.assessedOn, ctx.now()))
        throw new ValidationError([{ pointer: '/assessedOn', detail: 'is in the future' }]);
      const visit = visitOf(trial, assessment.visit, '/visit');
      const scores = scoresOrThrow(trial, visit.code, assessment.values);
      const participant = (await lockVisibleParticipant(trx, ctx.principal, trialId, participantId)).view;
      const randomizedOn = participant.allocation ? utcDate(participant.allocation.randomizedAt) : null;
      const state = { role: participant.role, screenedOn: participant.screenedOn, randomizedOn };
      assertAssessable(visit, assessment.assessedOn, state, await repo.findFollowUpStop(trx, trialId, participantId));
      const missed = await repo.findActiveMissedVisit(trx, trialId, participantId, visit.code);
      if (missed)
        throw new ConflictError(
          'visit-marked-missed',
          `Visit ${visit.code} was marked missed (${missed.reason}); retract that first.`,
          { missedVisitId: missed.id },
        );
      const assessmentId = randomUUID();
      await repo.insertAssessment(trx, {
        trialId,
        assessmentId,
        participantId,
        visit: visit.code,
        assessedOn: assessment.assessedOn,
        assessor: assessment.assessor ?? null,
        values: assessment.values,
        scores,
        recordedBy: ctx.principal.keyId,
      });
      const view = toAssessmentView(
        (await repo.findAssessment(trx, trialId, participantId, visit.code))!,
        visit,
        randomizedOn,
      );
      await recordAudit(trx, ctx.actor, {
        trialId,
        action: 'assessment.recorded',
        entityType: 'assessment',
        entityId: assessmentId,
        before: null,
        after: view,
      });
      await raiseAssessmentChecks(ctx, trx, {
        trialId,
        measures: trial.measures,
        participantId,
        assessment: { id: assessmentId, visit: visit.code, values: assessment.values },
      });
      return view;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError(
        'assessment-exists',
        `Participant ${participantId} already has an assessment of visit ${assessment.visit}; correct it with PATCH.`,
      );
    throw error;
  }
}

export async function correctAssessment(
  ctx: UseCaseContext,
  input: { trialId: string; participantId: string; visit: string; correction: AssessmentCorrection },
): Promise<AssessmentView> {
  const { trialId, participantId, correction } = input;
  return withTransaction(ctx.db, async (trx) => {
    const trial = await activeTrialUnderLock(trx, trialId);
    if (correction.assessedOn !== undefined && isFutureDate(correction.assessedOn, ctx.now()))
      throw new ValidationError([{ pointer: '/assessedOn', detail: 'is in the future' }]);
    const visit = visitOf(trial, input.visit, null);
    const participant = (await lockVisibleParticipant(trx, ctx.principal, trialId, participantId)).view;
    const before = await repo.findAssessment(trx, trialId, participantId, visit.code);
    if (!before) throw new NotFoundError(`Participant ${participantId} has no assessment of visit ${visit.code}.`);
    const randomizedOn = participant.allocation ? utcDate(participant.allocation.randomizedAt) : null;
    const assessedOn = correction.assessedOn ?? before.assessedOn;
    const values = correction.values ?? before.values;
    const scores = scoresOrThrow(trial, visit.code, values);
    if (assessedOn !== before.assessedOn) {
      const state = { role: participant.role, screenedOn: participant.screenedOn, randomizedOn };
      assertAssessable(visit, assessedOn, state, await repo.findFollowUpStop(trx, trialId, participantId));
    }
    const after = { assessedOn, assessor: correction.assessor ?? before.assessor, values, scores };
    await repo.correctAssessment(trx, trialId, before, after, correction.reason, ctx.principal.keyId);
    const beforeView = toAssessmentView(before, visit, randomizedOn);
    const afterView = toAssessmentView(
      (await repo.findAssessment(trx, trialId, participantId, visit.code))!,
      visit,
      randomizedOn,
    );
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'assessment.corrected',
      entityType: 'assessment',
      entityId: before.assessmentId,
      before: beforeView,
      after: afterView,
      reason: correction.reason,
    });
    if (correction.queryId !== undefined)
      await answerQueryByCorrection(ctx, trx, {
        trialId,
        queryId: correction.queryId,
        record: { kind: 'assessment', id: before.assessmentId },
        reason: correction.reason,
      });
    await raiseAssessmentChecks(ctx, trx, {
      trialId,
      measures: trial.measures,
      participantId,
      assessment: { id: before.assessmentId, visit: visit.code, values },
      before: before.values,
    });
    return afterView;
  });
}

export async function recordMissedVisit(
  ctx: UseCaseContext,
  input: { trialId: string; participantId: string; visit: string; reason: string; recordedOn: string },
): Promise<MissedVisitView> {
  const { trialId, participantId } = input;
  return withTransaction(ctx.db, async (trx) => {
    const trial = await activeTrialUnderLock(trx, trialId);
    if (isFutureDate(input.recordedOn, ctx.now()))
      throw new ValidationError([{ pointer: '/recordedOn', detail: 'is in the future' }]);
    const visit = visitOf(trial, input.visit, null);
    const participant = (await lockVisibleParticipant(trx, ctx.principal, trialId, participantId)).view;
    if (participant.role !== 'service_user' || !participant.allocation)
      throw new ConflictError(
        'participant-not-randomized',
        'Visits are missed by randomized service users; this participant is not one.',
      );
    if (await repo.findAssessment(trx, trialId, participantId, visit.code))
      throw new ConflictError('visit-already-assessed', `Visit ${visit.code} is assessed; it cannot be missed.`);
    const active = await repo.findActiveMissedVisit(trx, trialId, participantId, visit.code);
    if (active)
      throw new ConflictError('visit-already-missed', `Visit ${visit.code} is already marked missed.`, {
        missedVisitId: active.id,
      });
    const id = randomUUID();
    await repo.insertMissedVisit(trx, {
      trialId,
      id,
      participantId,
      visit: visit.code,
      reason: input.reason,
      recordedOn: input.recordedOn,
      recordedBy: ctx.principal.keyId,
    });
    const missed = (await repo.findMissedVisit(trx, trialId, participantId, visit.code, id))!;
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'visit.missed',
      entityType: 'missed_visit',
      entityId: id,
      before: null,
      after: missed,
      reason: input.reason,
    });
    return missed;
  });
}

export async function retractMissedVisit(
  ctx: UseCaseContext,
  input: { trialId: string; participantId: string; visit: string; missedVisitId: string; reason: string },
): Promise<MissedVisitView> {
  const { trialId, participantId, visit, missedVisitId, reason } = input;
  try {
    return await withTransaction(ctx.db, async (trx) => {
      await lockTrialShared(trx, trialId);
      await lockVisibleParticipant(trx, ctx.principal, trialId, participantId);
      const before = await repo.findMissedVisit(trx, trialId, participantId, visit, missedVisitId);
      if (!before) throw new NotFoundError(`Missed visit ${missedVisitId} was not found.`);
      if (before.retraction)
        throw new ConflictError(
          'missed-visit-already-retracted',
          `Missed visit ${missedVisitId} was already retracted at ${before.retraction.retractedAt}.`,
        );
      await repo.insertMissedVisitRetraction(trx, trialId, missedVisitId, reason);
      const after = (await repo.findMissedVisit(trx, trialId, participantId, visit, missedVisitId))!;
      await recordAudit(trx, ctx.actor, {
        trialId,
        action: 'visit.missed_retracted',
        entityType: 'missed_visit',
        entityId: missedVisitId,
        before,
        after,
        reason,
      });
      return after;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError('missed-visit-already-retracted', `Missed visit ${missedVisitId} was already retracted.`);
    throw error;
  }
}

/** Visit code -> effective date of the amendment that added it. */
function addedEffectiveOn(trial: TrialView): Map<string, string> {
  const added = new Map<string, string>();
  for (const amendment of trial.followUpAmendments)
    for (const code of amendment.addedVisits) if (!added.has(code)) added.set(code, amendment.effectiveOn);
  return added;
}

export async function getSchedule(
  ctx: UseCaseContext,
  input: { trialId: string; participantId: string },
): Promise<ParticipantSchedule> {
  const { trialId, participantId } = input;
  const trial = await loadTrial(ctx, trialId);
  const participant = (await requireVisibleParticipant(ctx.db, ctx.principal, trialId, participantId)).view;
  const facts = await repo.findFollowUpFacts(ctx.db, trialId, participantId);
  const randomizedOn = participant.allocation ? utcDate(participant.allocation.randomizedAt) : null;
  const today = todayOf(ctx);
  return {
    participantId,
    label: participant.label,
    siteCode: participant.siteCode,
    randomizedOn,
    today,
    visits: scheduleFor(
      trial.visits,
      { screenedOn: participant.screenedOn, randomizedOn, ...facts },
      today,
      addedEffectiveOn(trial),
    ),
  };
}

const VISIT_STATUSES: readonly VisitStatus[] = ['not_due', 'open', 'overdue', 'completed', 'missed', 'not_expected'];

function isWorkListCursor(value: unknown): value is query.WorkListCursor {
  const v = value as Record<string, unknown>;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof v.windowCloses === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(v.windowCloses) &&
    typeof v.participantId === 'string' &&
    /^[0-9a-f-]{36}$/.test(v.participantId) &&
    Number.isInteger(v.day)
  );
}

export interface WorkListInput {
  trialId: string;
  status?: string;
  siteCode?: string;
  dueBefore?: string;
  limit?: number;
  cursor?: string;
}

function workListQuery(ctx: UseCaseContext, input: WorkListInput): query.WorkListQuery {
  const statuses = (input.status ?? 'open,overdue').split(',') as VisitStatus[];
  const scope = ctx.principal.siteCodes;
  const siteCodes = input.siteCode ? (scope === null || scope.includes(input.siteCode) ? [input.siteCode] : []) : scope;
  return {
    trialId: input.trialId,
    today: todayOf(ctx),
    statuses: VISIT_STATUSES.filter((s) => statuses.includes(s)),
    siteCodes,
    dueBefore: input.dueBefore,
  };
}

const toWorkListItem = (row: query.WorkListRow): WorkListItem => {
  const { day: _day, ...item } = row;
  return item;
};

export async function listWorkList(
  ctx: UseCaseContext,
  input: WorkListInput,
): Promise<Page<WorkListItem> & { today: string }> {
  await loadTrial(ctx, input.trialId);
  const limit = input.limit ?? 50;
  const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, isWorkListCursor);
  const rows = await withoutJit(ctx.db, (trx) =>
    query.listWorkList(trx, { ...workListQuery(ctx, input), after, limit: limit + 1 }),
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    today: todayOf(ctx),
    items: page.map(toWorkListItem),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ windowCloses: last.windowCloses, participantId: last.participantId, day: last.day })
        : null,
  };
}

export const WORK_LIST_COLUMNS = [
  'participantId',
  'label',
  'siteCode',
  'visit',
  'visitLabel',
  'targetDate',
  'windowOpens',
  'windowCloses',
  'status',
  'assessedOn',
  'reason',
] as const;

/** Every row of the work list, for CSV. */
export async function workListRows(ctx: UseCaseContext, input: WorkListInput): Promise<WorkListItem[]> {
  await loadTrial(ctx, input.trialId);
  return (await query.listWorkList(ctx.db, workListQuery(ctx, input))).map(toWorkListItem);
}

/**
 * Completeness per visit × arm × site. Arms go through the caller's labeller and the rows are ordered
 * by the label, so neither the names nor the trial's order of the arms reach a blinded key.
 */
export async function getCompleteness(ctx: UseCaseContext, input: { trialId: string }): Promise<FollowUpCompleteness> {
  const trial = await loadTrial(ctx, input.trialId);
  const today = todayOf(ctx);
  const labeller = await ctx.armLabeller(trial.id);
  const label = (arm: string) => labeller.label(arm);
  // JIT off: the schedule's estimate (millions of rows) triggers about a second of compilation (docs/benchmarks.md).
  const [byVisit, byMeasure] = await Promise.all([
    withoutJit(ctx.db, (trx) => query.completenessByVisit(trx, trial.id, today)),
    withoutJit(ctx.db, (trx) => query.completenessByMeasure(trx, trial.id)),
  ]);
  const visits = byVisit
    .map(({ day, ...row }) => ({
      day,
      row: {
        ...row,
        arm: label(row.arm),
        expected: row.randomized - row.notDue - row.notExpected,
      },
    }))
    .sort(
      (a, b) =>
        a.day - b.day ||
        a.row.arm.localeCompare(b.row.arm, 'en', { numeric: true }) ||
        a.row.siteCode.localeCompare(b.row.siteCode),
    )
    .map(({ row }) => ({
      visit: row.visit,
      arm: row.arm,
      siteCode: row.siteCode,
      randomized: row.randomized,
      expected: row.expected,
      completedInWindow: row.completedInWindow,
      completedOutOfWindow: row.completedOutOfWindow,
      missed: row.missed,
      missedByReason: row.missedByReason,
      overdue: row.overdue,
      open: row.open,
      notDue: row.notDue,
      notExpected: row.notExpected,
    }));
  return { today, visits, measures: byMeasure };
}

export const COMPLETENESS_COLUMNS = [
  'visit',
  'arm',
  'siteCode',
  'randomized',
  'expected',
  'completedInWindow',
  'completedOutOfWindow',
  'missed',
  'missedByReason',
  'overdue',
  'open',
  'notDue',
  'notExpected',
] as const;

/** One dataset row as the endpoints give it (also used by the dataset benchmark to time the shaping alone). */
export function toDatasetRow(
  row: query.DatasetDbRow,
  label: (arm: string) => string,
  perProtocol: Map<string, PerProtocolReason[]>,
): DatasetRow {
  return {
    participantId: row.participant_id,
    label: row.label,
    siteCode: row.site_code,
    stratum: row.stratum_key,
    arm: label(row.arm_code),
    randomizedOn: row.randomized_on,
    visit: row.visit,
    targetDate: row.target_date,
    assessedOn: row.assessed_on,
    daysFromRandomization: row.days_from_randomization,
    inWindow: row.in_window,
    status: row.status,
    scores: row.scores as DatasetRow['scores'],
    baselineScores: row.baseline_scores as DatasetRow['baselineScores'],
    values: row.values ?? null,
    perProtocolExclusions: perProtocol.get(row.participant_id) ?? [],
  };
}

function isDatasetCursor(value: unknown): value is { participantId: string; day: number } {
  const v = value as Record<string, unknown>;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof v.participantId === 'string' &&
    /^[0-9a-f-]{36}$/.test(v.participantId) &&
    Number.isInteger(v.day)
  );
}

/** A page of the analysis dataset: rows keyed by column name, in the dictionary's order. */
export async function analysisDatasetPage(
  ctx: UseCaseContext,
  input: { trialId: string; items?: boolean; limit?: number; cursor?: string },
): Promise<AnalysisDatasetPage> {
  // One snapshot: the rows and the per-protocol exclusions (deviations, doses) describe the same instant.
  return readSnapshot(ctx.db, async (db) => {
    const snapshot = withExecutor(ctx, db);
    const trial = await loadTrial(snapshot, input.trialId);
    const columns = datasetColumns(trial.measures, input.items ?? false);
    const labeller = await snapshot.armLabeller(trial.id);
    const label = (arm: string) => labeller.label(arm);
    const perProtocol = await perProtocolExclusionsOf(snapshot, trial);
    const limit = input.limit ?? 500;
    const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, isDatasetCursor);
    const rows = await query.datasetPage(snapshot.db, {
      trialId: trial.id,
      today: todayOf(snapshot),
      siteCodes: snapshot.principal.siteCodes,
      items: input.items ?? false,
      after,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      columns: columns.map((c) => c.name),
      items: page.map((row) => {
        const shaped = toDatasetRow(row, label, perProtocol);
        return Object.fromEntries(
          columns.map((c) => [c.name, c.value(shaped)]),
        ) as AnalysisDatasetPage['items'][number];
      }),
      nextCursor:
        rows.length > limit && last ? encodeCursor({ participantId: last.participant_id, day: last.day }) : null,
    };
  });
}

/** The whole analysis dataset as CSV, streamed from a database cursor. */
export async function analysisDatasetCsv(
  ctx: UseCaseContext,
  input: { trialId: string; items?: boolean },
): Promise<Readable> {
  const trial = await loadTrial(ctx, input.trialId);
  const columns = datasetColumns(trial.measures, input.items ?? false);
  const labeller = await ctx.armLabeller(trial.id);
  const label = (arm: string) => labeller.label(arm);
  const perProtocol = await perProtocolExclusionsOf(ctx, trial);
  const dataset = {
    trialId: trial.id,
    today: todayOf(ctx),
    siteCodes: ctx.principal.siteCodes,
    items: input.items ?? false,
  };
  async function* lines() {
    yield datasetHeader(columns);
    // JIT off, as every other read model: its compilation alone took 1.0 s of the query at 20,000 participants.
    // One asynchronous step and one chunk per batch of rows, not three steps per row: 14 % less CPU at 218,061
    // rows (docs/benchmarks.md, round 4).
    const batches = streamInSnapshot(ctx.db, (trx) => query.streamDatasetInBatches(trx, dataset));
    for await (const batch of batches) {
      let text = '';
      for (const row of batch) text += datasetLine(columns, toDatasetRow(row, label, perProtocol));
      yield text;
    }
  }
  return Readable.from(lines());
}

export async function analysisDictionary(
  ctx: UseCaseContext,
  input: { trialId: string; items?: boolean },
): Promise<AnalysisDictionary> {
  const trial = await loadTrial(ctx, input.trialId);
  return {
    columns: datasetColumns(trial.measures, input.items ?? false).map((c) =>
      Object.fromEntries(DICTIONARY_FIELDS.map((field) => [field, c[field]])),
    ) as AnalysisDictionary['columns'],
  };
}

/**
 * Every row of the analysis dataset the caller may see (site scope), arms as the caller sees them (masked for
 * blinded keys): what the outcome analyses are computed from.
 */
export async function analysisDatasetRows(
  ctx: UseCaseContext,
  input: { trialId: string },
): Promise<{ trial: TrialView; rows: DatasetRow[] }> {
  // One snapshot: the rows and the per-protocol exclusions (deviations, doses) describe the same instant.
  return readSnapshot(ctx.db, async (db) => {
    const snapshot = withExecutor(ctx, db);
    const trial = await loadTrial(snapshot, input.trialId);
    const labeller = await snapshot.armLabeller(trial.id);
    const label = (arm: string) => labeller.label(arm);
    const perProtocol = await perProtocolExclusionsOf(snapshot, trial);
    const rows: DatasetRow[] = [];
    const stream = query.streamDataset(db, {
      trialId: trial.id,
      today: todayOf(snapshot),
      siteCodes: ctx.principal.siteCodes,
    });
    for await (const row of stream) rows.push(toDatasetRow(row as query.DatasetDbRow, label, perProtocol));
    return { trial, rows };
  });
}
