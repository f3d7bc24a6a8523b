import { mean, variance } from './descriptives';
import { requireFiniteNumbers, StatisticsInputError } from './statistics-input-error';

/** A group for a numeric SMD: raw values, or mean and SD (n is not used by the formula). */
export type NumericGroup = readonly number[] | { mean: number; sd: number };

/**
 * Standardized mean difference of a numeric variable, as tableone: (m1 - m2) / sqrt((s1^2 + s2^2) / 2)
 * with sample variances. Unlike tableone, which reports the absolute value, the sign is kept:
 * positive when group 1's mean is larger. Two groups with zero variance and equal means give 0
 * (tableone's convention); zero variance with different means throws, as the SMD is infinite.
 */
export function numericSmd(group1: NumericGroup, group2: NumericGroup): number {
  const first = moments(group1, '/group1');
  const second = moments(group2, '/group2');
  const difference = first.mean - second.mean;
  const averageVariance = (first.variance + second.variance) / 2;
  if (averageVariance === 0) {
    if (difference === 0) return 0;
    throw new StatisticsInputError(
      '',
      'both groups have zero variance but different means, so the standardized difference is infinite',
    );
  }
  return difference / Math.sqrt(averageVariance);
}

function moments(group: NumericGroup, pointer: string): { mean: number; variance: number } {
  if (!Array.isArray(group)) {
    const summary = group as { mean: number; sd: number };
    if (!Number.isFinite(summary.mean)) throw new StatisticsInputError(`${pointer}/mean`, 'must be a finite number');
    if (!(Number.isFinite(summary.sd) && summary.sd >= 0))
      throw new StatisticsInputError(`${pointer}/sd`, 'must be a finite number >= 0');
    return { mean: summary.mean, variance: summary.sd * summary.sd };
  }
  const values = group as readonly number[];
  if (values.length < 2) throw new StatisticsInputError(pointer, 'needs at least 2 values');
  requireFiniteNumbers(values, pointer);
  return { mean: mean(values), variance: variance(values) };
}

/** Relative tolerance below which eigenvalues count as zero: MASS::ginv's sqrt(machine epsilon). */
const GENERALIZED_INVERSE_TOLERANCE = Math.sqrt(Number.EPSILON);

/**
 * Standardized difference of a categorical variable (Yang & Dalton 2012), as tableone:
 * with p1, p2 the level proportions in each group and the first level dropped,
 * T = p1 - p2 and S = (S1 + S2) / 2 where Sg = diag(pg) - pg pg' is the multinomial covariance,
 * SMD = sqrt(T' S^+ T) with S^+ the Moore-Penrose inverse (tableone uses MASS::ginv, dropping
 * eigenvalues below sqrt(machine epsilon) times the largest). Levels empty in both groups
 * therefore do not count. The result is a distance, so it is never negative: it says how far
 * apart the distributions are, not which group has more of a level.
 *
 * Input: the count of each level in each group (same level order, at least 2 levels). When S is
 * zero (every observation of both groups in one level) the SMD is 0 if the groups agree and
 * undefined (tableone: NaN) otherwise, which throws.
 */
export function categoricalSmd(group1Counts: readonly number[], group2Counts: readonly number[]): number {
  validateCounts(group1Counts, '/group1Counts');
  validateCounts(group2Counts, '/group2Counts');
  if (group1Counts.length !== group2Counts.length) {
    throw new StatisticsInputError('/group2Counts', 'must have one count per level, like group1Counts');
  }
  const p1 = proportionsWithoutFirstLevel(group1Counts);
  const p2 = proportionsWithoutFirstLevel(group2Counts);
  const difference = p1.map((p, i) => p - p2[i]!);
  const k = difference.length;
  const pooled = Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j) => (multinomialCovariance(p1, i, j) + multinomialCovariance(p2, i, j)) / 2),
  );
  if (pooled.every((row) => row.every((value) => value === 0))) {
    if (difference.every((d) => d === 0)) return 0;
    throw new StatisticsInputError(
      '',
      'each group has all its observations in one level, and the levels differ, so the standardized difference is undefined',
    );
  }
  const { values, vectors } = symmetricEigen(pooled);
  const largest = Math.max(...values.map(Math.abs));
  let squaredDistance = 0;
  values.forEach((eigenvalue, index) => {
    if (Math.abs(eigenvalue) > GENERALIZED_INVERSE_TOLERANCE * largest) {
      const projection = vectors.reduce((sum, row, i) => sum + row[index]! * difference[i]!, 0);
      squaredDistance += (projection * projection) / eigenvalue;
    }
  });
  return Math.sqrt(Math.max(0, squaredDistance));
}

function multinomialCovariance(p: readonly number[], i: number, j: number): number {
  return i === j ? p[i]! * (1 - p[i]!) : -p[i]! * p[j]!;
}

function proportionsWithoutFirstLevel(counts: readonly number[]): number[] {
  const total = counts.reduce((sum, count) => sum + count, 0);
  return counts.slice(1).map((count) => count / total);
}

function validateCounts(counts: readonly number[], pointer: string): void {
  if (counts.length < 2) throw new StatisticsInputError(pointer, 'needs a count for at least 2 levels');
  counts.forEach((count, i) => {
    if (!(Number.isInteger(count) && count >= 0))
      throw new StatisticsInputError(`${pointer}/${i}`, 'must be a non-negative integer count');
  });
  if (counts.every((count) => count === 0)) throw new StatisticsInputError(pointer, 'needs at least one observation');
}

/**
 * Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations, which are accurate to
 * working precision for every eigenvalue. Returns the eigenvalues and the eigenvectors as columns.
 */
function symmetricEigen(matrix: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let offDiagonal = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) offDiagonal += a[p]![q]! ** 2;
    if (offDiagonal === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p]![q]!;
        if (apq === 0) continue;
        const app = a[p]![p]!;
        const aqq = a[q]![q]!;
        if (Math.abs(apq) < Number.EPSILON * 1e-3 * Math.sqrt(Math.abs(app * aqq))) {
          a[p]![q] = 0;
          a[q]![p] = 0;
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]!), vectors: v };
}
