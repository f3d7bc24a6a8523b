import { outsideTolerance, smdComparisons } from '../../../test/support/r-reference';
import { categoricalSmd, numericSmd } from './standardized-mean-difference';
import { StatisticsInputError } from './statistics-input-error';

describe('standardized mean differences agree with tableone formulas computed in R', () => {
  it('numeric and categorical', () => {
    const comparisons = smdComparisons();
    expect(comparisons.filter((c) => c.statistic === 'categoricalSmd').length).toBeGreaterThan(5);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });
});

describe('numeric SMD', () => {
  it('keeps the sign: group 1 minus group 2', () => {
    expect(numericSmd({ mean: 1, sd: 1 }, { mean: 0, sd: 1 })).toBe(1);
    expect(numericSmd({ mean: 0, sd: 1 }, { mean: 1, sd: 1 })).toBe(-1);
  });

  it('is 0 for two identical constants and rejects different constants', () => {
    expect(numericSmd([2, 2, 2], [2, 2])).toBe(0);
    expect(() => numericSmd([2, 2, 2], [3, 3])).toThrow(StatisticsInputError);
  });

  it('rejects too few values and invalid summaries', () => {
    expect(() => numericSmd([1], [2, 3])).toThrow(expect.objectContaining({ pointer: '/group1' }));
    expect(() => numericSmd({ mean: 1, sd: -1 }, { mean: 0, sd: 1 })).toThrow(
      expect.objectContaining({ pointer: '/group1/sd' }),
    );
  });
});

describe('categorical SMD', () => {
  it('equals |p1 - p2| / sqrt((p1 q1 + p2 q2) / 2) for two levels', () => {
    const p1 = 20 / 50;
    const p2 = 28 / 50;
    expect(categoricalSmd([30, 20], [22, 28])).toBeCloseTo(
      Math.abs(p1 - p2) / Math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2),
      14,
    );
  });

  it('is never negative and is symmetric in the groups', () => {
    const a = [3, 8, 12, 9, 4];
    const b = [6, 6, 6, 10, 12];
    expect(categoricalSmd(a, b)).toBeGreaterThan(0);
    expect(categoricalSmd(b, a)).toBeCloseTo(categoricalSmd(a, b), 14);
  });

  it('does not depend on which level is dropped as the reference', () => {
    const a = [10, 25, 15, 7];
    const b = [20, 20, 10, 3];
    const reference = categoricalSmd(a, b);
    for (let shift = 1; shift < a.length; shift++) {
      const rotate = (counts: number[]) => [...counts.slice(shift), ...counts.slice(0, shift)];
      expect(categoricalSmd(rotate(a), rotate(b))).toBeCloseTo(reference, 12);
    }
  });

  it('is 0 for identical proportions and for identical single-level groups', () => {
    expect(categoricalSmd([2, 4, 6], [1, 2, 3])).toBeCloseTo(0, 15);
    expect(categoricalSmd([0, 5, 0], [0, 9, 0])).toBe(0);
  });

  it('rejects groups that sit entirely in different single levels', () => {
    expect(() => categoricalSmd([5, 0], [0, 7])).toThrow(StatisticsInputError);
  });

  it('rejects malformed counts', () => {
    expect(() => categoricalSmd([5], [3])).toThrow(expect.objectContaining({ pointer: '/group1Counts' }));
    expect(() => categoricalSmd([5, 1], [3, 1, 2])).toThrow(expect.objectContaining({ pointer: '/group2Counts' }));
    expect(() => categoricalSmd([5, -1], [3, 1])).toThrow(expect.objectContaining({ pointer: '/group1Counts/1' }));
    expect(() => categoricalSmd([0, 0], [3, 1])).toThrow(StatisticsInputError);
  });
});
