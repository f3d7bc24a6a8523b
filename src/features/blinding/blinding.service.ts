import type { Knex } from 'knex';
import type { Principal } from '../../core/principal';
import type { ArmLabeller } from '../../core/use-case-context';
import { maskedLabels } from '../seed-custody/seed-custody.service';
import { findTrialArms } from '../trials/trials.service';
import { maskedLabeller, OPEN_LABELLER } from './arm-labeller';

/**
 * The arm labeller of a trial for a caller: the arms as they are for an unblinded key; for a blinded key,
 * `Group n` in the order the trial's seed fixes (see randomization/masked-arms.ts). The use-case context
 * hands it to every service and read model that builds a view naming arms.
 */
export async function armLabellerFor(db: Knex, principal: Principal, trialId: string): Promise<ArmLabeller> {
  if (!principal.blinded) return OPEN_LABELLER;
  const arms = (await findTrialArms(db, trialId)) ?? [];
  return maskedLabeller(arms, await maskedLabels(db, trialId, arms));
}
