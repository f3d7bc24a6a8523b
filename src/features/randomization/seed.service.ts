import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import { ConflictError } from '../../http/errors';
import type { TrialView } from '../trials/trials';
import { ArmMask, armMask, maskArms } from './blinding';
import { allocationCommitment } from './commitment';
import { maskedArmLabels } from './masked-arms';
import { findTrial } from '../trials/trials.repo';
import * as repo from './randomization.repo';

/*
 * Custody of each trial's secret seed: stored apart from the configuration, sealed by a published
 * commitment at activation, shown only after closure and an explicit reveal.
 */

/** Called inside the activation transaction: fixes the seed (drawing one if none was given) and returns the commitment to publish. */
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

/**
 * The labels a blinded key sees for this trial's arms, in the masked order derived from the seed.
 * Before activation there may be no seed and nothing is allocated; arms are then labelled in trial order.
 */
export async function armMaskFor(db: Executor, trial: Pick<TrialView, 'id' | 'arms'>): Promise<ArmMask> {
  const secret = await repo.findSeed(db, trial.id);
  const masked = secret
    ? maskedArmLabels(secret.seed, trial.arms)
    : trial.arms.map((arm, i) => ({ code: arm.code, label: `Group ${i + 1}` }));
  return armMask(trial.arms, masked);
}

/** Masks every arm in a response for a blinded key of this trial. */
export async function blindForTrial<T>(db: Executor, trialId: string, body: T): Promise<T> {
  const trial = await findTrial(db, trialId);
  return trial ? maskArms(body, await armMaskFor(db, trial)) : body;
}
