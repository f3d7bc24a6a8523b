import {
  loadFixture,
  outsideTolerance,
  runTTestCase,
  tTestComparisons,
  type Fixture,
  type TTestCase,
} from '../../../test/support/r-reference';
import { StatisticsInputError } from './statistics-input-error';
import { hedgesG, tTest } from './t-test';

describe('t-test agrees with R', () => {
  it('matches every field of t.test() (and the Hedges g formula) on the fixture cases', () => {
    const comparisons = tTestComparisons('t-test');
    expect(comparisons.length).toBeGreaterThan(1000);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });

  it('covers p-values below 1e-15 and p-values that underflow to 0', () => {
    const cases = loadFixture<Fixture<TTestCase>>('t-test').cases;
    expect(cases.some((c) => c.expected.p > 0 && c.expected.p < 1e-15)).toBe(true);
    expect(cases.some((c) => c.expected.p === 0)).toBe(true);
  });
});

describe('seed paper', () => {
  const cases = loadFixture<Fixture<TTestCase>>('seed-paper').cases;

  it("matches R's full-precision values", () => {
    expect(outsideTolerance(tTestComparisons('seed-paper'))).toEqual([]);
  });

  const decimalsOf = (value: number) => (String(value).split('.')[1] ?? '').length;
  const roundsTo = (value: number, published: number) =>
    value.toFixed(decimalsOf(published)) === published.toFixed(decimalsOf(published));

  it.each(cases.map((c) => [c.name, c] as const))('%s: df and p round to the published values', (_name, c) => {
    const result = runTTestCase(c);
    expect(roundsTo(result.df, c.published!.df)).toBe(true);
    expect(roundsTo(result.p, c.published!.p)).toBe(true);
  });

  // The paper computed t from unrounded data; t from its rounded means and SDs can differ in the last
  // digit (age 1.144 vs 1.15, onset 0.0201 vs 0.021). The published t must be reachable from
  // summaries that round to the published ones.
  it.each(cases.map((c) => [c.name, c] as const))(
    '%s: the published t is consistent with the rounded summaries',
    (_name, c) => {
      if (c.input.kind !== 'summary') throw new Error('seed-paper cases are summary statistics');
      const { group1, group2 } = c.input;
      const half = 0.5 * 10 ** -c.published!.summaryDecimals;
      const reachable: number[] = [];
      for (const [dm1, dm2, ds1, ds2] of [-1, 1].flatMap((a) =>
        [-1, 1].flatMap((b) => [-1, 1].flatMap((d) => [-1, 1].map((e) => [a, b, d, e]))),
      )) {
        const perturbed = {
          ...c,
          input: {
            kind: 'summary' as const,
            group1: { ...group1, mean: group1.mean + dm1! * half, sd: group1.sd + ds1! * half },
            group2: { ...group2, mean: group2.mean + dm2! * half, sd: group2.sd + ds2! * half },
          },
        };
        reachable.push(runTTestCase(perturbed).t);
      }
      const publishedHalfUnit = 0.5 * 10 ** -decimalsOf(c.published!.t);
      expect(c.published!.t + publishedHalfUnit).toBeGreaterThanOrEqual(Math.min(...reachable));
      expect(c.published!.t - publishedHalfUnit).toBeLessThanOrEqual(Math.max(...reachable));
    },
  );

  it('reproduces the published worker-experience t exactly after rounding', () => {
    const worker = cases.find((c) => c.name.startsWith('worker experience'))!;
    expect(roundsTo(runTTestCase(worker).t, worker.published!.t)).toBe(true);
  });
});

describe('t-test behaviour', () => {
  const x = [5.1, 4.9, 6.2, 5.8, 6.0, 5.5];
  const y = [4.1, 4.4, 5.0, 4.6, 3.9];

  it('gives the same answer from raw values and from their summary statistics', () => {
    const fromRaw = tTest(x, y);
    const fromSummary = tTest(fromRaw.group1, fromRaw.group2);
    expect(fromSummary.t).toBeCloseTo(fromRaw.t, 12);
    expect(fromSummary.p).toBeCloseTo(fromRaw.p, 12);
  });

  it('leaves the infinite end of a one-sided interval null', () => {
    const less = tTest(x, y, { alternative: 'less' });
    expect(less.confidenceInterval.lower).toBeNull();
    expect(less.confidenceInterval.upper).toEqual(expect.any(Number));
    const greater = tTest(x, y, { alternative: 'greater' });
    expect(greater.confidenceInterval.upper).toBeNull();
    expect(greater.confidenceInterval.lower).toEqual(expect.any(Number));
  });

  it('flips the sign of t and g when the groups are swapped', () => {
    const forward = tTest(x, y, { method: 'student' });
    const backward = tTest(y, x, { method: 'student' });
    expect(backward.t).toBe(-forward.t);
    expect(backward.hedgesG).toBe(-forward.hedgesG);
    expect(backward.p).toBe(forward.p);
    expect(hedgesG(x, y)).toBe(forward.hedgesG);
  });

  it('shrinks Hedges g below Cohen d by the exact factor J', () => {
    const g = hedgesG({ mean: 1, sd: 1, n: 3 }, { mean: 0, sd: 1, n: 3 });
    // m = 4: J = gamma(2) / (sqrt(2) gamma(3/2)) = 2 / sqrt(2 pi).
    expect(g).toBeCloseTo(2 / Math.sqrt(2 * Math.PI), 15);
  });

  it.each([
    ['a group with one value', () => tTest([1], [2, 3]), '/group1'],
    ['n < 2 in summary statistics', () => tTest({ mean: 1, sd: 1, n: 1 }, { mean: 0, sd: 1, n: 5 }), '/group1/n'],
    ['a non-integer n', () => tTest({ mean: 1, sd: 1, n: 4.5 }, { mean: 0, sd: 1, n: 5 }), '/group1/n'],
    ['a negative sd', () => tTest({ mean: 1, sd: -1, n: 4 }, { mean: 0, sd: 1, n: 5 }), '/group1/sd'],
    ['a non-finite value', () => tTest([1, 2, Number.NaN], [2, 3]), '/group1/2'],
    ['an infinite mean', () => tTest({ mean: 1, sd: 1, n: 4 }, { mean: Infinity, sd: 1, n: 5 }), '/group2/mean'],
    ['zero variance in both groups', () => tTest([2, 2, 2], [3, 3]), ''],
    ['a confidence level of 1', () => tTest(x, y, { confidenceLevel: 1 }), '/confidenceLevel'],
    ['a confidence level of 0', () => tTest(x, y, { confidenceLevel: 0 }), '/confidenceLevel'],
  ])('rejects %s with a StatisticsInputError', (_label, run, pointer) => {
    expect(run).toThrow(StatisticsInputError);
    expect(run).toThrow(expect.objectContaining({ pointer }));
  });

  it('accepts zero variance in one group only', () => {
    const result = tTest([2, 2, 2], [3, 4, 6]);
    expect(result.df).toBe(2);
    expect(Number.isFinite(result.p)).toBe(true);
  });
});
