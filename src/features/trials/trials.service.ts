import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Executor, isUniqueViolation, withTransaction } from '../../db/database';
import { canSeeTrial, Principal, trialNotFound } from '../../core/principal';
import { ConflictError, PreconditionError, ValidationError } from '../../core/errors';
import type { ArmLabeller, UseCaseContext } from '../../core/use-case-context';
import { decodeCursor, isTimeOrderedCursor, Page, toPage } from '../../core/pagination';
import { recordAudit } from '../audit/audit.service';
import { discardAllocationTable, sealRandomization, storeConfiguredSeed } from '../seed-custody/seed-custody.service';
import { replaceTrialConsentForms } from '../consent/consent-forms.service';
import { replaceTrialIncentiveTypes } from '../incentives/incentive-types.service';
import type { components } from '../../generated/openapi';
import { compareAmendment } from '../follow-up/follow-up-configuration';
import { compareDeliveryAmendment } from '../delivery/delivery-configuration';
import * as repo from './trials.repo';
import {
  applyPatch,
  configurationOf,
  etagOf,
  ifMatchHolds,
  isStratifiedBySite,
  seedOf,
  TrialConfiguration,
  TrialInput,
  TrialPatch,
  TrialView,
  validateTrialConfiguration,
} from './trials';

function assertCoherent(config: TrialConfiguration): void {
  const errors = validateTrialConfiguration(config);
  if (errors.length) throw new ValidationError(errors);
}

/** Consent forms and incentive types are part of the set-up but belong to (and are written by) their features. */
async function writeSetUpOfOtherFeatures(trx: Knex.Transaction, trialId: string, config: TrialConfiguration) {
  await replaceTrialConsentForms(trx, trialId, config.consentForms);
  await replaceTrialIncentiveTypes(trx, trialId, config.incentives);
}

/** The trial as this caller may see it: arms through the caller's labeller. */
function viewFor(labeller: ArmLabeller, trial: TrialView): TrialView {
  if (!labeller.blinded) return trial;
  // What each arm delivers (SMCM tools, session kinds) names the arm even under a masked label.
  const { delivery: _delivery, ...rest } = trial;
  return { ...rest, arms: labeller.arms(trial.arms) };
}

async function shown(ctx: UseCaseContext, trial: TrialView, executor: Knex = ctx.db): Promise<TrialView> {
  return viewFor(await ctx.armLabeller(trial.id, executor), trial);
}

export async function createTrial(ctx: UseCaseContext, input: TrialInput): Promise<TrialView> {
  const { db, actor } = ctx;
  const config = configurationOf(input);
  assertCoherent(config);
  const trialId = randomUUID();
  try {
    return await withTransaction(db, async (trx) => {
      await repo.insertTrial(trx, trialId, input.code, config);
      await writeSetUpOfOtherFeatures(trx, trialId, config);
      const seed = seedOf(config.randomization);
      if (seed) await storeConfiguredSeed(trx, trialId, seed);
      const created = (await repo.findTrial(trx, trialId))!;
      await recordAudit(trx, actor, {
        trialId,
        action: 'trial.created',
        entityType: 'trial',
        entityId: trialId,
        before: null,
        after: created,
      });
      return shown(ctx, created, trx);
    });
  } catch (error) {
    if (isUniqueViolation(error, 'trials_code_key'))
      throw new ConflictError('duplicate-trial-code', `A trial with code ${input.code} already exists.`);
    throw error;
  }
}

/**
 * For other features' decisions: the trial as it is (real arms), if the caller may see it; 404 alike for trials
 * that do not exist and trials out of scope. Never returned to a caller as it is: views go through a labeller.
 */
export async function loadTrial(ctx: { db: Executor; principal: Principal }, trialId: string): Promise<TrialView> {
  const trial = canSeeTrial(ctx.principal, trialId) ? await repo.findTrial(ctx.db, trialId) : undefined;
  if (!trial) throw trialNotFound(trialId);
  return trial;
}

/**
 * For other features' transactions: locks the trial row (FOR SHARE: changes to the trial — PATCH, activation,
 * closure — wait for this transaction, and it sees them once they committed) and returns the trial as read
 * after the lock, so decisions are made on facts that cannot change before commit.
 */
export async function lockTrialShared(trx: Knex.Transaction, trialId: string): Promise<TrialView> {
  if (!(await repo.lockTrial(trx, trialId, 'share'))) throw trialNotFound(trialId);
  return (await repo.findTrial(trx, trialId))!;
}

/**
 * For hot paths: locks the trial row as lockTrialShared does, in one statement, and returns its status and published
 * allocation commitment but not the configuration. The commitment (a hash over seed, arms and randomization, fixed at
 * activation) lets a caller reuse a configuration it read earlier: equal commitments, same design.
 */
export async function lockTrialSharedState(
  trx: Knex.Transaction,
  trialId: string,
): Promise<{ status: TrialView['status']; allocationCommitment: string | null }> {
  const row = await repo.lockTrialState(trx, trialId);
  if (!row) throw trialNotFound(trialId);
  return { status: row.status, allocationCommitment: row.allocation_commitment };
}

/** The trial as read by this executor; for a caller that already holds the trial's lock. */
export async function findLockedTrial(trx: Knex.Transaction, trialId: string): Promise<TrialView> {
  const trial = await repo.findTrial(trx, trialId);
  if (!trial) throw trialNotFound(trialId);
  return trial;
}

/** For other features' transactions: locks the trial row exclusively (set-up changes) and reads it after the lock. */
export async function lockTrialExclusive(trx: Knex.Transaction, trialId: string): Promise<TrialView> {
  if (!(await repo.lockTrial(trx, trialId, 'update'))) throw trialNotFound(trialId);
  return (await repo.findTrial(trx, trialId))!;
}

/** A change to the trial's set-up made by another feature (a consent form version) changes its ETag. */
export async function bumpTrialVersion(trx: Knex.Transaction, trialId: string): Promise<void> {
  await repo.bumpVersion(trx, trialId);
}

/** The trial's arms, for the arm labeller; undefined when there is no such trial. */
export async function findTrialArms(db: Executor, trialId: string): Promise<TrialView['arms'] | undefined> {
  return (await repo.findTrial(db, trialId))?.arms;
}

export async function getTrial(ctx: UseCaseContext, input: { trialId: string }): Promise<TrialView> {
  return shown(ctx, await loadTrial(ctx, input.trialId));
}

export async function listTrials(
  ctx: UseCaseContext,
  query: { limit?: number; cursor?: string; status?: TrialView['status'] },
): Promise<Page<TrialView>> {
  const { db, principal } = ctx;
  const limit = query.limit ?? 50;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isTimeOrderedCursor);
  const rows = await repo.listTrials(db, { limit, after, status: query.status, trialIds: principal.trialIds });
  const page = toPage(
    rows,
    limit,
    (row) => row.view,
    (row) => row.cursor,
  );
  return { ...page, items: await Promise.all(page.items.map((trial) => shown(ctx, trial))) };
}

async function lockExisting(trx: Knex.Transaction, trialId: string) {
  const locked = await repo.lockTrial(trx, trialId);
  if (!locked) throw trialNotFound(trialId);
  return locked;
}

function notInSetup(trialId: string, status: string): ConflictError {
  return new ConflictError(
    'trial-not-in-setup',
    `Trial ${trialId} is ${status}; its arms, randomization and strata are locked.`,
    { trialStatus: status },
  );
}

export async function updateTrial(
  ctx: UseCaseContext,
  input: { trialId: string; patch: TrialPatch; ifMatch: string | undefined },
): Promise<TrialView> {
  const { db, actor } = ctx;
  const { trialId, patch, ifMatch } = input;
  return withTransaction(db, async (trx) => {
    const locked = await lockExisting(trx, trialId);
    if (locked.status !== 'setup') throw notInSetup(trialId, locked.status);
    if (!ifMatchHolds(ifMatch, locked.version)) {
      throw new PreconditionError(
        `If-Match ${ifMatch} does not match the current version ${etagOf(locked.version)}; read the trial again.`,
      );
    }
    const before = (await repo.findTrial(trx, trialId))!;
    const next = applyPatch(configurationOf(before), patch);
    assertCoherent(next);
    await repo.replaceConfiguration(trx, trialId, next);
    await writeSetUpOfOtherFeatures(trx, trialId, next);
    // An uploaded allocation table was checked against the arms and strata it was uploaded for.
    const current = configurationOf(before);
    const designChanged =
      JSON.stringify([current.arms, current.randomization]) !== JSON.stringify([next.arms, next.randomization]);
    const discardedRows = designChanged ? await discardAllocationTable(trx, trialId) : 0;
    const seed = patch.randomization ? seedOf(patch.randomization) : undefined;
    if (seed) await storeConfiguredSeed(trx, trialId, seed);
    const after = (await repo.findTrial(trx, trialId))!;
    await recordAudit(trx, actor, {
      trialId,
      action: 'trial.updated',
      entityType: 'trial',
      entityId: trialId,
      before,
      after: discardedRows
        ? { ...after, allocationTableDiscarded: { rows: discardedRows, because: 'arms or randomization changed' } }
        : after,
    });
    return shown(ctx, after, trx);
  });
}

/**
 * Amends the visits and measures of an active trial. The configuration is read under the trial's row
 * lock, so two amendments cannot both compare against the same current follow-up.
 */
export async function amendFollowUp(
  ctx: UseCaseContext,
  input: { trialId: string; amendment: components['schemas']['FollowUpAmendmentInput'] },
): Promise<TrialView> {
  const { trialId, amendment } = input;
  const { reason, effectiveOn, ...followUp } = amendment;
  return withTransaction(ctx.db, async (trx) => {
    const locked = await lockExisting(trx, trialId);
    if (locked.status !== 'active')
      throw new ConflictError(
        'trial-not-active',
        `Trial ${trialId} is ${locked.status}; follow-up is amended on active trials (set-up trials use PATCH).`,
        { trialStatus: locked.status },
      );
    const before = (await repo.findTrial(trx, trialId))!;
    // What is defined is checked first: removing a visit also leaves measures pointing at it, and the
    // answer to that is "you cannot remove it" (409), not "the measure names an unknown visit" (422).
    const { conflicts, diff } = compareAmendment(before, followUp);
    if (conflicts.length)
      throw new ConflictError(
        'follow-up-amendment-conflict',
        'The amendment would remove or reinterpret visits or measures that are defined; add, do not change.',
        { errors: conflicts },
      );
    assertCoherent({ ...configurationOf(before), ...followUp });
    await repo.amendFollowUp(trx, trialId, followUp, {
      effectiveOn,
      reason,
      amendedAt: ctx.now().toISOString(),
      ...diff,
    });
    const after = (await repo.findTrial(trx, trialId))!;
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'trial.follow_up_amended',
      entityType: 'trial',
      entityId: trialId,
      before: { visits: before.visits, measures: before.measures, primaryVisit: before.primaryVisit },
      after: { visits: after.visits, measures: after.measures, primaryVisit: after.primaryVisit, effectiveOn, ...diff },
      reason,
    });
    return shown(ctx, after, trx);
  });
}

/**
 * Amends the delivery plan and fidelity scale of an active trial, decided on the configuration read under the
 * trial's row lock (two amendments cannot both compare against the same current plan).
 */
export async function amendDelivery(
  ctx: UseCaseContext,
  input: { trialId: string; amendment: components['schemas']['DeliveryAmendmentInput'] },
): Promise<TrialView> {
  const { trialId, amendment } = input;
  const { reason, effectiveOn, delivery, fidelityScale } = amendment;
  return withTransaction(ctx.db, async (trx) => {
    const locked = await lockExisting(trx, trialId);
    if (locked.status !== 'active')
      throw new ConflictError(
        'trial-not-active',
        `Trial ${trialId} is ${locked.status}; delivery is amended on active trials (set-up trials use PATCH).`,
        { trialStatus: locked.status },
      );
    const before = (await repo.findTrial(trx, trialId))!;
    const { conflicts, changes } = compareDeliveryAmendment(
      { delivery: before.delivery ?? null, fidelityScale: before.fidelityScale },
      { delivery, fidelityScale },
    );
    if (conflicts.length)
      throw new ConflictError(
        'delivery-amendment-conflict',
        'The amendment would remove or move what is defined in the delivery plan or fidelity scale; add, do not remove.',
        { errors: conflicts },
      );
    assertCoherent({ ...configurationOf(before), delivery, fidelityScale });
    await repo.amendDelivery(
      trx,
      trialId,
      { delivery, fidelityScale },
      { effectiveOn, reason, amendedAt: ctx.now().toISOString(), changes },
    );
    const after = (await repo.findTrial(trx, trialId))!;
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'trial.delivery_amended',
      entityType: 'trial',
      entityId: trialId,
      before: { delivery: before.delivery, fidelityScale: before.fidelityScale },
      after: { delivery: after.delivery, fidelityScale: after.fidelityScale, effectiveOn, changes },
      reason,
    });
    return shown(ctx, after, trx);
  });
}

export async function activateTrial(ctx: UseCaseContext, input: { trialId: string }): Promise<TrialView> {
  const { db, actor } = ctx;
  const { trialId } = input;
  return withTransaction(db, async (trx) => {
    const locked = await lockExisting(trx, trialId);
    if (locked.status !== 'setup')
      throw new ConflictError('trial-not-in-setup', `Trial ${trialId} is already ${locked.status}.`, {
        trialStatus: locked.status,
      });
    if ((await repo.countSites(trx, trialId)) === 0)
      throw new ConflictError('trial-has-no-sites', `Trial ${trialId} has no sites; add one before activation.`);
    const before = (await repo.findTrial(trx, trialId))!;
    await repo.markActive(trx, trialId, await sealRandomization(trx, before));
    const after = (await repo.findTrial(trx, trialId))!;
    await recordAudit(trx, actor, {
      trialId,
      action: 'trial.activated',
      entityType: 'trial',
      entityId: trialId,
      before: { status: before.status },
      after: { status: after.status, activatedAt: after.activatedAt, allocationCommitment: after.allocationCommitment },
    });
    return shown(ctx, after, trx);
  });
}

export async function closeTrial(ctx: UseCaseContext, input: { trialId: string; reason: string }): Promise<TrialView> {
  const { db, actor } = ctx;
  const { trialId, reason } = input;
  return withTransaction(db, async (trx) => {
    const locked = await lockExisting(trx, trialId);
    if (!(await repo.markClosed(trx, trialId))) {
      throw new ConflictError(
        locked.status === 'closed' ? 'trial-closed' : 'trial-not-active',
        `Trial ${trialId} is ${locked.status}; only active trials are closed.`,
        { trialStatus: locked.status },
      );
    }
    const after = (await repo.findTrial(trx, trialId))!;
    await recordAudit(trx, actor, {
      trialId,
      action: 'trial.closed',
      entityType: 'trial',
      entityId: trialId,
      before: { status: locked.status },
      after: { status: after.status, closedAt: after.closedAt },
      reason,
    });
    return shown(ctx, after, trx);
  });
}

export async function createSite(
  ctx: UseCaseContext,
  input: { trialId: string; site: { code: string; name: string } },
): Promise<TrialView['sites'][number]> {
  const { db, actor } = ctx;
  const { trialId, site } = input;
  try {
    return await withTransaction(db, async (trx) => {
      const locked = await lockExisting(trx, trialId);
      if (locked.status === 'closed') throw new ConflictError('trial-closed', `Trial ${trialId} is closed.`);
      if (locked.status === 'active') {
        const trial = (await repo.findTrial(trx, trialId))!;
        if (isStratifiedBySite(trial.randomization)) {
          throw new ConflictError(
            'strata-locked',
            `Trial ${trialId} is active and randomization is stratified by site; a new site would add a stratum to the locked design.`,
          );
        }
      }
      await repo.insertSite(trx, trialId, site);
      await repo.bumpVersion(trx, trialId);
      const created = (await repo.findSite(trx, trialId, site.code))!;
      await recordAudit(trx, actor, {
        trialId,
        action: 'site.created',
        entityType: 'site',
        entityId: site.code,
        before: null,
        after: created,
      });
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'trial_sites_pkey'))
      throw new ConflictError('duplicate-site', `Trial ${trialId} already has a site ${site.code}.`);
    throw error;
  }
}

export async function listSites(ctx: UseCaseContext, input: { trialId: string }): Promise<TrialView['sites']> {
  await loadTrial(ctx, input.trialId);
  return repo.listSites(ctx.db, input.trialId);
}

/** For other features: ids among these that name no trial. */
export async function findMissingTrialIds(db: Executor, trialIds: string[]): Promise<string[]> {
  const existing = new Set(await repo.existingTrialIds(db, trialIds));
  return trialIds.filter((id) => !existing.has(id));
}

export async function findMissingSiteCodes(db: Executor, trialId: string, codes: string[]): Promise<string[]> {
  const existing = new Set(await repo.existingSiteCodes(db, trialId, codes));
  return codes.filter((code) => !existing.has(code));
}
