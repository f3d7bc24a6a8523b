import { outsideTolerance } from '../../../test/support/r-reference';
import { poolComparisons } from '../../../test/support/r-reference-outcomes';
import { poolScalar } from './rubin';
import { StatisticsInputError } from './statistics-input-error';

describe("Rubin's rules agree with mice::pool.scalar", () => {
  it('matches every pooled quantity on every fixture case to 1e-10', () => {
    const comparisons = poolComparisons();
    expect(comparisons.length).toBeGreaterThan(80);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });
});

describe("Rubin's rules behaviour", () => {
  it('adds (1 + 1/m) B to the mean within-imputation variance', () => {
    const pooled = poolScalar([1, 2, 3], [0.5, 0.5, 0.5]);
    expect(pooled.estimate).toBe(2);
    expect(pooled.betweenVariance).toBe(1);
    expect(pooled.totalVariance).toBeCloseTo(0.5 + 4 / 3, 14);
  });

  it('gives the large-sample df without n and approaches it as n grows', () => {
    const large = poolScalar([1, 1.2, 0.9, 1.1], [0.2, 0.21, 0.19, 0.2]);
    const finite = poolScalar([1, 1.2, 0.9, 1.1], [0.2, 0.21, 0.19, 0.2], { n: 1e9 });
    expect(finite.df).toBeLessThan(large.df);
    expect(finite.df / large.df).toBeCloseTo(1, 6);
  });

  it.each([
    ['one imputation', () => poolScalar([1], [0.1]), '/estimates'],
    ['mismatched lengths', () => poolScalar([1, 2], [0.1]), '/variances'],
    ['a zero variance', () => poolScalar([1, 2], [0.1, 0]), '/variances/1'],
    ['a non-finite estimate', () => poolScalar([1, Number.NaN], [0.1, 0.1]), '/estimates/1'],
    ['k >= n', () => poolScalar([1, 2], [0.1, 0.1], { n: 5, k: 5 }), '/k'],
    ['a fractional n', () => poolScalar([1, 2], [0.1, 0.1], { n: 5.5 }), '/n'],
  ])('rejects %s', (_label, run, pointer) => {
    expect(run).toThrow(StatisticsInputError);
    expect(run).toThrow(expect.objectContaining({ pointer }));
  });
});

describe('poolScalar at degenerate degrees of freedom', () => {
  it('refuses, naming n, when the Barnard–Rubin df are too small for the t distribution (a fuzzing find)', () => {
    const run = () => poolScalar([0, 0, -492451, 0], [1, 1, 1, 5e-324], { n: 2, k: 1 });
    expect(run).toThrow(StatisticsInputError);
    expect(run).toThrow(expect.objectContaining({ pointer: '/n' }));
  });
});
