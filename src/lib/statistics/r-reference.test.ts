import { loadFixture, relativeError, summarize } from '../../../test/support/r-reference';

describe('comparison with R reference values', () => {
  it('measures relative error, and absolute error below 1e-300 where values underflow', () => {
    expect(relativeError(1 + 1e-12, 1)).toBeCloseTo(1e-12, 15);
    expect(relativeError(0, 0)).toBe(0);
    expect(relativeError(1e-310, 0)).toBe(0);
    expect(relativeError(0, 5e-301)).toBe(0);
    expect(relativeError(3e-300, 0)).toBeGreaterThan(1);
  });

  it('treats nulls and infinities as matching only themselves', () => {
    expect(relativeError(null, null)).toBe(0);
    expect(relativeError(null, 1)).toBe(Infinity);
    expect(relativeError(Infinity, Infinity)).toBe(0);
    expect(relativeError(Infinity, 1e308)).toBe(Infinity);
  });

  it('summarizes the largest error per statistic', () => {
    const summary = summarize([
      { statistic: 'a', caseName: 'one', actual: 1, expected: 1 },
      { statistic: 'a', caseName: 'two', actual: 1.5, expected: 1 },
      { statistic: 'b', caseName: 'three', actual: 2, expected: 2 },
    ]);
    expect(summary).toEqual([
      { statistic: 'a', cases: 2, casesWithinTolerance: 1, largestRelativeError: 0.5, worstCase: 'two' },
      { statistic: 'b', cases: 1, casesWithinTolerance: 1, largestRelativeError: 0, worstCase: 'three' },
    ]);
  });

  it('reads the fixtures with R infinities restored and records the R version', () => {
    const fixture = loadFixture<{ rVersion: string; pt: { value: number }[] }>('distributions');
    expect(fixture.rVersion).toMatch(/^R version 4\./);
    expect(fixture.pt.every((c) => typeof c.value === 'number')).toBe(true);
  });
});
