import { loadFixture, relativeError } from '../../../test/support/r-reference';
import {
  LOGISTIC_RELATIVE_TOLERANCE,
  logisticComparisons,
  runLogisticCase,
  type BinaryFixture,
} from '../../../test/support/r-reference-outcomes';
import type { ModelRow } from './design-matrix';
import { logisticRegression } from './logistic';
import { StatisticsInputError } from './statistics-input-error';

describe('logistic regression agrees with glm(family = binomial)', () => {
  it('matches coefficients, standard errors, z, p, Wald intervals and deviances to 1e-8', () => {
    const comparisons = logisticComparisons();
    expect(comparisons.length).toBeGreaterThan(100);
    const outside = comparisons.filter((c) => !(relativeError(c.actual, c.expected) <= LOGISTIC_RELATIVE_TOLERANCE));
    expect(outside).toEqual([]);
  });

  it('refuses every case in which R warns of separation, naming the runaway term', () => {
    const cases = loadFixture<BinaryFixture>('binary').separation;
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      expect(c.rWarnings.join(' ')).toMatch(/fitted probabilities numerically 0 or 1|did not converge/);
      expect(() => runLogisticCase(c)).toThrow(StatisticsInputError);
      expect(() => runLogisticCase(c)).toThrow(/separated/);
    }
  });

  it('refuses the arm without events with a pointer to the rows', () => {
    const c = loadFixture<BinaryFixture>('binary').separation.find((s) => s.name === 'no events in one arm')!;
    expect(() => runLogisticCase(c)).toThrow(expect.objectContaining({ pointer: '/rows' }));
    expect(() => runLogisticCase(c)).toThrow(/'groupSMCM'/);
  });
});

describe('logistic regression behaviour', () => {
  const rows: ModelRow[] = [
    ...[1, 0, 0, 1, 0, 1, 0, 0].map((outcome, i) => ({ group: 'TAU', outcome, covariates: { age: 30 + i } })),
    ...[1, 1, 0, 1, 1, 0, 1, 1].map((outcome, i) => ({ group: 'SMCM', outcome, covariates: { age: 33 + i } })),
  ];

  it('reproduces the sample odds ratio without covariates', () => {
    const result = logisticRegression(rows, 'TAU');
    // SMCM 6/8 vs TAU 3/8: odds ratio (6/2) / (3/5) = 5.
    expect(result.adjustedOddsRatios[0]!.oddsRatio).toBeCloseTo(5, 10);
    expect(result.coefficients[1]!.se).toBeCloseTo(Math.sqrt(1 / 6 + 1 / 2 + 1 / 3 + 1 / 5), 10);
  });

  it.each([
    [
      'an outcome other than 0 or 1',
      () => logisticRegression([...rows, { group: 'TAU', outcome: 2 }], 'TAU'),
      '/rows/16/outcome',
    ],
    [
      'a constant covariate',
      () =>
        logisticRegression(
          rows.map((r) => ({ ...r, covariates: { age: 40 } })),
          'TAU',
          { covariates: [{ name: 'age', type: 'number' }] },
        ),
      '/covariates/0',
    ],
  ])('rejects %s', (_label, run, pointer) => {
    expect(run).toThrow(StatisticsInputError);
    expect(run).toThrow(expect.objectContaining({ pointer }));
  });
});
