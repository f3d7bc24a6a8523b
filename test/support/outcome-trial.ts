import { addDays } from '../../src/features/follow-up/calendar';
import { grantConsent, screen, serviceUserInput } from './factories';
import type { TestApp } from './test-app';

/**
 * A service user screened, consented and randomized through the API, then put in `arm` with the randomization dated
 * `randomizedOn` (the test's clock must be on that day), so that a test analyses the arms and dates it designed.
 */
export async function randomizedInArm(
  t: TestApp,
  trialId: string,
  options: { siteCode: string; arm: string; randomizedOn: string },
): Promise<string> {
  const { siteCode, arm, randomizedOn } = options;
  const su = await screen(t, trialId, serviceUserInput({ siteCode, screenedOn: addDays(randomizedOn, -4) }));
  await grantConsent(t, trialId, su.id, 'trial', '1.0', addDays(randomizedOn, -3));
  const res = await t.call('post', `/v1/trials/${trialId}/participants/${su.id}/randomization`);
  if (res.status !== 201) throw new Error(`randomization failed: ${res.text}`);
  await t.db
    .knex('allocations')
    .where({ trial_id: trialId, participant_id: su.id })
    .update({ randomized_at: `${randomizedOn}T02:00:00Z`, arm_code: arm });
  return su.id as string;
}
