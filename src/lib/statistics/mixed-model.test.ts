import { compareMixedModel, mixedModelCases } from '../../../test/support/r-reference-mixed-model';
import { mixedModel, MAX_FIXED_EFFECTS, type MixedModelInput } from './mixed-model';
import { StatisticsInputError } from './statistics-input-error';

/* Reference and tolerances: test/support/r-reference-mixed-model.ts (nlme::gls + emmeans). */
const fixture = mixedModelCases;

describe('mixed model agrees with nlme::gls and emmeans', () => {
  it.each(fixture().map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(compareMixedModel(mixedModel(c.input), c.expected, c.name).failures).toEqual([]);
  });
});

const base = (): MixedModelInput => fixture()[0]!.input;

describe('mixed model properties', () => {
  it('does not depend on the order of the rows', () => {
    const input = base();
    const reversed = { ...input, rows: [...input.rows].reverse() };
    const a = mixedModel(input);
    const b = mixedModel(reversed);
    expect(b.logLik).toBeCloseTo(a.logLik, 8);
    b.fixedEffects.forEach((f, j) => expect(f.estimate).toBeCloseTo(a.fixedEffects[j]!.estimate, 7));
  });

  it('gives the same fit whether a missingness pattern is summed once or kept as rows (a pattern of few subjects)', () => {
    // Splitting the 200-subject case into copies with renamed subjects changes only which patterns are summed:
    // the first copy alone keeps its small patterns raw; the likelihood of the doubled data is twice as large.
    const input = fixture()[5]!.input;
    const doubled = {
      ...input,
      method: 'ml' as const,
      rows: [...input.rows, ...input.rows.map((r) => ({ ...r, subject: `${r.subject}'` }))],
    };
    const single = mixedModel({ ...input, method: 'ml' });
    const twice = mixedModel(doubled);
    expect(twice.logLik / single.logLik).toBeCloseTo(2, 9);
    twice.fixedEffects.forEach((f, j) => expect(f.estimate).toBeCloseTo(single.fixedEffects[j]!.estimate, 5));
  });

  it('ML: the unstructured model fits at least as well as compound symmetry (nested models)', () => {
    const input = base();
    const un = mixedModel({ ...input, covariance: 'unstructured', method: 'ml' });
    const cs = mixedModel({ ...input, covariance: 'compound_symmetry', method: 'ml' });
    expect(un.logLik).toBeGreaterThanOrEqual(cs.logLik - 1e-9);
  });
});

describe('mixed model input checks', () => {
  const refusal = (input: MixedModelInput): StatisticsInputError => {
    try {
      mixedModel(input);
    } catch (error) {
      if (error instanceof StatisticsInputError) return error;
      throw error;
    }
    throw new Error('expected a StatisticsInputError');
  };
  const row = (subject: string, group: string, visit: string, outcome: number) => ({ subject, group, visit, outcome });
  const small: MixedModelInput = {
    reference: 'A',
    visits: ['v1', 'v2'],
    rows: [row('1', 'A', 'v1', 1), row('1', 'A', 'v2', 2), row('2', 'B', 'v1', 2), row('2', 'B', 'v2', 4)],
  };

  it.each<[string, MixedModelInput, string, RegExp]>([
    [
      'a group without data at a visit',
      { ...small, rows: small.rows.slice(0, 3) },
      '/rows',
      /B has no outcome at visit v2/,
    ],
    [
      'a subject seen twice at a visit',
      { ...small, rows: [...small.rows, row('1', 'A', 'v1', 3)] },
      '/rows/4',
      /repeats/,
    ],
    [
      'a subject in two groups',
      { ...small, visits: ['v1', 'v2', 'v3'], rows: [...small.rows, row('1', 'B', 'v3', 3)] },
      '/rows/4/group',
      /group A elsewhere/,
    ],
    ['an unknown visit', { ...small, rows: [row('1', 'B', 'v3', 3), ...small.rows] }, '/rows/0/visit', /visits/],
    ['an unknown reference', { ...small, reference: 'Z' }, '/reference', /reference group/],
    ['one visit', { ...small, visits: ['v1'] }, '/visits', /two visits/],
    ['a non-finite outcome', { ...small, rows: [row('1', 'A', 'v1', Number.NaN)] }, '/rows/0/outcome', /finite/],
  ])('%s', (_name, input, pointer, reason) => {
    const error = refusal(input);
    expect(error.pointer).toBe(pointer);
    expect(error.reason).toMatch(reason);
  });

  it('reports non-convergence as an error: an unstructured fit whose second-visit residual variance is zero', () => {
    const rows = Array.from({ length: 20 }, (_x, s) => {
      const group = s % 2 ? 'B' : 'A';
      return [row(`s${s}`, group, 'v1', Math.sin(s * 1.7) * 3 + (s % 5)), row(`s${s}`, group, 'v2', s % 2 ? 7 : 5)];
    }).flat();
    const error = refusal({ reference: 'A', visits: ['v1', 'v2'], rows, covariance: 'unstructured' });
    expect(error.reason).toMatch(/did not converge/);
  });

  it('refuses more visits or fixed effects than one request may cost', () => {
    const visits = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7'];
    expect(refusal({ ...small, visits }).pointer).toBe('/visits');
    // 5 groups × 6 visits = 30 fixed effects.
    const groups = ['A', 'B', 'C', 'D', 'E'];
    const rows = groups.flatMap((group, g) => visits.slice(0, 6).map((visit, v) => row(`s${g}`, group, visit, g + v)));
    const error = refusal({ reference: 'A', visits: visits.slice(0, 6), rows });
    expect(error.reason).toContain(`at most ${MAX_FIXED_EFFECTS}`);
  });

  it('reports a fit without enough data as an error, never as an answer', () => {
    // Two outcomes per group and visit cell at most: too few for 3 covariance parameters plus 4 fixed effects.
    const error = refusal(small);
    expect(error.reason).toMatch(/needs more than|converge|singular/);
  });
});
