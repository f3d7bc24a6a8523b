import fixture from '../../../test/fixtures/r/risk-difference.json';
import { plainExactRiskDifference } from '../../../test/support/risk-difference-plain';
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

  it('gives exactly the limits of the plain definition (every tail summed in full at every grid point)', () => {
    // Every table of 3 against 2 (none, some, all events in each arm) and of 1 against 1 at 90%: the fast search
    // stops a grid scan or a sum as soon as the comparison with alpha is decided and skips the grid points an earlier
    // step bounds below alpha, which must never change a limit.
    // The plain definition is slow under Jest (seconds an interval), so the grid is small here;
    // scripts/bench/risk-difference.ts compares the two at 50 per arm.
    const cases: [number, number, number, number, number][] = [];
    for (let x1 = 0; x1 <= 3; x1++) for (let x2 = 0; x2 <= 2; x2++) cases.push([x1, 3, x2, 2, 0.95]);
    for (let x1 = 0; x1 <= 1; x1++) for (let x2 = 0; x2 <= 1; x2++) cases.push([x1, 1, x2, 1, 0.9]);
    for (const [x1, n1, x2, n2, level] of cases) {
      const fast = exactRiskDifference(x1, n1, x2, n2, level);
      const plain = plainExactRiskDifference(x1, n1, x2, n2, level);
      expect([x1, n1, x2, n2, level, fast.lower, fast.upper]).toEqual([
        x1,
        n1,
        x2,
        n2,
        level,
        plain.lower,
        plain.upper,
      ]);
    }
    expect(cases).toHaveLength(16);
  }, 300_000);

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
