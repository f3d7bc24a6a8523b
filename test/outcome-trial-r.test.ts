import { smcmFollowUp } from '../scripts/smcm-trial';
import { parseCsv } from '../src/core/csv';
import { addDays } from '../src/features/follow-up/calendar';
import { createActiveTrial } from './support/factories';
import { loadFixture, relativeError } from './support/r-reference';
import { compareMixedModel, MixedModelExpected } from './support/r-reference-mixed-model';
import { randomizedInArm } from './support/outcome-trial';
import { startTestApp, TestApp } from './support/test-app';

/*
 * The trial endpoints against R on the same participants (test/fixtures/r/generate-trial-mmrm-binary.R, seed
 * 20261201): 48 participants with the Hope Index at baseline, 6 and 12 months and employment at baseline and
 * 12 months, some visits missing. Loaded through the API as test/outcome-analysis.test.ts does (arm set from the
 * fixture, randomization dated back), then
 *  - GET …/outcomes/hope/analysis?model=mmrm against nlme::gls (corSymm + varIdent, REML) + emmeans;
 *  - Table 2's employed@m12 row: the adjusted odds ratio against glm(binomial), n and events per arm;
 *  - Table 2's category rows (three category measures added to the trial here): the test of the arm × level table
 *    against chisq.test (Yates only on 2 × 2) or fisher.test, chosen by Table 1's rule.
 */
interface Participant {
  arm: 'SMCM' | 'TAU';
  site: 'A' | 'B';
  baselineItems: number[];
  m6Items: number[] | null;
  m12Items: number[] | null;
  employedBaseline: boolean;
  employedM12: boolean | null;
  livingM12: string | null;
  contactM12: string | null;
  supportM6: string | null;
}
interface CategoryExpected {
  measure: string;
  visit: string;
  method: 'chi_square' | 'fisher_exact';
  statistic: number | null;
  df: number | null;
  p: number;
  byArm: { arm: string; counts: number[] }[];
}
interface Fixture {
  participants: Participant[];
  mmrm: MixedModelExpected;
  employed: {
    n: number;
    oddsRatio: number;
    ciLower: number;
    ciUpper: number;
    p: number;
    byArm: { arm: string; n: number; events: number; percent: number }[];
  };
  categoryLevels: Record<'living' | 'contact' | 'support', string[]>;
  categories: CategoryExpected[];
}

const RANDOMIZED_ON = '2018-03-05';
const LOGISTIC_TOLERANCE = 1e-8;
const CONTINGENCY_TOLERANCE = 1e-10;
let now = new Date();
let t: TestApp;
let trialId: string;
const fixture = loadFixture<Fixture>('trial-mmrm-binary');

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
  const followUp = smcmFollowUp();
  const levels = fixture.categoryLevels;
  const trial = await createActiveTrial(t, {
    ...followUp,
    measures: [
      ...followUp.measures!,
      { code: 'living', label: 'Living situation', type: 'category', levels: levels.living, visits: ['m12'] },
      { code: 'contact', label: 'Contact with family', type: 'category', levels: levels.contact, visits: ['m12'] },
      { code: 'support', label: 'Support used', type: 'category', levels: levels.support, visits: ['m6'] },
    ],
  });
  trialId = trial.id;
  for (const p of fixture.participants) {
    now = new Date(`${RANDOMIZED_ON}T12:00:00Z`);
    const su = { id: await randomizedInArm(t, trialId, { siteCode: p.site, arm: p.arm, randomizedOn: RANDOMIZED_ON }) };
    const assessments = `/v1/trials/${trialId}/participants/${su.id}/assessments`;
    const record = async (visit: string, day: number, values: Record<string, unknown>) => {
      now = new Date(`${addDays(RANDOMIZED_ON, day + 5)}T12:00:00Z`);
      const body = { visit, assessedOn: addDays(RANDOMIZED_ON, day), values };
      const answer = await t.call('post', assessments, { body });
      if (answer.status !== 201) throw new Error(`assessment failed: ${answer.text}`);
    };
    await record('baseline', 0, { hope: { items: p.baselineItems }, employed: p.employedBaseline });
    if (p.m6Items) await record('m6', 182, { hope: { items: p.m6Items }, support: p.supportM6 });
    if (p.m12Items) {
      await record('m12', 365, {
        hope: { items: p.m12Items },
        living: p.livingM12,
        contact: p.contactM12,
        ...(p.employedM12 === null ? {} : { employed: p.employedM12 }),
      });
    }
  }
  now = new Date(`${addDays(RANDOMIZED_ON, 400)}T12:00:00Z`);
}, 300_000);
afterAll(() => t.close());

describe('trial endpoints against R', () => {
  it('model=mmrm matches nlme::gls (unstructured, REML) + emmeans on the same participants', async () => {
    const res = await t.call('get', `/v1/trials/${trialId}/outcomes/hope/analysis?model=mmrm&reference=TAU`);
    expect(res.status).toBe(200);
    expect(res.body.notEstimable).toBeUndefined();
    expect(res.body.covariates).toEqual(['baseline', 'site']);
    const { failures, worst } = compareMixedModel(res.body.mixedModel, fixture.mmrm, 'trial MMRM');
    expect(failures).toEqual([]);
    expect(worst['fixed effect estimate']).toBeLessThan(1e-6);
  });

  it("Table 2's adjusted odds ratio for employment at 12 months matches glm(binomial); n (%) per arm as R counts", async () => {
    const res = await t.call('get', `/v1/trials/${trialId}/outcomes/summary?reference=TAU`);
    expect(res.status).toBe(200);
    const row = res.body.rows.find(
      (r: { measure: string; visit: string }) => r.measure === 'employed' && r.visit === 'm12',
    );
    expect(row.type).toBe('binary');
    for (const arm of fixture.employed.byArm) {
      const got = row.byArm.find((a: { arm: string }) => a.arm === arm.arm);
      expect([got.n, got.events]).toEqual([arm.n, arm.events]);
      expect(relativeError(got.percent, arm.percent)).toBeLessThan(1e-12);
    }
    const or = row.differences.find((d: { method: string }) => d.method === 'adjusted_odds_ratio');
    expect(or.arm).toBe('SMCM');
    const e = fixture.employed;
    const errors = (['estimate', 'ciLower', 'ciUpper', 'p'] as const)
      .map((field) => {
        const wanted = field === 'estimate' ? e.oddsRatio : e[field];
        return { field, error: relativeError(or[field], wanted) };
      })
      .filter(({ error }) => !(error <= LOGISTIC_TOLERANCE));
    expect(errors).toEqual([]);
    expect(row.differences.map((d: { method: string }) => d.method)).toEqual([
      'risk_difference',
      'adjusted_odds_ratio',
    ]);
    const html = await t.call('get', `/v1/trials/${trialId}/outcomes/summary`, { headers: { Accept: 'text/html' } });
    expect(html.text).toContain(`adjusted OR ${or.estimate.toFixed(3)}`);
  });

  it("Table 2's category rows carry Table 1's test of arm × level, matching chisq.test / fisher.test", async () => {
    const res = await t.call('get', `/v1/trials/${trialId}/outcomes/summary?reference=TAU`);
    expect(res.status).toBe(200);
    const errors: string[] = [];
    for (const expected of fixture.categories) {
      const row = res.body.rows.find(
        (r: { measure: string; visit: string }) => r.measure === expected.measure && r.visit === expected.visit,
      );
      expect(row.type).toBe('category');
      for (const arm of expected.byArm) {
        const got = row.byArm.find((a: { arm: string }) => a.arm === arm.arm);
        expect(got.levels.map((l: { count: number }) => l.count)).toEqual(arm.counts);
      }
      expect([row.test.method, row.test.df, row.notEstimable]).toEqual([expected.method, expected.df, null]);
      for (const field of ['statistic', 'p'] as const) {
        const error =
          expected[field] === null
            ? row.test[field] === null
              ? 0
              : 1
            : relativeError(row.test[field], expected[field]);
        if (!(error <= CONTINGENCY_TOLERANCE))
          errors.push(`${expected.measure} ${field}: ${row.test[field]} vs R ${expected[field]}`);
      }
    }
    expect(errors).toEqual([]);
    expect(fixture.categories.map((c) => c.method)).toEqual(['chi_square', 'chi_square', 'fisher_exact']);
    const csv = await t.call('get', `/v1/trials/${trialId}/outcomes/summary`, { headers: { Accept: 'text/csv' } });
    const [header, ...lines] = parseCsv(csv.text);
    const support = lines.filter((l) => l[0] === 'support');
    expect(support.map((l) => l[header!.indexOf('testMethod')])).toEqual(['fisher_exact', 'fisher_exact']);
    expect(Number(support[0]![header!.indexOf('testP')])).toBe(
      res.body.rows.find((r: { measure: string }) => r.measure === 'support').test.p,
    );
    const html = await t.call('get', `/v1/trials/${trialId}/outcomes/summary`, { headers: { Accept: 'text/html' } });
    const living = res.body.rows.find((r: { measure: string }) => r.measure === 'living').test;
    expect(html.text).toContain(`<td>χ²(2) = ${living.statistic.toFixed(2)}</td>`);
    expect(html.text).toContain("<td>Fisher's exact test</td>");
  });
});
