import {
  dt,
  gammaFunction,
  logBeta,
  logGamma,
  logHypergeometricDensity,
  pbeta,
  pchisq,
  pnorm,
  pt,
  qnorm,
  qt,
} from './distributions';
import { comparisonsFor, distributionComparisons, outsideTolerance } from '../../../test/support/r-reference';

const comparisons = distributionComparisons();

describe('distribution functions agree with R to 1e-10 relative', () => {
  it.each(['pnorm', 'qnorm', 'pt', 'dt', 'qt', 'pchisq', 'lgamma', 'lbeta', 'pbeta'])('%s', (statistic) => {
    const cases = comparisonsFor(comparisons, statistic);
    expect(cases.length).toBeGreaterThan(10);
    expect(outsideTolerance(cases)).toEqual([]);
  });
});

describe('Student t quantile', () => {
  // R's own qt() is not a reference this deep in the tail, so check that qt inverts pt instead:
  // moving the quantile by 1e-12 of itself either way must move pt across p.
  it.each([1, 1.5, 3, 10, 1e4])('inverts pt at p = 1e-300 with df = %d', (df) => {
    const quantile = qt(1e-300, df);
    expect(pt(quantile * (1 + 1e-12), df)).toBeLessThan(1e-300);
    expect(pt(quantile * (1 - 1e-12), df)).toBeGreaterThan(1e-300);
  });

  it('overflows to -Infinity when the quantile is beyond the largest double', () => {
    // P(T < x) ~ c |x|^-0.5, so p = 1e-300 needs |x| near 1e600.
    expect(qt(1e-300, 0.5)).toBe(-Infinity);
  });

  it('is antisymmetric and exact at the median', () => {
    expect(qt(0.5, 7)).toBe(0);
    expect(qt(0.5, 0.5)).toBe(0);
    expect(qt(0.975, 22)).toBe(-qt(0.025, 22));
    expect(qt(0.025, 22, false)).toBe(qt(0.975, 22));
  });

  it('returns infinities at p = 0 and p = 1', () => {
    expect(qt(0, 5)).toBe(-Infinity);
    expect(qt(1, 5)).toBe(Infinity);
  });
});

describe('tails', () => {
  it('pt lower and upper tails add to one and mirror each other', () => {
    for (const df of [0.7, 2, 22, 1e6]) {
      for (const t of [-4, -0.3, 0, 1.2, 6]) {
        expect(pt(t, df) + pt(t, df, false)).toBeCloseTo(1, 15);
        expect(pt(-t, df)).toBe(pt(t, df, false));
      }
    }
  });

  it('pt underflows to exactly 0 rather than NaN for enormous t', () => {
    expect(pt(-1e300, 3)).toBe(0);
    expect(pt(-1e5, 2000)).toBe(0);
    expect(pt(Infinity, 3)).toBe(1);
  });

  it('pchisq tails add to one', () => {
    for (const [x, df] of [
      [0.5, 1],
      [12, 7],
      [950, 1000],
    ] as const) {
      expect(pchisq(x, df) + pchisq(x, df, false)).toBeCloseTo(1, 15);
    }
  });

  it('pnorm and qnorm invert each other', () => {
    // Relative error in p is the quantile's relative error times z^2, about 1e3 at p = 1e-200.
    for (const p of [1e-200, 1e-8, 0.2, 0.5, 0.9]) expect(Math.abs(pnorm(qnorm(p)) / p - 1)).toBeLessThan(1e-12);
  });
});

describe('gamma family', () => {
  it('gives factorials exactly', () => {
    expect(gammaFunction(5)).toBe(24);
    expect(gammaFunction(21)).toBe(2432902008176640000);
    expect(logGamma(1)).toBe(0);
    expect(logGamma(2)).toBe(0);
  });

  it('logBeta is symmetric and equals the log-gamma identity for moderate arguments', () => {
    expect(logBeta(2.5, 7)).toBe(logBeta(7, 2.5));
    expect(logBeta(3, 4)).toBeCloseTo(Math.log(1 / 60), 14);
  });

  it('the hypergeometric density sums to one over its support', () => {
    let total = 0;
    for (let x = 0; x <= 12; x++) total += Math.exp(logHypergeometricDensity(x, 20, 15, 12));
    expect(total).toBeCloseTo(1, 14);
    expect(logHypergeometricDensity(13, 20, 15, 12)).toBe(-Infinity);
  });
});

describe('domain errors', () => {
  it('throws RangeError for parameters outside the domain', () => {
    expect(() => pt(1, 0)).toThrow(RangeError);
    expect(() => qt(1.5, 3)).toThrow(RangeError);
    expect(() => qnorm(-0.1)).toThrow(RangeError);
    expect(() => pchisq(1, -2)).toThrow(RangeError);
    expect(() => logGamma(0)).toThrow(RangeError);
    expect(() => pbeta(0.5, 0, 1)).toThrow(RangeError);
    expect(() => dt(Number.NaN, 3)).toThrow(RangeError);
  });
});
