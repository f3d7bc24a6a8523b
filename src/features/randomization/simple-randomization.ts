import { armAtRatioIndex, assertUsableArms, totalRatio, type ArmRatio } from './arm-ratios';
import { hmacDraws } from './random-stream';
import { assertSequenceNumber } from './sequence-numbers';

/**
 * Simple (unrestricted) randomization: each allocation is an independent draw weighted by the ratios.
 * The draw for the participant with `sequenceNumber` (1-based, per stratum) is uniformInt(0, totalRatio)
 * at (stratumKey, block number = sequenceNumber, draw index 0), mapped to an arm by armAtRatioIndex.
 */
export function simpleAllocation(
  seed: Buffer,
  arms: readonly ArmRatio[],
  stratumKey: string,
  sequenceNumber: number,
): string {
  assertUsableArms(arms);
  assertSequenceNumber(sequenceNumber);
  const ratioIndex = hmacDraws(seed, stratumKey, sequenceNumber).uniformInt(0, totalRatio(arms));
  return armAtRatioIndex(arms, ratioIndex);
}
