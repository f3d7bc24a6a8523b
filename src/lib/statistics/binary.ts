import { CompensatedSum } from './compensated-sum';
import { logHypergeometricDensity, qnorm } from './distributions';
import { uniroot } from './root-finding';
import { StatisticsInputError } from './statistics-input-error';

export interface BinaryGroup {
  label: string;
  events: number;
  n: number;
}

export interface EffectMeasure {
  /** null where undefined (a ratio with a zero denominator). */
  estimate: number | null;
  /** Standard error; of the log for ratios. null where a zero cell leaves it undefined. */
  se: number | null;
  ciLower: number | null;
  ciUpper: number | null;
}

export interface ConditionalOddsRatio {
  /** Conditional maximum-likelihood estimate; 0 or Infinity when the observed count is at the edge of its support. */
  estimate: number;
  ciLower: number;
  /** Infinity when unbounded. */
  ciUpper: number;
  /** Two-sided Fisher exact p-value. */
  p: number;
}

export interface BinaryCountsResult {
  group: BinaryGroup & { risk: number };
  reference: BinaryGroup & { risk: number };
  confidenceLevel: number;
  /** risk(group) − risk(reference), Wald interval. */
  riskDifference: EffectMeasure;
  /** risk(group) / risk(reference), Wald interval on the log scale. */
  riskRatio: EffectMeasure;
  /** Sample odds ratio with Woolf's (log-scale Wald) interval. */
  oddsRatio: EffectMeasure;
  /** As R's fisher.test on the 2 × 2 table (group first, events first). */
  fisher: ConditionalOddsRatio;
}

/**
 * Effect measures for a binary outcome in two groups given as counts: risk difference (Wald),
 * risk ratio (log-scale Wald), odds ratio (Woolf), and the conditional maximum-likelihood odds ratio
 * with its exact interval and Fisher's two-sided p, as R's fisher.test(matrix(c(a, c, b, d), 2), conf.level).
 */
export function binaryCounts(group: BinaryGroup, reference: BinaryGroup, confidenceLevel = 0.95): BinaryCountsResult {
  if (!(confidenceLevel > 0 && confidenceLevel < 1))
    throw new StatisticsInputError('/confidenceLevel', 'must be strictly between 0 and 1');
  validateGroup(group, '/group');
  validateGroup(reference, '/reference');
  const a = group.events;
  const b = group.n - a;
  const c = reference.events;
  const d = reference.n - c;
  const z = qnorm(1 - (1 - confidenceLevel) / 2);
  const risk1 = a / group.n;
  const risk0 = c / reference.n;

  const difference = risk1 - risk0;
  const differenceSe = Math.sqrt((risk1 * (1 - risk1)) / group.n + (risk0 * (1 - risk0)) / reference.n);
  const riskDifference = {
    estimate: difference,
    se: differenceSe,
    ciLower: difference - z * differenceSe,
    ciUpper: difference + z * differenceSe,
  };

  const ratio = c > 0 ? risk1 / risk0 : null;
  const ratioSe = a > 0 && c > 0 ? Math.sqrt(1 / a - 1 / group.n + 1 / c - 1 / reference.n) : null;
  const odds = b > 0 && c > 0 ? (a * d) / (b * c) : null;
  const oddsSe = Math.min(a, b, c, d) > 0 ? Math.sqrt(1 / a + 1 / b + 1 / c + 1 / d) : null;

  return {
    group: { ...group, risk: risk1 },
    reference: { ...reference, risk: risk0 },
    confidenceLevel,
    riskDifference,
    riskRatio: logScaleMeasure(ratio, ratioSe, z),
    oddsRatio: logScaleMeasure(odds, oddsSe, z),
    fisher: conditionalOddsRatio(a, c, b, d, confidenceLevel),
  };
}

function logScaleMeasure(estimate: number | null, se: number | null, z: number): EffectMeasure {
  if (estimate === null || se === null) return { estimate, se, ciLower: null, ciUpper: null };
  return {
    estimate,
    se,
    ciLower: Math.exp(Math.log(estimate) - z * se),
    ciUpper: Math.exp(Math.log(estimate) + z * se),
  };
}

function validateGroup(group: BinaryGroup, pointer: string): void {
  if (!(Number.isInteger(group.n) && group.n >= 1))
    throw new StatisticsInputError(`${pointer}/n`, 'must be a positive integer');
  if (!(Number.isInteger(group.events) && group.events >= 0 && group.events <= group.n))
    throw new StatisticsInputError(`${pointer}/events`, `must be an integer between 0 and n (${group.n})`);
}

/** Largest margin the conditional odds ratio is computed for (its support is enumerated). */
export const CONDITIONAL_ODDS_RATIO_MAX_TOTAL = 1_000_000;

/**
 * The 2 × 2 part of R's fisher.test for the table [[x, y], [u, v]] (rows: group, reference; columns:
 * event, no event): conditional MLE of the odds ratio, its exact interval by inverting the two
 * one-sided tests of the noncentral hypergeometric distribution, and the two-sided p-value. The
 * roots are found with uniroot as in R (see root-finding.ts), so the values agree with R's to the digit.
 */
export function conditionalOddsRatio(
  x: number,
  u: number,
  y: number,
  v: number,
  confidenceLevel = 0.95,
): ConditionalOddsRatio {
  const m = x + u; // events
  const n = y + v; // non-events
  const k = x + y; // group size
  if (m + n > CONDITIONAL_ODDS_RATIO_MAX_TOTAL)
    throw new StatisticsInputError(
      '',
      `the exact odds ratio is limited to ${CONDITIONAL_ODDS_RATIO_MAX_TOTAL} participants`,
    );
  const lo = Math.max(0, k - n);
  const hi = Math.min(k, m);
  const support: number[] = [];
  for (let s = lo; s <= hi; s++) support.push(s);
  const logDensity = support.map((s) => logHypergeometricDensity(s, m, n, k));

  const densities = (ncp: number): number[] => {
    const logNcp = Math.log(ncp);
    const d = logDensity.map((value, i) => value + logNcp * support[i]!);
    const largest = d.reduce((max, value) => (value > max ? value : max), -Infinity);
    const scaled = d.map((value) => Math.exp(value - largest));
    const total = sum(scaled);
    return scaled.map((value) => value / total);
  };
  const meanOf = (ncp: number): number => {
    if (ncp === 0) return lo;
    if (ncp === Infinity) return hi;
    return sum(densities(ncp).map((density, i) => support[i]! * density));
  };
  const cumulative = (q: number, ncp: number, upperTail: boolean): number => {
    if (ncp === 0) return Number(upperTail ? q <= lo : q >= lo);
    if (ncp === Infinity) return Number(upperTail ? q <= hi : q >= hi);
    const d = densities(ncp);
    return sum(d.filter((_, i) => (upperTail ? support[i]! >= q : support[i]! <= q)));
  };

  const atOne = densities(1);
  const observed = atOne[x - lo]! * (1 + 1e-7);
  const p = Math.min(1, sum(atOne.filter((density) => density <= observed)));

  const alpha = (1 - confidenceLevel) / 2;
  const upperLimit = (): number => {
    if (x === hi) return Infinity;
    const atNull = cumulative(x, 1, false);
    if (atNull < alpha) return uniroot((t) => cumulative(x, t, false) - alpha, 0, 1);
    if (atNull > alpha) return 1 / uniroot((t) => cumulative(x, 1 / t, false) - alpha, Number.EPSILON, 1);
    return 1;
  };
  const lowerLimit = (): number => {
    if (x === lo) return 0;
    const atNull = cumulative(x, 1, true);
    if (atNull > alpha) return uniroot((t) => cumulative(x, t, true) - alpha, 0, 1);
    if (atNull < alpha) return 1 / uniroot((t) => cumulative(x, 1 / t, true) - alpha, Number.EPSILON, 1);
    return 1;
  };
  const estimate = (): number => {
    if (x === lo) return 0;
    if (x === hi) return Infinity;
    const mu = meanOf(1);
    if (mu > x) return uniroot((t) => meanOf(t) - x, 0, 1);
    if (mu < x) return 1 / uniroot((t) => meanOf(1 / t) - x, Number.EPSILON, 1);
    return 1;
  };
  return { estimate: estimate(), ciLower: lowerLimit(), ciUpper: upperLimit(), p };
}

function sum(values: readonly number[]): number {
  const total = new CompensatedSum();
  for (const value of values) total.add(value);
  return total.value;
}
