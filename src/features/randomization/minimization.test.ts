import {
  chooseMinimizationArm,
  minimizationAllocation,
  type MarginalCounts,
  type MinimizationInput,
} from './minimization';
import { hmacDraws, type Draws } from './random-stream';
import { seedFor } from '../../../test/support/randomization-cases';
import { simpleAllocation } from './simple-randomization';

type MutableCounts = Record<string, Record<string, Record<string, number>>>;

const ONE_TO_ONE = [
  { code: 'A', ratio: 1 },
  { code: 'B', ratio: 1 },
];
const THREE_ARMS = [
  { code: 'A', ratio: 1 },
  { code: 'B', ratio: 1 },
  { code: 'C', ratio: 1 },
];

/** Draws with chosen values that record which draw indexes were asked for. */
function scriptedDraws(real: number, intByIndex: Record<number, number>): Draws & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    uniformReal(drawIndex) {
      asked.push(`real ${drawIndex}`);
      return real;
    },
    uniformInt(drawIndex, n) {
      asked.push(`int ${drawIndex} of ${n}`);
      return intByIndex[drawIndex] ?? 0;
    },
  };
}

function imbalances(input: MinimizationInput): Record<string, number> {
  const choice = chooseMinimizationArm({ ...input, p: 1 }, scriptedDraws(0, {}));
  return Object.fromEntries(choice.imbalanceByArm.map((entry) => [entry.arm, entry.imbalance]));
}

describe('minimization imbalance scores', () => {
  const twoFactors: MinimizationInput = {
    arms: ONE_TO_ONE,
    factors: ['sex', 'site'],
    counts: { sex: { F: { A: 3, B: 1 }, M: { A: 9, B: 9 } }, site: { X: { A: 1, B: 2 } } },
    participantLevels: { sex: 'F', site: 'X' },
    imbalance: 'range',
    p: 1,
  };

  it('sums the range over factors: A gives |4−1| + |2−2| = 3, B gives |3−2| + |1−3| = 3, a tie', () => {
    expect(imbalances(twoFactors)).toEqual({ A: 3, B: 3 });
    expect(chooseMinimizationArm(twoFactors, scriptedDraws(0, {})).minimizingArms).toEqual(['A', 'B']);
  });

  it('sums population variances: A gives 2.25 + 0, B gives 0.25 + 1, so B minimizes', () => {
    const input = { ...twoFactors, imbalance: 'variance' as const };
    expect(imbalances(input)).toEqual({ A: 2.25, B: 1.25 });
    expect(chooseMinimizationArm(input, scriptedDraws(0, {})).minimizingArms).toEqual(['B']);
  });

  it('divides counts by ratios: 2:1 with F counts A 4, B 1 scores A (2.5 vs 1) = 1.5 and B (2 vs 2) = 0', () => {
    const input: MinimizationInput = {
      arms: [
        { code: 'A', ratio: 2 },
        { code: 'B', ratio: 1 },
      ],
      factors: ['sex'],
      counts: { sex: { F: { A: 4, B: 1 } } },
      participantLevels: { sex: 'F' },
      imbalance: 'range',
      p: 1,
    };
    expect(imbalances(input)).toEqual({ A: 1.5, B: 0 });
    expect(imbalances({ ...input, imbalance: 'variance' })).toEqual({ A: 0.5625, B: 0 });
  });

  it('scores three arms: counts 2, 0, 1 give ranges 3, 1, 2 and variances 14/9, 2/9, 8/9', () => {
    const input: MinimizationInput = {
      arms: THREE_ARMS,
      factors: ['site'],
      counts: { site: { X: { A: 2, C: 1 } } },
      participantLevels: { site: 'X' },
      imbalance: 'range',
      p: 1,
    };
    expect(imbalances(input)).toEqual({ A: 3, B: 1, C: 2 });
    expect(imbalances({ ...input, imbalance: 'variance' })).toEqual({ A: 14 / 9, B: 2 / 9, C: 8 / 9 });
  });

  it('treats the first participant of a 2:1 trial as best placed in the larger arm', () => {
    const input: MinimizationInput = {
      arms: [
        { code: 'A', ratio: 2 },
        { code: 'B', ratio: 1 },
      ],
      factors: ['sex'],
      counts: {},
      participantLevels: { sex: 'F' },
      imbalance: 'range',
      p: 1,
    };
    expect(imbalances(input)).toEqual({ A: 0.5, B: 1 });
  });

  it('refuses a participant without a level for a factor, and p outside (0, 1]', () => {
    expect(() =>
      chooseMinimizationArm({ ...twoFactors, participantLevels: { sex: 'F' } }, scriptedDraws(0, {})),
    ).toThrow(/site/);
    expect(() => chooseMinimizationArm({ ...twoFactors, p: 0 }, scriptedDraws(0, {}))).toThrow(/p must be/);
    expect(() => chooseMinimizationArm({ ...twoFactors, p: 1.2 }, scriptedDraws(0, {}))).toThrow(/p must be/);
  });
});

describe('minimization random element', () => {
  const threeArmState: MinimizationInput = {
    arms: THREE_ARMS,
    factors: ['site'],
    counts: { site: { X: { A: 1, B: 1, C: 2 } } },
    participantLevels: { site: 'X' },
    imbalance: 'range',
    p: 0.8,
  };

  it('breaks the A–B tie with draw 1 and allocates the preferred arm when draw 0 is below p', () => {
    const draws = scriptedDraws(0.79, { 1: 1 });
    const choice = chooseMinimizationArm(threeArmState, draws);
    expect(choice).toMatchObject({ minimizingArms: ['A', 'B'], preferredArm: 'B', arm: 'B', followedPreference: true });
    expect(draws.asked).toEqual(['real 0', 'int 1 of 2']);
  });

  it('otherwise picks among the other arms, in trial order, with draw 2', () => {
    const draws = scriptedDraws(0.8, { 1: 0, 2: 1 });
    const choice = chooseMinimizationArm(threeArmState, draws);
    expect(choice).toMatchObject({ preferredArm: 'A', arm: 'C', followedPreference: false });
    expect(draws.asked).toEqual(['real 0', 'int 1 of 2', 'int 2 of 2']);
  });

  it('with p = 1 always allocates a minimizing arm', () => {
    const notMinimizing: number[] = [];
    for (let sequenceNumber = 1; sequenceNumber <= 2_000; sequenceNumber += 1) {
      const state = hmacDraws(seedFor('p = 1 states'), '', sequenceNumber);
      const counts: MarginalCounts = {
        sex: { F: { A: state.uniformInt(0, 20), B: state.uniformInt(1, 20), C: state.uniformInt(2, 20) } },
        site: { X: { A: state.uniformInt(3, 20), B: state.uniformInt(4, 20), C: state.uniformInt(5, 20) } },
      };
      const input: MinimizationInput = {
        arms: THREE_ARMS,
        factors: ['sex', 'site'],
        counts,
        participantLevels: { sex: 'F', site: 'X' },
        imbalance: sequenceNumber % 2 === 0 ? 'range' : 'variance',
        p: 1,
      };
      const choice = minimizationAllocation(seedFor('p = 1'), input, sequenceNumber);
      const least = Math.min(...choice.imbalanceByArm.map((entry) => entry.imbalance));
      const chosenScore = choice.imbalanceByArm.find((entry) => entry.arm === choice.arm)!.imbalance;
      if (chosenScore !== least || !choice.minimizingArms.includes(choice.arm)) notMinimizing.push(sequenceNumber);
    }
    expect(notMinimizing).toEqual([]);
  });

  it('allocates the preferred arm with probability p and the others evenly, within 4 binomial sd', () => {
    const participants = 20_000;
    const state: MinimizationInput = { ...threeArmState, counts: { site: { X: { A: 3, B: 1, C: 2 } } } };
    const tally: Record<string, number> = { A: 0, B: 0, C: 0 };
    for (let sequenceNumber = 1; sequenceNumber <= participants; sequenceNumber += 1) {
      tally[minimizationAllocation(seedFor('frequency'), state, sequenceNumber).arm]! += 1;
    }
    const within4Sd = (count: number, probability: number) =>
      Math.abs(count - participants * probability) < 4 * Math.sqrt(participants * probability * (1 - probability));
    expect({ B: within4Sd(tally.B!, 0.8), A: within4Sd(tally.A!, 0.1), C: within4Sd(tally.C!, 0.1) }).toEqual({
      B: true,
      A: true,
      C: true,
    });
  });

  it('breaks ties evenly, within 4 binomial sd', () => {
    const participants = 10_000;
    let tallyA = 0;
    for (let sequenceNumber = 1; sequenceNumber <= participants; sequenceNumber += 1) {
      if (minimizationAllocation(seedFor('ties'), { ...threeArmState, p: 1 }, sequenceNumber).arm === 'A') tallyA += 1;
    }
    expect(Math.abs(tallyA - participants / 2)).toBeLessThan(4 * Math.sqrt(participants / 4));
  });
});

describe('minimization against simple randomization', () => {
  it('leaves far less marginal imbalance over 200 simulated trials of 100 participants', () => {
    const factorLevels = { sex: ['F', 'M'], site: ['X', 'Y', 'Z'] };
    let minimizationImbalance = 0;
    let simpleImbalance = 0;
    for (let trial = 0; trial < 200; trial += 1) {
      const minimizationCounts: MutableCounts = {};
      const simpleCounts: MutableCounts = {};
      for (let sequenceNumber = 1; sequenceNumber <= 100; sequenceNumber += 1) {
        const levelDraws = hmacDraws(seedFor('participants'), `trial ${trial}`, sequenceNumber);
        const participantLevels = {
          sex: factorLevels.sex[levelDraws.uniformInt(0, 2)]!,
          site: factorLevels.site[levelDraws.uniformInt(1, 3)]!,
        };
        const input: MinimizationInput = {
          arms: ONE_TO_ONE,
          factors: ['sex', 'site'],
          counts: minimizationCounts,
          participantLevels,
          imbalance: 'range',
          p: 0.8,
        };
        const minimizedArm = minimizationAllocation(seedFor(`minimization ${trial}`), input, sequenceNumber).arm;
        addToCounts(minimizationCounts, participantLevels, minimizedArm);
        addToCounts(
          simpleCounts,
          participantLevels,
          simpleAllocation(seedFor(`simple ${trial}`), ONE_TO_ONE, '', sequenceNumber),
        );
      }
      minimizationImbalance += totalMarginalImbalance(minimizationCounts);
      simpleImbalance += totalMarginalImbalance(simpleCounts);
    }
    expect(minimizationImbalance).toBeLessThan(simpleImbalance / 3);
  });
});

function addToCounts(counts: MutableCounts, levels: Record<string, string>, arm: string): void {
  for (const [factor, level] of Object.entries(levels)) {
    const byArm = ((counts[factor] ??= {})[level] ??= {});
    byArm[arm] = (byArm[arm] ?? 0) + 1;
  }
}

/** Sum over every factor level of |count A − count B|. */
function totalMarginalImbalance(counts: MutableCounts): number {
  return Object.values(counts)
    .flatMap((levels) => Object.values(levels))
    .reduce((sum, byArm) => sum + Math.abs((byArm.A ?? 0) - (byArm.B ?? 0)), 0);
}
