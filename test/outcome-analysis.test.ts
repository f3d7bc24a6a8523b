import { qt } from '../src/lib/statistics';
import { smcmFollowUp } from '../scripts/smcm-trial';
import { addDays } from '../src/features/follow-up/calendar';
import { createActiveTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { parseCsv } from '../src/core/csv';
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
    descriptives: { arm: string; n: number; mean: number; sd: number }[];
  };
}

const TOLERANCE = 1e-10;
const RANDOMIZED_ON = '2018-03-05';
let now = new Date();
let t: TestApp;
let trialId: string;
let trialTitle: string;
const fixture = loadFixture<Fixture>('trial-outcomes');

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
  const trial = await createActiveTrial(t, smcmFollowUp());
  trialId = trial.id;
  trialTitle = trial.title;
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

describe('Table 2: GET /v1/trials/{id}/outcomes/summary', () => {
  const summary = (accept?: string, key?: string) =>
    t.call('get', `/v1/trials/${trialId}/outcomes/summary`, {
      key,
      ...(accept ? { headers: { Accept: accept } } : {}),
    });

  it('gives every measure at every post-baseline visit; the 12-month Hope row matches R', async () => {
    const res = await summary();
    expect(res.status).toBe(200);
    expect(res.body.reference).toBe('TAU');
    expect(res.body.rows.map((r: { measure: string; visit: string }) => `${r.measure}@${r.visit}`)).toEqual([
      'hope@m6',
      'hope@m12',
      'gse@m6',
      'gse@m12',
      'employed@m6',
      'employed@m12',
      'admissions@m6',
      'admissions@m12',
    ]);
    const hope = res.body.rows[1];
    const errors: string[] = [];
    for (const d of fixture.expected.descriptives) {
      const arm = hope.byArm.find((a: { arm: string }) => a.arm === d.arm);
      expect(arm.n).toBe(d.n);
      for (const field of ['mean', 'sd'] as const) {
        if (!(relativeError(arm[field], d[field]) <= TOLERANCE))
          errors.push(`${d.arm} ${field}: ${arm[field]} vs ${d[field]}`);
      }
    }
    const difference = hope.differences[0];
    const r = fixture.expected.differences[0]!;
    expect(difference).toMatchObject({ arm: 'SMCM', method: 'ancova' });
    for (const field of ['estimate', 'ciLower', 'ciUpper', 'p'] as const) {
      if (!(relativeError(difference[field], r[field]) <= TOLERANCE)) errors.push(`difference ${field}`);
    }
    expect(errors).toEqual([]);
    // Nobody was assessed at 6 months: every 6-month participant is missing and no difference is estimable.
    expect(res.body.rows[0].byArm.map((a: { n: number }) => a.n)).toEqual([0, 0]);
    expect(res.body.rows[0].notEstimable).toMatch(/cannot be fitted/);
    // Employment was not recorded: binary rows with no data are not estimable either.
    expect(res.body.rows[5].type).toBe('binary');
    expect(res.body.rows[5].notEstimable).not.toBeNull();
  });

  it('renders CSV (a line per measure, visit and arm) and printable HTML from the same table', async () => {
    const json = (await summary()).body;
    const csv = await summary('text/csv');
    expect(csv.status).toBe(200);
    const records = parseCsv(csv.text);
    expect(records[0]).toContain('difference');
    expect(records.length - 1).toBe(json.rows.length * 2);
    const smcm = records.find((r) => r[0] === 'hope' && r[2] === 'm12' && r[4] === 'SMCM')!;
    expect(Number(smcm[12])).toBeCloseTo(json.rows[1].differences[0].estimate, 12);
    const html = await summary('text/html');
    expect(html.status).toBe(200);
    expect(html.text).toContain('<h1>Outcomes by arm</h1>');
    expect(html.text).toContain('Herth Hope Index');
  });

  it('masks the arms for a blinded key in every format', async () => {
    const created = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded monitor', role: 'monitor', trialIds: [trialId], blinded: true },
    });
    const key = created.body.key as string;
    for (const accept of ['application/json', 'text/csv', 'text/html']) {
      const res = await summary(accept, key);
      expect([accept, res.status]).toEqual([accept, 200]);
      // The trial's own title is shown to every key (it names the arms in this trial); nothing else may.
      const text = res.text.split(trialTitle).join('');
      expect(text).not.toMatch(/SMCM|TAU|Strengths|Treatment as usual/i);
      expect(text).toContain('Group 1');
    }
  });
});

describe('forest plot: GET /v1/trials/{id}/outcomes/forest.svg', () => {
  it('draws one line per estimable adjusted difference, with the numbers of Table 2', async () => {
    const table = (await t.call('get', `/v1/trials/${trialId}/outcomes/summary`)).body;
    const res = await t.call('get', `/v1/trials/${trialId}/outcomes/forest.svg`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
    const estimable = table.rows.filter(
      (row: { type: string; differences: { estimate: number | null }[] }) =>
        row.type === 'continuous' && row.differences.some((d) => d.estimate !== null),
    );
    expect((res.text.match(/<g data-measure=/g) ?? []).length).toBe(estimable.length);
    const hope = table.rows[1].differences[0];
    expect(res.text).toContain(
      `${hope.estimate.toFixed(2)} (${hope.ciLower.toFixed(2)} to ${hope.ciUpper.toFixed(2)})`,
    );
    expect(res.text).toContain('Herth Hope Index, m12: SMCM − TAU');

    const created = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded forest', role: 'statistician', trialIds: [trialId], blinded: true },
    });
    const masked = await t.call('get', `/v1/trials/${trialId}/outcomes/forest.svg`, { key: created.body.key });
    expect(masked.status).toBe(200);
    const text = masked.text.split(trialTitle).join('');
    expect(text).not.toMatch(/SMCM|TAU|Strengths|Treatment as usual/i);
    expect(text).toMatch(/Herth Hope Index, m12: Group \d − Group \d/);
  });
});

describe('trajectory plot: GET /v1/trials/{id}/outcomes/{measure}/trajectory.svg', () => {
  it('states per visit and arm the mean with its 95% CI, the means of Table 2, n and baseline included', async () => {
    const table = (await t.call('get', `/v1/trials/${trialId}/outcomes/summary`)).body;
    const res = await t.call('get', `/v1/trials/${trialId}/outcomes/hope/trajectory.svg`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(res.text).toMatch(/role="img"/);
    const desc = /<desc id="trajectory-desc">([^<]*)<\/desc>/.exec(res.text)![1]!;
    for (const arm of table.rows[1].byArm as { arm: string; n: number; mean: number; sd: number }[]) {
      const half = (qt(0.975, arm.n - 1) * arm.sd) / Math.sqrt(arm.n);
      expect(desc).toContain(
        `m12: mean ${arm.mean.toFixed(2)} (95% CI ${(arm.mean - half).toFixed(2)} to ${(arm.mean + half).toFixed(2)}), n = ${arm.n}`,
      );
      const baselineN = fixture.participants.filter((p) => p.arm === arm.arm).length;
      expect(desc).toMatch(
        new RegExp(`${arm.arm}: baseline: mean [0-9.]+ \\(95% CI [0-9.]+ to [0-9.]+\\), n = ${baselineN}; m6: no data`),
      );
    }
  });

  it('masks arms for a blinded key and refuses a binary measure (422) and an unknown one (404)', async () => {
    const created = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded trajectory', role: 'monitor', trialIds: [trialId], blinded: true },
    });
    const masked = await t.call('get', `/v1/trials/${trialId}/outcomes/hope/trajectory.svg?population=per_protocol`, {
      key: created.body.key,
    });
    expect(masked.status).toBe(200);
    const text = masked.text.split(trialTitle).join('');
    expect(text).not.toMatch(/SMCM|TAU|Strengths|Treatment as usual/i);
    expect(text).toMatch(/Group 1: baseline: mean/);
    expect(text).toContain('per-protocol population');
    expect((await t.call('get', `/v1/trials/${trialId}/outcomes/employed/trajectory.svg`)).status).toBe(422);
    expect((await t.call('get', `/v1/trials/${trialId}/outcomes/nothing/trajectory.svg`)).status).toBe(404);
  });
});
