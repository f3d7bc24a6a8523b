import { checkConsortInvariants } from '../src/features/consort/consort';
import { addSites, createTrial, grantConsent, screen, serviceUserInput, Trial } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const TODAY = day(0);

let t: TestApp;
let trial: Trial;
const ids: Record<string, string> = {};

const event = (who: string, body: object) =>
  t.call('post', `/v1/trials/${trial.id}/participants/${ids[who]}/events`, { body });
const consort = (query = '') => t.call('get', `/v1/trials/${trial.id}/consort${query}`);

function expectConsistent(report: {
  enrollment: {
    assessedForEligibility: number;
    excluded: { total: number };
    pendingRandomization: number;
    randomized: number;
  };
  arms: { allocated: number }[];
}) {
  expect(checkConsortInvariants(report as never)).toEqual([]);
  const e = report.enrollment;
  expect(e.assessedForEligibility).toBe(e.excluded.total + e.pendingRandomization + e.randomized);
  expect(report.arms.reduce((sum, arm) => sum + arm.allocated, 0)).toBe(e.randomized);
}

beforeAll(async () => {
  t = await startTestApp();
  trial = await createTrial(t, { randomization: { method: 'list' } });
  await addSites(t, trial.id, ['A', 'B']);
  await t.call('put', `/v1/trials/${trial.id}/allocation-table`, {
    body: { rows: ['SMCM', 'TAU', 'SMCM', 'TAU'].map((arm) => ({ stratum: {}, arm })) },
  });
  await t.call('post', `/v1/trials/${trial.id}/activation`);
  const eligible = serviceUserInput().eligibility;
  const screenedOn = day(-7);
  ids.S1 = (
    await screen(t, trial.id, serviceUserInput({ screenedOn, eligibility: { ...eligible, chinese: false } }))
  ).id;
  ids.S2 = (
    await screen(
      t,
      trial.id,
      serviceUserInput({
        screenedOn,
        siteCode: 'B',
        eligibility: { ...eligible, chinese: false, overt_symptoms: true },
      }),
    )
  ).id;
  for (const name of ['S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10'])
    ids[name] = (await screen(t, trial.id, serviceUserInput({ screenedOn }))).id;
});
afterAll(() => t.close());

describe('follow-up events', () => {
  it('refuses events that do not fit the participant, writing nothing', async () => {
    const before = await t.db.knex('participant_events').count<{ n: number }[]>('* as n').first();
    const lost = await event('S6', { type: 'lost_to_follow_up', occurredOn: TODAY });
    expect([lost.status, lost.body.type]).toEqual([409, 'https://trialdesk.dev/problems/event-not-allowed']);
    const early = await event('S6', { type: 'declined', occurredOn: day(-8) });
    expect([early.status, early.body.type]).toEqual([409, 'https://trialdesk.dev/problems/event-before-screening']);
    const future = await event('S6', { type: 'declined', occurredOn: day(3) });
    expect([future.status, future.body.errors]).toEqual([
      422,
      [{ pointer: '/occurredOn', detail: 'is in the future' }],
    ]);
    const notConsented = await event('S6', { type: 'not_randomized', occurredOn: TODAY });
    expect(notConsented.body.type).toBe('https://trialdesk.dev/problems/event-not-allowed');
    const ineligible = await event('S1', { type: 'declined', occurredOn: TODAY });
    expect(ineligible.body.type).toBe('https://trialdesk.dev/problems/event-not-allowed');
    expect(await t.db.knex('participant_events').count<{ n: number }[]>('* as n').first()).toEqual(before);
  });

  it('moves participants through every CONSORT box, consistent at every step', async () => {
    expectConsistent((await consort()).body);
    await t.call('post', `/v1/trials/${trial.id}/participants/${ids.S3}/consents`, {
      body: {
        form: 'trial',
        version: '1.0',
        decision: 'declined',
        signedOn: day(-6),
        obtainedBy: 'IW',
        method: 'written',
        reason: 'no time',
      },
    });
    expectConsistent((await consort()).body);
    expect((await event('S4', { type: 'declined', occurredOn: day(-5), reason: 'moved away' })).status).toBe(201);
    await grantConsent(t, trial.id, ids.S5!, 'trial', '1.0', day(-6));
    expect(
      (await event('S5', { type: 'not_randomized', occurredOn: day(-4), reason: 'admitted to hospital' })).status,
    ).toBe(201);
    expectConsistent((await consort()).body);
    for (const name of ['S7', 'S8', 'S9', 'S10']) {
      await grantConsent(t, trial.id, ids[name]!, 'trial', '1.0', day(-6));
      expect((await t.call('post', `/v1/trials/${trial.id}/participants/${ids[name]}/randomization`)).status).toBe(201);
      expectConsistent((await consort()).body);
    }
    expect(
      (await event('S7', { type: 'intervention_not_received', occurredOn: TODAY, reason: 'refused sessions' })).status,
    ).toBe(201);
    expect(
      (await event('S7', { type: 'excluded_from_analysis', occurredOn: TODAY, reason: 'no outcome data' })).status,
    ).toBe(201);
    expect((await event('S8', { type: 'lost_to_follow_up', occurredOn: TODAY, reason: 'moved abroad' })).status).toBe(
      201,
    );
    const withdraw = async (name: string, scope: string) => {
      const consent = (await t.call('get', `/v1/trials/${trial.id}/participants/${ids[name]}`)).body.consents[0];
      await t.call('post', `/v1/trials/${trial.id}/participants/${ids[name]}/consents/${consent.id}/withdrawal`, {
        body: { withdrawnOn: TODAY, reason: 'personal', scope },
      });
    };
    await withdraw('S9', 'intervention');
    await withdraw('S10', 'all');
    expect(
      (await event('S10', { type: 'excluded_from_analysis', occurredOn: TODAY, reason: 'protocol deviation' })).status,
    ).toBe(201);
    expect(
      (await event('S10', { type: 'included_in_analysis', occurredOn: TODAY, reason: 'deviation judged minor' }))
        .status,
    ).toBe(201);
    const mistaken = await event('S7', {
      type: 'lost_to_follow_up',
      occurredOn: TODAY,
      reason: 'recorded for the wrong person',
    });
    const retracted = await t.call(
      'post',
      `/v1/trials/${trial.id}/participants/${ids.S7}/events/${mistaken.body.id}/retraction`,
      { body: { reason: 'wrong participant' } },
    );
    expect(retracted.status).toBe(201);
    expect(retracted.body.retraction).toMatchObject({ reason: 'wrong participant' });
    const twice = await t.call(
      'post',
      `/v1/trials/${trial.id}/participants/${ids.S7}/events/${mistaken.body.id}/retraction`,
      { body: { reason: 'again' } },
    );
    expect(twice.body.type).toBe('https://trialdesk.dev/problems/event-already-retracted');

    const report = (await consort()).body;
    expectConsistent(report);
    expect(report.asOf).toBe(TODAY);
    expect(report.enrollment).toEqual({
      assessedForEligibility: 10,
      excluded: {
        total: 5,
        notMeetingInclusionCriteria: {
          total: 2,
          reasons: [
            { reason: 'age18', text: 'Aged 18 or above', count: 0 },
            { reason: 'chinese', text: 'Ethnically Chinese', count: 2 },
            { reason: 'cantonese', text: 'Cantonese speaking', count: 0 },
            { reason: 'written_consent', text: 'Able to give written informed consent', count: 0 },
            {
              reason: 'immediate_risk',
              text: 'Likely to engage in immediate risk behaviour (suicide and/or violence)',
              count: 0,
            },
            {
              reason: 'overt_symptoms',
              text: 'Overt symptoms; cannot sustain a meaningful conversation for more than 10 minutes',
              count: 1,
            },
          ],
        },
        declinedToParticipate: {
          total: 2,
          reasons: [
            { reason: 'moved away', count: 1 },
            { reason: 'no time', count: 1 },
          ],
        },
        otherReasons: { total: 1, reasons: [{ reason: 'admitted to hospital', count: 1 }] },
      },
      pendingRandomization: 1,
      randomized: 4,
    });
    expect(report.arms).toEqual([
      {
        arm: 'SMCM',
        allocated: 2,
        receivedAllocatedIntervention: 1,
        didNotReceiveAllocatedIntervention: { total: 1, reasons: [{ reason: 'refused sessions', count: 1 }] },
        lostToFollowUp: { total: 0, reasons: [] },
        discontinuedIntervention: { total: 1, reasons: [{ reason: 'withdrew consent', count: 1 }] },
        analysed: 1,
        excludedFromAnalysis: { total: 1, reasons: [{ reason: 'no outcome data', count: 1 }] },
        harms: { atRisk: 2, participantsWithEvent: 0, participantsWithSeriousEvent: 0, events: 0, seriousEvents: 0 },
      },
      {
        arm: 'TAU',
        allocated: 2,
        receivedAllocatedIntervention: 2,
        didNotReceiveAllocatedIntervention: { total: 0, reasons: [] },
        lostToFollowUp: {
          total: 2,
          reasons: [
            { reason: 'moved abroad', count: 1 },
            { reason: 'withdrew consent', count: 1 },
          ],
        },
        discontinuedIntervention: { total: 0, reasons: [] },
        analysed: 2,
        excludedFromAnalysis: { total: 0, reasons: [] },
        harms: { atRisk: 2, participantsWithEvent: 0, participantsWithSeriousEvent: 0, events: 0, seriousEvents: 0 },
      },
    ]);
    const s4 = await t.call('get', `/v1/trials/${trial.id}/participants/${ids.S4}`);
    expect([s4.body.status, s4.body.events.map((e: { type: string }) => e.type)]).toEqual(['declined', ['declined']]);
    expect((await t.call('get', `/v1/trials/${trial.id}/participants/${ids.S5}`)).body.status).toBe('not_randomized');
  });

  it('counts only what had happened by asOf', async () => {
    const past = (await consort(`?asOf=${day(-3)}`)).body;
    expectConsistent(past);
    expect(past.enrollment).toMatchObject({
      assessedForEligibility: 10,
      pendingRandomization: 5,
      randomized: 0,
      excluded: { total: 5 },
    });
    const beforeDeclines = (await consort(`?asOf=${day(-6)}`)).body;
    expect(beforeDeclines.enrollment.excluded.declinedToParticipate.total).toBe(1);
    expect(beforeDeclines.enrollment.excluded.otherReasons.total).toBe(0);
    const beforeScreening = (await consort(`?asOf=${day(-30)}`)).body;
    expect(beforeScreening.enrollment.assessedForEligibility).toBe(0);
    expectConsistent(beforeScreening);
  });

  it('filters by site and keeps site-limited coordinators to their sites', async () => {
    const siteB = (await consort('?siteCode=B')).body;
    expect(siteB.enrollment).toMatchObject({ assessedForEligibility: 1, excluded: { total: 1 } });
    expect(siteB.siteCode).toBe('B');
    const { key } = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] });
    expect(
      (await t.call('get', `/v1/trials/${trial.id}/consort`, { key })).body.enrollment.assessedForEligibility,
    ).toBe(1);
    expect(
      (await t.call('get', `/v1/trials/${trial.id}/consort?siteCode=A`, { key })).body.enrollment
        .assessedForEligibility,
    ).toBe(0);
  });

  it('draws the same numbers as SVG and DOT', async () => {
    const report = (await consort()).body;
    const svg = await t.call('get', `/v1/trials/${trial.id}/consort.svg`);
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    const shown = [...svg.text.matchAll(/<tspan[^>]*data-pointer="([^"]+)"[^>]*>n = (\d+)<\/tspan>/g)].map(
      (m) => [m[1]!, Number(m[2])] as const,
    );
    expect(shown.length).toBeGreaterThan(20);
    for (const [pointer, value] of shown) {
      const actual = pointer
        .split('/')
        .slice(1)
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], report);
      expect([pointer, value]).toEqual([pointer, actual]);
    }
    const dot = await t.call('get', `/v1/trials/${trial.id}/consort.svg?format=dot`);
    expect(dot.headers['content-type']).toMatch(/^text\/vnd\.graphviz/);
    expect(dot.text).toMatch(/^digraph/);
    expect(dot.text).toContain('n = 10');
  });

  it('shows blinded keys Group 1 and Group 2 in counts and diagram', async () => {
    const created = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded DMC statistician', role: 'statistician', trialIds: [trial.id], blinded: true },
    });
    for (const path of ['consort', 'consort.svg', 'consort.svg?format=dot']) {
      const res = await t.call('get', `/v1/trials/${trial.id}/${path}`, { key: created.body.key });
      // The trial's own code (SMCM-HK-…) may appear in the title; arms may not.
      expect(res.text).not.toMatch(
        /(Allocated to |"arm":")(SMCM|TAU)|Treatment as usual|Strengths model case management"/,
      );
      expect(res.text).toContain('Group 1');
    }
  });
});

describe('analysis export', () => {
  it('streams one row per participant with status, arm, dates, baseline and follow-up flags, described by the dictionary', async () => {
    const res = await t.call('get', `/v1/trials/${trial.id}/export/participants.csv`, {
      headers: { Accept: 'text/csv' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...rows] = res.text
      .trim()
      .split('\r\n')
      .map((line) => line.split(','));
    expect(rows).toHaveLength(10);
    const col = (name: string) => header!.indexOf(name);
    const byId = new Map(rows.map((r) => [r[col('participant_id')], r]));
    const s7 = byId.get(ids.S7)!;
    expect([
      s7[col('status')],
      s7[col('arm')],
      s7[col('consent_status')],
      s7[col('intervention_not_received_on')],
      s7[col('excluded_from_analysis_on')],
      s7[col('lost_to_follow_up_on')],
    ]).toEqual(['randomized', 'SMCM', 'granted', TODAY, TODAY, '']);
    const s10 = byId.get(ids.S10)!;
    expect([
      s10[col('status')],
      s10[col('consent_status')],
      s10[col('withdrawal_scope')],
      s10[col('excluded_from_analysis_on')],
    ]).toEqual(['withdrawn', 'withdrawn', 'all', '']);
    expect(byId.get(ids.S1)![col('unmet_criteria')]).toBe('chinese');
    expect(byId.get(ids.S3)![col('consent_status')]).toBe('declined');
    expect(byId.get(ids.S7)![col('baseline_age')]).toBe('45');

    const dictionary = await t.call('get', `/v1/trials/${trial.id}/export/dictionary.csv`);
    const described = dictionary.text
      .trim()
      .split('\r\n')
      .slice(1)
      .map((line) => line.split(',')[0]);
    expect(described).toEqual(header);

    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded export', role: 'statistician', trialIds: [trial.id], blinded: true },
    });
    const masked = await t.call('get', `/v1/trials/${trial.id}/export/participants.csv`, { key: blinded.body.key });
    expect(masked.text).not.toMatch(/,SMCM,|,TAU,/);
    expect(masked.text).toMatch(/,Group [12],/);
    const monitor = await t.createKey('monitor');
    expect((await t.call('get', `/v1/trials/${trial.id}/export/participants.csv`, { key: monitor.key })).status).toBe(
      403,
    );
  });
});
