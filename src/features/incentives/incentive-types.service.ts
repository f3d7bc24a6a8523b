import type { Knex } from 'knex';
import type { components } from '../../generated/openapi';
import * as repo from './incentives.repo';

/*
 * For the trials feature: writes the incentive types of a trial's set-up (incentives.repo owns incentive_types).
 * Kept apart from incentives.service.ts, which depends on trials, so that trials can depend on this without a cycle.
 */

export async function replaceTrialIncentiveTypes(
  trx: Knex.Transaction,
  trialId: string,
  types: components['schemas']['IncentiveType'][],
): Promise<void> {
  await repo.replaceTrialIncentiveTypes(trx, trialId, types);
}
