import { smcmFollowUp } from '../scripts/smcm-trial';
import { addDays } from '../src/features/follow-up/calendar';
import { createActiveTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { loadFixture, relativeError } from './support/r-reference';
import { startTestApp, TestApp } from './support/test-app';

/*
 * GET /v1/trials/{id}/outcomes/{measure}/analysis on a trial loaded from test/fixtures/r/trial-outcomes.json
 * (generate-trial-outcomes.R: seeded items, lm + emmeans reference). Each participant is screened, consented and
 * randomized through the API; the allocated arm is then set to the fixture's arm and the randomization dated
 * back (as test/follow-up.test.ts does), so that R and trialdesk analyse the same data.
 */
interface Fixture {
  participants: { arm: 'SMCM' | 'TAU'; site: 'A' | 'B'; baselineItems: number[]; m12Items: number[] | null }[];
  expected: {
    n: number;
    residualDf: number;
    sigma: number;
    rSquared: number;
    coefficients: { term: string; estimate: number; se: number; t: number; p: number }[];
    groups: { group: string; lsMean: number; se: number; ciLower: number; ciUpper: number }[];
    differences: { estimate: number; se: number; t: number; p: number; ciLower: number; ciUpper: number }[];
    missingOutcome: { TAU: number; SMCM: number };
  };
}

const TOLERANCE = 1e-10;
const RANDOMIZED_ON = '2018-03-05';
let now = new Date();
let t: TestApp;
let trialId: string;
const fixture = loadFixture<Fixture>('trial-outcomes');

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
  const trial = await createActiveTrial(t, smcmFollowUp());
  trialId = trial.id;
  for (const p of fixture.participants) {
    now = new Date(`${RANDOMIZED_ON}T12:00:00Z`);
    const participant = await screen(
      t,
      trialId,
      serviceUserInput({ siteCode: p.site, screenedOn: addDays(RANDOMIZED_ON, -4) }),
    );
    await grantConsent(t, trialId, participant.id, 'trial', '1.0', addDays(RANDOMIZED_ON, -3));
    const res = await t.call('post', `/v1/trials/${trialId}/participants/${participant.id}/randomization`);
    if (res.status !== 201) throw new Error(`randomization failed: ${res.text}`);
    await t.db
      .knex('allocations')
      .where({ trial_id: trialId, participant_id: participant.id })
      .update({ randomized_at: `${RANDOMIZED_ON}T02:00:00Z`, arm_code: p.arm });
    const assessments = `/v1/trials/${trialId}/participants/${participant.id}/assessments`;
    const baseline = { visit: 'baseline', assessedOn: RANDOMIZED_ON, values: { hope: { items: p.baselineItems } } };
    expect((await t.call('post', assessments, { body: baseline })).status).toBe(201);
    if (p.m12Items) {
      now = new Date(`${addDays(RANDOMIZED_ON, 370)}T12:00:00Z`);
      const m12 = { visit: 'm12', assessedOn: addDays(RANDOMIZED_ON, 365), values: { hope: { items: p.m12Items } } };
      expect((await t.call('post', assessments, { body: m12 })).status).toBe(201);
    }
  }
  now = new Date(`${addDays(RANDOMIZED_ON, 400)}T12:00:00Z`);
}, 180_000);
afterAll(() => t.close());

const analysis = (query: string, key?: string) =>
  t.call('get', `/v1/trials/${trialId}/outcomes/hope/analysis${query}`, { key });

describe('trial outcome analysis: ANCOVA of the 12-month Herth Hope Index', () => {
  it('matches lm() + emmeans on the ITT population (baseline score and site), with counts and methods', async () => {
    const res = await analysis('?population=itt&reference=TAU');
    expect(res.status).toBe(200);
    const e = fixture.expected;
    const a = res.body.ancova;
    const errors: string[] = [];
    const close = (label: string, actual: number, wanted: number) => {
      const error = relativeError(actual, wanted);
      if (!(error <= TOLERANCE)) errors.push(`${label}: got ${actual}, R ${wanted} (${error})`);
    };
    expect([a.n, a.residualDf]).toEqual([e.n, e.residualDf]);
    close('sigma', a.sigma, e.sigma);
    close('rSquared', a.rSquared, e.rSquared);
    expect(a.coefficients.map((c: { term: string }) => c.term)).toEqual([
      '(Intercept)',
      'groupSMCM',
      'baseline',
      'siteB',
    ]);
    e.coefficients.forEach((c, j) => {
      for (const field of ['estimate', 'se', 't', 'p'] as const)
        close(`${c.term} ${field}`, a.coefficients[j][field], c[field]);
    });
    e.groups.forEach((g, i) => {
      expect(a.groups[i].group).toBe(g.group);
      for (const field of ['lsMean', 'se', 'ciLower', 'ciUpper'] as const)
        close(`${g.group} ${field}`, a.groups[i][field], g[field]);
    });
    for (const field of ['estimate', 'se', 't', 'p', 'ciLower', 'ciUpper'] as const) {
      close(`difference ${field}`, a.differences[0][field], e.differences[0]![field]);
    }
    expect(errors).toEqual([]);

    expect(res.body).toMatchObject({ measure: 'hope', visit: 'm12', model: 'ancova', reference: 'TAU' });
    expect(res.body.covariates).toEqual(['baseline', 'site']);
    const byArm = Object.fromEntries(res.body.arms.map((arm: { arm: string }) => [arm.arm, arm]));
    for (const arm of ['TAU', 'SMCM'] as const) {
      const randomized = fixture.participants.filter((p) => p.arm === arm).length;
      expect(byArm[arm]).toMatchObject({
        randomized,
        analysed: randomized - e.missingOutcome[arm],
        missingOutcome: e.missingOutcome[arm],
        missingBaseline: 0,
        notYetDue: 0,
      });
    }
    expect(res.body.methods).toMatch(/analysis of covariance of the score on arm, baseline score and centre/);
    expect(res.body.population.definition).toMatch(/^Intention to treat/);
  });

  it('uses the trial’s primary visit and the last arm as reference by default', async () => {
    const res = await analysis('');
    expect(res.status).toBe(200);
    expect([res.body.visit, res.body.reference, res.body.population.code]).toEqual(['m12', 'TAU', 'itt']);
  });

  it('answers the MMRM as not estimable when a post-baseline visit has no data, saying which', async () => {
    // Nobody was assessed at 6 months: the mixed model cannot be fitted and the answer says why.
    const res = await analysis('?model=mmrm');
    expect(res.status).toBe(200);
    expect(res.body.mixedModel).toBeUndefined();
    expect(res.body.notEstimable).toMatch(/mmrm cannot be fitted.*no outcome at visit m6/);
    expect(res.body.methods).toMatch(/mixed model for repeated measures/);
  });

  it('refuses a non-numeric measure, a baseline visit and an unknown reference; 404 for an unknown measure', async () => {
    expect((await t.call('get', `/v1/trials/${trialId}/outcomes/employed/analysis`)).status).toBe(422);
    expect((await analysis('?visit=baseline')).status).toBe(422);
    expect((await analysis('?reference=Nobody')).status).toBe(422);
    expect((await t.call('get', `/v1/trials/${trialId}/outcomes/nothing/analysis`)).status).toBe(404);
  });

  it('shows a blinded key masked arms and the same numbers', async () => {
    const created = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded statistician', role: 'statistician', trialIds: [trialId], blinded: true },
    });
    const key = created.body.key as string;
    const open = await analysis('?reference=TAU');
    const masked = await analysis('', key);
    expect(masked.status).toBe(200);
    expect(masked.text).not.toMatch(/SMCM|TAU|Strengths|Treatment as usual/);
    expect(masked.body.arms.map((arm: { arm: string }) => arm.arm).sort()).toEqual(['Group 1', 'Group 2']);
    const difference = Math.abs(open.body.ancova.differences[0].estimate);
    expect(Math.abs(masked.body.ancova.differences[0].estimate)).toBeCloseTo(difference, 12);
  });
});
