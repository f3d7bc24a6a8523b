import { CompensatedSum } from './compensated-sum';
import { requireFiniteNumbers, StatisticsInputError } from './statistics-input-error';

export interface Descriptives {
  n: number;
  mean: number;
  /** Sample standard deviation (denominator n - 1); null for a single value, where it is undefined. */
  sd: number | null;
  min: number;
  /** First quartile, R's default quantile type 7. */
  q1: number;
  median: number;
  /** Third quartile, R's default quantile type 7. */
  q3: number;
  max: number;
}

/**
 * Mean as R computes it: an accurate sum divided by n, then corrected by the mean of the residuals,
 * which recovers the digits a plain sum loses when the values share a large offset.
 */
export function mean(values: readonly number[]): number {
  requireSample(values, 1);
  const n = values.length;
  const sum = new CompensatedSum();
  for (const value of values) sum.add(value);
  const firstPass = sum.value / n;
  const residual = new CompensatedSum();
  for (const value of values) residual.add(value - firstPass);
  return firstPass + residual.value / n;
}

/** Sample variance with denominator n - 1, by the two-pass algorithm around the accurate mean. */
export function variance(values: readonly number[]): number {
  requireSample(values, 2);
  const centre = mean(values);
  const squares = new CompensatedSum();
  for (const value of values) squares.add((value - centre) * (value - centre));
  return squares.value / (values.length - 1);
}

export function standardDeviation(values: readonly number[]): number {
  return Math.sqrt(variance(values));
}

/**
 * Sample quantile by R's default definition (type 7): with the values sorted x[1] <= ... <= x[n]
 * and h = 1 + (n - 1) p, the result is (1 - f) x[floor h] + f x[ceil h] with f = h - floor h.
 */
export function quantile(values: readonly number[], probability: number): number {
  requireSample(values, 1);
  if (!(probability >= 0 && probability <= 1))
    throw new StatisticsInputError('/probability', 'must be between 0 and 1');
  return quantileOfSorted(sortAscending(values), probability);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export function describe(values: readonly number[]): Descriptives {
  requireSample(values, 1);
  const sorted = sortAscending(values);
  return {
    n: sorted.length,
    mean: mean(sorted),
    sd: sorted.length > 1 ? standardDeviation(sorted) : null,
    min: sorted[0]!,
    q1: quantileOfSorted(sorted, 0.25),
    median: quantileOfSorted(sorted, 0.5),
    q3: quantileOfSorted(sorted, 0.75),
    max: sorted[sorted.length - 1]!,
  };
}

function quantileOfSorted(sorted: readonly number[], probability: number): number {
  const index = 1 + (sorted.length - 1) * probability;
  const lo = Math.floor(index);
  const hi = Math.ceil(index);
  const lower = sorted[lo - 1]!;
  const upper = sorted[hi - 1]!;
  if (index > lo && upper !== lower) {
    const fraction = index - lo;
    return (1 - fraction) * lower + fraction * upper;
  }
  return lower;
}

function sortAscending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

function requireSample(values: readonly number[], minimum: number): void {
  if (values.length < minimum) {
    throw new StatisticsInputError('', minimum === 1 ? 'needs at least one value' : `needs at least ${minimum} values`);
  }
  requireFiniteNumbers(values, '');
}
