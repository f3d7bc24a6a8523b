import { smcmDelivery, smcmFollowUp } from '../scripts/smcm-trial';
import { addDays } from '../src/features/follow-up/calendar';
import { caseWorkerInput, createActiveTrial, screen } from './support/factories';
import { relativeError } from './support/r-reference';
import { randomizedInArm } from './support/outcome-trial';
import { startTestApp, TestApp } from './support/test-app';

/*
 * The per-protocol population through the API: a trial with a delivery plan (6 of 13 fortnightly sessions in
 * 182 days, both arms), participants designed to fall in or out of it for each reason, then the analysis
 * dataset's flag column, the analysis's counts and an ANCOVA recomputed by POST /v1/stats/ancova on exactly
 * the participants the design says are in.
 */
const RANDOMIZED_ON = '2018-03-05';
let now = new Date();
const setToday = (date: string) => {
  now = new Date(`${date}T12:00:00Z`);
};
let t: TestApp;
let trialId: string;

type Reason = 'excluded_from_analysis' | 'major_deviation' | 'below_minimum_sessions';
interface Design {
  name: string;
  arm: 'SMCM' | 'TAU';
  site: 'A' | 'B';
  sessions: number;
  /** One of the sessions is by a case worker of the other arm (a derived major deviation). */
  contaminated?: boolean;
  recordedDeviation?: 'major' | 'minor';
  /** Analysis events in order; `retracted` is excluded_from_analysis then retracted. */
  events?: ('excluded_from_analysis' | 'included_in_analysis' | 'retracted')[];
  reasons: Reason[];
}

const design: Design[] = [
  { name: 'S0', arm: 'SMCM', site: 'A', sessions: 6, reasons: [] },
  { name: 'S1', arm: 'SMCM', site: 'A', sessions: 3, reasons: ['below_minimum_sessions'] },
  { name: 'S2', arm: 'SMCM', site: 'B', sessions: 7, recordedDeviation: 'major', reasons: ['major_deviation'] },
  {
    name: 'S3',
    arm: 'SMCM',
    site: 'B',
    sessions: 6,
    events: ['excluded_from_analysis'],
    reasons: ['excluded_from_analysis'],
  },
  {
    name: 'S4',
    arm: 'SMCM',
    site: 'A',
    sessions: 8,
    events: ['excluded_from_analysis', 'included_in_analysis'],
    reasons: [],
  },
  { name: 'S5', arm: 'SMCM', site: 'B', sessions: 6, events: ['retracted'], reasons: [] },
  { name: 'S6', arm: 'SMCM', site: 'A', sessions: 9, reasons: [] },
  { name: 'T0', arm: 'TAU', site: 'A', sessions: 6, reasons: [] },
  { name: 'T1', arm: 'TAU', site: 'B', sessions: 6, contaminated: true, reasons: ['major_deviation'] },
  { name: 'T2', arm: 'TAU', site: 'A', sessions: 7, recordedDeviation: 'minor', reasons: [] },
  {
    name: 'T3',
    arm: 'TAU',
    site: 'B',
    sessions: 2,
    events: ['excluded_from_analysis'],
    reasons: ['excluded_from_analysis', 'below_minimum_sessions'],
  },
  { name: 'T4', arm: 'TAU', site: 'A', sessions: 6, reasons: [] },
  { name: 'T5', arm: 'TAU', site: 'B', sessions: 8, reasons: [] },
  { name: 'T6', arm: 'TAU', site: 'B', sessions: 6, reasons: [] },
];

/** Hope items (1-4) that differ between participants and visits without any randomness. */
const items = (i: number, visit: number) => Array.from({ length: 12 }, (_, j) => 1 + ((i * 7 + j * 3 + visit * 5) % 4));
const ids = new Map<string, string>();

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
  setToday(RANDOMIZED_ON);
  const trial = await createActiveTrial(t, { ...smcmFollowUp(), delivery: smcmDelivery() });
  trialId = trial.id;
  const workers = new Map<string, string>();
  for (const arm of ['SMCM', 'TAU'])
    for (const site of ['A', 'B']) {
      const w = await screen(t, trialId, caseWorkerInput({ siteCode: site, screenedOn: '2017-12-01' }));
      const res = await t.call('post', `/v1/trials/${trialId}/participants/${w.id}/assignment`, {
        body: { arm, reason: 'centre roster' },
      });
      if (res.status !== 201 && res.status !== 200) throw new Error(`assignment failed: ${res.text}`);
      workers.set(`${arm}${site}`, w.id);
    }
  for (const [i, p] of design.entries()) {
    setToday(RANDOMIZED_ON);
    const su = { id: await randomizedInArm(t, trialId, { siteCode: p.site, arm: p.arm, randomizedOn: RANDOMIZED_ON }) };
    ids.set(p.name, su.id);
    const assessments = `/v1/trials/${trialId}/participants/${su.id}/assessments`;
    const baseline = { visit: 'baseline', assessedOn: RANDOMIZED_ON, values: { hope: { items: items(i, 0) } } };
    expect((await t.call('post', assessments, { body: baseline })).status).toBe(201);
    setToday('2018-09-10');
    for (let s = 0; s < p.sessions; s++) {
      const other = p.arm === 'SMCM' ? 'TAU' : 'SMCM';
      const worker = workers.get(`${p.contaminated && s === 0 ? other : p.arm}${p.site}`)!;
      const body = {
        participantId: su.id,
        caseWorkerId: worker,
        date: addDays(RANDOMIZED_ON, 10 + 14 * s),
        durationMinutes: 30,
        mode: 'in_person',
        kind: p.arm === 'SMCM' ? 'smcm_session' : 'tau_contact',
        toolsUsed: [],
      };
      const session = await t.call('post', `/v1/trials/${trialId}/sessions`, { body });
      if (session.status !== 201) throw new Error(`session failed: ${session.text}`);
    }
    if (p.recordedDeviation) {
      const deviation = await t.call('post', `/v1/trials/${trialId}/deviations`, {
        body: {
          participantId: su.id,
          category: 'eligibility',
          severity: p.recordedDeviation,
          occurredOn: '2018-05-01',
          description: 'found at monitoring',
        },
      });
      expect(deviation.status).toBe(201);
    }
    setToday(addDays(RANDOMIZED_ON, 370));
    const m12 = { visit: 'm12', assessedOn: addDays(RANDOMIZED_ON, 365), values: { hope: { items: items(i, 1) } } };
    expect((await t.call('post', assessments, { body: m12 })).status).toBe(201);
    for (const [k, event] of (p.events ?? []).entries()) {
      const occurredOn = addDays(RANDOMIZED_ON, 366 + k);
      const type = event === 'retracted' ? 'excluded_from_analysis' : event;
      const recorded = await t.call('post', `/v1/trials/${trialId}/participants/${su.id}/events`, {
        body: { type, occurredOn, reason: 'protocol review' },
      });
      expect(recorded.status).toBe(201);
      if (event === 'retracted') {
        const retraction = await t.call(
          'post',
          `/v1/trials/${trialId}/participants/${su.id}/events/${recorded.body.id}/retraction`,
          { body: { reason: 'recorded for the wrong person' } },
        );
        expect(retraction.status).toBe(201);
      }
    }
  }
  setToday(addDays(RANDOMIZED_ON, 400));
}, 240_000);
afterAll(() => t.close());

const nameOf = (id: string) => [...ids].find(([, v]) => v === id)![0];

describe('per-protocol population', () => {
  it('is a flag column of the analysis dataset with the reasons, as designed', async () => {
    const res = await t.call('get', `/v1/trials/${trialId}/analysis-dataset?limit=5000`);
    expect(res.status).toBe(200);
    expect(res.body.columns).toEqual(
      expect.arrayContaining(['population_itt', 'population_per_protocol', 'per_protocol_exclusions']),
    );
    const m12 = res.body.items.filter((row: { visit: string }) => row.visit === 'm12');
    expect(m12).toHaveLength(design.length);
    for (const row of m12) {
      const p = design.find((d) => d.name === nameOf(row.participantId))!;
      expect([p.name, row.population_per_protocol, row.per_protocol_exclusions]).toEqual([
        p.name,
        p.reasons.length === 0,
        p.reasons.length === 0 ? null : p.reasons.join(';'),
      ]);
    }
  });

  it('analyses only the per-protocol participants, counts them in and out with reasons, and matches the ANCOVA', async () => {
    const res = await t.call(
      'get',
      `/v1/trials/${trialId}/outcomes/hope/analysis?population=per_protocol&reference=TAU`,
    );
    expect(res.status).toBe(200);
    expect(res.body.population.code).toBe('per_protocol');
    expect(res.body.population.definition).toMatch(/^Per protocol/);
    expect(res.body.methods).toMatch(/in the per-protocol population/);
    for (const arm of ['SMCM', 'TAU'] as const) {
      const own = design.filter((p) => p.arm === arm);
      const included = own.filter((p) => p.reasons.length === 0);
      const count = (reason: Reason) => own.filter((p) => p.reasons.includes(reason)).length;
      expect(res.body.arms.find((a: { arm: string }) => a.arm === arm)).toEqual({
        arm,
        randomized: own.length,
        analysed: included.length,
        missingOutcome: 0,
        missingBaseline: 0,
        notYetDue: 0,
        perProtocol: {
          included: included.length,
          excluded: own.length - included.length,
          reasons: {
            excluded_from_analysis: count('excluded_from_analysis'),
            major_deviation: count('major_deviation'),
            below_minimum_sessions: count('below_minimum_sessions'),
          },
        },
      });
    }
    // The same model on exactly the designed per-protocol participants, through the stateless endpoint.
    const rows = design.flatMap((p) => {
      if (p.reasons.length > 0) return [];
      const i = design.indexOf(p);
      const score = (v: number) => {
        const raw = items(i, v);
        return raw.reduce((sum, x, j) => sum + (j === 2 || j === 5 ? 5 - x : x), 0);
      };
      return [{ group: p.arm, outcome: score(1), covariates: { baseline: score(0), site: p.site } }];
    });
    const direct = await t.call('post', '/v1/stats/ancova', {
      body: {
        rows,
        reference: 'TAU',
        covariates: [
          { name: 'baseline', type: 'number' },
          { name: 'site', type: 'category' },
        ],
      },
    });
    expect(direct.status).toBe(200);
    expect(res.body.ancova.n).toBe(rows.length);
    for (const field of ['estimate', 'se', 'p', 'ciLower', 'ciUpper'] as const)
      expect(relativeError(res.body.ancova.differences[0][field], direct.body.differences[0][field])).toBeLessThan(
        1e-12,
      );

    const itt = await t.call('get', `/v1/trials/${trialId}/outcomes/hope/analysis?reference=TAU`);
    expect(itt.body.ancova.n).toBe(design.length);
    // The per-protocol tallies are reported with every population.
    expect(itt.body.arms.map((a: { perProtocol: unknown }) => a.perProtocol)).toEqual(
      res.body.arms.map((a: { perProtocol: unknown }) => a.perProtocol),
    );
  });

  it('restricts Table 2 to the per-protocol population when asked, and a blinded key sees the same counts', async () => {
    const table = await t.call('get', `/v1/trials/${trialId}/outcomes/summary?population=per_protocol`);
    expect(table.status).toBe(200);
    expect(table.body.population.code).toBe('per_protocol');
    const hope = table.body.rows.find(
      (r: { measure: string; visit: string }) => r.measure === 'hope' && r.visit === 'm12',
    );
    const included = (arm: string) => design.filter((p) => p.arm === arm && p.reasons.length === 0).length;
    expect(hope.byArm.map((a: { arm: string; n: number }) => [a.arm, a.n])).toEqual([
      ['SMCM', included('SMCM')],
      ['TAU', included('TAU')],
    ]);
    const analysis = await t.call('get', `/v1/trials/${trialId}/outcomes/hope/analysis?population=per_protocol`);
    expect(hope.differences[0].estimate).toBe(analysis.body.ancova.differences[0].estimate);

    const created = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded statistician', role: 'statistician', trialIds: [trialId], blinded: true },
    });
    const masked = await t.call('get', `/v1/trials/${trialId}/outcomes/hope/analysis?population=per_protocol`, {
      key: created.body.key,
    });
    expect(masked.status).toBe(200);
    expect(masked.text).not.toMatch(/SMCM|TAU/);
    const excluded = masked.body.arms.map((a: { perProtocol: { excluded: number } }) => a.perProtocol.excluded).sort();
    expect(excluded).toEqual(
      analysis.body.arms.map((a: { perProtocol: { excluded: number } }) => a.perProtocol.excluded).sort(),
    );
  });
});
