import { leastSquares, QrDecomposition, RankDeficiencyError } from './linear-model';

describe('Householder least squares', () => {
  it('solves an exactly determined line', () => {
    const fit = leastSquares(
      [
        [1, 0],
        [1, 1],
        [1, 2],
      ],
      [1, 3, 5],
    );
    expect(fit.coefficients[0]).toBeCloseTo(1, 14);
    expect(fit.coefficients[1]).toBeCloseTo(2, 14);
    expect(fit.residualSumOfSquares).toBeLessThan(1e-28);
    expect(fit.residualDf).toBe(1);
  });

  it('keeps residuals orthogonal to the columns and fitted + residual = y', () => {
    const x = Array.from({ length: 20 }, (_, i) => [1, i, Math.sin(i)]);
    const y = x.map(([, t, s]) => 3 + 0.5 * t! - 2 * s! + Math.cos(7 * t!));
    const fit = leastSquares(x, y);
    for (let j = 0; j < 3; j++) {
      const dot = x.reduce((sum, row, i) => sum + row[j]! * fit.residuals[i]!, 0);
      expect(Math.abs(dot)).toBeLessThan(1e-12);
    }
    fit.fitted.forEach((value, i) => expect(value + fit.residuals[i]!).toBeCloseTo(y[i]!, 12));
  });

  it("gives (X'X)^-1 quadratic forms: for one column of ones, 1/n", () => {
    const qr = new QrDecomposition(Array.from({ length: 8 }, () => [1]));
    expect(qr.quadraticForm([1])).toBeCloseTo(1 / 8, 15);
  });

  it('detects a column that is a combination of earlier ones', () => {
    const x = Array.from({ length: 6 }, (_, i) => [1, i, 2 * i + 3]);
    expect(() => new QrDecomposition(x)).toThrow(RankDeficiencyError);
    expect(() => new QrDecomposition(x)).toThrow(expect.objectContaining({ column: 2 }));
  });
});
