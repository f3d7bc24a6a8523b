/**
 * Small dense linear algebra for the mixed model: symmetric positive definite matrices of the size of a
 * design (tens of columns) or a visit schedule. Matrices are arrays of rows.
 */
export type Matrix = number[][];

export const zeros = (rows: number, columns = rows): Matrix =>
  Array.from({ length: rows }, () => new Array<number>(columns).fill(0));

/**
 * Lower-triangular L with A = L L', or null when A is not (numerically) positive definite: a pivot at or
 * below `tolerance` times the largest diagonal element counts as zero.
 */
export function cholesky(a: Matrix, tolerance = 1e-12): Matrix | null {
  const n = a.length;
  const scale = Math.max(...a.map((row, i) => Math.abs(row[i]!)), Number.MIN_VALUE);
  const l = zeros(n);
  for (let j = 0; j < n; j++) {
    let pivot = a[j]![j]!;
    for (let k = 0; k < j; k++) pivot -= l[j]![k]! ** 2;
    if (!(pivot > tolerance * scale)) return null;
    const diagonal = Math.sqrt(pivot);
    l[j]![j] = diagonal;
    for (let i = j + 1; i < n; i++) {
      let sum = a[i]![j]!;
      for (let k = 0; k < j; k++) sum -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = sum / diagonal;
    }
  }
  return l;
}

/** log |A| from its Cholesky factor. */
export const logDeterminant = (l: Matrix): number => 2 * l.reduce((sum, row, i) => sum + Math.log(row[i]!), 0);

/** Solves L L' x = b for a vector b. */
export function choleskySolve(l: Matrix, b: readonly number[]): number[] {
  const n = l.length;
  const y = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i]![k]! * y[k]!;
    y[i] = sum / l[i]![i]!;
  }
  const x = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < n; k++) sum -= l[k]![i]! * x[k]!;
    x[i] = sum / l[i]![i]!;
  }
  return x;
}

/** A⁻¹ from the Cholesky factor of A (symmetrized). */
export function choleskyInverse(l: Matrix): Matrix {
  const n = l.length;
  const inverse = zeros(n);
  for (let j = 0; j < n; j++) {
    const column = choleskySolve(
      l,
      Array.from({ length: n }, (_x, i) => (i === j ? 1 : 0)),
    );
    for (let i = 0; i < n; i++) inverse[i]![j] = column[i]!;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const mean = (inverse[i]![j]! + inverse[j]![i]!) / 2;
      inverse[i]![j] = mean;
      inverse[j]![i] = mean;
    }
  }
  return inverse;
}

export const matrixVector = (a: Matrix, x: readonly number[]): number[] =>
  a.map((row) => row.reduce((sum, value, j) => sum + value * x[j]!, 0));

/** x' A x. */
export const quadraticForm = (a: Matrix, x: readonly number[]): number =>
  matrixVector(a, x).reduce((sum, value, i) => sum + value * x[i]!, 0);
