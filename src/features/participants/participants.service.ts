import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Executor, isUniqueViolation, withTransaction } from '../../db/database';
import type { Principal } from '../../core/principal';
import type { ArmLabeller, UseCaseContext } from '../../core/use-case-context';
import { ConflictError, FieldError, ForbiddenError, NotFoundError, ValidationError } from '../../core/errors';
import { decodeCursor, isTimeOrderedCursor, Page, toPage } from '../../core/pagination';
import type { components } from '../../generated/openapi';
import { recordAudit } from '../audit/audit.service';
import type { TrialView } from '../trials/trials';
import { loadTrial, lockTrialShared } from '../trials/trials.service';
import {
  BaselineValues,
  evaluateEligibility,
  isCorrection,
  isFutureDate,
  labelKey,
  validateBaseline,
} from './participants';
import * as repo from './participants.repo';
import { answerQueryByCorrection, raiseBaselineChecks } from '../safety/data-queries.service';
import type {
  ParticipantDecisionFacts,
  ParticipantFacts,
  ParticipantListItem,
  ParticipantView,
} from './participants.repo';

type ParticipantInput = components['schemas']['ParticipantInput'];
type BaselineUpdate = components['schemas']['BaselineUpdate'];
type AssignmentInput = components['schemas']['AssignmentInput'];

function participantNotFound(participantId: string): NotFoundError {
  return new NotFoundError(`Participant ${participantId} was not found.`);
}

const canSeeSite = (principal: Principal, siteCode: string) =>
  principal.siteCodes === null || principal.siteCodes.includes(siteCode);

/** Participants at sites outside a coordinator key's scope answer 404, exactly like ones that do not exist. */
export async function requireVisibleParticipant(
  db: Executor,
  principal: Principal,
  trialId: string,
  participantId: string,
): Promise<ParticipantFacts> {
  const facts = await repo.findParticipant(db, trialId, participantId);
  if (!facts || !canSeeSite(principal, facts.view.siteCode)) throw participantNotFound(participantId);
  return facts;
}

/** Locks a visible participant for a change and returns its current facts, read inside the transaction. */
export async function lockVisibleParticipant(
  trx: Knex.Transaction,
  principal: Principal,
  trialId: string,
  participantId: string,
): Promise<ParticipantFacts> {
  const locked = await repo.lockParticipant(trx, trialId, participantId);
  if (!locked || !canSeeSite(principal, locked.site_code)) throw participantNotFound(participantId);
  return (await repo.findParticipant(trx, trialId, participantId))!;
}

/** As lockVisibleParticipant, reading only what a randomization decides on (no consents, events, incentives). */
export async function lockVisibleParticipantForDecision(
  trx: Knex.Transaction,
  principal: Principal,
  trialId: string,
  participantId: string,
): Promise<ParticipantDecisionFacts> {
  const locked = await repo.lockParticipant(trx, trialId, participantId);
  if (!locked || !canSeeSite(principal, locked.site_code)) throw participantNotFound(participantId);
  return (await repo.findParticipantDecisionFacts(trx, trialId, participantId))!;
}

/** The participant as this caller may see it: allocated arm and case-worker arm through the caller's labeller. */
export function participantViewFor(labeller: ArmLabeller, view: ParticipantView): ParticipantView {
  if (!labeller.blinded) return view;
  return {
    ...view,
    allocation: view.allocation && { ...view.allocation, arm: labeller.label(view.allocation.arm) },
    assignment: view.assignment && { ...view.assignment, arm: labeller.label(view.assignment.arm) },
  };
}

async function shown(ctx: UseCaseContext, trialId: string, view: ParticipantView, executor?: Knex) {
  return participantViewFor(await ctx.armLabeller(trialId, executor), view);
}

/** Enrollment happens in active trials only. */
export function assertEnrolling(trial: TrialView): void {
  if (trial.status === 'setup')
    throw new ConflictError('trial-not-active', `Trial ${trial.id} is still in set-up; activate it first.`, {
      trialStatus: trial.status,
    });
  if (trial.status === 'closed')
    throw new ConflictError('trial-closed', `Trial ${trial.id} is closed to recruitment.`, {
      trialStatus: trial.status,
    });
}

export async function screenParticipant(
  ctx: UseCaseContext,
  input: ParticipantInput & { trialId: string },
): Promise<ParticipantView> {
  const { db, principal, actor } = ctx;
  const { trialId } = input;
  const participantId = randomUUID();
  try {
    return await withTransaction(db, async (trx) => {
      // Status, sites, criteria and variables are read under the lock: a PATCH or closure cannot slip in between.
      // The lock also answers 404 for a trial that does not exist (the key's trial scope is checked before the
      // use case), so no read of the trial precedes the transaction.
      const trial = await lockTrialShared(trx, trialId);
      if (!canSeeSite(principal, input.siteCode)) {
        throw new ForbiddenError(`This key may screen only at sites ${principal.siteCodes!.join(', ')}.`);
      }
      assertEnrolling(trial);
      const errors: FieldError[] = [];
      if (!trial.sites.some((s) => s.code === input.siteCode))
        errors.push({ pointer: '/siteCode', detail: `trial has no site ${input.siteCode}` });
      if (isFutureDate(input.screenedOn, ctx.now()))
        errors.push({ pointer: '/screenedOn', detail: 'is in the future' });
      const eligibility = evaluateEligibility(trial.eligibility, input.role, input.eligibility);
      errors.push(...eligibility.errors);
      const baseline = (input.baseline ?? {}) as BaselineValues;
      errors.push(...validateBaseline(trial.baselineVariables, input.role, baseline));
      if (errors.length) throw new ValidationError(errors);
      await repo.insertParticipant(trx, {
        trialId,
        participantId,
        siteCode: input.siteCode,
        role: input.role,
        label: input.label,
        labelKey: labelKey(input.label),
        screenedOn: input.screenedOn,
        eligibility: input.eligibility,
        eligible: eligibility.eligible,
        unmetCriteria: eligibility.unmetCriteria,
        baseline,
      });
      const { view } = (await repo.findParticipant(trx, trialId, participantId))!;
      await recordAudit(trx, actor, {
        trialId,
        action: 'participant.screened',
        entityType: 'participant',
        entityId: participantId,
        before: null,
        after: view,
      });
      await raiseBaselineChecks(ctx, trx, {
        trialId,
        variables: trial.baselineVariables,
        participant: { id: participantId, role: view.role, baseline: view.baseline as Record<string, unknown> },
      });
      return shown(ctx, trialId, view, trx);
    });
  } catch (error) {
    if (isUniqueViolation(error, 'participants_trial_id_label_key_key')) {
      throw new ConflictError(
        'duplicate-label',
        `Trial ${trialId} already has a participant labelled ${input.label} (labels are compared after Unicode NFC normalization).`,
      );
    }
    throw error;
  }
}

export async function getParticipant(
  ctx: UseCaseContext,
  input: { trialId: string; participantId: string },
): Promise<ParticipantView> {
  const { trialId, participantId } = input;
  await loadTrial(ctx, trialId);
  return shown(ctx, trialId, (await requireVisibleParticipant(ctx.db, ctx.principal, trialId, participantId)).view);
}

export async function listParticipants(
  ctx: UseCaseContext,
  input: {
    trialId: string;
    siteCode?: string;
    role?: ParticipantListItem['role'];
    status?: ParticipantListItem['status'];
    label?: string;
    limit?: number;
    cursor?: string;
  },
): Promise<Page<ParticipantListItem>> {
  const { db, principal } = ctx;
  const { trialId, ...query } = input;
  await loadTrial(ctx, trialId);
  const limit = query.limit ?? 50;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isTimeOrderedCursor);
  const rows = await repo.listParticipants(db, {
    trialId,
    siteCodes: principal.siteCodes,
    siteCode: query.siteCode,
    role: query.role,
    status: query.status,
    labelPrefix: query.label === undefined ? undefined : labelKey(query.label),
    limit,
    after,
  });
  return toPage(
    rows,
    limit,
    (row) => row.item,
    (row) => row.cursor,
  );
}

export async function setBaseline(
  ctx: UseCaseContext,
  input: { trialId: string; participantId: string; update: BaselineUpdate },
): Promise<ParticipantView> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId, update } = input;
  return withTransaction(db, async (trx) => {
    const trial = await lockTrialShared(trx, trialId);
    const { view: before } = await lockVisibleParticipant(trx, principal, trialId, participantId);
    const values = update.values as BaselineValues;
    const errors = validateBaseline(trial.baselineVariables, before.role, values, '/values');
    // Once randomized, baseline values are frozen: any change, even filling a gap, is an audited correction.
    const correction = before.allocation !== null || isCorrection(before.baseline as BaselineValues, values);
    if (update.queryId !== undefined && !update.reason)
      errors.push({ pointer: '/reason', detail: 'an answer to a query through a correction needs a reason' });
    else if (correction && !update.reason) {
      errors.push({
        pointer: '/reason',
        detail: before.allocation
          ? 'baseline values are frozen after randomization; a change needs a reason'
          : 'changing or removing a recorded baseline value is a correction and needs a reason',
      });
    }
    if (errors.length) throw new ValidationError(errors);
    await repo.updateBaseline(trx, trialId, participantId, values);
    const { view: after } = (await repo.findParticipant(trx, trialId, participantId))!;
    await recordAudit(trx, actor, {
      trialId,
      action: correction ? 'participant.baseline_corrected' : 'participant.baseline_set',
      entityType: 'participant',
      entityId: participantId,
      before: { baseline: before.baseline },
      after: { baseline: after.baseline },
      reason: update.reason ?? null,
    });
    if (update.queryId !== undefined)
      await answerQueryByCorrection(ctx, trx, {
        trialId,
        queryId: update.queryId,
        record: { kind: 'participant', id: participantId },
        reason: update.reason!,
      });
    await raiseBaselineChecks(ctx, trx, {
      trialId,
      variables: trial.baselineVariables,
      participant: { id: participantId, role: after.role, baseline: after.baseline as Record<string, unknown> },
      before: before.baseline as Record<string, unknown>,
    });
    return shown(ctx, trialId, after, trx);
  });
}

export async function assignCaseWorker(
  ctx: UseCaseContext,
  request: { trialId: string; participantId: string; input: AssignmentInput },
): Promise<ParticipantView> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId, input } = request;
  return withTransaction(db, async (trx) => {
    const trial = await lockTrialShared(trx, trialId);
    const { view: before } = await lockVisibleParticipant(trx, principal, trialId, participantId);
    const errors: FieldError[] = [];
    if (before.role !== 'case_worker')
      errors.push({ pointer: '', detail: 'only case workers are assigned to an arm; service users are randomized' });
    if (!trial.arms.some((arm) => arm.code === input.arm))
      errors.push({ pointer: '/arm', detail: `trial has no arm ${input.arm}` });
    if (errors.length) throw new ValidationError(errors);
    await repo.insertAssignment(trx, {
      trialId,
      assignmentId: randomUUID(),
      participantId,
      arm: input.arm,
      reason: input.reason,
    });
    const { view: after } = (await repo.findParticipant(trx, trialId, participantId))!;
    await recordAudit(trx, actor, {
      trialId,
      action: 'case_worker.assigned',
      entityType: 'participant',
      entityId: participantId,
      before: { assignment: before.assignment },
      after: { assignment: after.assignment },
      reason: input.reason,
    });
    return shown(ctx, trialId, after, trx);
  });
}
