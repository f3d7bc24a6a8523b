/**
 * The exact unconditional risk-difference interval of `src/lib/statistics/risk-difference.ts` written plainly, as it
 * was before it was made faster (every tail summed in full at every grid point, new arrays each time): the
 * reference the fast version must reproduce exactly (`risk-difference.test.ts`, `scripts/bench/risk-difference.ts`).
 */

import { logGamma } from '../../src/lib/statistics/distributions';
import { BISECTION_TOLERANCE, NUISANCE_POINTS, RiskDifference } from '../../src/lib/statistics/risk-difference';

/** log C(n, x) for x = 0..n, computed once per interval (the grid search evaluates the densities ~10^5 times). */
function logChoose(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  const lnf = logGamma(n + 1);
  for (let x = 0; x <= n; x++) out[x] = lnf - logGamma(x + 1) - logGamma(n - x + 1);
  return out;
}

function binomialPmf(lchoose: Float64Array, p: number): Float64Array {
  const n = lchoose.length - 1;
  const pmf = new Float64Array(n + 1);
  if (p <= 0) pmf[0] = 1;
  else if (p >= 1) pmf[n] = 1;
  else {
    const lp = Math.log(p);
    const lq = Math.log1p(-p);
    for (let x = 0; x <= n; x++) pmf[x] = Math.exp(lchoose[x]! + x * lp + (n - x) * lq);
  }
  return pmf;
}

/**
 * P(D ≥ d_obs) (upper) or P(D ≤ d_obs) (lower) when the true proportions are p1 and p2, where
 * D = X1/n1 − X2/n2 is compared in integers: X1·n2 − X2·n1 against k = x1·n2 − x2·n1.
 */
function tail(c: Counts, p1: number, p2: number, upper: boolean): number {
  const { n1, n2, k } = c;
  const f1 = binomialPmf(c.lchoose1, p1);
  const f2 = binomialPmf(c.lchoose2, p2);
  const cdf2 = new Float64Array(n2 + 1);
  let running = 0;
  for (let x = 0; x <= n2; x++) cdf2[x] = running += f2[x]!;
  let total = 0;
  for (let x1 = 0; x1 <= n1; x1++) {
    if (f1[x1] === 0) continue;
    const bound = (x1 * n2 - k) / n1;
    if (upper) {
      // X2 ≤ floor(bound)
      const m = Math.min(n2, Math.floor(bound));
      if (m >= 0) total += f1[x1]! * cdf2[m]!;
    } else {
      // X2 ≥ ceil(bound)
      const m = Math.max(0, Math.ceil(bound));
      if (m <= n2) total += f1[x1]! * (m === 0 ? 1 : 1 - cdf2[m - 1]!);
    }
  }
  return Math.min(1, total);
}

/** The exact p-value of one tail at difference delta: its supremum over the nuisance parameter p2. */
interface Counts {
  n1: number;
  n2: number;
  k: number;
  lchoose1: Float64Array;
  lchoose2: Float64Array;
}

function supremumTail(c: Counts, delta: number, upper: boolean): number {
  const from = Math.max(0, -delta);
  const to = Math.min(1, 1 - delta);
  let best = 0;
  for (let i = 0; i < NUISANCE_POINTS; i++) {
    const p2 = from + ((to - from) * i) / (NUISANCE_POINTS - 1);
    const p1 = Math.min(1, Math.max(0, p2 + delta));
    const p = tail(c, p1, p2, upper);
    if (p > best) best = p;
  }
  return best;
}

export function plainExactRiskDifference(
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
  const c: Counts = { n1, n2, k: x1 * n2 - x2 * n1, lchoose1: logChoose(n1), lchoose2: logChoose(n2) };
  // Lower limit: the smallest delta whose upper-tail p-value exceeds alpha (p-values grow with delta).
  let lower = -1;
  if (estimate > -1) {
    let lo = -1;
    let hi = estimate;
    while (hi - lo > BISECTION_TOLERANCE) {
      const mid = (lo + hi) / 2;
      if (supremumTail(c, mid, true) > alpha) hi = mid;
      else lo = mid;
    }
    lower = supremumTail(c, -1, true) > alpha ? -1 : hi;
  }
  let upper = 1;
  if (estimate < 1) {
    let lo = estimate;
    let hi = 1;
    while (hi - lo > BISECTION_TOLERANCE) {
      const mid = (lo + hi) / 2;
      if (supremumTail(c, mid, false) > alpha) lo = mid;
      else hi = mid;
    }
    upper = supremumTail(c, 1, false) > alpha ? 1 : lo;
  }
  return { estimate, lower, upper, confidenceLevel };
}
