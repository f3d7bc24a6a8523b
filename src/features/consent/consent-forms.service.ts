import type { Knex } from 'knex';
import type { components } from '../../generated/openapi';
import * as repo from './consent.repo';

/*
 * For the trials feature: writes the consent forms of a trial's set-up (consent.repo owns consent_forms).
 * Kept apart from consent.service.ts, which depends on trials, so that trials can depend on this without a cycle.
 */

export async function replaceTrialConsentForms(
  trx: Knex.Transaction,
  trialId: string,
  forms: components['schemas']['ConsentForm'][],
): Promise<void> {
  await repo.replaceTrialForms(trx, trialId, forms);
}
