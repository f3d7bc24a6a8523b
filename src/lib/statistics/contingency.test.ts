import { chiSquareTest, fisherExactTest, FISHER_MAX_TOTAL } from './contingency';
import {
  chiSquareComparisons,
  fisherComparisons,
  loadFixture,
  outsideTolerance,
  type ContingencyFixture,
} from '../../../test/support/r-reference';
import { StatisticsInputError } from './statistics-input-error';

describe('contingency tests agree with R', () => {
  it('chisq.test(): statistic, df, p and minimum expected count', () => {
    const comparisons = chiSquareComparisons();
    expect(comparisons.length).toBeGreaterThan(100);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });

  it('chisq.test(): reports whether the Yates correction was applied', () => {
    for (const c of loadFixture<ContingencyFixture>('contingency').chisq) {
      expect([c.name, chiSquareTest(c.table, { continuityCorrection: c.correct }).continuityCorrected]).toEqual([
        c.name,
        c.expected.continuityCorrected,
      ]);
    }
  });

  it('fisher.test(): two-sided p for 2 x 2 and r x c tables, sparse ones included', () => {
    const comparisons = fisherComparisons();
    expect(comparisons.filter((c) => c.statistic === 'fisher.p (r x c)').length).toBeGreaterThan(10);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });
});

describe('chi-square test', () => {
  it('applies the continuity correction only to 2 x 2 tables', () => {
    const table = [
      [12, 5, 3],
      [7, 14, 9],
    ];
    expect(chiSquareTest(table).statistic).toBe(chiSquareTest(table, { continuityCorrection: false }).statistic);
    expect(chiSquareTest(table).continuityCorrected).toBe(false);
  });

  it('caps the correction at |x - E| when that is below one half', () => {
    // E = 5.238..; |x - E| = 0.238 < 0.5, so the corrected statistic is exactly 0.
    expect(
      chiSquareTest([
        [5, 5],
        [5, 6],
      ]).statistic,
    ).toBe(0);
  });

  it('rejects a table with an empty row or column, where R returns NaN', () => {
    expect(() =>
      chiSquareTest([
        [0, 0],
        [3, 4],
      ]),
    ).toThrow(expect.objectContaining({ pointer: '/0' }));
    expect(() =>
      chiSquareTest([
        [0, 3],
        [0, 4],
      ]),
    ).toThrow(StatisticsInputError);
  });
});

describe('Fisher exact test', () => {
  it('does not depend on the order or orientation of rows and columns', () => {
    const table = [
      [3, 0, 1, 4],
      [0, 2, 5, 1],
      [2, 2, 0, 3],
    ];
    const p = fisherExactTest(table).p;
    const transposed = table[0]!.map((_, j) => table.map((row) => row[j]!));
    expect(fisherExactTest(transposed).p).toBeCloseTo(p, 14);
    expect(fisherExactTest([table[2]!, table[0]!, table[1]!]).p).toBeCloseTo(p, 14);
    expect(fisherExactTest(table.map((row) => [...row].reverse())).p).toBeCloseTo(p, 14);
  });

  it('equals the sum over an explicit enumeration of 2 x 3 tables', () => {
    const table = [
      [2, 3, 0],
      [1, 1, 4],
    ];
    const logFactorial = (k: number): number => (k < 2 ? 0 : Math.log(k) + logFactorial(k - 1));
    const probability = (t: number[][]) =>
      Math.exp(
        logFactorial(5) +
          logFactorial(6) +
          logFactorial(3) +
          logFactorial(4) +
          logFactorial(4) -
          logFactorial(11) -
          t.flat().reduce((s, x) => s + logFactorial(x), 0),
      );
    const observed = probability(table);
    let p = 0;
    for (let a = 0; a <= 3; a++) {
      for (let b = 0; b <= 4; b++) {
        const c = 5 - a - b;
        if (c < 0 || c > 4) continue;
        const candidate = probability([
          [a, b, c],
          [3 - a, 4 - b, 4 - c],
        ]);
        if (candidate <= observed * (1 + 1e-7)) p += candidate;
      }
    }
    expect(fisherExactTest(table).p).toBeCloseTo(p, 14);
  });

  it('gives p = 1 when a row is empty, as R', () => {
    expect(
      fisherExactTest([
        [0, 0],
        [4, 3],
      ]).p,
    ).toBe(1);
    expect(
      fisherExactTest([
        [1, 3, 1],
        [0, 0, 0],
        [2, 5, 3],
      ]).p,
    ).toBeLessThanOrEqual(1);
  });

  it('refuses an r x c table whose search exceeds the budget', () => {
    const table = [
      [3, 4, 2, 4, 6],
      [4, 6, 7, 2, 5],
      [5, 4, 3, 6, 7],
      [5, 9, 6, 6, 3],
    ];
    expect(() => fisherExactTest(table, { maxSearchSteps: 10_000 })).toThrow(StatisticsInputError);
  });

  it.each([
    ['a single row', [[1, 2, 3]], ''],
    ['a single column', [[1], [2]], '/0'],
    ['ragged rows', [[1, 2], [3]], '/1'],
    [
      'a negative count',
      [
        [1, -2],
        [3, 4],
      ],
      '/0/1',
    ],
    [
      'a fractional count',
      [
        [1, 2.5],
        [3, 4],
      ],
      '/0/1',
    ],
    [
      'an all-zero table',
      [
        [0, 0],
        [0, 0],
      ],
      '',
    ],
  ])('rejects %s', (_label, table, pointer) => {
    expect(() => fisherExactTest(table)).toThrow(expect.objectContaining({ pointer }));
    expect(() => chiSquareTest(table)).toThrow(StatisticsInputError);
  });
});

describe('fisherExactTest on large tables', () => {
  it('handles a 2×2 table of total 1,000,000 (a support of 500,001 values)', () => {
    const { p } = fisherExactTest([
      [250_000, 250_000],
      [250_000, 250_000],
    ]);
    expect(p).toBeCloseTo(1, 12);
  });

  it('refuses, before allocating anything, tables totalling more than FISHER_MAX_TOTAL', () => {
    expect(() =>
      fisherExactTest([
        [FISHER_MAX_TOTAL, 1],
        [0, 0],
      ]),
    ).toThrow(/at most 1000000/);
    expect(() =>
      fisherExactTest([
        [3e8, 1e8],
        [2e8, 4e8],
      ]),
    ).toThrow(StatisticsInputError);
  });
});
