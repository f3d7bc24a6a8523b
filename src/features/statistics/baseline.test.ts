import { chiSquareTest, fisherExactTest } from '../../lib/statistics';
import { buildBaselineTable, categoryTest } from './baseline';

describe('buildBaselineTable', () => {
  it('gives a null SMD (not an error) where it is undefined: each arm all in one level, the levels differ', () => {
    const table = buildBaselineTable({
      trialId: '00000000-0000-4000-8000-000000000000',
      role: 'service_user',
      asOf: null,
      tests: 'welch',
      arms: [
        { arm: 'SMCM', n: 1 },
        { arm: 'TAU', n: 1 },
      ],
      variables: [{ name: 'sex', type: 'category', levels: ['female', 'male'] } as never],
      numeric: new Map(),
      categories: new Map([
        [
          'sex',
          [
            { arm: 'SMCM', level: 'female', count: 1 },
            { arm: 'TAU', level: 'male', count: 1 },
          ],
        ],
      ]),
    });
    expect(table.variables[0]!.smd).toBeNull();
  });
});

describe('categoryTest (Table 1 and Table 2)', () => {
  it('gives chi-square with Yates on a 2 x 2 table whose expected counts are all at least 5', () => {
    const table = [
      [13, 8],
      [7, 10],
    ];
    const chi = chiSquareTest(table, { continuityCorrection: true });
    expect(chi.continuityCorrected).toBe(true);
    expect(categoryTest(table)).toEqual({ method: 'chi_square', statistic: chi.statistic, df: 1, p: chi.p });
  });

  it('gives the uncorrected chi-square on a larger table (Yates applies to 2 x 2 only)', () => {
    const table = [
      [7, 7, 7],
      [6, 6, 5],
    ];
    const chi = chiSquareTest(table, { continuityCorrection: false });
    expect(categoryTest(table)).toEqual({ method: 'chi_square', statistic: chi.statistic, df: 2, p: chi.p });
  });

  it("gives Fisher's exact test when an expected count is below 5, levels recorded in no arm left out", () => {
    const table = [
      [4, 5, 0, 7, 1],
      [13, 2, 0, 2, 0],
    ];
    const reduced = [
      [4, 5, 7, 1],
      [13, 2, 2, 0],
    ];
    expect(categoryTest(table)).toEqual({
      method: 'fisher_exact',
      statistic: null,
      df: null,
      p: fisherExactTest(reduced).p,
    });
  });

  it('is null when an arm has no counts, when fewer than two levels occur, or with one arm', () => {
    expect(
      categoryTest([
        [3, 4],
        [0, 0],
      ]),
    ).toBeNull();
    expect(
      categoryTest([
        [3, 0],
        [5, 0],
      ]),
    ).toBeNull();
    expect(categoryTest([[3, 4]])).toBeNull();
  });

  it('falls back to chi-square with a warning when the exact test is refused (total beyond its limit)', () => {
    const table = [
      [600_000, 3],
      [500_000, 2],
    ];
    const test = categoryTest(table)!;
    expect(test.method).toBe('chi_square');
    expect(test.p).toBe(chiSquareTest(table).p);
    expect(test.warning).toMatch(/too large for Fisher's exact test/);
  });
});
