import { smcmDelivery, smcmFidelityScale } from '../scripts/smcm-trial';
import { addDays } from '../src/features/follow-up/calendar';
import { parseCsv } from '../src/core/csv';
import {
  caseWorkerInput,
  createActiveTrial,
  createTrial,
  grantConsent,
  screen,
  serviceUserInput,
  Trial,
} from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
let now = new Date('2018-03-05T12:00:00Z');
const setToday = (date: string) => {
  now = new Date(`${date}T12:00:00Z`);
};

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
});
afterAll(async () => {
  await t.close();
});

const deliveryTrial = (): Promise<Trial> =>
  createActiveTrial(t, { delivery: smcmDelivery(), fidelityScale: smcmFidelityScale() });

/** Randomizes a service user (into the arm the trial's sequence gives) and dates the randomization back to `on`. */
async function randomized(trialId: string, siteCode = 'A', on = '2018-03-05') {
  setToday(on);
  const p = await screen(t, trialId, serviceUserInput({ siteCode, screenedOn: addDays(on, -4) }));
  await grantConsent(t, trialId, p.id, 'trial', '1.0', addDays(on, -3));
  const res = await t.call('post', `/v1/trials/${trialId}/participants/${p.id}/randomization`);
  if (res.status !== 201) throw new Error(`randomization failed: ${res.text}`);
  await t.db
    .knex('allocations')
    .where({ trial_id: trialId, participant_id: p.id })
    .update({ randomized_at: `${on}T02:00:00Z` });
  return { id: p.id as string, arm: res.body.arm as string, randomizedOn: on };
}

/** A randomized service user in the arm asked for (randomizes until the sequence gives it). */
async function inArm(trialId: string, arm: string, siteCode = 'A', on = '2018-03-05') {
  for (let i = 0; i < 20; i += 1) {
    const p = await randomized(trialId, siteCode, on);
    if (p.arm === arm) return p;
  }
  throw new Error(`no participant randomized to ${arm}`);
}

async function worker(trialId: string, arm: string | null, siteCode = 'A'): Promise<string> {
  const w = await screen(t, trialId, caseWorkerInput({ siteCode, screenedOn: '2017-12-01' }));
  if (arm !== null) {
    const res = await t.call('post', `/v1/trials/${trialId}/participants/${w.id}/assignment`, {
      body: { arm, reason: 'centre roster' },
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`assignment failed: ${res.text}`);
  }
  return w.id;
}

const session = (participantId: string, caseWorkerId: string, date: string, extra: Record<string, unknown> = {}) => ({
  participantId,
  caseWorkerId,
  date,
  durationMinutes: 30,
  mode: 'in_person',
  kind: 'smcm_session',
  toolsUsed: ['strengths_assessment'],
  ...extra,
});

const recordSession = (trialId: string, body: unknown, key?: string) =>
  t.call('post', `/v1/trials/${trialId}/sessions`, { body, key });

describe('delivery configuration', () => {
  it('is part of the trial, validated with pointers, and withheld from blinded keys', async () => {
    const trial = await createTrial(t, { delivery: smcmDelivery(), fidelityScale: smcmFidelityScale() });
    expect(trial.delivery?.arms.map((a) => a.minimumSessions)).toEqual([6, 6]);
    expect(trial.fidelityScale?.items).toHaveLength(9);
    expect(trial.deliveryAmendments).toEqual([]);

    const bad = smcmDelivery();
    bad.tools[0]!.arms = ['SMCM', 'NOPE'];
    const scale = smcmFidelityScale();
    scale.highFidelityThreshold = 50;
    const res = await t.call('patch', `/v1/trials/${trial.id}`, { body: { delivery: bad, fidelityScale: scale } });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/delivery/tools/0/arms/1',
      '/fidelityScale/highFidelityThreshold',
    ]);

    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded monitor', role: 'monitor', trialIds: [trial.id], blinded: true },
    });
    const seen = await t.call('get', `/v1/trials/${trial.id}`, { key: blinded.body.key });
    expect(seen.status).toBe(200);
    expect(seen.body).not.toHaveProperty('delivery');
    expect(seen.text).not.toContain('strengths_assessment"],"arms');
  });

  it('is amended on active trials with reason: additions listed, removals refused with 409', async () => {
    const trial = await deliveryTrial();
    const amended = smcmDelivery();
    amended.arms[0]!.minimumSessions = 8;
    const res = await t.call('put', `/v1/trials/${trial.id}/delivery-configuration`, {
      body: { delivery: amended, fidelityScale: smcmFidelityScale(), reason: 'DSMB advice', effectiveOn: '2018-03-05' },
    });
    expect(res.status).toBe(200);
    expect(res.body.delivery.arms[0].minimumSessions).toBe(8);
    expect(res.body.deliveryAmendments).toEqual([
      expect.objectContaining({ reason: 'DSMB advice', changes: ['/delivery/arms/0/minimumSessions'] }),
    ]);
    const removal = smcmDelivery();
    removal.tools.pop();
    const refused = await t.call('put', `/v1/trials/${trial.id}/delivery-configuration`, {
      body: { delivery: removal, fidelityScale: smcmFidelityScale(), reason: 'x', effectiveOn: '2018-03-05' },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.errors).toEqual([
      { pointer: '/delivery/tools', detail: 'tool "personal_recovery_plan" is defined and cannot be removed' },
    ]);
    const setup = await createTrial(t, { delivery: smcmDelivery() });
    const early = await t.call('put', `/v1/trials/${setup.id}/delivery-configuration`, {
      body: { delivery: smcmDelivery(), fidelityScale: null, reason: 'x', effectiveOn: '2018-03-05' },
    });
    expect(early.status).toBe(409);
  });
});

describe('sessions', () => {
  it('records a session as planned without flags, and lists it', async () => {
    const trial = await deliveryTrial();
    const su = await inArm(trial.id, 'SMCM');
    const cw = await worker(trial.id, 'SMCM');
    setToday('2018-03-20');
    const res = await recordSession(trial.id, session(su.id, cw, '2018-03-19', { notes: 'goals set' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      arm: 'SMCM',
      caseWorkerArm: 'SMCM',
      flags: [],
      corrections: [],
      retraction: null,
    });
    const list = await t.call('get', `/v1/trials/${trial.id}/sessions?participantId=${su.id}`);
    expect(list.body.items.map((s: { id: string }) => s.id)).toEqual([res.body.id]);
  });

  it('flags a worker of the other arm and a control contact with SMCM tools, and they become deviations', async () => {
    const trial = await deliveryTrial();
    const control = await inArm(trial.id, 'TAU');
    const smcmWorker = await worker(trial.id, 'SMCM');
    const tauWorker = await worker(trial.id, 'TAU');
    setToday('2018-04-01');
    const contaminated = await recordSession(
      trial.id,
      session(control.id, smcmWorker, '2018-03-20', { kind: 'tau_contact', toolsUsed: [] }),
    );
    expect(contaminated.status).toBe(201);
    expect(contaminated.body.flags).toEqual(['worker_other_arm']);
    const tools = await recordSession(
      trial.id,
      session(control.id, tauWorker, '2018-03-22', { kind: 'tau_contact', toolsUsed: ['personal_recovery_plan'] }),
    );
    expect(tools.body.flags).toEqual(['tools_not_in_arm']);
    const kind = await recordSession(trial.id, session(control.id, tauWorker, '2018-03-23', { toolsUsed: [] }));
    expect(kind.body.flags).toEqual(['kind_not_in_arm']);
    const flagged = await t.call('get', `/v1/trials/${trial.id}/sessions?flagged=true`);
    expect(flagged.body.items).toHaveLength(3);
    const clean = await t.call('get', `/v1/trials/${trial.id}/sessions?flagged=false`);
    expect(clean.body.items).toHaveLength(0);
  });

  it('flags a session after the intervention period (day 182 on)', async () => {
    const trial = await deliveryTrial();
    const su = await inArm(trial.id, 'SMCM', 'A', '2018-01-01');
    const cw = await worker(trial.id, 'SMCM');
    setToday('2018-12-31');
    const last = await recordSession(trial.id, session(su.id, cw, addDays('2018-01-01', 181)));
    expect(last.body.flags).toEqual([]);
    const after = await recordSession(trial.id, session(su.id, cw, addDays('2018-01-01', 182)));
    expect(after.body.flags).toEqual(['after_intervention_period']);
  });

  it('refuses a session before randomization (409), in the future and with unknown codes (422)', async () => {
    const trial = await deliveryTrial();
    const su = await inArm(trial.id, 'SMCM');
    const cw = await worker(trial.id, 'SMCM');
    setToday('2018-03-10');
    const before = await recordSession(trial.id, session(su.id, cw, '2018-03-04'));
    expect(before.status).toBe(409);
    expect(before.body.type).toContain('session-before-randomization');
    expect((await recordSession(trial.id, session(su.id, cw, '2018-03-05'))).status).toBe(201);
    // "Today" somewhere on Earth (UTC+14) is still accepted; the day after is the future everywhere.
    expect((await recordSession(trial.id, session(su.id, cw, '2018-03-11'))).status).toBe(201);
    const future = await recordSession(trial.id, session(su.id, cw, '2018-03-12'));
    expect(future.status).toBe(422);
    expect(future.body.errors).toEqual([{ pointer: '/date', detail: 'is in the future' }]);
    const codes = await recordSession(trial.id, session(su.id, cw, '2018-03-06', { kind: 'x', toolsUsed: ['y'] }));
    expect(codes.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/kind', '/toolsUsed/0']);
  });

  it('refuses a case worker of another trial, a service user as worker and an unassigned worker (422)', async () => {
    const trial = await deliveryTrial();
    const other = await deliveryTrial();
    const su = await inArm(trial.id, 'SMCM');
    const foreign = await worker(other.id, 'SMCM');
    const unassigned = await worker(trial.id, null);
    setToday('2018-03-10');
    for (const caseWorkerId of [foreign, su.id, unassigned]) {
      const res = await recordSession(trial.id, session(su.id, caseWorkerId, '2018-03-06'));
      expect(res.status).toBe(422);
      expect(res.body.errors[0].pointer).toBe('/caseWorkerId');
    }
  });

  it('refuses a participant not randomized (409) and sessions on or after an intervention withdrawal (409)', async () => {
    const trial = await deliveryTrial();
    const cw = await worker(trial.id, 'SMCM');
    setToday('2018-03-10');
    const screened = await screen(t, trial.id, serviceUserInput());
    const notRandomized = await recordSession(trial.id, session(screened.id, cw, '2018-03-06'));
    expect(notRandomized.status).toBe(409);
    const su = await inArm(trial.id, 'SMCM');
    setToday('2018-04-10');
    const event = await t.call('post', `/v1/trials/${trial.id}/participants/${su.id}/events`, {
      body: { type: 'discontinued_intervention', occurredOn: '2018-04-01', reason: 'moved away' },
    });
    expect(event.status).toBe(201);
    expect((await recordSession(trial.id, session(su.id, cw, '2018-03-31'))).status).toBe(201);
    const after = await recordSession(trial.id, session(su.id, cw, '2018-04-01'));
    expect(after.status).toBe(409);
    expect(after.body.type).toContain('intervention-withdrawn');
  });

  it('corrects with reason (flags recomputed, before kept) and retracts as a new fact', async () => {
    const trial = await deliveryTrial();
    const su = await inArm(trial.id, 'SMCM');
    const smcmWorker = await worker(trial.id, 'SMCM');
    const tauWorker = await worker(trial.id, 'TAU');
    setToday('2018-03-20');
    const recorded = await recordSession(trial.id, session(su.id, tauWorker, '2018-03-19'));
    expect(recorded.body.flags).toEqual(['worker_other_arm']);
    const path = `/v1/trials/${trial.id}/sessions/${recorded.body.id}`;
    const corrected = await t.call('patch', path, {
      body: { caseWorkerId: smcmWorker, durationMinutes: 45, reason: 'wrong worker entered' },
    });
    expect(corrected.status).toBe(200);
    expect(corrected.body).toMatchObject({ caseWorkerId: smcmWorker, durationMinutes: 45, flags: [] });
    expect(corrected.body.corrections).toEqual([
      expect.objectContaining({
        reason: 'wrong worker entered',
        before: expect.objectContaining({ caseWorkerId: tauWorker, flags: ['worker_other_arm'] }),
      }),
    ]);
    const retracted = await t.call('post', `${path}/retraction`, { body: { reason: 'duplicate entry' } });
    expect(retracted.status).toBe(200);
    expect(retracted.body.retraction).toMatchObject({ reason: 'duplicate entry' });
    expect((await t.call('post', `${path}/retraction`, { body: { reason: 'again' } })).status).toBe(409);
    expect((await t.call('patch', path, { body: { durationMinutes: 30, reason: 'x' } })).status).toBe(409);
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityType=session`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual([
      'session.recorded',
      'session.corrected',
      'session.retracted',
    ]);
  });

  it('answers the data query a correction names, in its transaction (#21)', async () => {
    const trial = await deliveryTrial();
    const su = await inArm(trial.id, 'SMCM');
    const cw = await worker(trial.id, 'SMCM');
    setToday('2018-03-20');
    const a = (await recordSession(trial.id, session(su.id, cw, '2018-03-12'))).body.id as string;
    const b = (await recordSession(trial.id, session(su.id, cw, '2018-03-19'))).body.id as string;
    const query = await t.call('post', `/v1/trials/${trial.id}/queries`, {
      body: { target: { kind: 'session', id: a, pointer: '/durationMinutes' }, text: 'The log says 50 minutes' },
    });
    expect(query.status).toBe(201);
    const patch = (id: string, body: unknown) => t.call('patch', `/v1/trials/${trial.id}/sessions/${id}`, { body });
    const corrections = async () => (await t.db.knex('session_corrections').where({ trial_id: trial.id })).length;

    // The query is on session a: naming it in a correction of b is 422, and b's correction is not kept.
    const elsewhere = await patch(b, { durationMinutes: 50, reason: 'log', queryId: query.body.id });
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.errors[0].pointer).toBe('/queryId');
    expect(await corrections()).toBe(0);
    expect((await t.call('get', `/v1/trials/${trial.id}/queries/${query.body.id}`)).body.status).toBe('open');

    const corrected = await patch(a, {
      durationMinutes: 50,
      reason: 'session log: 50 minutes',
      queryId: query.body.id,
    });
    expect(corrected.status).toBe(200);
    expect(corrected.body.durationMinutes).toBe(50);
    const answered = await t.call('get', `/v1/trials/${trial.id}/queries/${query.body.id}`);
    expect(answered.body.status).toBe('answered');
    expect(answered.body.messages[1]).toMatchObject({
      action: 'answer',
      text: 'session log: 50 minutes',
      viaCorrection: true,
    });

    // Closed by the monitor: a further correction naming it is 409 and is not kept.
    const closed = await t.call('post', `/v1/trials/${trial.id}/queries/${query.body.id}/closure`, {
      body: { text: 'Agreed' },
    });
    expect(closed.status).toBe(201);
    const late = await patch(a, { durationMinutes: 55, reason: 'again', queryId: query.body.id });
    expect(late.status).toBe(409);
    expect(late.body.type).toMatch(/query-transition-refused/);
    expect(await corrections()).toBe(1);
    const row = await t.db.knex('delivery_sessions').where({ trial_id: trial.id, session_id: a }).first();
    expect(row.duration_minutes).toBe(50);
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityType=session`);
    expect(audit.body.items.filter((e: { action: string }) => e.action === 'session.corrected')).toHaveLength(1);
  });

  it('keeps site-limited coordinators to their sites and refuses blinded keys (403)', async () => {
    const trial = await deliveryTrial();
    const atB = await inArm(trial.id, 'SMCM', 'B');
    const atA = await inArm(trial.id, 'SMCM', 'A');
    const cw = await worker(trial.id, 'SMCM', 'B');
    setToday('2018-03-10');
    const siteB = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] });
    expect((await recordSession(trial.id, session(atB.id, cw, '2018-03-06'), siteB.key)).status).toBe(201);
    expect((await recordSession(trial.id, session(atA.id, cw, '2018-03-06'), siteB.key)).status).toBe(404);
    const adminSession = await recordSession(trial.id, session(atA.id, cw, '2018-03-07'));
    const foreign = await t.call('post', `/v1/trials/${trial.id}/sessions/${adminSession.body.id}/retraction`, {
      body: { reason: 'not mine' },
      key: siteB.key,
    });
    expect(foreign.status).toBe(404);
    const list = await t.call('get', `/v1/trials/${trial.id}/sessions`, { key: siteB.key });
    expect(list.body.items.map((s: { siteCode: string }) => s.siteCode)).toEqual(['B']);
    const dose = await t.call('get', `/v1/trials/${trial.id}/delivery`, { key: siteB.key });
    // inArm may randomize more than one person at B before one lands in SMCM; none of A may appear.
    const doseSites = new Set(dose.body.participants.map((p: { siteCode: string }) => p.siteCode));
    expect([...doseSites]).toEqual(['B']);
    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded coordinator', role: 'coordinator', trialIds: [trial.id], blinded: true },
    });
    expect((await recordSession(trial.id, session(atA.id, cw, '2018-03-08'), blinded.body.key)).status).toBe(403);
    expect((await t.call('get', `/v1/trials/${trial.id}/delivery`, { key: blinded.body.key })).status).toBe(403);
  });
});

describe('dose', () => {
  it('counts sessions, minutes, intervals and adherence, with a withdrawal mid-period', async () => {
    const trial = await deliveryTrial();
    const full = await inArm(trial.id, 'SMCM', 'A', '2018-01-01');
    const withdrawn = await inArm(trial.id, 'SMCM', 'A', '2018-01-01');
    const cw = await worker(trial.id, 'SMCM');
    setToday('2018-12-31');
    // Fortnightly with one missed fortnight: days 0, 14, 28, 56, 70 (gaps 14, 14, 28, 14: median 14).
    for (const day of [0, 14, 28, 56, 70])
      expect((await recordSession(trial.id, session(full.id, cw, addDays('2018-01-01', day)))).status).toBe(201);
    for (const [day, minutes] of [
      [3, 30],
      [10, 40],
      [24, 50],
    ] as const)
      await recordSession(
        trial.id,
        session(withdrawn.id, cw, addDays('2018-01-01', day), { durationMinutes: minutes }),
      );
    // Withdrawal on day 42: the period is days 0-41, 42 days, 3 planned fortnights.
    await t.call('post', `/v1/trials/${trial.id}/participants/${withdrawn.id}/events`, {
      body: { type: 'discontinued_intervention', occurredOn: addDays('2018-01-01', 42), reason: 'declined further' },
    });
    const res = await t.call('get', `/v1/trials/${trial.id}/delivery`);
    expect(res.status).toBe(200);
    const byId = new Map(res.body.participants.map((p: { participantId: string }) => [p.participantId, p]));
    expect(byId.get(full.id)).toMatchObject({
      sessions: 5,
      minutes: 150,
      firstSession: '2018-01-01',
      lastSession: '2018-03-12',
      medianIntervalDays: 14,
      plannedSessions: 13,
      adherence: 0.3846,
      periodEnd: '2018-07-01',
      periodEndReason: 'intervention_period',
      reachedMinimum: false,
    });
    expect(byId.get(withdrawn.id)).toMatchObject({
      sessions: 3,
      minutes: 120,
      medianIntervalDays: 10.5,
      plannedSessions: 3,
      adherence: 1,
      periodEnd: '2018-02-11',
      periodEndReason: 'withdrawal',
    });
    const smcmA = res.body.byArmAndSite.find((g: { arm: string }) => g.arm === 'SMCM');
    expect(smcmA).toMatchObject({
      siteCode: 'A',
      participants: 2,
      minimumSessions: 6,
      sessions: { n: 2, median: 4, q1: 3.5, q3: 4.5 },
      reachedMinimum: 0,
      shareReachedMinimum: 0,
    });
    const csv = await t.call('get', `/v1/trials/${trial.id}/delivery`, { headers: { Accept: 'text/csv' } });
    const rows = parseCsv(csv.text);
    expect(rows[0]).toContain('adherence');
    expect(rows).toHaveLength(1 + res.body.participants.length);
    expect(
      rows
        .slice(1)
        .map((r) => r[0])
        .sort(),
    ).toEqual(res.body.participants.map((p: { participantId: string }) => p.participantId).sort());
  });

  it('answers 409 for a trial without a delivery plan', async () => {
    const trial = await createActiveTrial(t);
    expect((await t.call('get', `/v1/trials/${trial.id}/delivery`)).status).toBe(409);
  });
});

/** The seed paper's review: 36 of 45, about 4 of 5 in each area. */
const SEED_SCORES = {
  caseload: 4,
  team_structure: 4,
  supervisor_ratio: 4,
  group_supervision: 5,
  field_mentoring: 4,
  tool_review: 3,
  strengths_assessment: 4,
  personal_recovery_plan: 4,
  community_contact: 4,
};

describe('fidelity reviews', () => {
  const review = (siteCode: string, reviewedOn: string, scores: Record<string, number>) => ({
    siteCode,
    reviewedOn,
    reviewers: ['RG', 'KT'],
    sources: ['staff_interview', 'service_user_interview', 'observation', 'chart_review'],
    scores,
  });

  it('scores three reviews (the second 36 of 45), reports the trend and draws the chart', async () => {
    const trial = await deliveryTrial();
    setToday('2019-12-31');
    const first = await t.call('post', `/v1/trials/${trial.id}/fidelity-reviews`, {
      body: review('A', '2018-09-01', { ...SEED_SCORES, group_supervision: 3, tool_review: 2, community_contact: 3 }),
    });
    expect(first.status).toBe(201);
    // 4+4+4 + 3+4+2 + 4+4+3 = 32
    expect(first.body).toMatchObject({ total: 32, maximum: 45, highFidelity: false, highFidelityThreshold: 36 });
    const second = await t.call('post', `/v1/trials/${trial.id}/fidelity-reviews`, {
      body: review('A', '2019-03-01', SEED_SCORES),
    });
    expect(second.body).toMatchObject({ total: 36, maximum: 45, highFidelity: true });
    expect(second.body.areas.map((a: { mean: number }) => a.mean)).toEqual([4, 4, 4]);
    await t.call('post', `/v1/trials/${trial.id}/fidelity-reviews`, {
      body: review('A', '2019-09-01', { ...SEED_SCORES, tool_review: 4, caseload: 5 }),
    });
    const report = await t.call('get', `/v1/trials/${trial.id}/fidelity`);
    expect(report.status).toBe(200);
    expect(report.body.sites).toHaveLength(1);
    expect(report.body.sites[0].trend).toBe('improving');
    expect(
      report.body.sites[0].reviews.map((r: { total: number; changeFromPrevious: number | null }) => [
        r.total,
        r.changeFromPrevious,
      ]),
    ).toEqual([
      [32, null],
      [36, 4],
      [38, 2],
    ]);
    const svg = await t.call('get', `/v1/trials/${trial.id}/fidelity.svg`);
    expect(svg.status).toBe(200);
    expect(svg.headers['content-type']).toContain('image/svg+xml');
    expect(svg.text.match(/<circle /g)).toHaveLength(3);
  });

  it('refuses unscored and unknown items (422), another site for a site-limited key (403), blinded keys (403)', async () => {
    const trial = await deliveryTrial();
    setToday('2019-12-31');
    const { caseload: _c, ...missing } = SEED_SCORES;
    const bad = await t.call('post', `/v1/trials/${trial.id}/fidelity-reviews`, {
      body: review('A', '2019-03-01', { ...missing, outreach: 4 }),
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/scores/caseload',
      '/scores/outreach',
    ]);
    const noSite = await t.call('post', `/v1/trials/${trial.id}/fidelity-reviews`, {
      body: review('Z', '2019-03-01', SEED_SCORES),
    });
    expect(noSite.status).toBe(422);
    const siteB = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] });
    const other = await t.call('post', `/v1/trials/${trial.id}/fidelity-reviews`, {
      body: review('A', '2019-03-01', SEED_SCORES),
      key: siteB.key,
    });
    expect(other.status).toBe(403);
    const own = await t.call('post', `/v1/trials/${trial.id}/fidelity-reviews`, {
      body: review('B', '2019-03-01', SEED_SCORES),
      key: siteB.key,
    });
    expect(own.status).toBe(201);
    await t.call('post', `/v1/trials/${trial.id}/fidelity-reviews`, { body: review('A', '2019-03-02', SEED_SCORES) });
    const seen = await t.call('get', `/v1/trials/${trial.id}/fidelity`, { key: siteB.key });
    expect(seen.body.sites.map((s: { siteCode: string }) => s.siteCode)).toEqual(['B']);
    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded statistician', role: 'statistician', trialIds: [trial.id], blinded: true },
    });
    expect((await t.call('get', `/v1/trials/${trial.id}/fidelity`, { key: blinded.body.key })).status).toBe(403);
  });
});

describe('supervision', () => {
  it('records supervision and summarizes it per worker and month against the plan', async () => {
    const trial = await deliveryTrial();
    const w1 = await worker(trial.id, 'SMCM');
    const w2 = await worker(trial.id, 'SMCM');
    const tau = await worker(trial.id, 'TAU');
    setToday('2018-04-15');
    const supervise = (date: string, kind: string, caseWorkerIds: string[], key?: string) =>
      t.call('post', `/v1/trials/${trial.id}/supervision`, {
        body: { date, kind, siteCode: 'A', caseWorkerIds, supervisor: 'Supervisor L', durationMinutes: 60 },
        key,
      });
    expect((await supervise('2018-03-02', 'group', [w1, w2])).status).toBe(201);
    for (const date of ['2018-03-05', '2018-03-12', '2018-03-19', '2018-03-26'])
      expect((await supervise(date, 'individual', [w1])).status).toBe(201);
    const res = await t.call('get', `/v1/trials/${trial.id}/supervision/summary`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ from: '2018-03', to: '2018-04' });
    const row = (id: string, month: string) =>
      res.body.rows.find((r: { caseWorkerId: string; month: string }) => r.caseWorkerId === id && r.month === month);
    expect(row(w1, '2018-03')).toMatchObject({ individual: 4, group: 1, minutes: 300, met: true });
    expect(row(w2, '2018-03')).toMatchObject({ individual: 0, group: 1, met: false });
    expect(row(w1, '2018-04')).toMatchObject({ individual: 0, group: 0, met: false });
    // Per-arm plans (the paper): SMCM workers weekly individual and monthly group supervision; TAU per usual
    // practice, an empty plan that every month meets.
    expect(res.body.armPlans).toEqual([
      { arm: 'SMCM', plan: smcmDelivery().arms[0]!.supervisionPlan },
      { arm: 'TAU', plan: [] },
    ]);
    expect(row(w1, '2018-03')).toMatchObject({ arm: 'SMCM' });
    expect(row(tau, '2018-03')).toMatchObject({ arm: 'TAU', individual: 0, group: 0, met: true });

    const bad = await supervise('2018-03-02', 'group', [w1, '00000000-0000-4000-8000-000000000000']);
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([{ pointer: '/caseWorkerIds/1', detail: 'is not a case worker of this trial' }]);
    const siteB = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] });
    expect((await supervise('2018-03-02', 'group', [w1], siteB.key)).status).toBe(403);
  });
});

describe('protocol deviations', () => {
  it('lists recorded and derived deviations together, with filters', async () => {
    const trial = await deliveryTrial();
    const control = await inArm(trial.id, 'TAU');
    const smcmWorker = await worker(trial.id, 'SMCM');
    setToday('2018-04-01');
    const flagged = await recordSession(
      trial.id,
      session(control.id, smcmWorker, '2018-03-20', { kind: 'tau_contact', toolsUsed: ['strengths_assessment'] }),
    );
    expect(flagged.body.flags).toEqual(['worker_other_arm', 'tools_not_in_arm']);
    const recorded = await t.call('post', `/v1/trials/${trial.id}/deviations`, {
      body: {
        participantId: control.id,
        category: 'visit_out_of_window',
        severity: 'minor',
        occurredOn: '2018-03-10',
        description: 'Baseline interview 20 days late',
        correctiveAction: 'Reminder calls',
      },
    });
    expect(recorded.status).toBe(201);
    expect(recorded.body).toMatchObject({ source: 'recorded', siteCode: 'A', sessionId: null });
    const site = await t.call('post', `/v1/trials/${trial.id}/deviations`, {
      body: { siteCode: 'B', category: 'staffing', severity: 'major', occurredOn: '2018-03-15', description: 'x' },
    });
    expect(site.status).toBe(201);
    const neither = await t.call('post', `/v1/trials/${trial.id}/deviations`, {
      body: { category: 'staffing', severity: 'major', occurredOn: '2018-03-15', description: 'x' },
    });
    expect(neither.status).toBe(422);

    const all = await t.call('get', `/v1/trials/${trial.id}/deviations`);
    expect(all.body.items.map((d: { category: string; source: string }) => [d.category, d.source])).toEqual([
      ['visit_out_of_window', 'recorded'],
      ['staffing', 'recorded'],
      ['worker_other_arm', 'derived'],
      ['tools_not_in_arm', 'derived'],
    ]);
    const major = await t.call('get', `/v1/trials/${trial.id}/deviations?source=derived&severity=major`);
    expect(major.body.items).toHaveLength(2);
    await t.call('post', `/v1/trials/${trial.id}/sessions/${flagged.body.id}/retraction`, { body: { reason: 'x' } });
    const after = await t.call('get', `/v1/trials/${trial.id}/deviations?source=derived`);
    expect(after.body.items).toEqual([]);
    const siteB = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] });
    const seen = await t.call('get', `/v1/trials/${trial.id}/deviations`, { key: siteB.key });
    expect(seen.body.items.map((d: { siteCode: string }) => d.siteCode)).toEqual(['B']);
  });
});

describe('long gaps and per-protocol eligibility', () => {
  it('derives long_gap deviations and counts major deviations and per-protocol eligibility per arm and site', async () => {
    const trial = await deliveryTrial();
    const R = '2018-01-01';
    const kept = await inArm(trial.id, 'SMCM', 'A', R);
    const gap = await inArm(trial.id, 'SMCM', 'A', R);
    const contaminated = await inArm(trial.id, 'SMCM', 'A', R);
    const recordedMajor = await inArm(trial.id, 'SMCM', 'A', R);
    const cw = await worker(trial.id, 'SMCM');
    const tauWorker = await worker(trial.id, 'TAU');
    setToday('2018-12-31');
    const record = async (participantId: string, days: number[], workerOn: (day: number) => string = () => cw) => {
      for (const day of days)
        expect((await recordSession(trial.id, session(participantId, workerOn(day), addDays(R, day)))).status).toBe(
          201,
        );
    };
    await record(kept.id, [0, 14, 28, 42, 56, 70, 84, 98, 112, 126, 140, 154, 168]);
    // 28 -> 57 is 29 days: one more than twice the fortnight.
    await record(gap.id, [0, 14, 28, 57, 71, 85, 99, 113, 127, 141, 155, 169]);
    await record(contaminated.id, [0, 14, 28, 42, 56, 70], (day) => (day === 42 ? tauWorker : cw));
    await record(recordedMajor.id, [0, 14, 28, 42, 56, 70]);
    const major = await t.call('post', `/v1/trials/${trial.id}/deviations`, {
      body: {
        participantId: recordedMajor.id,
        category: 'wrong_intervention',
        severity: 'major',
        occurredOn: '2018-02-01',
        description: "Received the other arm's group programme",
      },
    });
    expect(major.status).toBe(201);

    const gaps = await t.call('get', `/v1/trials/${trial.id}/deviations?category=long_gap&participantId=${gap.id}`);
    expect(gaps.body.items).toEqual([
      {
        id: `${gap.id}:long_gap:${addDays(R, 28)}`,
        source: 'derived',
        participantId: gap.id,
        siteCode: 'A',
        category: 'long_gap',
        severity: 'minor',
        occurredOn: addDays(R, 57),
        description: `29 days without a session after the session on ${addDays(R, 28)} (next session on ${addDays(R, 57)}); the plan allows 2 × 14 days`,
        correctiveAction: null,
        sessionId: null,
        recordedAt: `${addDays(R, 57)}T00:00:00.000Z`,
      },
    ]);
    const longGapOf = async (id: string) =>
      (await t.call('get', `/v1/trials/${trial.id}/deviations?category=long_gap&participantId=${id}`)).body.items;
    expect(await longGapOf(kept.id)).toEqual([]);
    // The last session on day 70, the period's last day 181: open, past its limit on day 99.
    expect(await longGapOf(contaminated.id)).toEqual([
      expect.objectContaining({ occurredOn: addDays(R, 99), description: expect.stringContaining('111 days') }),
    ]);

    const res = await t.call('get', `/v1/trials/${trial.id}/delivery`);
    expect(res.status).toBe(200);
    const byId = new Map(res.body.participants.map((p: { participantId: string }) => [p.participantId, p]));
    expect(byId.get(kept.id)).toMatchObject({ reachedMinimum: true, majorDeviations: 0, perProtocolEligible: true });
    // A long gap is minor: it does not take the participant out of delivery's per-protocol view.
    expect(byId.get(gap.id)).toMatchObject({ reachedMinimum: true, majorDeviations: 0, perProtocolEligible: true });
    expect(byId.get(contaminated.id)).toMatchObject({
      sessions: 6,
      reachedMinimum: true,
      majorDeviations: 1,
      perProtocolEligible: false,
    });
    expect(byId.get(recordedMajor.id)).toMatchObject({ majorDeviations: 1, perProtocolEligible: false });
    const smcmA = res.body.byArmAndSite.find((g: { arm: string; siteCode: string }) => g.arm === 'SMCM');
    expect(smcmA).toMatchObject({
      siteCode: 'A',
      participants: 4,
      reachedMinimum: 4,
      withMajorDeviation: 2,
      perProtocolEligible: 2,
    });
    const tauA = res.body.byArmAndSite.find((g: { arm: string }) => g.arm === 'TAU');
    if (tauA) expect(tauA).toMatchObject({ reachedMinimum: 0, withMajorDeviation: 0, perProtocolEligible: 0 });
    const csv = await t.call('get', `/v1/trials/${trial.id}/delivery`, { headers: { Accept: 'text/csv' } });
    expect(csv.text.split('\n')[0]).toContain('reachedMinimum,majorDeviations,perProtocolEligible');
  });
});

describe('CONSORT: received allocated intervention', () => {
  it('counts fewer than minimumSessions as not received once the period ended, an explicit event once', async () => {
    const trial = await deliveryTrial();
    const enough = await inArm(trial.id, 'SMCM', 'A', '2018-01-01');
    const few = await inArm(trial.id, 'SMCM', 'A', '2018-01-01');
    const declined = await inArm(trial.id, 'SMCM', 'A', '2018-01-01');
    const cw = await worker(trial.id, 'SMCM');
    setToday('2018-12-31');
    for (let i = 0; i < 6; i += 1) await recordSession(trial.id, session(enough.id, cw, addDays('2018-01-01', 14 * i)));
    for (let i = 0; i < 2; i += 1) await recordSession(trial.id, session(few.id, cw, addDays('2018-01-01', 14 * i)));
    const event = await t.call('post', `/v1/trials/${trial.id}/participants/${declined.id}/events`, {
      body: { type: 'intervention_not_received', occurredOn: '2018-01-10', reason: 'refused the sessions' },
    });
    expect(event.status).toBe(201);
    const smcm = async (asOf: string) => {
      const res = await t.call('get', `/v1/trials/${trial.id}/consort?asOf=${asOf}`);
      expect(res.body.receivedRule).toBe('sessions_and_events');
      return res.body.arms.find((a: { arm: string }) => a.arm === 'SMCM');
    };
    // During the period only the explicit event counts.
    const during = await smcm('2018-06-30');
    expect(during.didNotReceiveAllocatedIntervention).toEqual({
      total: 1,
      reasons: [{ reason: 'refused the sessions', count: 1 }],
    });
    // The period is days 0-181 (to 2018-07-01); from 2018-07-02 the sessions decide, the event still wins.
    const after = await smcm('2018-07-02');
    expect(after.allocated).toBe(3);
    expect(after.didNotReceiveAllocatedIntervention.total).toBe(2);
    expect(after.didNotReceiveAllocatedIntervention.reasons).toEqual(
      expect.arrayContaining([
        { reason: 'refused the sessions', count: 1 },
        { reason: 'fewer than 6 sessions', count: 1 },
      ]),
    );
    expect(after.receivedAllocatedIntervention).toBe(1);
    const svg = await t.call('get', `/v1/trials/${trial.id}/consort.svg?asOf=2018-07-02`);
    expect(svg.text).toContain("received intervention = at least the arm's minimum sessions in its period");
  });
});
