import { CompensatedSum } from './compensated-sum';
import { StatisticsInputError } from './statistics-input-error';

/**
 * A column of X is taken as linearly dependent on the earlier ones when the part of it orthogonal
 * to them is below this fraction of its norm: the tolerance of R's lm (dqrdc2, tol = 1e-7).
 */
export const RANK_TOLERANCE = 1e-7;

/** Thrown by householderQr when column `column` is (numerically) a combination of earlier ones. */
export class RankDeficiencyError extends Error {
  constructor(readonly column: number) {
    super(`column ${column} is collinear with earlier columns`);
    this.name = 'RankDeficiencyError';
  }
}

/**
 * Householder QR of an n × p matrix (n >= p) without pivoting, as LINPACK's dqrdc2 does for a
 * full-rank design: X = Q R with Q orthogonal (stored as p reflectors) and R upper triangular.
 * Least squares through QR keeps the condition number of X, where the normal equations square it.
 */
export class QrDecomposition {
  readonly n: number;
  readonly p: number;
  /** reflectors[k] holds v_k on rows k..n-1 (H_k = I - 2 v v' / v'v). */
  private readonly reflectors: Float64Array[];
  private readonly reflectorNorms: number[];
  /** r[i][j] for j >= i. */
  readonly r: number[][];

  constructor(x: readonly (readonly number[])[]) {
    const n = x.length;
    const p = x[0]?.length ?? 0;
    this.n = n;
    this.p = p;
    const columns = Array.from({ length: p }, (_, j) => Float64Array.from(x, (row) => row[j]!));
    const originalNorms = columns.map((column) => euclideanNorm(column, 0));
    this.r = Array.from({ length: p }, () => new Array<number>(p).fill(0));
    this.reflectors = [];
    this.reflectorNorms = [];
    for (let k = 0; k < p; k++) {
      const column = columns[k]!;
      const norm = euclideanNorm(column, k);
      if (!(norm > RANK_TOLERANCE * originalNorms[k]!) || norm === 0) throw new RankDeficiencyError(k);
      const alpha = column[k]! > 0 ? -norm : norm;
      const v = new Float64Array(n);
      for (let i = k; i < n; i++) v[i] = column[i]!;
      v[k] = v[k]! - alpha;
      const vNormSquared = sumOfSquares(v, k);
      this.reflectors.push(v);
      this.reflectorNorms.push(vNormSquared);
      this.r[k]![k] = alpha;
      for (let j = k + 1; j < p; j++) {
        reflect(v, vNormSquared, columns[j]!, k);
        this.r[k]![j] = columns[j]![k]!;
      }
    }
  }

  /** Q' y. */
  qtY(y: readonly number[]): Float64Array {
    const result = Float64Array.from(y);
    for (let k = 0; k < this.p; k++) reflect(this.reflectors[k]!, this.reflectorNorms[k]!, result, k);
    return result;
  }

  /** Q z (the reflectors applied in reverse order). */
  qZ(z: Float64Array): Float64Array {
    const result = Float64Array.from(z);
    for (let k = this.p - 1; k >= 0; k--) reflect(this.reflectors[k]!, this.reflectorNorms[k]!, result, k);
    return result;
  }

  /** Solves R b = c for the first p entries of c (back substitution). */
  solveR(c: ArrayLike<number>): number[] {
    const b = new Array<number>(this.p).fill(0);
    for (let i = this.p - 1; i >= 0; i--) {
      let sum = c[i]!;
      for (let j = i + 1; j < this.p; j++) sum -= this.r[i]![j]! * b[j]!;
      b[i] = sum / this.r[i]![i]!;
    }
    return b;
  }

  /** Solves R' w = l (forward substitution); then l' (X'X)^-1 l = |w|². */
  solveRTransposed(l: readonly number[]): number[] {
    const w = new Array<number>(this.p).fill(0);
    for (let i = 0; i < this.p; i++) {
      let sum = l[i]!;
      for (let j = 0; j < i; j++) sum -= this.r[j]![i]! * w[j]!;
      w[i] = sum / this.r[i]![i]!;
    }
    return w;
  }

  /** l' (X'X)^-1 l, computed as |R^-T l|² without forming the inverse. */
  quadraticForm(l: readonly number[]): number {
    return sumOfSquares(this.solveRTransposed(l), 0);
  }
}

export interface LeastSquaresFit {
  qr: QrDecomposition;
  coefficients: number[];
  residuals: number[];
  fitted: number[];
  residualSumOfSquares: number;
  residualDf: number;
}

/**
 * Least squares of y on X by Householder QR, as R's lm.fit: coefficients from R b = (Q'y)[1..p],
 * residuals as Q (0, (Q'y)[p+1..n]) so that they keep their digits when y has a large offset.
 */
export function leastSquares(x: readonly (readonly number[])[], y: readonly number[]): LeastSquaresFit {
  const qr = new QrDecomposition(x);
  const effects = qr.qtY(y);
  const coefficients = qr.solveR(effects);
  const tail = new Float64Array(qr.n);
  for (let i = qr.p; i < qr.n; i++) tail[i] = effects[i]!;
  const residuals = Array.from(qr.qZ(tail));
  return {
    qr,
    coefficients,
    residuals,
    fitted: y.map((value, i) => value - residuals[i]!),
    residualSumOfSquares: sumOfSquares(residuals, 0),
    residualDf: qr.n - qr.p,
  };
}

/** Converts a RankDeficiencyError into the input error that names the collinear term. */
export function explainRankDeficiency<T>(terms: readonly string[], pointers: readonly string[], fit: () => T): T {
  try {
    return fit();
  } catch (error) {
    if (!(error instanceof RankDeficiencyError)) throw error;
    const term = terms[error.column]!;
    throw new StatisticsInputError(
      pointers[error.column]!,
      `the design is rank-deficient: term '${term}' is a linear combination of the terms before it ` +
        `(${terms.slice(0, error.column).join(', ')}), e.g. a constant covariate or a category that coincides ` +
        'with the groups',
    );
  }
}

function reflect(v: Float64Array, vNormSquared: number, target: Float64Array, from: number): void {
  let dot = 0;
  for (let i = from; i < v.length; i++) dot += v[i]! * target[i]!;
  const scale = (2 * dot) / vNormSquared;
  for (let i = from; i < v.length; i++) target[i] = target[i]! - scale * v[i]!;
}

function sumOfSquares(values: ArrayLike<number>, from: number): number {
  const sum = new CompensatedSum();
  for (let i = from; i < values.length; i++) sum.add(values[i]! * values[i]!);
  return sum.value;
}

function euclideanNorm(values: ArrayLike<number>, from: number): number {
  let largest = 0;
  for (let i = from; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i]!));
  if (largest === 0) return 0;
  const sum = new CompensatedSum();
  for (let i = from; i < values.length; i++) sum.add((values[i]! / largest) ** 2);
  return largest * Math.sqrt(sum.value);
}
