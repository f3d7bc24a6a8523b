import { smcmFollowUp } from '../scripts/smcm-trial';
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
 *  - Table 2's employed@m12 row: the adjusted odds ratio against glm(binomial), n and events per arm.
 */
interface Participant {
  arm: 'SMCM' | 'TAU';
  site: 'A' | 'B';
  baselineItems: number[];
  m6Items: number[] | null;
  m12Items: number[] | null;
  employedBaseline: boolean;
  employedM12: boolean | null;
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
}

const RANDOMIZED_ON = '2018-03-05';
const LOGISTIC_TOLERANCE = 1e-8;
let now = new Date();
let t: TestApp;
let trialId: string;
const fixture = loadFixture<Fixture>('trial-mmrm-binary');

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
  const trial = await createActiveTrial(t, smcmFollowUp());
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
    if (p.m6Items) await record('m6', 182, { hope: { items: p.m6Items } });
    if (p.m12Items) {
      await record('m12', 365, {
        hope: { items: p.m12Items },
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
});
