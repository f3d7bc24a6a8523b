/**
 * Compares this folder's functions with the R reference values in test/fixtures/r (written by
 * test/fixtures/r/generate.R). Shared by the unit tests, which assert every comparison, and by
 * accuracy-report.ts, which prints the largest error per statistic.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chiSquareTest, fisherExactTest } from '../../src/lib/statistics/contingency';
import { describe as describeValues } from '../../src/lib/statistics/descriptives';
import { dt, logBeta, logGamma, pbeta, pchisq, pnorm, pt, qnorm, qt } from '../../src/lib/statistics/distributions';
import { rankSumTest } from '../../src/lib/statistics/rank-sum';
import { categoricalSmd, numericSmd } from '../../src/lib/statistics/standardized-mean-difference';
import {
  tTest,
  type Alternative,
  type GroupInput,
  type GroupSummary,
  type SummaryStatistics,
} from '../../src/lib/statistics/t-test';

/** Relative agreement the library promises with R. */
export const RELATIVE_TOLERANCE = 1e-10;
/** Below this magnitude R's value has underflowed (or nearly): compare absolutely instead. */
export const UNDERFLOW_THRESHOLD = 1e-300;

export interface Comparison {
  statistic: string;
  caseName: string;
  actual: number | null;
  expected: number | null;
}

const FIXTURE_DIRECTORY = join(__dirname, '..', 'fixtures', 'r');

/** Reads a fixture, turning R's "Inf", "-Inf" and "NaN" strings back into numbers. */
export function loadFixture<T>(name: string): T {
  const text = readFileSync(join(FIXTURE_DIRECTORY, `${name}.json`), 'utf8');
  return JSON.parse(text, (_key, value: unknown) => {
    if (value === 'Inf') return Infinity;
    if (value === '-Inf') return -Infinity;
    if (value === 'NaN') return Number.NaN;
    return value;
  }) as T;
}

/**
 * |actual - expected| / |expected|, or, when |expected| < 1e-300, |actual - expected| / 1e-300, so
 * that a value of at most 1 means "both underflowed". Equal infinities and equal nulls give 0; any
 * other mismatch of kinds gives Infinity.
 */
export function relativeError(actual: number | null, expected: number | null): number {
  if (actual === null || expected === null) return actual === expected ? 0 : Infinity;
  if (actual === expected) return 0;
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return Infinity;
  const difference = Math.abs(actual - expected);
  if (Math.abs(expected) < UNDERFLOW_THRESHOLD)
    return difference <= UNDERFLOW_THRESHOLD ? 0 : difference / UNDERFLOW_THRESHOLD;
  return difference / Math.abs(expected);
}

/** Descriptions of the comparisons outside RELATIVE_TOLERANCE; a test expects this to be empty. */
export function outsideTolerance(comparisons: readonly Comparison[]): string[] {
  return comparisons
    .filter((c) => !(relativeError(c.actual, c.expected) <= RELATIVE_TOLERANCE))
    .map(
      (c) =>
        `${c.statistic} ${c.caseName}: got ${c.actual}, R ${c.expected} (relative error ${relativeError(c.actual, c.expected).toExponential(2)})`,
    );
}

export function comparisonsFor(comparisons: readonly Comparison[], statistic: string): Comparison[] {
  return comparisons.filter((c) => c.statistic === statistic);
}

export interface Fixture<C> {
  rVersion: string;
  cases: C[];
}

// ---- distributions ------------------------------------------------------------------------

export interface DistributionFixture {
  rVersion: string;
  pnorm: { x: number; lowerTail: boolean; value: number }[];
  qnorm: { p: number; value: number }[];
  pt: { t: number; df: number; lowerTail: boolean; value: number }[];
  dt: { t: number; df: number; value: number }[];
  qt: { p: number; df: number; value: number }[];
  pchisq: { x: number; df: number; lowerTail: boolean; value: number }[];
  lgamma: { x: number; value: number }[];
  lbeta: { a: number; b: number; value: number }[];
  pbeta: { x: number; a: number; b: number; lowerTail: boolean; value: number }[];
}

export function distributionComparisons(): Comparison[] {
  const f = loadFixture<DistributionFixture>('distributions');
  const tail = (lowerTail: boolean) => (lowerTail ? 'lower' : 'upper');
  return [
    ...f.pnorm.map((c) => ({
      statistic: 'pnorm',
      caseName: `pnorm(${c.x}, ${tail(c.lowerTail)})`,
      actual: pnorm(c.x, c.lowerTail),
      expected: c.value,
    })),
    ...f.qnorm.map((c) => ({ statistic: 'qnorm', caseName: `qnorm(${c.p})`, actual: qnorm(c.p), expected: c.value })),
    ...f.pt.map((c) => ({
      statistic: 'pt',
      caseName: `pt(${c.t}, df=${c.df}, ${tail(c.lowerTail)})`,
      actual: pt(c.t, c.df, c.lowerTail),
      expected: c.value,
    })),
    ...f.dt.map((c) => ({
      statistic: 'dt',
      caseName: `dt(${c.t}, df=${c.df})`,
      actual: dt(c.t, c.df),
      expected: c.value,
    })),
    ...f.qt.map((c) => ({
      statistic: 'qt',
      caseName: `qt(${c.p}, df=${c.df})`,
      actual: qt(c.p, c.df),
      expected: c.value,
    })),
    ...f.pchisq.map((c) => ({
      statistic: 'pchisq',
      caseName: `pchisq(${c.x}, df=${c.df}, ${tail(c.lowerTail)})`,
      actual: pchisq(c.x, c.df, c.lowerTail),
      expected: c.value,
    })),
    ...f.lgamma.map((c) => ({
      statistic: 'lgamma',
      caseName: `lgamma(${c.x})`,
      actual: logGamma(c.x),
      expected: c.value,
    })),
    ...f.lbeta.map((c) => ({
      statistic: 'lbeta',
      caseName: `lbeta(${c.a}, ${c.b})`,
      actual: logBeta(c.a, c.b),
      expected: c.value,
    })),
    ...f.pbeta.map((c) => ({
      statistic: 'pbeta',
      caseName: `pbeta(${c.x}, ${c.a}, ${c.b}, ${tail(c.lowerTail)})`,
      actual: pbeta(c.x, c.a, c.b, c.lowerTail),
      expected: c.value,
    })),
  ];
}

// ---- descriptives -------------------------------------------------------------------------

export interface DescriptiveCase {
  name: string;
  values: number[];
  n: number;
  mean: number;
  sd: number | null;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

export function descriptiveComparisons(): Comparison[] {
  const fixture = loadFixture<Fixture<DescriptiveCase>>('descriptives');
  return fixture.cases.flatMap((c) => {
    const actual = describeValues(c.values);
    const fields = ['n', 'mean', 'sd', 'min', 'q1', 'median', 'q3', 'max'] as const;
    return fields.map((field) => ({
      statistic: `describe.${field}`,
      caseName: c.name,
      actual: actual[field],
      expected: c[field],
    }));
  });
}

// ---- t-tests ------------------------------------------------------------------------------

type RAlternative = 'two.sided' | 'less' | 'greater';

export interface TTestCase {
  name: string;
  input:
    | { kind: 'raw'; group1: number[]; group2: number[] }
    | { kind: 'summary'; group1: SummaryStatistics; group2: SummaryStatistics };
  varEqual: boolean;
  alternative: RAlternative;
  confidenceLevel: number;
  expected: {
    t: number;
    df: number;
    p: number;
    meanDifference: number;
    standardError: number;
    confidenceInterval: { lower: number | null; upper: number | null };
    /** null where J is 0 (n1 + n2 - 2 = 1). */
    hedgesG: number | null;
    /** sd is null (R's NA) for a group of one value. */
    group1: GroupSummary;
    group2: GroupSummary;
  };
  published?: { t: number; df: number; p: number; summaryDecimals: number };
}

export function fromRAlternative(alternative: RAlternative): Alternative {
  return alternative === 'two.sided' ? 'two-sided' : alternative;
}

export function runTTestCase(c: TTestCase) {
  const group1: GroupInput = c.input.group1;
  const group2: GroupInput = c.input.group2;
  return tTest(group1, group2, {
    method: c.varEqual ? 'student' : 'welch',
    alternative: fromRAlternative(c.alternative),
    confidenceLevel: c.confidenceLevel,
  });
}

/** Inputs on which R's t.test() stops, with its message (a group of one value for Welch's test, ...). */
export interface RefusedTTestCase {
  name: string;
  input: { kind: 'raw'; group1: number[]; group2: number[] };
  varEqual: boolean;
  rError: string;
}

export function tTestComparisons(fixtureName: 't-test' | 'seed-paper' | 't-test-single-value'): Comparison[] {
  const fixture = loadFixture<Fixture<TTestCase>>(fixtureName);
  return fixture.cases.flatMap((c) => {
    const actual = runTTestCase(c);
    const e = c.expected;
    const pairs: [string, number | null, number | null][] = [
      ['t', actual.t, e.t],
      ['df', actual.df, e.df],
      ['p', actual.p, e.p],
      ['meanDifference', actual.meanDifference, e.meanDifference],
      ['standardError', actual.standardError, e.standardError],
      ['confidenceInterval.lower', actual.confidenceInterval.lower, e.confidenceInterval.lower ?? null],
      ['confidenceInterval.upper', actual.confidenceInterval.upper, e.confidenceInterval.upper ?? null],
      ['hedgesG', actual.hedgesG, e.hedgesG],
      ['group1.mean', actual.group1.mean, e.group1.mean],
      ['group1.sd', actual.group1.sd, e.group1.sd],
      ['group1.n', actual.group1.n, e.group1.n],
      ['group2.mean', actual.group2.mean, e.group2.mean],
      ['group2.sd', actual.group2.sd, e.group2.sd],
      ['group2.n', actual.group2.n, e.group2.n],
    ];
    return pairs.map(([field, a, x]) => ({ statistic: `tTest.${field}`, caseName: c.name, actual: a, expected: x }));
  });
}

// ---- contingency tables -------------------------------------------------------------------

export interface ChiSquareCase {
  name: string;
  table: number[][];
  correct: boolean;
  expected: { statistic: number; df: number; p: number; continuityCorrected: boolean; minimumExpectedCount: number };
}

export interface FisherCase {
  name: string;
  table: number[][];
  expected: { p: number };
}

export interface ContingencyFixture {
  rVersion: string;
  chisq: ChiSquareCase[];
  fisher: FisherCase[];
}

export function chiSquareComparisons(): Comparison[] {
  return loadFixture<ContingencyFixture>('contingency').chisq.flatMap((c) => {
    const actual = chiSquareTest(c.table, { continuityCorrection: c.correct });
    return [
      { statistic: 'chiSquare.statistic', caseName: c.name, actual: actual.statistic, expected: c.expected.statistic },
      { statistic: 'chiSquare.df', caseName: c.name, actual: actual.df, expected: c.expected.df },
      { statistic: 'chiSquare.p', caseName: c.name, actual: actual.p, expected: c.expected.p },
      {
        statistic: 'chiSquare.minimumExpectedCount',
        caseName: c.name,
        actual: actual.minimumExpectedCount,
        expected: c.expected.minimumExpectedCount,
      },
    ];
  });
}

export function fisherComparisons(): Comparison[] {
  return loadFixture<ContingencyFixture>('contingency').fisher.map((c) => ({
    statistic: c.table.length === 2 && c.table[0]!.length === 2 ? 'fisher.p (2x2)' : 'fisher.p (r x c)',
    caseName: c.name,
    actual: fisherExactTest(c.table).p,
    expected: c.expected.p,
  }));
}

// ---- rank-sum -----------------------------------------------------------------------------

export interface RankSumCase {
  name: string;
  group1: number[];
  group2: number[];
  alternative: RAlternative;
  expected: { w: number; p: number; method: 'exact' | 'normal' };
}

export function rankSumComparisons(): Comparison[] {
  return loadFixture<Fixture<RankSumCase>>('rank-sum').cases.flatMap((c) => {
    const actual = rankSumTest(c.group1, c.group2, { alternative: fromRAlternative(c.alternative) });
    return [
      { statistic: 'rankSum.w', caseName: c.name, actual: actual.w, expected: c.expected.w },
      { statistic: `rankSum.p (${c.expected.method})`, caseName: c.name, actual: actual.p, expected: c.expected.p },
    ];
  });
}

// ---- standardized mean differences --------------------------------------------------------

export interface SmdFixture {
  rVersion: string;
  numeric: {
    name: string;
    input:
      | { kind: 'raw'; group1: number[]; group2: number[] }
      | { kind: 'summary'; group1: SummaryStatistics; group2: SummaryStatistics };
    expected: number;
  }[];
  categorical: { name: string; group1: number[]; group2: number[]; expected: number }[];
}

export function smdComparisons(): Comparison[] {
  const fixture = loadFixture<SmdFixture>('smd');
  return [
    ...fixture.numeric.map((c) => ({
      statistic: 'numericSmd',
      caseName: c.name,
      actual: numericSmd(c.input.group1, c.input.group2),
      expected: c.expected,
    })),
    ...fixture.categorical.map((c) => ({
      statistic: 'categoricalSmd',
      caseName: c.name,
      actual: categoricalSmd(c.group1, c.group2),
      expected: c.expected,
    })),
  ];
}

export interface StatisticSummary {
  statistic: string;
  cases: number;
  casesWithinTolerance: number;
  largestRelativeError: number;
  worstCase: string;
}

/** The largest relative error per statistic, in first-seen order. */
export function summarize(comparisons: readonly Comparison[]): StatisticSummary[] {
  const byStatistic = new Map<string, StatisticSummary>();
  for (const comparison of comparisons) {
    const error = relativeError(comparison.actual, comparison.expected);
    const summary = byStatistic.get(comparison.statistic) ?? {
      statistic: comparison.statistic,
      cases: 0,
      casesWithinTolerance: 0,
      largestRelativeError: 0,
      worstCase: '',
    };
    summary.cases += 1;
    if (error <= RELATIVE_TOLERANCE) summary.casesWithinTolerance += 1;
    if (error > summary.largestRelativeError || summary.worstCase === '') {
      summary.largestRelativeError = Math.max(error, summary.largestRelativeError);
      summary.worstCase = comparison.caseName;
    }
    byStatistic.set(comparison.statistic, summary);
  }
  return [...byStatistic.values()];
}
