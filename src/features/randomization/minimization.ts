import { assertUsableArms, type ArmRatio } from './arm-ratios';
import { hmacDraws, type Draws } from './random-stream';
import { assertSequenceNumber } from './sequence-numbers';

/**
 * Pocock–Simon minimization over marginal counts.
 *
 * For each candidate arm t, pretend the new participant joins t. For every factor f, take the counts of
 * participants sharing the new participant's level of f, per arm, divide each by the arm's ratio, and
 * measure their spread: `range` (max − min) or `variance` (population variance, dividing by the number
 * of arms). The candidate's imbalance is the sum over factors. Scores are compared exactly (integers
 * scaled by the least common multiple of the ratios), so ties are real ties, never rounding artefacts.
 *
 * Random element, all draws at stream address (stratum key '', block number = trial-wide sequence number):
 *   draw 0: u = uniformReal; the preferred arm is allocated when u < p;
 *   draw 1: uniformInt(number of minimizing arms) picks the preferred arm among the minimizing arms in trial order;
 *   draw 2: only when u >= p, uniformInt(arms − 1) picks among the arms other than the preferred one, in trial order.
 */

export type ImbalanceMeasure = 'range' | 'variance';

export const DEFAULT_MINIMIZATION_P = 0.8;
export const DEFAULT_IMBALANCE_MEASURE: ImbalanceMeasure = 'range';

/** counts[factor][level][armCode]: participants allocated so far with that level, by arm; absent means 0. */
export type MarginalCounts = Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>>;

export interface MinimizationInput {
  arms: readonly ArmRatio[];
  factors: readonly string[];
  counts: MarginalCounts;
  participantLevels: Readonly<Record<string, string>>;
  imbalance: ImbalanceMeasure;
  /** Probability of allocating the preferred (least-imbalance) arm; 0 < p <= 1. */
  p: number;
}

export interface ArmImbalance {
  arm: string;
  /** Total imbalance over the factors if the participant were allocated to `arm`. */
  imbalance: number;
}

export interface MinimizationChoice {
  arm: string;
  /** One entry per arm, in trial order. */
  imbalanceByArm: ArmImbalance[];
  /** The arms sharing the least imbalance, in trial order. */
  minimizingArms: string[];
  preferredArm: string;
  followedPreference: boolean;
}

const MINIMIZATION_STRATUM_KEY = '';

export function chooseMinimizationArm(input: MinimizationInput, draws: Draws): MinimizationChoice {
  assertUsableInput(input);
  const ratioLcm = leastCommonMultiple(input.arms.map((arm) => BigInt(arm.ratio)));
  const exactScores = input.arms.map((candidate) =>
    input.factors.reduce((sum, factor) => sum + factorImbalanceNumerator(input, ratioLcm, factor, candidate.code), 0n),
  );
  const leastScore = exactScores.reduce((least, score) => (score < least ? score : least));
  const minimizingArms = input.arms.filter((_, index) => exactScores[index] === leastScore).map((arm) => arm.code);

  const followedPreference = draws.uniformReal(0) < input.p;
  const preferredArm = minimizingArms[draws.uniformInt(1, minimizingArms.length)]!;
  const otherArms = input.arms.map((arm) => arm.code).filter((code) => code !== preferredArm);
  const arm = followedPreference ? preferredArm : otherArms[draws.uniformInt(2, otherArms.length)]!;

  const denominator = Number(imbalanceDenominator(input, ratioLcm));
  const imbalanceByArm = input.arms.map((candidate, index) => ({
    arm: candidate.code,
    imbalance: Number(exactScores[index]!) / denominator,
  }));
  return { arm, imbalanceByArm, minimizingArms, preferredArm, followedPreference };
}

/** The choice for the participant with trial-wide `sequenceNumber` (1-based), drawn from the seed's stream. */
export function minimizationAllocation(
  seed: Buffer,
  input: MinimizationInput,
  sequenceNumber: number,
): MinimizationChoice {
  assertSequenceNumber(sequenceNumber);
  return chooseMinimizationArm(input, hmacDraws(seed, MINIMIZATION_STRATUM_KEY, sequenceNumber));
}

function assertUsableInput(input: MinimizationInput): void {
  assertUsableArms(input.arms);
  if (input.factors.length === 0) throw new RangeError('minimization needs at least one factor');
  if (!(input.p > 0 && input.p <= 1)) throw new RangeError(`p must be in (0, 1], got ${input.p}`);
  for (const factor of input.factors) {
    if (input.participantLevels[factor] === undefined) {
      throw new RangeError(`the participant has no level for minimization factor ${factor}`);
    }
  }
}

function leastCommonMultiple(values: readonly bigint[]): bigint {
  const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
  return values.reduce((lcm, value) => (lcm * value) / gcd(lcm, value), 1n);
}

/**
 * With L the least common multiple of the ratios, x_a = (count_a + [a is the candidate]) × L / ratio_a
 * are integers equal to L × (ratio-adjusted count). Range = (max x − min x) / L; population variance =
 * (K Σx² − (Σx)²) / (K² L²). This returns the integer numerator; imbalanceDenominator the shared denominator.
 */
function factorImbalanceNumerator(
  input: MinimizationInput,
  ratioLcm: bigint,
  factor: string,
  candidate: string,
): bigint {
  const level = input.participantLevels[factor]!;
  const countsByArm = input.counts[factor]?.[level];
  const scaled = input.arms.map((arm) => {
    const count = BigInt(countsByArm?.[arm.code] ?? 0) + (arm.code === candidate ? 1n : 0n);
    return (count * ratioLcm) / BigInt(arm.ratio);
  });
  if (input.imbalance === 'range') {
    const max = scaled.reduce((a, b) => (b > a ? b : a));
    const min = scaled.reduce((a, b) => (b < a ? b : a));
    return max - min;
  }
  const armCount = BigInt(scaled.length);
  const sum = scaled.reduce((a, b) => a + b, 0n);
  const sumOfSquares = scaled.reduce((a, b) => a + b * b, 0n);
  return armCount * sumOfSquares - sum * sum;
}

function imbalanceDenominator(input: MinimizationInput, ratioLcm: bigint): bigint {
  if (input.imbalance === 'range') return ratioLcm;
  const armCount = BigInt(input.arms.length);
  return armCount * armCount * ratioLcm * ratioLcm;
}
