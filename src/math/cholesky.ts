/**
 * Cholesky factorisation A = L·Lᵀ of a symmetric positive-definite n×n matrix and the solve
 * A·x = b by forward and back substitution (Golub & Van Loan, Matrix Computations, §4.2). The
 * closed-form least-squares solves of iALS (models/ials/solve.ts) run on it; float64 throughout,
 * row-major, only the lower triangle of A is read.
 */

export class NotPositiveDefinite extends Error {
  override name = 'NotPositiveDefinite';
}

/** Overwrite the lower triangle of `a` (n×n, row-major) with L; the upper triangle is left as is. */
export function choleskyInPlace(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > 0)) throw new NotPositiveDefinite(`cholesky: the matrix is not positive definite (pivot ${j} is ${d})`);
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s / ljj;
    }
  }
}

/** Given L from `choleskyInPlace`, overwrite b with the solution x of L·Lᵀ·x = b. */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
}

/** x = A⁻¹·b for symmetric positive-definite A; `a` and `b` are overwritten (L and x), x is returned. */
export function solveSpd(a: Float64Array, n: number, b: Float64Array): Float64Array {
  choleskyInPlace(a, n);
  choleskySolveInPlace(a, n, b);
  return b;
}
