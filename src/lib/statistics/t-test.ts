import { mean, variance } from './descriptives';
import { logBeta, logGamma, pt, qt } from './distributions';
import { requireFiniteNumbers, StatisticsInputError } from './statistics-input-error';

export type Alternative = 'two-sided' | 'less' | 'greater';

export interface SummaryStatistics {
  mean: number;
  /** Sample standard deviation (denominator n - 1); 0 when n is 1. */
  sd: number;
  n: number;
}

/** A group as reported: its SD is null for a single value, as R's sd() gives NA. */
export interface GroupSummary {
  mean: number;
  sd: number | null;
  n: number;
}

/** A group given either as its raw values or as mean, SD and size. */
export type GroupInput = readonly number[] | SummaryStatistics;

export interface TTestOptions {
  /** 'welch' (default, R's var.equal = FALSE) or 'student' (pooled variance, var.equal = TRUE). */
  method?: 'welch' | 'student';
  alternative?: Alternative;
  /** Confidence level of the interval for the mean difference, strictly between 0 and 1; default 0.95. */
  confidenceLevel?: number;
}

export interface ConfidenceInterval {
  /** null when the interval is unbounded below (alternative 'less'). */
  lower: number | null;
  /** null when the interval is unbounded above (alternative 'greater'). */
  upper: number | null;
}

export interface TTestResult {
  method: 'welch' | 'student';
  alternative: Alternative;
  confidenceLevel: number;
  t: number;
  df: number;
  p: number;
  /** mean(group1) - mean(group2). */
  meanDifference: number;
  standardError: number;
  confidenceInterval: ConfidenceInterval;
  group1: GroupSummary;
  group2: GroupSummary;
  /** Pooled-SD Cohen's d times the exact small-sample correction J; null below 2 degrees of freedom; see hedgesG(). */
  hedgesG: number | null;
}

interface GroupMoments {
  summary: GroupSummary;
  /** The sample variance; 0 for a single value, which then adds nothing to a pooled variance. */
  variance: number;
}

/**
 * Two-sample t-test of mean(group1) - mean(group2) = 0, as R's
 * t.test(x, y, var.equal = method === 'student', alternative, conf.level).
 *
 * Student's test pools the variance, so one group may be a single value as long as the other has two
 * or more (n1 + n2 - 2 >= 1 degrees of freedom): R's t.test(1, c(2, 3, 4), var.equal = TRUE) gives
 * t = -1.732051, df = 2. Welch's test estimates each group's variance and needs two values in each;
 * R stops with "not enough 'x' observations" for a group of one.
 */
export function tTest(group1: GroupInput, group2: GroupInput, options: TTestOptions = {}): TTestResult {
  const method = options.method ?? 'welch';
  const alternative = options.alternative ?? 'two-sided';
  const confidenceLevel = options.confidenceLevel ?? 0.95;
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) {
    throw new StatisticsInputError('/confidenceLevel', 'must be strictly between 0 and 1');
  }
  const first = groupMoments(group1, '/group1');
  const second = groupMoments(group2, '/group2');
  const n1 = first.summary.n;
  const n2 = second.summary.n;

  let df: number;
  let standardError: number;
  if (method === 'student') {
    if (n1 + n2 < 3) {
      throw new StatisticsInputError(
        '',
        "Student's t-test needs at least 3 values in all (n1 + n2 - 2 >= 1 degree of freedom for the pooled variance)",
      );
    }
    df = n1 + n2 - 2;
    const pooledVariance = ((n1 - 1) * first.variance + (n2 - 1) * second.variance) / df;
    standardError = Math.sqrt(pooledVariance * (1 / n1 + 1 / n2));
  } else {
    for (const [group, moments, pointer] of [
      [group1, first, '/group1'],
      [group2, second, '/group2'],
    ] as const) {
      if (moments.summary.n < 2) {
        throw new StatisticsInputError(
          isSummary(group) ? `${pointer}/n` : pointer,
          "Welch's t-test needs at least 2 values in each group, since it estimates each group's variance; " +
            "with a group of one value use method 'student', which pools the variance",
        );
      }
    }
    const standardError1 = Math.sqrt(first.variance / n1);
    const standardError2 = Math.sqrt(second.variance / n2);
    standardError = Math.sqrt(standardError1 ** 2 + standardError2 ** 2);
    df = standardError ** 4 / (standardError1 ** 4 / (n1 - 1) + standardError2 ** 4 / (n2 - 1));
  }
  const largestMean = Math.max(Math.abs(first.summary.mean), Math.abs(second.summary.mean));
  if (!(standardError >= 10 * Number.EPSILON * largestMean) || standardError === 0) {
    throw new StatisticsInputError(
      '',
      'the data are essentially constant: the standard error of the difference is zero',
    );
  }

  const meanDifference = first.summary.mean - second.summary.mean;
  const t = meanDifference / standardError;
  let p: number;
  let bounds: [number | null, number | null];
  // R forms the interval on the t scale and multiplies by the standard error; doing the same keeps
  // the bounds identical to R's when they are close to zero.
  if (alternative === 'less') {
    p = pt(t, df);
    bounds = [null, (t + qt(confidenceLevel, df)) * standardError];
  } else if (alternative === 'greater') {
    p = pt(t, df, false);
    bounds = [(t - qt(confidenceLevel, df)) * standardError, null];
  } else {
    p = 2 * pt(-Math.abs(t), df);
    const critical = qt(1 - (1 - confidenceLevel) / 2, df);
    bounds = [(t - critical) * standardError, (t + critical) * standardError];
  }

  return {
    method,
    alternative,
    confidenceLevel,
    t,
    df,
    p,
    meanDifference,
    standardError,
    confidenceInterval: { lower: bounds[0], upper: bounds[1] },
    group1: first.summary,
    group2: second.summary,
    hedgesG: hedgesGFromMoments(first, second),
  };
}

/**
 * Hedges' g = J(m) * (mean1 - mean2) / s_pooled, where m = n1 + n2 - 2,
 * s_pooled = sqrt(((n1 - 1) s1^2 + (n2 - 1) s2^2) / m) and J is the exact small-sample
 * correction J(m) = gamma(m/2) / (sqrt(m/2) gamma((m-1)/2)) (Hedges 1981), not the 1 - 3/(4m - 1)
 * approximation. J is computed as gamma(1/2) / (B((m-1)/2, 1/2) sqrt(m/2)) so that it stays
 * accurate when m is in the millions. For m = 1 (three values in all) J is 0, since d then has no finite
 * mean to correct: g is null rather than a misleading 0.
 */
export function hedgesG(group1: GroupInput, group2: GroupInput): number | null {
  return hedgesGFromMoments(groupMoments(group1, '/group1'), groupMoments(group2, '/group2'));
}

function hedgesGFromMoments(first: GroupMoments, second: GroupMoments): number | null {
  const m = first.summary.n + second.summary.n - 2;
  if (m < 2) return null;
  const pooledSd = Math.sqrt(((first.summary.n - 1) * first.variance + (second.summary.n - 1) * second.variance) / m);
  if (pooledSd === 0)
    throw new StatisticsInputError('', 'both groups have zero variance, so the standardized difference is undefined');
  const correction = Math.exp(logGamma(0.5) - logBeta((m - 1) / 2, 0.5)) / Math.sqrt(m / 2);
  return (correction * (first.summary.mean - second.summary.mean)) / pooledSd;
}

function groupMoments(group: GroupInput, pointer: string): GroupMoments {
  if (isSummary(group)) {
    const { mean: groupMean, sd, n } = group;
    if (!Number.isFinite(groupMean)) throw new StatisticsInputError(`${pointer}/mean`, 'must be a finite number');
    if (!(Number.isFinite(sd) && sd >= 0))
      throw new StatisticsInputError(`${pointer}/sd`, 'must be a finite number >= 0');
    if (!(Number.isInteger(n) && n >= 1)) throw new StatisticsInputError(`${pointer}/n`, 'must be an integer >= 1');
    if (n === 1) {
      if (sd !== 0)
        throw new StatisticsInputError(
          `${pointer}/sd`,
          'must be 0 when n is 1: a single value has no standard deviation',
        );
      return { summary: { mean: groupMean, sd: null, n }, variance: 0 };
    }
    return { summary: { mean: groupMean, sd, n }, variance: sd * sd };
  }
  if (group.length < 1) throw new StatisticsInputError(pointer, 'needs at least 1 value');
  requireFiniteNumbers(group, pointer);
  if (group.length === 1) return { summary: { mean: group[0]!, sd: null, n: 1 }, variance: 0 };
  const groupVariance = variance(group);
  return { summary: { mean: mean(group), sd: Math.sqrt(groupVariance), n: group.length }, variance: groupVariance };
}

function isSummary(group: GroupInput): group is SummaryStatistics {
  return !Array.isArray(group);
}
