import { loadFixture, outsideTolerance } from '../../../test/support/r-reference';
import { binaryCountsComparisons, type BinaryFixture } from '../../../test/support/r-reference-outcomes';
import { binaryCounts, conditionalOddsRatio } from './binary';
import { fisherExactTest } from './contingency';
import { StatisticsInputError } from './statistics-input-error';

describe('binary outcomes agree with R', () => {
  it('matches the Wald, Woolf and fisher.test quantities on every fixture case to 1e-10', () => {
    const comparisons = binaryCountsComparisons();
    expect(comparisons.length).toBeGreaterThan(150);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });

  it('covers zero cells, where the exact estimate is 0 or infinite', () => {
    const cases = loadFixture<BinaryFixture>('binary').counts;
    expect(cases.some((c) => c.expected.fisher.oddsRatio === 0)).toBe(true);
    expect(cases.some((c) => c.expected.fisher.oddsRatio === Infinity)).toBe(true);
    expect(cases.some((c) => c.expected.oddsRatio.logSe === null)).toBe(true);
  });
});

describe('binary outcomes behaviour', () => {
  const group = { label: 'SMCM', events: 9, n: 47 };
  const reference = { label: 'TAU', events: 14, n: 48 };

  it("gives Fisher's p equal to the contingency module's", () => {
    const result = binaryCounts(group, reference);
    expect(result.fisher.p).toBeCloseTo(
      fisherExactTest([
        [9, 38],
        [14, 34],
      ]).p,
      14,
    );
  });

  it('inverts the odds ratio and mirrors the interval when the groups swap', () => {
    const forward = conditionalOddsRatio(9, 14, 38, 34);
    const backward = conditionalOddsRatio(14, 9, 34, 38);
    // uniroot stops within its tolerance (1e-4), so the mirror image holds to that.
    expect(backward.estimate).toBeCloseTo(1 / forward.estimate, 3);
    expect(backward.ciLower).toBeCloseTo(1 / forward.ciUpper, 3);
    expect(backward.p).toBeCloseTo(forward.p, 14);
  });

  it('leaves ratios whose denominator is zero null instead of infinite', () => {
    const result = binaryCounts({ label: 'A', events: 4, n: 10 }, { label: 'B', events: 0, n: 10 });
    expect(result.riskRatio).toEqual({ estimate: null, se: null, ciLower: null, ciUpper: null });
    expect(result.fisher.estimate).toBe(Infinity);
    expect(result.fisher.ciUpper).toBe(Infinity);
  });

  it.each([
    ['events above n', () => binaryCounts({ label: 'A', events: 11, n: 10 }, reference), '/group/events'],
    ['n of zero', () => binaryCounts(group, { label: 'B', events: 0, n: 0 }), '/reference/n'],
    ['fractional events', () => binaryCounts({ label: 'A', events: 1.5, n: 10 }, reference), '/group/events'],
    ['a confidence level of 0', () => binaryCounts(group, reference, 0), '/confidenceLevel'],
  ])('rejects %s', (_label, run, pointer) => {
    expect(run).toThrow(StatisticsInputError);
    expect(run).toThrow(expect.objectContaining({ pointer }));
  });
});
