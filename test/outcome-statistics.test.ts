import { type Fixture, loadFixture, relativeError } from './support/r-reference';
import {
  type AncovaCase,
  type BinaryFixture,
  LOGISTIC_RELATIVE_TOLERANCE,
  type PoolCase,
} from './support/r-reference-outcomes';
import { compareMixedModel, mixedModelCases } from './support/r-reference-mixed-model';
import { startTestApp, TestApp } from './support/test-app';

/*
 * The R reference cases of test/fixtures/r/{ancova,binary,pool}.json (made by generate-outcomes.R) sent
 * through the HTTP API: what a client receives after validation and JSON encoding agrees with R.
 */
const TOLERANCE = 1e-10;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

function expectClose(
  label: string,
  actual: number | null,
  expected: number | null,
  errors: string[],
  tolerance = TOLERANCE,
) {
  const error = relativeError(actual, expected);
  if (!(error <= tolerance)) errors.push(`${label}: got ${actual}, R ${expected} (relative error ${error})`);
}

/** R's infinities arrive as null over JSON. */
const asJson = (value: number | null) => (value === null || Number.isFinite(value) ? value : null);

describe('POST /v1/stats/ancova against lm() and emmeans', () => {
  it('matches every fixture case in every field', async () => {
    const errors: string[] = [];
    for (const c of loadFixture<Fixture<AncovaCase>>('ancova').cases) {
      const res = await t.call('post', '/v1/stats/ancova', { body: c.input });
      expect([c.name, res.status]).toEqual([c.name, 200]);
      const e = c.expected;
      expect(res.body.n).toBe(e.n);
      expect(res.body.residualDf).toBe(e.residualDf);
      expectClose(`${c.name} sigma`, res.body.sigma, e.sigma, errors);
      expectClose(`${c.name} rSquared`, res.body.rSquared, e.rSquared, errors);
      expect(res.body.coefficients.map((row: { term: string }) => row.term)).toEqual(e.coefficients.map((r) => r.term));
      e.coefficients.forEach((x, i) => {
        const a = res.body.coefficients[i];
        expectClose(`${c.name} ${x.term} estimate`, a.estimate, x.estimate, errors);
        expectClose(`${c.name} ${x.term} se`, a.se, x.se, errors);
        expectClose(`${c.name} ${x.term} p`, a.p, x.p, errors);
      });
      expect(res.body.groups.map((row: { group: string }) => row.group)).toEqual(e.groups.map((r) => r.group));
      e.groups.forEach((x, i) => {
        const a = res.body.groups[i];
        for (const field of ['lsMean', 'se', 'ciLower', 'ciUpper'] as const)
          expectClose(`${c.name} ${x.group} ${field}`, a[field], x[field], errors);
      });
      e.differences.forEach((x, i) => {
        const a = res.body.differences[i];
        expect(a.group).toBe(x.group);
        for (const field of ['estimate', 'se', 't', 'p', 'ciLower', 'ciUpper'] as const)
          expectClose(`${c.name} ${x.group} difference ${field}`, a[field], x[field], errors);
      });
    }
    expect(errors).toEqual([]);
  });

  it('refuses rank-deficient designs and missing data with 422 pointers', async () => {
    const rows = [
      { group: 'TAU', outcome: 20, covariates: { baseline: 5, site: 'A' } },
      { group: 'TAU', outcome: 22, covariates: { baseline: 5, site: 'B' } },
      { group: 'TAU', outcome: 19, covariates: { baseline: 5, site: 'A' } },
      { group: 'SMCM', outcome: 17, covariates: { baseline: 5, site: 'A' } },
      { group: 'SMCM', outcome: 18, covariates: { baseline: 5, site: 'B' } },
      { group: 'SMCM', outcome: 16.5, covariates: { baseline: 5, site: 'B' } },
    ];
    const covariates = [
      { name: 'baseline', type: 'number' },
      { name: 'site', type: 'category' },
    ];
    const cases: [unknown, string, RegExp][] = [
      [{ rows, reference: 'TAU', covariates }, '/covariates/0', /rank-deficient: term 'baseline'/],
      [{ rows, reference: 'Waitlist' }, '/reference', /no row belongs to the reference group/],
      [{ rows: rows.slice(0, 3), reference: 'TAU' }, '/rows', /one group/],
      [
        { rows: [...rows, { group: 'TAU', outcome: 1, covariates: { site: 'A' } }], reference: 'TAU', covariates },
        '/rows/6/covariates/baseline',
        /missing/,
      ],
      [{ rows, reference: 'TAU', weights: 'cells' }, '/weights', /./],
      [{ rows: [], reference: 'TAU' }, '/rows', /./],
    ];
    for (const [body, pointer, detail] of cases) {
      const res = await t.call('post', '/v1/stats/ancova', { body });
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors[0].pointer).toBe(pointer);
      expect(res.body.errors[0].detail).toMatch(detail);
    }
  });
});

describe('POST /v1/stats/binary against R', () => {
  const fixture = loadFixture<BinaryFixture>('binary');

  it('matches the counts cases (Wald, Woolf, fisher.test) in every field', async () => {
    const errors: string[] = [];
    for (const c of fixture.counts) {
      const res = await t.call('post', '/v1/stats/binary', { body: c.input });
      expect([c.name, res.status]).toEqual([c.name, 200]);
      const e = c.expected;
      expect(res.body.method).toBe('counts');
      for (const field of ['estimate', 'se', 'ciLower', 'ciUpper'] as const)
        expectClose(
          `${c.name} riskDifference.${field}`,
          res.body.riskDifference[field],
          e.riskDifference[field],
          errors,
        );
      for (const measure of ['riskRatio', 'oddsRatio'] as const) {
        expectClose(`${c.name} ${measure}.estimate`, res.body[measure].estimate, e[measure].estimate, errors);
        expectClose(`${c.name} ${measure}.se`, res.body[measure].se, e[measure].logSe, errors);
        expectClose(`${c.name} ${measure}.ciLower`, res.body[measure].ciLower, e[measure].ciLower, errors);
        expectClose(`${c.name} ${measure}.ciUpper`, res.body[measure].ciUpper, e[measure].ciUpper, errors);
      }
      const exact = res.body.exactOddsRatio;
      expectClose(`${c.name} exact estimate`, exact.estimate, asJson(e.fisher.oddsRatio), errors);
      expectClose(`${c.name} exact ciLower`, exact.ciLower, e.fisher.ciLower, errors);
      expectClose(`${c.name} exact ciUpper`, exact.ciUpper, asJson(e.fisher.ciUpper), errors);
      expectClose(`${c.name} exact p`, exact.p, e.fisher.p, errors);
    }
    expect(errors).toEqual([]);
  });

  it('matches glm(family = binomial) on the rows cases to 1e-8', async () => {
    const errors: string[] = [];
    for (const c of fixture.logistic) {
      const res = await t.call('post', '/v1/stats/binary', { body: c.input });
      expect([c.name, res.status]).toEqual([c.name, 200]);
      expect(res.body.method).toBe('logistic');
      expectClose(`${c.name} deviance`, res.body.deviance, c.expected.deviance, errors, LOGISTIC_RELATIVE_TOLERANCE);
      c.expected.coefficients.forEach((x, i) => {
        const a = res.body.coefficients[i];
        expect(a.term).toBe(x.term);
        for (const field of ['estimate', 'se', 'z', 'p', 'ciLower', 'ciUpper'] as const)
          expectClose(`${c.name} ${x.term} ${field}`, a[field], x[field], errors, LOGISTIC_RELATIVE_TOLERANCE);
      });
    }
    expect(errors).toEqual([]);
  });

  it('answers separation with a 422 that says so', async () => {
    for (const c of fixture.separation) {
      const res = await t.call('post', '/v1/stats/binary', { body: c.input });
      expect([c.name, res.status]).toEqual([c.name, 422]);
      expect(res.body.errors[0].detail).toMatch(/separated/);
    }
  });

  it('refuses bad counts with pointers into the request', async () => {
    const cases: [unknown, string][] = [
      [
        {
          reference: 'TAU',
          groups: [
            { label: 'SMCM', events: 50, n: 47 },
            { label: 'TAU', events: 14, n: 48 },
          ],
        },
        '/groups/0/events',
      ],
      [
        {
          reference: 'TAU',
          groups: [
            { label: 'TAU', events: 14, n: 48 },
            { label: 'SMCM', events: 50, n: 47 },
          ],
        },
        '/groups/1/events',
      ],
      [
        {
          reference: 'Waitlist',
          groups: [
            { label: 'SMCM', events: 5, n: 47 },
            { label: 'TAU', events: 14, n: 48 },
          ],
        },
        '/reference',
      ],
      [{ reference: 'TAU', rows: [{ group: 'TAU', outcome: 2 }] }, '/rows/0/outcome'],
    ];
    for (const [body, pointer] of cases) {
      const res = await t.call('post', '/v1/stats/binary', { body });
      expect(res.status).toBe(422);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
  });
});

describe('POST /v1/stats/pool against mice::pool.scalar', () => {
  it('matches every fixture case in every field', async () => {
    const errors: string[] = [];
    for (const c of loadFixture<Fixture<PoolCase>>('pool').cases) {
      const { n, ...rest } = c.input;
      const res = await t.call('post', '/v1/stats/pool', { body: n === null ? rest : c.input });
      expect([c.name, res.status]).toEqual([c.name, 200]);
      const e = c.expected;
      const pairs: [string, number, number][] = [
        ['estimate', res.body.estimate, e.estimate],
        ['withinVariance', res.body.withinVariance, e.withinVariance],
        ['betweenVariance', res.body.betweenVariance, e.betweenVariance],
        ['totalVariance', res.body.totalVariance, e.totalVariance],
        ['relativeIncreaseInVariance', res.body.relativeIncreaseInVariance, e.relativeIncreaseInVariance],
        ['df', res.body.df, e.df],
        ['fmi', res.body.fractionMissingInformation, e.fmi],
        ['p', res.body.p, e.p],
        ['ciLower', res.body.ciLower, e.ciLower],
        ['ciUpper', res.body.ciUpper, e.ciUpper],
      ];
      for (const [field, actual, expected] of pairs) expectClose(`${c.name} ${field}`, actual, expected, errors);
    }
    expect(errors).toEqual([]);
  });

  it('refuses mismatched lengths and k >= n with 422 pointers', async () => {
    const cases: [unknown, string][] = [
      [{ estimates: [1, 2, 3], variances: [0.1, 0.2] }, '/variances'],
      [{ estimates: [1, 2], variances: [0.1, 0.2], n: 4, k: 4 }, '/k'],
      [{ estimates: [1], variances: [0.1] }, '/estimates'],
      [{ estimates: [1, 2], variances: [0.1, 0] }, '/variances/1'],
    ];
    for (const [body, pointer] of cases) {
      const res = await t.call('post', '/v1/stats/pool', { body });
      expect(res.status).toBe(422);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
  });
});

describe('POST /v1/stats/mixed-model against nlme::gls and emmeans', () => {
  it('matches every fixture case (estimates, SEs, logLik within 1e-6; Satterthwaite df within 1e-4)', async () => {
    const failures: string[] = [];
    for (const c of mixedModelCases()) {
      const res = await t.call('post', '/v1/stats/mixed-model', { body: c.input });
      expect([c.name, res.status]).toEqual([c.name, 200]);
      failures.push(...compareMixedModel(res.body, c.expected, c.name).failures);
    }
    expect(failures).toEqual([]);
  });

  it('refuses a fit that does not converge, too many visits and an unknown visit with 422 pointers', async () => {
    const row = (subject: string, group: string, visit: string, outcome: number) => ({
      subject,
      group,
      visit,
      outcome,
    });
    const flat = Array.from({ length: 20 }, (_x, s) => {
      const group = s % 2 ? 'B' : 'A';
      return [row(`s${s}`, group, 'v1', Math.sin(s * 1.7) * 3 + (s % 5)), row(`s${s}`, group, 'v2', s % 2 ? 7 : 5)];
    }).flat();
    const cases: [unknown, string, RegExp][] = [
      [{ reference: 'A', visits: ['v1', 'v2'], rows: flat }, '', /did not converge/],
      [{ reference: 'A', visits: ['v1', 'v3'], rows: flat }, '/rows/1/visit', /not one of the visits/],
      [{ reference: 'A', visits: ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7'], rows: flat }, '/visits', /./],
    ];
    for (const [body, pointer, reason] of cases) {
      const res = await t.call('post', '/v1/stats/mixed-model', { body });
      expect(res.status).toBe(422);
      const error = res.body.errors.find((e: { pointer: string }) => e.pointer === pointer);
      expect(error?.message ?? JSON.stringify(res.body)).toMatch(reason);
    }
  });
});
