import type { UseCaseContext } from '../../core/use-case-context';
import { getDelivery, listDeviations } from '../delivery/delivery.service';
import type { TrialView } from '../trials/trials';
import { perProtocolExclusions, PerProtocolReason } from './per-protocol';
import { excludedFromAnalysis } from './per-protocol.query';

/**
 * The participants (in the caller's sites) outside the per-protocol population, with their reasons; everyone else
 * randomized is in it. Deviations (recorded and derived, every kind the delivery feature derives) and doses come
 * from the delivery feature's own reports, so this rule cannot drift from what those reports show.
 */
export async function perProtocolExclusionsOf(
  ctx: UseCaseContext,
  trial: TrialView,
): Promise<Map<string, PerProtocolReason[]>> {
  const excluded = await excludedFromAnalysis(ctx.db, trial.id, ctx.principal.siteCodes);
  const majorDeviations = new Map<string, number>();
  for (const deviation of (await listDeviations(ctx, { trialId: trial.id, severity: 'major' })).items) {
    if (deviation.participantId === null) continue;
    majorDeviations.set(deviation.participantId, (majorDeviations.get(deviation.participantId) ?? 0) + 1);
  }
  const doses = new Map<string, { reachedMinimum: boolean; periodEnded: boolean }>();
  if (trial.delivery) {
    for (const dose of (await getDelivery(ctx, { trialId: trial.id })).participants) {
      doses.set(dose.participantId, {
        reachedMinimum: dose.reachedMinimum,
        periodEnded: dose.periodEndReason !== 'today',
      });
    }
  }
  const result = new Map<string, PerProtocolReason[]>();
  for (const participantId of new Set([...excluded, ...majorDeviations.keys(), ...doses.keys()])) {
    const reasons = perProtocolExclusions({
      excludedFromAnalysis: excluded.has(participantId),
      majorDeviations: majorDeviations.get(participantId) ?? 0,
      dose: doses.get(participantId) ?? null,
    });
    if (reasons.length > 0) result.set(participantId, reasons);
  }
  return result;
}
