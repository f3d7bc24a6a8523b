import {
  loadFixture,
  outsideTolerance,
  runTTestCase,
  tTestComparisons,
  type Fixture,
  type RefusedTTestCase,
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
    const summary = (g: typeof fromRaw.group1) => ({ mean: g.mean, sd: g.sd!, n: g.n });
    const fromSummary = tTest(summary(fromRaw.group1), summary(fromRaw.group2));
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
    expect(backward.hedgesG).toBe(-forward.hedgesG!);
    expect(backward.p).toBe(forward.p);
    expect(hedgesG(x, y)).toBe(forward.hedgesG);
  });

  it('shrinks Hedges g below Cohen d by the exact factor J', () => {
    const g = hedgesG({ mean: 1, sd: 1, n: 3 }, { mean: 0, sd: 1, n: 3 });
    // m = 4: J = gamma(2) / (sqrt(2) gamma(3/2)) = 2 / sqrt(2 pi).
    expect(g).toBeCloseTo(2 / Math.sqrt(2 * Math.PI), 15);
  });

  it.each([
    ['an empty group', () => tTest([], [2, 3], { method: 'student' }), '/group1'],
    ['Welch with a group of one value', () => tTest([1], [2, 3]), '/group1'],
    ['Welch with a second group of one value', () => tTest([2, 3, 4], [1]), '/group2'],
    [
      'Welch with n = 1 in summary statistics',
      () => tTest({ mean: 1, sd: 0, n: 1 }, { mean: 0, sd: 1, n: 5 }),
      '/group1/n',
    ],
    ['Student with one value in each group', () => tTest([1], [2], { method: 'student' }), ''],
    [
      'n = 1 with a non-zero sd',
      () => tTest({ mean: 1, sd: 1, n: 1 }, { mean: 0, sd: 1, n: 5 }, { method: 'student' }),
      '/group1/sd',
    ],
    ['n = 0 in summary statistics', () => tTest({ mean: 1, sd: 0, n: 0 }, { mean: 0, sd: 1, n: 5 }), '/group1/n'],
    ['Student with one value against a constant group', () => tTest([1], [2, 2, 2], { method: 'student' }), ''],
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

describe('a group of one value', () => {
  const fixture = loadFixture<Fixture<TTestCase> & { refused: RefusedTTestCase[] }>('t-test-single-value');

  it("Student's test matches t.test(var.equal = TRUE) on every field, the singleton's sd null as R's NA", () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(4);
    expect(outsideTolerance(tTestComparisons('t-test-single-value'))).toEqual([]);
  });

  it('gives the numbers of the issue: t.test(1, c(2, 3, 4), var.equal = TRUE)', () => {
    const result = tTest([1], [2, 3, 4], { method: 'student' });
    expect(result.t).toBeCloseTo(-1.732051, 6);
    expect(result.df).toBe(2);
    expect(result.p).toBeCloseTo(0.2254, 4);
    expect(result.group1).toEqual({ mean: 1, sd: null, n: 1 });
  });

  it('leaves Hedges g null at one degree of freedom, where its correction is 0', () => {
    const oneDf = fixture.cases.find((c) => c.expected.df === 1)!;
    expect(oneDf.expected.hedgesG).toBeNull();
    expect(runTTestCase(oneDf).hedgesG).toBeNull();
  });

  it('gives the same answer from one raw value and from its summary (n = 1, sd = 0)', () => {
    const raw = tTest([7.25], [4.1, 5.3, 3.8, 6.0, 4.9], { method: 'student' });
    const summary = tTest({ mean: 7.25, sd: 0, n: 1 }, { mean: 4.82, sd: raw.group2.sd!, n: 5 }, { method: 'student' });
    expect(summary.t).toBeCloseTo(raw.t, 12);
    expect(summary.p).toBeCloseTo(raw.p, 12);
    expect(summary.group1.sd).toBeNull();
  });

  it.each(fixture.refused.map((c) => [c.name, c] as const))('%s: refused, as R refuses it', (_name, c) => {
    expect(c.rError).toMatch(/not enough/);
    const run = () => tTest(c.input.group1, c.input.group2, { method: c.varEqual ? 'student' : 'welch' });
    expect(run).toThrow(StatisticsInputError);
    expect(run).toThrow(
      c.varEqual ? /Student's t-test needs at least 3 values/ : /Welch's t-test needs at least 2 values/,
    );
  });
});
