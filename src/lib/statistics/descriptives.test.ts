import { describe as describeValues, mean, median, quantile, standardDeviation, variance } from './descriptives';
import { descriptiveComparisons, outsideTolerance } from '../../../test/support/r-reference';
import { StatisticsInputError } from './statistics-input-error';

describe('descriptives agree with R', () => {
  it('matches mean, sd, quartiles (type 7), min and max on every fixture vector', () => {
    const comparisons = descriptiveComparisons();
    expect(comparisons.length).toBeGreaterThan(50);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });
});

describe('descriptives', () => {
  it('interpolates quartiles as R type 7', () => {
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([1, 2, 3, 4], 0.75)).toBe(3.25);
    expect(median([3, 8])).toBe(5.5);
    expect(quantile([5, 1, 9], 0)).toBe(1);
    expect(quantile([5, 1, 9], 1)).toBe(9);
  });

  it('keeps the digits of values sharing a large offset', () => {
    const values = [1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3];
    expect(mean(values)).toBe(1e9 + 0.2);
    expect(standardDeviation(values)).toBeCloseTo(0.1, 6);
  });

  it('quantiles never decrease with the probability', () => {
    const values = [4, -1, 7.5, 7.5, 0, 3, 12, -6];
    let previous = -Infinity;
    for (let p = 0; p <= 1; p += 0.01) {
      const q = quantile(values, p);
      expect(q).toBeGreaterThanOrEqual(previous);
      previous = q;
    }
  });

  it('reports sd as null for a single value instead of NaN', () => {
    expect(describeValues([4.2])).toEqual({
      n: 1,
      mean: 4.2,
      sd: null,
      min: 4.2,
      q1: 4.2,
      median: 4.2,
      q3: 4.2,
      max: 4.2,
    });
  });

  it('rejects empty input, non-finite values and out-of-range probabilities', () => {
    expect(() => describeValues([])).toThrow(StatisticsInputError);
    expect(() => variance([1])).toThrow(StatisticsInputError);
    expect(() => mean([1, Number.NaN])).toThrow(expect.objectContaining({ pointer: '/1' }));
    expect(() => mean([Infinity])).toThrow(StatisticsInputError);
    expect(() => quantile([1, 2], 1.5)).toThrow(expect.objectContaining({ pointer: '/probability' }));
  });
});
