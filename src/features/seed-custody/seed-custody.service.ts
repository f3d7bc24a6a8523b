import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import { ConflictError } from '../../core/errors';
import type { TrialView } from '../trials/trials';
import { allocationCommitment } from '../randomization/commitment';
import { MaskedArm, maskedArmLabels } from '../randomization/masked-arms';
import * as repo from './seed-custody.repo';

/*
 * Custody of each trial's secret seed and of an uploaded allocation list: stored apart from the configuration,
 * sealed by a published commitment at activation, shown only after closure and an explicit reveal. Trials and
 * randomization both depend on this feature; it depends on neither (no import cycle).
 */

/**
 * Called inside the activation transaction: fixes the seed (drawing one if none was given) and returns the commitment
 * to publish.
 */
export async function sealRandomization(trx: Knex.Transaction, trial: TrialView): Promise<string> {
  if (trial.randomization.method === 'list' && (await repo.countListRows(trx, trial.id)) === 0) {
    throw new ConflictError(
      'allocation-table-missing',
      `Trial ${trial.id} uses an allocation list; upload it (PUT …/allocation-table) before activation.`,
    );
  }
  let secret = await repo.findSeed(trx, trial.id);
  if (!secret) {
    await repo.storeSeed(trx, trial.id, randomBytes(32));
    secret = (await repo.findSeed(trx, trial.id))!;
  }
  return allocationCommitment(secret.seed.toString('hex'), { arms: trial.arms, randomization: trial.randomization });
}

/** A seed given in the configuration (for reproducible test trials) is kept apart from it, never shown. */
export async function storeConfiguredSeed(trx: Knex.Transaction, trialId: string, seedHex: string): Promise<void> {
  await repo.storeSeed(trx, trialId, Buffer.from(seedHex, 'hex'));
}

/** The trial's seed; present from activation on (or from set-up when configured). */
export async function findSeed(
  db: Executor,
  trialId: string,
): Promise<{ seed: Buffer; revealedAt: Date | null } | undefined> {
  return repo.findSeed(db, trialId);
}

/** Records the reveal (once; a second reveal keeps the first time) and returns when it happened. */
export async function markSeedRevealed(trx: Knex.Transaction, trialId: string): Promise<Date> {
  return repo.markSeedRevealed(trx, trialId);
}

/**
 * The labels a blinded key sees for this trial's arms, in the masked order derived from the seed.
 * Before activation there may be no seed and nothing is allocated; arms are then labelled in trial order.
 */
export async function maskedLabels(
  db: Executor,
  trialId: string,
  arms: readonly { code: string }[],
): Promise<MaskedArm[]> {
  const secret = await repo.findSeed(db, trialId);
  return secret
    ? maskedArmLabels(secret.seed, arms)
    : arms.map((arm, i) => ({ code: arm.code, label: `Group ${i + 1}` }));
}

export async function replaceAllocationTable(
  trx: Knex.Transaction,
  trialId: string,
  rows: { stratumKey: string; stratum: Record<string, string>; stratumPosition: number; arm: string }[],
): Promise<void> {
  await repo.replaceAllocationTable(trx, trialId, rows);
}

/** The arm at a stratum's position of the uploaded list, if the list has that many rows. */
export async function findListArm(
  trx: Knex.Transaction,
  trialId: string,
  stratumKey: string,
  position: number,
): Promise<string | undefined> {
  return (await repo.findListRow(trx, trialId, stratumKey, position))?.arm_code;
}

/** Removes the uploaded allocation table of a list trial; returns how many rows it had. */
export async function discardAllocationTable(trx: Knex.Transaction, trialId: string): Promise<number> {
  return repo.deleteAllocationTable(trx, trialId);
}
