import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { withTransaction } from '../../db/database';
import type { components } from '../../generated/openapi';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../core/errors';
import { csvLine } from '../../core/csv';
import { decodeCursor, isTimeOrderedCursor, Page, toPage } from '../../core/pagination';
import type { ArmLabeller, UseCaseContext } from '../../core/use-case-context';
import { recordAudit } from '../audit/audit.service';
import { isFutureDate } from '../participants/participants';
import { lockVisibleParticipant } from '../participants/participants.service';
import { answerQueryByCorrection } from '../safety/data-queries.service';
import type { TrialView } from '../trials/trials';
import { findMissingSiteCodes, loadTrial, lockTrialShared } from '../trials/trials.service';
import { armPlanOf, DeliveryConfiguration } from './delivery-configuration';
import * as query from './delivery.query';
import * as repo from './delivery.repo';
import { doseByArmAndSite, DoseFacts, earliestWithdrawal, participantDose, ParticipantDose } from './dose';
import { fidelityBySite, fidelityChart, scoreErrors, scoreFidelity } from './fidelity';
import {
  derivedDeviations,
  DeviationFilter,
  deviationList,
  longGapDeviation,
  majorDeviationCounts,
} from './deviations';
import { longGaps } from './long-gaps';
import { sessionFlags, unknownCodes } from './session-rules';
import { monthsBetween, supervisionPlanOf, supervisionRows } from './supervision';

type SessionInput = components['schemas']['SessionInput'];
type SessionCorrection = components['schemas']['SessionCorrection'];
type DeliverySession = components['schemas']['DeliverySession'];
type DeliveryReport = components['schemas']['DeliveryReport'];

const todayOf = (ctx: UseCaseContext): string => ctx.now().toISOString().slice(0, 10);

function deliveryOf(trial: TrialView): DeliveryConfiguration {
  if (!trial.delivery)
    throw new ConflictError('delivery-not-configured', `Trial ${trial.id} has no delivery plan; configure one first.`);
  return trial.delivery;
}

/** The trial read after its row lock (404 for an unknown trial); 409 while it is in set-up. */
async function activeTrialUnderLock(trx: Knex.Transaction, trialId: string): Promise<TrialView> {
  const trial = await lockTrialShared(trx, trialId);
  if (trial.status === 'setup')
    throw new ConflictError('trial-not-active', `Trial ${trialId} is in set-up.`, { trialStatus: trial.status });
  return trial;
}

/** The trial's delivery plan, read after the trial's row lock (an amendment committed meanwhile is seen). */
async function deliveryUnderLock(trx: Knex.Transaction, trialId: string): Promise<DeliveryConfiguration> {
  return deliveryOf(await activeTrialUnderLock(trx, trialId));
}

/**
 * A session as the audit trail keeps it: without kind and tools, which name the arm to any blinded monitor reading
 * the trail (the session itself and its corrections keep them, for unblinded keys only).
 */
function auditedSession(session: DeliverySession | repo.SessionFields) {
  const { kind: _kind, toolsUsed: _tools, ...rest } = session;
  return rest;
}

function sessionView(labeller: ArmLabeller, session: DeliverySession): DeliverySession {
  return { ...session, arm: labeller.label(session.arm), caseWorkerArm: labeller.label(session.caseWorkerArm) };
}

/**
 * Checks a session (new or corrected) against the service user and the case worker, read inside the transaction
 * after the participant's lock, and returns the fields to store with their flags. Throws the 409 or 422.
 */
async function checkedFields(
  trx: Knex.Transaction,
  ctx: UseCaseContext,
  input: { trialId: string; delivery: DeliveryConfiguration; participantId: string; session: SessionInput },
): Promise<repo.SessionFields> {
  const { trialId, delivery, participantId, session } = input;
  const unknown = unknownCodes(delivery, session);
  if (unknown.length) throw new ValidationError(unknown);
  const { view } = await lockVisibleParticipant(trx, ctx.principal, trialId, participantId);
  if (view.role !== 'service_user')
    throw new ValidationError([
      { pointer: '/participantId', detail: 'is a case worker; sessions are delivered to service users' },
    ]);
  if (!view.allocation)
    throw new ConflictError('participant-not-randomized', `Participant ${participantId} is not randomized.`);
  const randomizedOn = view.allocation.randomizedAt.slice(0, 10);
  if (session.date < randomizedOn)
    throw new ConflictError(
      'session-before-randomization',
      `The session on ${session.date} is before the randomization on ${randomizedOn}.`,
      { randomizedOn },
    );
  const withdrawnOn = earliestWithdrawal([
    ...view.events
      .filter((e) => e.type === 'discontinued_intervention' && e.retraction === null)
      .map((e) => e.occurredOn),
    ...view.consents
      .filter((c) => c.withdrawal && c.withdrawal.scope !== 'follow_up')
      .map((c) => c.withdrawal!.withdrawnOn),
  ]);
  if (withdrawnOn !== null && session.date >= withdrawnOn)
    throw new ConflictError(
      'intervention-withdrawn',
      `Participant ${participantId} left the intervention on ${withdrawnOn}; no session on or after that date.`,
      { withdrawnOn },
    );
  const worker = await query.findCaseWorker(trx, trialId, session.caseWorkerId);
  if (!worker || worker.role !== 'case_worker')
    throw new ValidationError([{ pointer: '/caseWorkerId', detail: 'is not a case worker of this trial' }]);
  if (worker.arm === null)
    throw new ValidationError([
      { pointer: '/caseWorkerId', detail: 'is not assigned to an arm; assign the case worker first' },
    ]);
  const flags = sessionFlags(delivery, {
    arm: view.allocation.arm,
    workerArm: worker.arm,
    randomizedOn,
    kind: session.kind,
    toolsUsed: session.toolsUsed,
    date: session.date,
  });
  return {
    caseWorkerId: session.caseWorkerId,
    caseWorkerArm: worker.arm,
    date: session.date,
    durationMinutes: session.durationMinutes,
    mode: session.mode,
    kind: session.kind,
    toolsUsed: session.toolsUsed,
    notes: session.notes ?? null,
    flags,
  };
}

function refuseFutureDate(ctx: UseCaseContext, date: string | undefined): void {
  if (date !== undefined && isFutureDate(date, ctx.now()))
    throw new ValidationError([{ pointer: '/date', detail: 'is in the future' }]);
}

export async function recordSession(
  ctx: UseCaseContext,
  input: { trialId: string; session: SessionInput },
): Promise<DeliverySession> {
  const { trialId, session } = input;
  refuseFutureDate(ctx, session.date);
  return withTransaction(ctx.db, async (trx) => {
    const delivery = await deliveryUnderLock(trx, trialId);
    const fields = await checkedFields(trx, ctx, { trialId, delivery, participantId: session.participantId, session });
    const sessionId = randomUUID();
    await repo.insertSession(trx, {
      trialId,
      sessionId,
      participantId: session.participantId,
      recordedBy: ctx.principal.keyId,
      ...fields,
    });
    const view = (await query.findSession(trx, trialId, sessionId))!;
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'session.recorded',
      entityType: 'session',
      entityId: sessionId,
      before: null,
      after: auditedSession(view),
    });
    return sessionView(await ctx.armLabeller(trialId, trx), view);
  });
}

function sessionNotFound(sessionId: string): NotFoundError {
  return new NotFoundError(`Session ${sessionId} was not found.`);
}

/** Locks a session whose service user the caller may see; 404 alike for other sites and unknown sessions. */
async function lockVisibleSession(trx: Knex.Transaction, ctx: UseCaseContext, trialId: string, sessionId: string) {
  const locked = await repo.lockSession(trx, trialId, sessionId);
  if (!locked) throw sessionNotFound(sessionId);
  const current = (await query.findSession(trx, trialId, sessionId))!;
  if (ctx.principal.siteCodes !== null && !ctx.principal.siteCodes.includes(current.siteCode))
    throw sessionNotFound(sessionId);
  if (locked.retracted)
    throw new ConflictError('session-retracted', `Session ${sessionId} is retracted.`, {
      retractedAt: current.retraction!.retractedAt,
    });
  return current;
}

const fieldsOf = (session: DeliverySession): repo.SessionFields => ({
  caseWorkerId: session.caseWorkerId,
  caseWorkerArm: session.caseWorkerArm,
  date: session.date,
  durationMinutes: session.durationMinutes,
  mode: session.mode,
  kind: session.kind,
  toolsUsed: session.toolsUsed,
  notes: session.notes,
  flags: session.flags,
});

export async function correctSession(
  ctx: UseCaseContext,
  input: { trialId: string; sessionId: string; correction: SessionCorrection },
): Promise<DeliverySession> {
  const { trialId, sessionId, correction } = input;
  refuseFutureDate(ctx, correction.date);
  return withTransaction(ctx.db, async (trx) => {
    const delivery = await deliveryUnderLock(trx, trialId);
    const before = await lockVisibleSession(trx, ctx, trialId, sessionId);
    const { reason, queryId, ...changes } = correction;
    const merged: SessionInput = {
      participantId: before.participantId,
      caseWorkerId: changes.caseWorkerId ?? before.caseWorkerId,
      date: changes.date ?? before.date,
      durationMinutes: changes.durationMinutes ?? before.durationMinutes,
      mode: changes.mode ?? before.mode,
      kind: changes.kind ?? before.kind,
      toolsUsed: changes.toolsUsed ?? before.toolsUsed,
      ...((changes.notes ?? before.notes) === null ? {} : { notes: (changes.notes ?? before.notes)! }),
    };
    const after = await checkedFields(trx, ctx, {
      trialId,
      delivery,
      participantId: before.participantId,
      session: merged,
    });
    await repo.correctSession(trx, {
      trialId,
      sessionId,
      before: fieldsOf(before),
      after,
      reason,
      by: ctx.principal.keyId,
    });
    const view = (await query.findSession(trx, trialId, sessionId))!;
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'session.corrected',
      entityType: 'session',
      entityId: sessionId,
      before: auditedSession(fieldsOf(before)),
      after: auditedSession(fieldsOf(view)),
      reason,
    });
    if (queryId !== undefined)
      await answerQueryByCorrection(ctx, trx, { trialId, queryId, record: { kind: 'session', id: sessionId }, reason });
    return sessionView(await ctx.armLabeller(trialId, trx), view);
  });
}

export async function retractSession(
  ctx: UseCaseContext,
  input: { trialId: string; sessionId: string; reason: string },
): Promise<DeliverySession> {
  const { trialId, sessionId, reason } = input;
  return withTransaction(ctx.db, async (trx) => {
    await lockTrialShared(trx, trialId);
    const before = await lockVisibleSession(trx, ctx, trialId, sessionId);
    await lockVisibleParticipant(trx, ctx.principal, trialId, before.participantId);
    await repo.insertSessionRetraction(trx, { trialId, sessionId, reason, by: ctx.principal.keyId });
    const view = (await query.findSession(trx, trialId, sessionId))!;
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'session.retracted',
      entityType: 'session',
      entityId: sessionId,
      before: { retraction: null },
      after: { retraction: view.retraction },
      reason,
    });
    return sessionView(await ctx.armLabeller(trialId, trx), view);
  });
}

export async function listSessions(
  ctx: UseCaseContext,
  input: {
    trialId: string;
    participantId?: string;
    caseWorkerId?: string;
    siteCode?: string;
    flagged?: boolean;
    limit?: number;
    cursor?: string;
  },
): Promise<Page<DeliverySession>> {
  const { trialId } = input;
  await loadTrial(ctx, trialId);
  const limit = input.limit ?? 50;
  const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, isTimeOrderedCursor);
  const rows = await query.listSessions(ctx.db, trialId, {
    participantId: input.participantId,
    caseWorkerId: input.caseWorkerId,
    siteCode: input.siteCode,
    flagged: input.flagged,
    siteCodes: ctx.principal.siteCodes,
    limit,
    after,
  });
  const labeller = await ctx.armLabeller(trialId);
  const page = toPage(
    rows,
    limit,
    (row) => row.session,
    (row) => row.cursor,
  );
  return { ...page, items: page.items.map((session) => sessionView(labeller, session)) };
}

/**
 * The dose report: each randomized service user's dose by the pure rules of dose.ts, on "today" from the context's
 * clock, then grouped by arm and site. Arms are named through the caller's labeller.
 */
export async function getDelivery(ctx: UseCaseContext, input: { trialId: string }): Promise<DeliveryReport> {
  const trial = await loadTrial(ctx, input.trialId);
  const delivery = deliveryOf(trial);
  const today = todayOf(ctx);
  const facts = await query.doseFacts(ctx.db, trial.id, ctx.principal.siteCodes);
  const majors = majorDeviationCounts(await deviationsOf(ctx, trial, facts));
  const planOf = (arm: string) => delivery.arms.find((a) => a.arm === arm)!;
  const doses = facts
    .filter((f) => delivery.arms.some((a) => a.arm === f.arm))
    .map((f) =>
      participantDose(f, planOf(f.arm), delivery.interventionPeriodDays, today, majors.get(f.participantId) ?? 0),
    );
  const labeller = await ctx.armLabeller(trial.id);
  const byArmAndSite = doseByArmAndSite(
    [...doses].sort((a, b) => a.arm.localeCompare(b.arm) || a.siteCode.localeCompare(b.siteCode)),
    (arm) => planOf(arm).minimumSessions,
  );
  return {
    today,
    participants: doses.map((d) => ({ ...d, arm: labeller.label(d.arm) })),
    byArmAndSite: byArmAndSite.map((row) => ({ ...row, arm: labeller.label(row.arm) })),
  };
}

export const DOSE_COLUMNS = [
  'participantId',
  'label',
  'siteCode',
  'arm',
  'randomizedOn',
  'periodEnd',
  'periodEndReason',
  'sessions',
  'minutes',
  'firstSession',
  'lastSession',
  'medianIntervalDays',
  'plannedSessions',
  'adherence',
  'reachedMinimum',
  'majorDeviations',
  'perProtocolEligible',
] as const satisfies readonly (keyof ParticipantDose)[];

export function deliveryCsv(report: DeliveryReport): string {
  return csvLine(DOSE_COLUMNS) + report.participants.map((row) => csvLine(DOSE_COLUMNS.map((c) => row[c]))).join('');
}

type FidelityReviewInput = components['schemas']['FidelityReviewInput'];
type FidelityReview = components['schemas']['FidelityReview'];
type FidelityReport = components['schemas']['FidelityReport'];

/** A coordinator limited to sites records site-level facts (reviews, supervision) at its sites only (403). */
function assertSiteInScope(ctx: UseCaseContext, siteCode: string): void {
  if (ctx.principal.siteCodes !== null && !ctx.principal.siteCodes.includes(siteCode))
    throw new ForbiddenError(`This key may record only at sites ${ctx.principal.siteCodes.join(', ')}.`);
}

/** Inside the transaction, after the trial's lock: an unknown trial answers 404 before an unknown site 422. */
async function assertSiteExists(trx: Knex.Transaction, trialId: string, siteCode: string, pointer: string) {
  if ((await findMissingSiteCodes(trx, trialId, [siteCode])).length)
    throw new ValidationError([{ pointer, detail: `"${siteCode}" is not a site of this trial` }]);
}

function reviewView(row: repo.FidelityReviewRow): FidelityReview {
  const figures = scoreFidelity(row.scale, row.scores);
  return {
    id: row.reviewId,
    siteCode: row.siteCode,
    reviewedOn: row.reviewedOn,
    reviewers: row.reviewers,
    sources: row.sources,
    scores: row.scores,
    ...figures,
    highFidelityThreshold: row.scale.highFidelityThreshold,
    recordedAt: row.recordedAt,
  };
}

export async function recordFidelityReview(
  ctx: UseCaseContext,
  input: { trialId: string; review: FidelityReviewInput },
): Promise<FidelityReview> {
  const { trialId, review } = input;
  assertSiteInScope(ctx, review.siteCode);
  if (isFutureDate(review.reviewedOn, ctx.now()))
    throw new ValidationError([{ pointer: '/reviewedOn', detail: 'is in the future' }]);
  return withTransaction(ctx.db, async (trx) => {
    const trial = await activeTrialUnderLock(trx, trialId);
    await assertSiteExists(trx, trialId, review.siteCode, '/siteCode');
    if (!trial.fidelityScale)
      throw new ConflictError('fidelity-scale-not-configured', `Trial ${trialId} has no fidelity scale.`);
    const errors = scoreErrors(trial.fidelityScale, review.scores);
    if (errors.length) throw new ValidationError(errors);
    const reviewId = randomUUID();
    await repo.insertFidelityReview(trx, {
      trialId,
      reviewId,
      siteCode: review.siteCode,
      reviewedOn: review.reviewedOn,
      reviewers: review.reviewers,
      sources: review.sources,
      scores: review.scores,
      scale: trial.fidelityScale,
      recordedBy: ctx.principal.keyId,
    });
    const [row] = await repo.listFidelityReviews(trx, trialId, { siteCodes: null, reviewId });
    const view = reviewView(row!);
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'fidelity_review.recorded',
      entityType: 'fidelity_review',
      entityId: reviewId,
      before: null,
      after: view,
    });
    return view;
  });
}

export async function getFidelity(
  ctx: UseCaseContext,
  input: { trialId: string; siteCode?: string },
): Promise<FidelityReport & { maximum: number; threshold: number }> {
  const trial = await loadTrial(ctx, input.trialId);
  const rows = await repo.listFidelityReviews(ctx.db, trial.id, {
    siteCode: input.siteCode,
    siteCodes: ctx.principal.siteCodes,
  });
  const sites = fidelityBySite(rows.map(reviewView));
  const reviews = sites.flatMap((s) => s.reviews);
  return {
    sites,
    maximum: Math.max(
      trial.fidelityScale ? trial.fidelityScale.items.length * 5 : 0,
      ...reviews.map((r) => r.maximum),
      1,
    ),
    threshold: trial.fidelityScale?.highFidelityThreshold ?? reviews.at(-1)?.highFidelityThreshold ?? 0,
  };
}

export async function fidelityChartSvg(ctx: UseCaseContext, input: { trialId: string; siteCode?: string }) {
  const report = await getFidelity(ctx, input);
  return fidelityChart(report.sites, { maximum: report.maximum, threshold: report.threshold });
}

type SupervisionInput = components['schemas']['SupervisionInput'];
type Supervision = components['schemas']['Supervision'];
type SupervisionSummary = components['schemas']['SupervisionSummary'];
type DeviationInput = components['schemas']['DeviationInput'];
type Deviation = components['schemas']['Deviation'];

const supervisionView = (row: repo.SupervisionRow): Supervision => {
  const { supervisionId, ...rest } = row;
  return { id: supervisionId, ...rest };
};

export async function recordSupervision(
  ctx: UseCaseContext,
  input: { trialId: string; supervision: SupervisionInput },
): Promise<Supervision> {
  const { trialId, supervision } = input;
  assertSiteInScope(ctx, supervision.siteCode);
  if (isFutureDate(supervision.date, ctx.now()))
    throw new ValidationError([{ pointer: '/date', detail: 'is in the future' }]);
  return withTransaction(ctx.db, async (trx) => {
    await activeTrialUnderLock(trx, trialId);
    await assertSiteExists(trx, trialId, supervision.siteCode, '/siteCode');
    const unknown = await query.notCaseWorkers(trx, trialId, supervision.caseWorkerIds);
    if (unknown.length)
      throw new ValidationError(
        unknown.map((id) => ({
          pointer: `/caseWorkerIds/${supervision.caseWorkerIds.indexOf(id)}`,
          detail: 'is not a case worker of this trial',
        })),
      );
    const supervisionId = randomUUID();
    await repo.insertSupervision(trx, { trialId, supervisionId, ...supervision, recordedBy: ctx.principal.keyId });
    const view = supervisionView((await repo.listSupervision(trx, trialId, { supervisionId }))[0]!);
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'supervision.recorded',
      entityType: 'supervision',
      entityId: supervisionId,
      before: null,
      after: view,
    });
    return view;
  });
}

export async function getSupervisionSummary(
  ctx: UseCaseContext,
  input: { trialId: string; siteCode?: string; from?: string; to?: string },
): Promise<SupervisionSummary> {
  const trial = await loadTrial(ctx, input.trialId);
  const sessions = await repo.listSupervision(ctx.db, trial.id, {});
  const workers = await query.caseWorkers(ctx.db, trial.id, {
    siteCode: input.siteCode,
    siteCodes: ctx.principal.siteCodes,
  });
  const from = input.from ?? sessions[0]?.date.slice(0, 7) ?? null;
  const to = input.to ?? todayOf(ctx).slice(0, 7);
  const plan = trial.delivery?.supervisionPlan ?? [];
  const months = from === null ? [] : monthsBetween(from, to);
  const planOf = (arm: string | null) => supervisionPlanOf(trial.delivery, arm);
  const labeller = await ctx.armLabeller(trial.id);
  return {
    from,
    to,
    plan,
    armPlans: trial.arms.map((arm) => ({ arm: labeller.label(arm.code), plan: planOf(arm.code) })),
    rows: supervisionRows(workers, sessions, months, planOf).map((row) => ({
      ...row,
      arm: row.arm === null ? null : labeller.label(row.arm),
    })),
  };
}

const recordedDeviationView = (row: repo.DeviationRow): Deviation => ({
  id: row.deviationId,
  source: 'recorded',
  participantId: row.participantId,
  siteCode: row.siteCode,
  category: row.category,
  severity: row.severity,
  occurredOn: row.occurredOn,
  description: row.description,
  correctiveAction: row.correctiveAction,
  sessionId: null,
  recordedAt: row.recordedAt,
});

export async function recordDeviation(
  ctx: UseCaseContext,
  input: { trialId: string; deviation: DeviationInput },
): Promise<Deviation> {
  const { trialId, deviation } = input;
  if (isFutureDate(deviation.occurredOn, ctx.now()))
    throw new ValidationError([{ pointer: '/occurredOn', detail: 'is in the future' }]);
  if (deviation.participantId === undefined && deviation.siteCode === undefined)
    throw new ValidationError([{ pointer: '/siteCode', detail: 'a deviation names a participant or a site' }]);
  if (deviation.participantId === undefined) assertSiteInScope(ctx, deviation.siteCode!);
  return withTransaction(ctx.db, async (trx) => {
    await activeTrialUnderLock(trx, trialId);
    if (deviation.participantId === undefined) await assertSiteExists(trx, trialId, deviation.siteCode!, '/siteCode');
    let siteCode = deviation.siteCode ?? null;
    if (deviation.participantId !== undefined) {
      const { view } = await lockVisibleParticipant(trx, ctx.principal, trialId, deviation.participantId);
      if (siteCode !== null && siteCode !== view.siteCode)
        throw new ValidationError([
          { pointer: '/siteCode', detail: `the participant is at site ${view.siteCode}; leave siteCode out` },
        ]);
      siteCode = view.siteCode;
    }
    const deviationId = randomUUID();
    await repo.insertDeviation(trx, {
      trialId,
      deviationId,
      participantId: deviation.participantId ?? null,
      siteCode,
      category: deviation.category,
      severity: deviation.severity,
      occurredOn: deviation.occurredOn,
      description: deviation.description,
      correctiveAction: deviation.correctiveAction ?? null,
      recordedBy: ctx.principal.keyId,
    });
    const view = recordedDeviationView((await repo.listDeviations(trx, trialId, { deviationId, siteCodes: null }))[0]!);
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'deviation.recorded',
      entityType: 'deviation',
      entityId: deviationId,
      before: null,
      after: view,
    });
    return view;
  });
}

/**
 * Every deviation of the trial the caller may see, unfiltered: recorded ones, one per flag of each session not
 * retracted, and the long gaps of each randomized service user's intervention period (when there is a delivery plan).
 * `facts` are the dose facts at the caller's sites.
 */
async function deviationsOf(ctx: UseCaseContext, trial: TrialView, facts: readonly DoseFacts[]): Promise<Deviation[]> {
  const recorded = (await repo.listDeviations(ctx.db, trial.id, { siteCodes: ctx.principal.siteCodes })).map(
    recordedDeviationView,
  );
  const flagged = (await query.flaggedSessions(ctx.db, trial.id, ctx.principal.siteCodes)).flatMap((s) =>
    derivedDeviations({
      sessionId: s.id,
      participantId: s.participantId,
      siteCode: s.siteCode,
      date: s.date,
      flags: s.flags,
      recordedAt: s.recordedAt,
    }),
  );
  const delivery = trial.delivery;
  const today = todayOf(ctx);
  const gaps = delivery
    ? facts.flatMap((f) => {
        const plan = armPlanOf(delivery, f.arm);
        if (!plan) return [];
        return longGaps(f, plan.plannedIntervalDays, delivery.interventionPeriodDays, today).map((gap) =>
          longGapDeviation(gap, plan.plannedIntervalDays),
        );
      })
    : [];
  return [...recorded, ...flagged, ...gaps];
}

/**
 * The protocol deviations, recorded and derived, in one list with filters. The outcome analysis reads the
 * per-protocol population's major deviations through this function: its signature and meaning stay stable.
 */
export async function listDeviations(
  ctx: UseCaseContext,
  input: { trialId: string } & DeviationFilter,
): Promise<{ items: Deviation[] }> {
  const { trialId, ...filter } = input;
  const trial = await loadTrial(ctx, trialId);
  const facts = trial.delivery ? await query.doseFacts(ctx.db, trial.id, ctx.principal.siteCodes) : [];
  const all = await deviationsOf(ctx, trial, facts);
  return {
    items: deviationList(
      all.filter((d) => d.source === 'recorded'),
      all.filter((d) => d.source === 'derived'),
      filter,
    ),
  };
}
