import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Executor, isUniqueViolation, withTransaction } from '../../db/database';
import { canSeeTrial, Principal, trialNotFound } from '../../http/auth';
import { ConflictError, PreconditionError, ValidationError } from '../../http/errors';
import type { Actor } from '../../http/auth';
import { decodeCursor, isTimeOrderedCursor, Page, toPage } from '../../http/pagination';
import { insertAuditEvent } from '../audit/audit.repo';
import { sealRandomization, storeConfiguredSeed } from '../randomization/seed.service';
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

export async function createTrial(db: Knex, actor: Actor, input: TrialInput): Promise<TrialView> {
  const config = configurationOf(input);
  assertCoherent(config);
  const trialId = randomUUID();
  try {
    return await withTransaction(db, async (trx) => {
      await repo.insertTrial(trx, trialId, input.code, config);
      const seed = seedOf(config.randomization);
      if (seed) await storeConfiguredSeed(trx, trialId, seed);
      const created = (await repo.findTrial(trx, trialId))!;
      await insertAuditEvent(trx, actor, {
        trialId,
        action: 'trial.created',
        entityType: 'trial',
        entityId: trialId,
        before: null,
        after: created,
      });
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'trials_code_key'))
      throw new ConflictError('duplicate-trial-code', `A trial with code ${input.code} already exists.`);
    throw error;
  }
}

/** Reads a trial the principal may see; 404 alike for trials that do not exist and trials out of scope. */
export async function getTrial(db: Executor, principal: Principal, trialId: string): Promise<TrialView> {
  const trial = canSeeTrial(principal, trialId) ? await repo.findTrial(db, trialId) : undefined;
  if (!trial) throw trialNotFound(trialId);
  return trial;
}

export async function listTrials(
  db: Knex,
  principal: Principal,
  query: { limit?: number; cursor?: string; status?: TrialView['status'] },
): Promise<Page<TrialView>> {
  const limit = query.limit ?? 50;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isTimeOrderedCursor);
  const rows = await repo.listTrials(db, { limit, after, status: query.status, trialIds: principal.trialIds });
  return toPage(
    rows,
    limit,
    (row) => row.view,
    (row) => row.cursor,
  );
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
  db: Knex,
  actor: Actor,
  trialId: string,
  patch: TrialPatch,
  ifMatch: string | undefined,
): Promise<TrialView> {
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
    // An uploaded allocation table was checked against the arms and strata it was uploaded for.
    const current = configurationOf(before);
    const designChanged =
      JSON.stringify([current.arms, current.randomization]) !== JSON.stringify([next.arms, next.randomization]);
    const discardedRows = designChanged ? await repo.deleteAllocationTable(trx, trialId) : 0;
    const seed = patch.randomization ? seedOf(patch.randomization) : undefined;
    if (seed) await storeConfiguredSeed(trx, trialId, seed);
    const after = (await repo.findTrial(trx, trialId))!;
    await insertAuditEvent(trx, actor, {
      trialId,
      action: 'trial.updated',
      entityType: 'trial',
      entityId: trialId,
      before,
      after: discardedRows
        ? { ...after, allocationTableDiscarded: { rows: discardedRows, because: 'arms or randomization changed' } }
        : after,
    });
    return after;
  });
}

export async function activateTrial(db: Knex, actor: Actor, trialId: string): Promise<TrialView> {
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
    await insertAuditEvent(trx, actor, {
      trialId,
      action: 'trial.activated',
      entityType: 'trial',
      entityId: trialId,
      before: { status: before.status },
      after: { status: after.status, activatedAt: after.activatedAt, allocationCommitment: after.allocationCommitment },
    });
    return after;
  });
}

export async function closeTrial(db: Knex, actor: Actor, trialId: string, reason: string): Promise<TrialView> {
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
    await insertAuditEvent(trx, actor, {
      trialId,
      action: 'trial.closed',
      entityType: 'trial',
      entityId: trialId,
      before: { status: locked.status },
      after: { status: after.status, closedAt: after.closedAt },
      reason,
    });
    return after;
  });
}

export async function createSite(
  db: Knex,
  actor: Actor,
  trialId: string,
  site: { code: string; name: string },
): Promise<TrialView['sites'][number]> {
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
      await insertAuditEvent(trx, actor, {
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

export async function listSites(db: Knex, principal: Principal, trialId: string): Promise<TrialView['sites']> {
  await getTrial(db, principal, trialId);
  return repo.listSites(db, trialId);
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
