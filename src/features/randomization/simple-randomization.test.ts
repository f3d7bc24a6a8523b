import { armAtRatioIndex } from './arm-ratios';
import { chiSquareCritical, chiSquareStatistic, seedFor } from '../../../test/support/randomization-cases';
import { simpleAllocation } from './simple-randomization';

const TWO_TO_ONE = [
  { code: 'SMCM', ratio: 2 },
  { code: 'TAU', ratio: 1 },
];

describe('armAtRatioIndex', () => {
  it('cuts [0, sum of ratios) into runs of ratio indexes per arm, in trial order', () => {
    const arms = [
      { code: 'A', ratio: 1 },
      { code: 'B', ratio: 3 },
      { code: 'C', ratio: 2 },
    ];
    expect([0, 1, 2, 3, 4, 5].map((index) => armAtRatioIndex(arms, index))).toEqual(['A', 'B', 'B', 'B', 'C', 'C']);
    expect(() => armAtRatioIndex(arms, 6)).toThrow(RangeError);
  });
});

describe('simpleAllocation', () => {
  it('allocates in the configured ratio (chi-square over 30,000 participants)', () => {
    const counts = { SMCM: 0, TAU: 0 };
    for (let sequenceNumber = 1; sequenceNumber <= 30_000; sequenceNumber += 1) {
      counts[simpleAllocation(seedFor('simple ratio'), TWO_TO_ONE, 'site=LDN', sequenceNumber) as 'SMCM' | 'TAU'] += 1;
    }
    expect(chiSquareStatistic([counts.SMCM, counts.TAU], [20_000, 10_000])).toBeLessThan(chiSquareCritical(1));
  });

  it('gives identical lists for the same seed and stratum, and different ones otherwise', () => {
    const list = (seedLabel: string, stratum: string) =>
      Array.from({ length: 64 }, (_, index) => simpleAllocation(seedFor(seedLabel), TWO_TO_ONE, stratum, index + 1));
    expect(list('one', 'site=LDN')).toEqual(list('one', 'site=LDN'));
    expect(list('one', 'site=LDN')).not.toEqual(list('two', 'site=LDN'));
    expect(list('one', 'site=LDN')).not.toEqual(list('one', 'site=MAN'));
  });

  it('refuses sequence numbers below 1 and unusable arms', () => {
    expect(() => simpleAllocation(seedFor('x'), TWO_TO_ONE, '', 0)).toThrow(/start at 1/);
    expect(() =>
      simpleAllocation(
        seedFor('x'),
        [
          { code: 'A', ratio: 1 },
          { code: 'A', ratio: 1 },
        ],
        '',
        1,
      ),
    ).toThrow(/more than once/);
    expect(() =>
      simpleAllocation(
        seedFor('x'),
        [
          { code: 'A', ratio: 0 },
          { code: 'B', ratio: 1 },
        ],
        '',
        1,
      ),
    ).toThrow(/positive integers/);
  });
});
