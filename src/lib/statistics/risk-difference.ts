import { logGamma } from './distributions';

/**
 * Exact unconditional confidence interval for a difference of two independent proportions (p1 − p2), by the tail
 * method of Santner and Snell (1980): each limit inverts a one-sided exact test whose tables are ordered by the
 * difference of the observed proportions, and whose p-value is the supremum over the nuisance parameter p2. The
 * supremum is taken over a grid of NUISANCE_POINTS equally spaced values of p2 (ends included), as exact2x2 and
 * StatXact do; each limit is found by bisection to BISECTION_TOLERANCE. Guaranteed coverage at least 1 − α up to the
 * grid. `test/fixtures/r/risk-difference.R` is an independent implementation of the same definition in R.
 *
 * The bisection only needs to know whether a supremum exceeds alpha, so the grid scan and each tail's sum stop as
 * soon as that is decided, and grid points whose tail is bounded below alpha by an earlier step are skipped (see
 * supremumExceeds); every probability computed is computed with the same operations in the same order as the plain
 * definition (`test/support/risk-difference-plain.ts`), so the limits are identical to it, only found sooner.
 */

export const NUISANCE_POINTS = 1001;
export const BISECTION_TOLERANCE = 1e-10;

export interface RiskDifference {
  /** x1/n1 − x2/n2 */
  estimate: number;
  lower: number;
  upper: number;
  confidenceLevel: number;
}

/** log C(n, x) for x = 0..n, computed once per interval (the grid search evaluates the densities ~10^5 times). */
function logChoose(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  const lnf = logGamma(n + 1);
  for (let x = 0; x <= n; x++) out[x] = lnf - logGamma(x + 1) - logGamma(n - x + 1);
  return out;
}

/**
 * What one interval's p-value evaluations share (computed once; buffers reused, since the grid search evaluates
 * the tails ~10^5 times). For each x1, the tables as or more extreme than the observed one are those with
 * X2 ≤ upperBound[x1] (upper tail) or X2 ≥ lowerBound[x1] (lower tail), where D = X1/n1 − X2/n2 is compared in
 * integers: X1·n2 − X2·n1 against k = x1·n2 − x2·n1.
 */
interface Counts {
  n1: number;
  n2: number;
  lchoose1: Float64Array;
  lchoose2: Float64Array;
  upperBound: Int32Array;
  lowerBound: Int32Array;
  f1: Float64Array;
  cdf2: Float64Array;
  /** Each grid point's tail in the last scan (NaN where skipped). */
  values: Float64Array;
  /** The grid index where a tail last exceeded alpha, per tail: the search starts there next time. */
  lastHit: { upper: number; lower: number };
}

function counts(x1: number, n1: number, x2: number, n2: number): Counts {
  const k = x1 * n2 - x2 * n1;
  const upperBound = new Int32Array(n1 + 1);
  const lowerBound = new Int32Array(n1 + 1);
  for (let x = 0; x <= n1; x++) {
    const bound = (x * n2 - k) / n1;
    upperBound[x] = Math.min(n2, Math.floor(bound));
    lowerBound[x] = Math.max(0, Math.ceil(bound));
  }
  return {
    n1,
    n2,
    lchoose1: logChoose(n1),
    lchoose2: logChoose(n2),
    upperBound,
    lowerBound,
    f1: new Float64Array(n1 + 1),
    cdf2: new Float64Array(n2 + 1),
    values: new Float64Array(NUISANCE_POINTS),
    lastHit: { upper: 0, lower: 0 },
  };
}

/** Binomial(n, p) probabilities of 0..last into `out`, each exactly as exp(log C(n,x) + x·log p + (n−x)·log(1−p)). */
function binomialPmfInto(out: Float64Array, lchoose: Float64Array, p: number, last: number): void {
  const n = lchoose.length - 1;
  if (p <= 0 || p >= 1) {
    const at = p <= 0 ? 0 : n;
    for (let x = 0; x <= last; x++) out[x] = x === at ? 1 : 0;
    return;
  }
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  for (let x = 0; x <= last; x++) out[x] = Math.exp(lchoose[x]! + x * lp + (n - x) * lq);
}

/**
 * P(D ≥ d_obs) (upper) or P(D ≤ d_obs) (lower) when the true proportions are p1 and p2, summed over x1 in increasing
 * order, term by term as the plain definition adds it. With `stopAbove`, the sum may stop once its partial sum
 * exceeds that when no term to come can be negative (the total exceeds it too): the value returned then only says so.
 */
function tail(c: Counts, p1: number, p2: number, upper: boolean, stopAbove = Infinity): number {
  const { n1, n2, f1, cdf2 } = c;
  const bounds = upper ? c.upperBound : c.lowerBound;
  // X2 ≤ bound (upper) needs the distribution of X2 up to the largest bound; X2 ≥ bound needs it below n2.
  const last = upper ? Math.max(-1, Math.min(n2, bounds[n1]!)) : n2;
  if (last >= 0) {
    binomialPmfInto(cdf2, c.lchoose2, p2, last);
    let running = 0;
    for (let x = 0; x <= last; x++) cdf2[x] = running += cdf2[x]!;
  }
  binomialPmfInto(f1, c.lchoose1, p1, n1);
  // 1 − cdf2 is negative only where rounding took the running sum above 1; then the lower tail adds to the end.
  const nonNegative = upper || cdf2[n2 - 1]! <= 1;
  let total = 0;
  for (let x1 = 0; x1 <= n1; x1++) {
    const f = f1[x1]!;
    if (f === 0) continue;
    const m = bounds[x1]!;
    if (upper) {
      if (m >= 0) total += f * cdf2[m]!;
    } else if (m <= n2) total += f * (m === 0 ? 1 : 1 - cdf2[m - 1]!);
    if (nonNegative && total > stopAbove) return Math.min(1, total);
  }
  return Math.min(1, total);
}

/** How far below alpha a bound must be for its grid point to be skipped: far more than the rounding of a tail. */
const BOUND_MARGIN = 1e-9;

/**
 * Whether the exact p-value of one tail at difference delta — its supremum over the nuisance parameter p2 on the
 * grid — exceeds alpha: whether any grid point's tail does. The points are tried from the one that exceeded last.
 *
 * With `bound` (the bisection's steps): grid point i has p2 = from + (to − from)·i/1000 and p1 = p2 + delta; as
 * delta grows, p1 grows and p2 falls, so the point's upper tail can only grow and its lower tail only fall.
 * `bound[i]` is the point's tail at a delta the bisection will not pass again, on the side where the tail is larger:
 * an upper bound of its tail at every delta still to be tried. A point whose bound is below alpha (by far more than
 * rounding) cannot exceed it and is skipped; when the supremum exceeds alpha, the bisection moves to that side, so
 * every point is computed in full and the tails found tighten the bounds.
 */
function supremumExceeds(c: Counts, delta: number, upper: boolean, alpha: number, bound?: Float64Array): boolean {
  const from = Math.max(0, -delta);
  const to = Math.min(1, 1 - delta);
  const side = upper ? 'upper' : 'lower';
  const start = c.lastHit[side];
  const values = c.values;
  let hit = -1;
  for (let j = 0; j < NUISANCE_POINTS; j++) {
    const i = (start + j) % NUISANCE_POINTS;
    values[i] = NaN;
    if (bound && bound[i]! < alpha - BOUND_MARGIN) continue;
    const p2 = from + ((to - from) * i) / (NUISANCE_POINTS - 1);
    const p1 = Math.min(1, Math.max(0, p2 + delta));
    const value = tail(c, p1, p2, upper, bound ? Infinity : alpha);
    values[i] = value;
    if (value > alpha && hit < 0) {
      hit = i;
      if (!bound) break;
    }
  }
  if (hit < 0) return false;
  c.lastHit[side] = hit;
  if (bound) for (let i = 0; i < NUISANCE_POINTS; i++) if (values[i]! < bound[i]!) bound[i] = values[i]!;
  return true;
}

export function exactRiskDifference(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  confidenceLevel = 0.95,
): RiskDifference {
  for (const [x, n] of [
    [x1, n1],
    [x2, n2],
  ] as const)
    if (!Number.isInteger(x) || !Number.isInteger(n) || n < 1 || x < 0 || x > n)
      throw new RangeError(`need 0 ≤ x ≤ n and n ≥ 1 in whole numbers, got ${x} of ${n}`);
  const alpha = (1 - confidenceLevel) / 2;
  const estimate = x1 / n1 - x2 / n2;
  const c = counts(x1, n1, x2, n2);
  // Lower limit: the smallest delta whose upper-tail p-value exceeds alpha (p-values grow with delta).
  let lower = -1;
  if (estimate > -1) {
    let lo = -1;
    let hi = estimate;
    const bound = new Float64Array(NUISANCE_POINTS).fill(Infinity);
    while (hi - lo > BISECTION_TOLERANCE) {
      const mid = (lo + hi) / 2;
      // A step that exceeds sets hi: every later mid lies below, where each point's upper tail is smaller.
      if (supremumExceeds(c, mid, true, alpha, bound)) hi = mid;
      else lo = mid;
    }
    lower = supremumExceeds(c, -1, true, alpha) ? -1 : hi;
  }
  let upper = 1;
  if (estimate < 1) {
    let lo = estimate;
    let hi = 1;
    const bound = new Float64Array(NUISANCE_POINTS).fill(Infinity);
    while (hi - lo > BISECTION_TOLERANCE) {
      const mid = (lo + hi) / 2;
      // A step that exceeds sets lo: every later mid lies above, where each point's lower tail is smaller.
      if (supremumExceeds(c, mid, false, alpha, bound)) lo = mid;
      else hi = mid;
    }
    upper = supremumExceeds(c, 1, false, alpha) ? 1 : lo;
  }
  return { estimate, lower, upper, confidenceLevel };
}
