import { uniroot, UNIROOT_TOLERANCE } from './root-finding';

describe("uniroot (R's zeroin)", () => {
  it('finds a root to within its tolerance', () => {
    expect(Math.abs(uniroot((x) => x * x - 2, 0, 2) - Math.SQRT2)).toBeLessThan(UNIROOT_TOLERANCE);
    expect(uniroot((x) => x * x - 2, 0, 2, 1e-15)).toBeCloseTo(Math.SQRT2, 14);
  });

  it('returns an end point that is a root', () => {
    expect(uniroot((x) => x, 0, 1)).toBe(0);
    expect(uniroot((x) => x - 1, 0, 1)).toBe(1);
  });

  it('refuses an interval without a sign change', () => {
    expect(() => uniroot((x) => x * x + 1, -1, 1)).toThrow(/same sign/);
  });
});
