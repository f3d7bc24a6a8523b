import { loadFixture, outsideTolerance, type Fixture } from '../../../test/support/r-reference';
import { ancovaComparisons, type AncovaCase } from '../../../test/support/r-reference-outcomes';
import { ancova } from './ancova';
import type { ModelRow } from './design-matrix';
import { StatisticsInputError } from './statistics-input-error';

describe('ANCOVA agrees with lm() and emmeans()', () => {
  it('matches coefficients, least-squares means and differences on every fixture case to 1e-10', () => {
    const comparisons = ancovaComparisons();
    expect(comparisons.length).toBeGreaterThan(400);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });

  it('covers both weightings, three groups, a category covariate and a small sample', () => {
    const cases = loadFixture<Fixture<AncovaCase>>('ancova').cases;
    expect(new Set(cases.map((c) => c.input.weights))).toEqual(new Set(['equal', 'proportional']));
    expect(cases.some((c) => c.expected.groups.length === 3)).toBe(true);
    expect(cases.some((c) => c.input.covariates.some((covariate) => covariate.type === 'category'))).toBe(true);
    expect(cases.some((c) => c.expected.n < 10)).toBe(true);
  });
});

describe('ANCOVA behaviour', () => {
  const rows: ModelRow[] = [
    { group: 'TAU', outcome: 20, covariates: { baseline: 24, site: 'A' } },
    { group: 'TAU', outcome: 22, covariates: { baseline: 25, site: 'B' } },
    { group: 'TAU', outcome: 19, covariates: { baseline: 21, site: 'A' } },
    { group: 'TAU', outcome: 25, covariates: { baseline: 28, site: 'B' } },
    { group: 'SMCM', outcome: 17, covariates: { baseline: 23, site: 'A' } },
    { group: 'SMCM', outcome: 18, covariates: { baseline: 26, site: 'B' } },
    { group: 'SMCM', outcome: 16.5, covariates: { baseline: 22, site: 'B' } },
    { group: 'SMCM', outcome: 21, covariates: { baseline: 27, site: 'A' } },
  ];
  const covariates = [
    { name: 'baseline', type: 'number' as const },
    { name: 'site', type: 'category' as const },
  ];

  it('equals the group coefficient for the difference, whatever the weighting', () => {
    for (const weights of ['equal', 'proportional'] as const) {
      const result = ancova(rows, 'TAU', { covariates, weights });
      const coefficient = result.coefficients.find((c) => c.term === 'groupSMCM')!;
      expect(result.differences[0]!.estimate).toBeCloseTo(coefficient.estimate, 12);
      expect(result.differences[0]!.se).toBeCloseTo(coefficient.se, 12);
    }
  });

  it('reduces to the pooled-variance t-test without covariates', () => {
    const result = ancova(rows, 'TAU');
    const tau = rows.filter((r) => r.group === 'TAU').map((r) => r.outcome);
    const smcm = rows.filter((r) => r.group === 'SMCM').map((r) => r.outcome);
    const average = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    expect(result.groups[0]!.lsMean).toBeCloseTo(average(tau), 12);
    expect(result.differences[0]!.estimate).toBeCloseTo(average(smcm) - average(tau), 12);
    expect(result.residualDf).toBe(6);
  });

  it.each([
    ['no rows', () => ancova([], 'TAU'), '/rows'],
    ['a reference group without rows', () => ancova(rows, 'Waitlist', { covariates }), '/reference'],
    ['a single group', () => ancova(rows.slice(0, 4), 'TAU'), '/rows'],
    [
      'a missing covariate value',
      () => ancova([...rows, { group: 'TAU', outcome: 3, covariates: { site: 'A' } }], 'TAU', { covariates }),
      '/rows/8/covariates/baseline',
    ],
    [
      'a string where a number is expected',
      () =>
        ancova([...rows, { group: 'TAU', outcome: 3, covariates: { baseline: 'x', site: 'A' } }], 'TAU', {
          covariates,
        }),
      '/rows/8/covariates/baseline',
    ],
    [
      'a constant numeric covariate (collinear with the intercept)',
      () =>
        ancova(
          rows.map((r) => ({ ...r, covariates: { ...r.covariates, baseline: 5 } })),
          'TAU',
          { covariates },
        ),
      '/covariates/0',
    ],
    [
      'a category that coincides with the groups',
      () =>
        ancova(
          rows.map((r) => ({ ...r, covariates: { baseline: r.covariates!.baseline!, arm: r.group } })),
          'TAU',
          { covariates: [covariates[0]!, { name: 'arm', type: 'category' }] },
        ),
      '/covariates/1',
    ],
    [
      'a category with a single level',
      () =>
        ancova(
          rows.map((r) => ({ ...r, covariates: { ...r.covariates, site: 'A' } })),
          'TAU',
          { covariates },
        ),
      '/covariates/1',
    ],
    ['as many coefficients as rows', () => ancova(rows.slice(2, 6), 'TAU', { covariates }), '/rows'],
    [
      'a duplicated covariate',
      () => ancova(rows, 'TAU', { covariates: [covariates[0]!, covariates[0]!] }),
      '/covariates/1/name',
    ],
    ['a confidence level of 1', () => ancova(rows, 'TAU', { confidenceLevel: 1 }), '/confidenceLevel'],
  ])('rejects %s', (_label, run, pointer) => {
    expect(run).toThrow(StatisticsInputError);
    expect(run).toThrow(expect.objectContaining({ pointer }));
  });

  it('bounds the groups and model terms one request can ask for (the QR costs rows × terms²)', () => {
    const manyGroups = Array.from({ length: 42 }, (_, i) => ({ group: i < 2 ? 'TAU' : `G${i}`, outcome: i }));
    expect(() => ancova(manyGroups, 'TAU')).toThrow(/at most 20 are supported/);
    const manyLevels = Array.from({ length: 80 }, (_, i) => ({
      group: i % 2 ? 'TAU' : 'SMCM',
      outcome: i,
      covariates: { site: `S${i}` },
    }));
    const site = [{ name: 'site', type: 'category' as const }];
    expect(() => ancova(manyLevels, 'TAU', { covariates: site })).toThrow(
      expect.objectContaining({ pointer: '/covariates/0', message: expect.stringMatching(/80 levels; at most 30/) }),
    );
    const levelsEach = (n: number) => (i: number) => `L${i % n}`;
    const [a, b] = [levelsEach(20), levelsEach(15)];
    const twoFactors = Array.from({ length: 300 }, (_, i) => ({
      group: i % 2 ? 'TAU' : 'SMCM',
      outcome: i,
      covariates: { a: a(i), b: b(i) },
    }));
    const factors = [
      { name: 'a', type: 'category' as const },
      { name: 'b', type: 'category' as const },
    ];
    expect(() => ancova(twoFactors, 'TAU', { covariates: factors })).toThrow(/35 terms; at most 30/);
  });

  it('names the collinear term in the reason', () => {
    const constant = rows.map((r) => ({ ...r, covariates: { ...r.covariates, baseline: 5 } }));
    expect(() => ancova(constant, 'TAU', { covariates })).toThrow(/rank-deficient: term 'baseline'/);
  });
});
