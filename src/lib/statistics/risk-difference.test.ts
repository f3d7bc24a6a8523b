import fixture from '../../../test/fixtures/r/risk-difference.json';
import { exactRiskDifference } from './risk-difference';

describe('exact unconditional risk difference interval', () => {
  it.each(fixture.cases.map((c) => [`${c.x1}/${c.n1} vs ${c.x2}/${c.n2}`, c] as const))(
    'matches the R reference for %s',
    (_, c) => {
      const r = exactRiskDifference(c.x1, c.n1, c.x2, c.n2);
      expect(r.estimate).toBeCloseTo(c.estimate, 12);
      expect(Math.abs(r.lower - c.lower)).toBeLessThan(1e-8);
      expect(Math.abs(r.upper - c.upper)).toBeLessThan(1e-8);
    },
  );

  it('solves 1 of 1 against 0 of 1 in closed form: the lower limit is 2·√0.025 − 1', () => {
    const r = exactRiskDifference(1, 1, 0, 1);
    expect(r.lower).toBeCloseTo(2 * Math.sqrt(0.025) - 1, 9);
    expect(r.upper).toBe(1);
  });

  it('is symmetric: swapping the groups negates and swaps the limits', () => {
    const a = exactRiskDifference(4, 30, 1, 25);
    const b = exactRiskDifference(1, 25, 4, 30);
    expect(b.lower).toBeCloseTo(-a.upper, 9);
    expect(b.upper).toBeCloseTo(-a.lower, 9);
  });

  it('contains the estimate and narrows as the samples grow', () => {
    const small = exactRiskDifference(3, 15, 1, 15);
    const large = exactRiskDifference(12, 60, 4, 60);
    for (const r of [small, large]) expect(r.lower <= r.estimate && r.estimate <= r.upper).toBe(true);
    expect(large.upper - large.lower).toBeLessThan(small.upper - small.lower);
  });

  it('refuses counts that are not counts', () => {
    expect(() => exactRiskDifference(3, 2, 0, 1)).toThrow(RangeError);
    expect(() => exactRiskDifference(0, 0, 0, 1)).toThrow(RangeError);
    expect(() => exactRiskDifference(1.5, 3, 0, 1)).toThrow(RangeError);
  });
});
