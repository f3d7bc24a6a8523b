import { rankSumCounts, rankSumTest } from './rank-sum';
import {
  loadFixture,
  outsideTolerance,
  rankSumComparisons,
  type Fixture,
  type RankSumCase,
  fromRAlternative,
} from '../../../test/support/r-reference';
import { StatisticsInputError } from './statistics-input-error';

describe('rank-sum test agrees with R', () => {
  it('matches W and p of wilcox.test() for exact and normal-approximation cases', () => {
    const comparisons = rankSumComparisons();
    expect(comparisons.some((c) => c.statistic === 'rankSum.p (exact)')).toBe(true);
    expect(comparisons.some((c) => c.statistic === 'rankSum.p (normal)')).toBe(true);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });

  it('chooses the same method as R, including at the 49/50 boundary', () => {
    for (const c of loadFixture<Fixture<RankSumCase>>('rank-sum').cases) {
      const method = rankSumTest(c.group1, c.group2, { alternative: fromRAlternative(c.alternative) }).method;
      expect([c.name, method]).toEqual([c.name, c.expected.method]);
    }
  });
});

describe('rank-sum test', () => {
  it('counts every arrangement of ranks exactly once', () => {
    const counts = rankSumCounts(4, 6);
    expect(counts.reduce((s, c) => s + c, 0)).toBe(210); // choose(10, 4)
    expect(counts).toEqual([...counts].reverse()); // W is symmetric about n1 n2 / 2
  });

  it('uses the exact distribution without ties and the normal approximation with them', () => {
    expect(rankSumTest([1, 2, 3], [4, 5, 6, 7]).method).toBe('exact');
    expect(rankSumTest([1, 2, 4], [4, 5, 6, 7]).method).toBe('normal');
  });

  it('gives p = 2 / choose(n1 + n2, n1) for complete separation in the exact case', () => {
    const result = rankSumTest([1, 2, 3], [4, 5, 6]);
    expect(result.w).toBe(0);
    expect(result.p).toBeCloseTo(2 / 20, 15);
  });

  it('caps the exact two-sided p at 1', () => {
    expect(rankSumTest([2], [1, 3]).p).toBe(1);
  });

  it('rejects empty groups, non-finite values and all-tied data', () => {
    expect(() => rankSumTest([], [1, 2])).toThrow(expect.objectContaining({ pointer: '/group1' }));
    expect(() => rankSumTest([1, Number.NaN], [1, 2])).toThrow(expect.objectContaining({ pointer: '/group1/1' }));
    expect(() => rankSumTest([3, 3], [3, 3, 3])).toThrow(StatisticsInputError);
  });
});
