import { CompensatedSum } from './compensated-sum';
import { pnorm } from './distributions';
import { requireFiniteNumbers, StatisticsInputError } from './statistics-input-error';
import type { Alternative } from './t-test';

export interface RankSumOptions {
  alternative?: Alternative;
}

export interface RankSumResult {
  /** W = (sum of group1's ranks) - n1 (n1 + 1) / 2, the number of (x, y) pairs with x > y (ties count 1/2). */
  w: number;
  p: number;
  /** 'exact': the permutation distribution of W; 'normal': normal approximation with tie and continuity corrections. */
  method: 'exact' | 'normal';
  alternative: Alternative;
}

/** Both groups must be smaller than this for the exact distribution to be used (R's rule). */
export const RANK_SUM_EXACT_LIMIT = 50;

/**
 * Wilcoxon rank-sum (Mann-Whitney) test, as R's wilcox.test(x, y, alternative) with its defaults
 * (exact = NULL, correct = TRUE). Values are ranked together, ties receiving average ranks.
 * When both groups have fewer than 50 values and there are no ties, p comes from the exact
 * distribution of W (R's pwilcox); two-sided p = min(1, 2 min(P(W' <= W), P(W' >= W))) using
 * the tail on W's side of n1 n2 / 2. Otherwise z = (W - n1 n2 / 2 - c) / sigma with
 * sigma^2 = n1 n2 / 12 ((N + 1) - sum(t^3 - t) / (N (N - 1))) over tie groups of size t, and
 * c = 0.5 sign(W - n1 n2 / 2) (two-sided), 0.5 (greater) or -0.5 (less).
 */
export function rankSumTest(
  group1: readonly number[],
  group2: readonly number[],
  options: RankSumOptions = {},
): RankSumResult {
  const alternative = options.alternative ?? 'two-sided';
  if (group1.length < 1) throw new StatisticsInputError('/group1', 'needs at least 1 value');
  if (group2.length < 1) throw new StatisticsInputError('/group2', 'needs at least 1 value');
  requireFiniteNumbers(group1, '/group1');
  requireFiniteNumbers(group2, '/group2');
  const n1 = group1.length;
  const n2 = group2.length;
  const { ranks, tieSizes } = averageRanks([...group1, ...group2]);
  const rankSum = new CompensatedSum();
  for (let i = 0; i < n1; i++) rankSum.add(ranks[i]!);
  const w = rankSum.value - (n1 * (n1 + 1)) / 2;
  const hasTies = tieSizes.some((size) => size > 1);

  if (n1 < RANK_SUM_EXACT_LIMIT && n2 < RANK_SUM_EXACT_LIMIT && !hasTies) {
    return { w, p: exactRankSumP(w, n1, n2, alternative), method: 'exact', alternative };
  }

  const total = n1 + n2;
  const tieTerm = tieSizes.reduce((sum, t) => sum + (t * t * t - t), 0);
  const sigma = Math.sqrt(((n1 * n2) / 12) * (total + 1 - tieTerm / (total * (total - 1))));
  if (!(sigma > 0)) throw new StatisticsInputError('', 'all values are tied, so the rank-sum test is undefined');
  const centred = w - (n1 * n2) / 2;
  const correction = alternative === 'two-sided' ? Math.sign(centred) * 0.5 : alternative === 'greater' ? 0.5 : -0.5;
  const z = (centred - correction) / sigma;
  const p =
    alternative === 'less'
      ? pnorm(z)
      : alternative === 'greater'
        ? pnorm(z, false)
        : 2 * Math.min(pnorm(z), pnorm(z, false));
  return { w, p, method: 'normal', alternative };
}

function exactRankSumP(w: number, n1: number, n2: number, alternative: Alternative): number {
  const counts = rankSumCounts(n1, n2);
  const lowerTail = (q: number) => tailProbability(counts, 0, q);
  const upperTail = (q: number) => tailProbability(counts, q, n1 * n2);
  if (alternative === 'less') return lowerTail(w);
  if (alternative === 'greater') return upperTail(w);
  const oneSided = w > (n1 * n2) / 2 ? upperTail(w) : lowerTail(w);
  return Math.min(2 * oneSided, 1);
}

function tailProbability(counts: readonly number[], from: number, to: number): number {
  const all = new CompensatedSum();
  const tail = new CompensatedSum();
  counts.forEach((count, k) => {
    all.add(count);
    if (k >= from && k <= to) tail.add(count);
  });
  return tail.value / all.value;
}

/**
 * counts[k] = number of ways the n1 ranks of group 1 can give W = k, from the recurrence
 * f(k; m, n) = f(k - n; m - 1, n) + f(k; m, n - 1) (R's cwilcox), built up one m at a time.
 */
export function rankSumCounts(n1: number, n2: number): number[] {
  // previous[n] holds f(.; m - 1, n) for n = 0..n2.
  let previous: number[][] = Array.from({ length: n2 + 1 }, () => [1]);
  for (let m = 1; m <= n1; m++) {
    const current: number[][] = [[1]];
    for (let n = 1; n <= n2; n++) {
      const withoutLargest = current[n - 1]!;
      const largestInGroup1 = previous[n]!;
      const counts = new Array<number>(m * n + 1).fill(0);
      withoutLargest.forEach((count, k) => (counts[k]! += count));
      largestInGroup1.forEach((count, k) => (counts[k + n]! += count));
      current.push(counts);
    }
    previous = current;
  }
  return previous[n2]!;
}

function averageRanks(values: readonly number[]): { ranks: number[]; tieSizes: number[] } {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const ranks = new Array<number>(values.length);
  const tieSizes: number[] = [];
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.value === order[start]!.value) end += 1;
    const rank = (start + end + 2) / 2;
    for (let i = start; i <= end; i++) ranks[order[i]!.index] = rank;
    tieSizes.push(end - start + 1);
    start = end + 1;
  }
  return { ranks, tieSizes };
}
