import { smcmFollowUp } from '../scripts/smcm-trial';
import { addDays } from '../src/features/follow-up/calendar';
import { parseCsv } from '../src/core/csv';
import { createActiveTrial, createTrial, grantConsent, screen, serviceUserInput, Trial } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
/** The application's clock; each test moves it. */
let now = new Date();

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
});
afterAll(async () => {
  await t.close();
});

const HOPE_ITEMS = [3, 4, 2, 3, 3, 4, 3, 2, 3, 4, 3, 2];
const GSE_ITEMS = [3, 3, 3, 3, 3, 3, 3, 3, 3, 3];

const setToday = (date: string) => {
  now = new Date(`${date}T12:00:00Z`);
};

async function followUpTrial(): Promise<Trial> {
  return createActiveTrial(t, smcmFollowUp());
}

/**
 * Screens, consents and randomizes a service user on `on` (the application's clock; the schedule is tested on
 * the trial's own calendar, in 2018).
 */
async function randomized(
  trialId: string,
  siteCode = 'A',
  on = '2018-03-05',
): Promise<{ id: string; randomizedOn: string }> {
  setToday(on);
  const p = await screen(t, trialId, serviceUserInput({ siteCode, screenedOn: addDays(on, -4) }));
  await grantConsent(t, trialId, p.id, 'trial', '1.0', addDays(on, -3));
  const res = await t.call('post', `/v1/trials/${trialId}/participants/${p.id}/randomization`);
  if (res.status !== 201) throw new Error(`randomization failed: ${res.text}`);
  // Dated by the application's clock, not the database's: the schedule counts from this day.
  expect(res.body.randomizedAt).toBe(`${on}T12:00:00.000Z`);
  return { id: p.id, randomizedOn: on };
}

const assessments = (trialId: string, participantId: string) =>
  `/v1/trials/${trialId}/participants/${participantId}/assessments`;

const record = (trialId: string, participantId: string, body: unknown, key?: string) =>
  t.call('post', assessments(trialId, participantId), { body, key });

const schedule = async (trialId: string, participantId: string, key?: string) => {
  const res = await t.call('get', `/v1/trials/${trialId}/participants/${participantId}/schedule`, { key });
  expect(res.status).toBe(200);
  return res.body as { visits: { visit: string; status: string; reason: string | null; inWindow: boolean | null }[] };
};

const statusOf = async (trialId: string, participantId: string, visit: string) =>
  (await schedule(trialId, participantId)).visits.find((v) => v.visit === visit)!;

describe('follow-up configuration', () => {
  it('is part of the trial, validated with pointers into it', async () => {
    const trial = await createTrial(t, smcmFollowUp());
    expect(trial).toMatchObject({ primaryVisit: 'm12', followUpAmendments: [] });
    expect(trial.visits.map((v) => v.code)).toEqual(['baseline', 'm6', 'm12']);

    const followUp = smcmFollowUp() as Required<ReturnType<typeof smcmFollowUp>>;
    followUp.measures[2]!.visits = ['baseline', 'm9'];
    followUp.visits[1]!.windowBefore = 182;
    const res = await t.call('post', '/v1/trials', {
      body: { code: `FU-BAD-${process.pid}`, ...createTrialBody(), ...followUp },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      {
        pointer: '/visits/1/windowBefore',
        detail: 'a follow-up window must open after the randomization date (day 1 at the earliest)',
      },
      { pointer: '/measures/2/visits/1', detail: '"m9" is not a visit of this trial' },
    ]);
  });

  it('is amended on an active trial by an admin, with reason and effective date; nothing defined changes', async () => {
    const trial = await followUpTrial();
    const m3 = { code: 'm3', label: '3-month call', day: 91, windowBefore: 14, windowAfter: 14 };
    const base = smcmFollowUp() as Required<ReturnType<typeof smcmFollowUp>>;
    const amendment = {
      ...base,
      visits: [...base.visits, m3],
      measures: base.measures.map((m) => (m.code === 'employed' ? { ...m, visits: [...m.visits, 'm3'] } : m)),
      reason: 'Ethics amendment 3: a telephone check at 3 months',
      effectiveOn: '2018-06-01',
    };
    const coordinator = await t.createKey('coordinator', { trialIds: [trial.id] });
    expect(
      (await t.call('put', `/v1/trials/${trial.id}/follow-up`, { body: amendment, key: coordinator.key })).status,
    ).toBe(403);

    const res = await t.call('put', `/v1/trials/${trial.id}/follow-up`, { body: amendment });
    expect(res.status).toBe(200);
    expect(res.body.followUpAmendments).toEqual([
      {
        effectiveOn: '2018-06-01',
        reason: amendment.reason,
        amendedAt: expect.stringMatching(/Z$/),
        addedVisits: ['m3'],
        changedMeasures: ['employed'],
      },
    ]);
    expect(res.body.version).toBe(trial.version + 1);
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('trial.follow_up_amended');

    const removing = { ...amendment, visits: amendment.visits.filter((v) => v.code !== 'm6') };
    const refused = await t.call('put', `/v1/trials/${trial.id}/follow-up`, { body: removing });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/follow-up-amendment-conflict$/);
    expect(refused.body.errors).toContainEqual({
      pointer: '/visits/1',
      detail: 'visit "m6" is defined and cannot be removed',
    });

    const rescoring = {
      ...amendment,
      measures: amendment.measures.map((m) => (m.code === 'hope' ? { ...m, reverseItems: [3] } : m)),
    };
    expect((await t.call('put', `/v1/trials/${trial.id}/follow-up`, { body: rescoring })).status).toBe(409);

    const setup = await createTrial(t, smcmFollowUp());
    const early = await t.call('put', `/v1/trials/${setup.id}/follow-up`, { body: amendment });
    expect(early.status).toBe(409);
    expect(early.body.type).toMatch(/trial-not-active$/);
  });
});

function createTrialBody() {
  // Same configuration as the factories use, without visits.
  return {
    title: 'Follow-up validation',
    arms: [
      { code: 'SMCM', name: 'Strengths model case management', ratio: 1 },
      { code: 'TAU', name: 'Treatment as usual', ratio: 1 },
    ],
    randomization: { method: 'simple' },
  };
}

describe('recording assessments', () => {
  it('answers 201 with the scores, inWindow and days from randomization', async () => {
    const trial = await followUpTrial();
    const p = await randomized(trial.id);
    const assessedOn = addDays(p.randomizedOn, 182);
    setToday(addDays(p.randomizedOn, 190));
    const res = await record(trial.id, p.id, {
      visit: 'm6',
      assessedOn,
      assessor: 'IW',
      values: { hope: { items: [...HOPE_ITEMS.slice(0, 11), null] }, employed: true, admissions: 0 },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      visit: 'm6',
      assessedOn,
      assessor: 'IW',
      inWindow: true,
      daysFromRandomization: 182,
      corrections: 0,
      scores: {
        hope: { score: (32 / 11) * 12, missingItems: 1, prorated: true },
        gse: { score: null, reason: 'not recorded' },
        employed: { score: true },
        admissions: { score: 0 },
      },
    });
    expect(await statusOf(trial.id, p.id, 'm6')).toMatchObject({ status: 'completed', inWindow: true });
  });

  it('refuses future dates (422), failing items with their pointer, and unknown visits', async () => {
    const trial = await followUpTrial();
    const p = await randomized(trial.id);
    setToday(addDays(p.randomizedOn, 190));
    const future = await record(trial.id, p.id, { visit: 'm6', assessedOn: addDays(p.randomizedOn, 200), values: {} });
    expect(future.status).toBe(422);
    expect(future.body.errors).toEqual([{ pointer: '/assessedOn', detail: 'is in the future' }]);

    const items = [...HOPE_ITEMS];
    items[4] = 5;
    const bad = await record(trial.id, p.id, {
      visit: 'm6',
      assessedOn: addDays(p.randomizedOn, 182),
      values: { hope: { items }, employed: 'yes', admissions: -1 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/values/hope/items/4',
      '/values/employed',
      '/values/admissions',
    ]);
    const unknown = await record(trial.id, p.id, { visit: 'm9', assessedOn: p.randomizedOn, values: {} });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([{ pointer: '/visit', detail: '"m9" is not a visit of this trial' }]);
  });

  it('records a baseline from screening on, but post-baseline visits only for randomized participants', async () => {
    const trial = await followUpTrial();
    const p = await screen(t, trial.id, serviceUserInput({ screenedOn: '2018-03-01' }));
    setToday('2018-03-10');
    const baseline = await record(trial.id, p.id, {
      visit: 'baseline',
      assessedOn: '2018-03-02',
      values: { employed: false },
    });
    expect(baseline.status).toBe(201);
    expect(baseline.body).toMatchObject({ inWindow: null, daysFromRandomization: null });
    const early = await record(trial.id, p.id, { visit: 'm6', assessedOn: '2018-03-05', values: {} });
    expect(early.status).toBe(409);
    expect(early.body.type).toMatch(/participant-not-randomized$/);
  });

  it('keeps one assessment per participant and visit: of concurrent duplicates exactly one is 201', async () => {
    const trial = await followUpTrial();
    const p = await randomized(trial.id);
    setToday(addDays(p.randomizedOn, 5));
    const body = { visit: 'baseline', assessedOn: p.randomizedOn, values: { employed: true } };
    const results = await Promise.all(Array.from({ length: 6 }, () => record(trial.id, p.id, body)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(results.find((r) => r.status === 409)!.body.type).toMatch(/assessment-exists$/);
    const rows = await t.db.knex('assessments').where({ trial_id: trial.id, participant_id: p.id });
    expect(rows).toHaveLength(1);
  });

  it('refuses assessments on or after a withdrawal that stops follow-up (409); the visit is not expected', async () => {
    const trial = await followUpTrial();
    const p = await randomized(trial.id);
    const consent = (await t.call('get', `/v1/trials/${trial.id}/participants/${p.id}`)).body.consents[0];
    const withdrawnOn = addDays(p.randomizedOn, 170); // inside the 6-month window (day 152..212)
    setToday(addDays(p.randomizedOn, 175));
    const w = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/consents/${consent.id}/withdrawal`, {
      body: { withdrawnOn, reason: 'no longer wishes to be interviewed', scope: 'follow_up' },
    });
    expect(w.status).toBe(201);
    const res = await record(trial.id, p.id, { visit: 'm6', assessedOn: addDays(p.randomizedOn, 172), values: {} });
    expect(res.status).toBe(409);
    expect(res.body.type).toMatch(/follow-up-stopped$/);
    expect(await statusOf(trial.id, p.id, 'm6')).toMatchObject({
      status: 'not_expected',
      reason: 'withdrew from follow-up: no longer wishes to be interviewed',
    });
    // Dated before the withdrawal, it is recorded.
    const before = await record(trial.id, p.id, { visit: 'm6', assessedOn: addDays(p.randomizedOn, 160), values: {} });
    expect(before.status).toBe(201);
  });

  it('corrects an assessment with a reason, scores again, and keeps the old and new values', async () => {
    const trial = await followUpTrial();
    const p = await randomized(trial.id);
    setToday(addDays(p.randomizedOn, 3));
    await record(trial.id, p.id, {
      visit: 'baseline',
      assessedOn: p.randomizedOn,
      values: { gse: { items: GSE_ITEMS } },
    });
    const path = `${assessments(trial.id, p.id)}/baseline`;
    expect((await t.call('patch', path, { body: { values: {} } })).status).toBe(422);
    const items = [...GSE_ITEMS];
    items[0] = 4;
    const res = await t.call('patch', path, {
      body: { values: { gse: { items } }, reason: 'transcription error, item 1' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ corrections: 1, scores: { gse: { score: 31 } } });
    const corrections = await t.db.knex('assessment_corrections').where({ trial_id: trial.id });
    expect(corrections).toHaveLength(1);
    expect(corrections[0]).toMatchObject({
      reason: 'transcription error, item 1',
      before: { scores: { gse: { score: 30 } } },
      after: { scores: { gse: { score: 31 } } },
    });
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit`);
    const entry = audit.body.items.find((e: { action: string }) => e.action === 'assessment.corrected');
    expect(entry).toMatchObject({ reason: 'transcription error, item 1' });
    expect(
      (await t.call('patch', `${assessments(trial.id, p.id)}/m6`, { body: { values: {}, reason: 'x' } })).status,
    ).toBe(404);
  });
});

describe('schedule, missed visits and the work list', () => {
  it('dates the visits of a participant randomized on 29 February by calendar days', async () => {
    const trial = await followUpTrial();
    const p = await randomized(trial.id, 'A', '2024-02-29');
    setToday('2024-09-28');
    const visits = (await schedule(trial.id, p.id)).visits;
    expect(visits.map((v) => [v.visit, v.status])).toEqual([
      ['baseline', 'overdue'],
      ['m6', 'open'],
      ['m12', 'not_due'],
    ]);
    expect(visits[1]).toMatchObject({
      targetDate: '2024-08-29',
      windowOpens: '2024-07-30',
      windowCloses: '2024-09-28',
    });
    expect(visits[2]).toMatchObject({ targetDate: '2025-02-28' });
    setToday('2024-09-29');
    expect((await statusOf(trial.id, p.id, 'm6')).status).toBe('overdue');
  });

  it('moves not_due -> open -> overdue by the clock; the window ends are in it, the day after not', async () => {
    const trial = await followUpTrial();
    const p = await randomized(trial.id);
    const m6 = (date: string) => {
      setToday(date);
      return statusOf(trial.id, p.id, 'm6');
    };
    expect((await m6(addDays(p.randomizedOn, 151))).status).toBe('not_due');
    expect((await m6(addDays(p.randomizedOn, 152))).status).toBe('open');
    expect((await m6(addDays(p.randomizedOn, 212))).status).toBe('open');
    expect(await m6(addDays(p.randomizedOn, 213))).toMatchObject({
      status: 'overdue',
      windowOpens: addDays(p.randomizedOn, 152),
      windowCloses: addDays(p.randomizedOn, 212),
      targetDate: addDays(p.randomizedOn, 182),
    });
    const late = await record(trial.id, p.id, { visit: 'm6', assessedOn: addDays(p.randomizedOn, 213), values: {} });
    expect(late.body).toMatchObject({ inWindow: false, daysFromRandomization: 213 });
  });

  it('marks a visit missed with its reason, and a retraction makes it overdue again', async () => {
    const trial = await followUpTrial();
    const p = await randomized(trial.id);
    setToday(addDays(p.randomizedOn, 230));
    const path = `/v1/trials/${trial.id}/participants/${p.id}/visits/m6/missed`;
    const missed = await t.call('post', path, {
      body: { reason: 'could not be contacted', recordedOn: addDays(p.randomizedOn, 220) },
    });
    expect(missed.status).toBe(201);
    expect(missed.body).toMatchObject({ visit: 'm6', reason: 'could not be contacted', retraction: null });
    expect(
      (await t.call('post', path, { body: { reason: 'again', recordedOn: addDays(p.randomizedOn, 221) } })).status,
    ).toBe(409);
    expect(await statusOf(trial.id, p.id, 'm6')).toMatchObject({ status: 'missed', reason: 'could not be contacted' });
    const blocked = await record(trial.id, p.id, { visit: 'm6', assessedOn: addDays(p.randomizedOn, 225), values: {} });
    expect(blocked.body.type).toMatch(/visit-marked-missed$/);

    const retraction = await t.call('post', `${path}/${missed.body.id}/retraction`, {
      body: { reason: 'found; interview booked' },
    });
    expect(retraction.status).toBe(201);
    expect(retraction.body.retraction).toMatchObject({ reason: 'found; interview booked' });
    expect((await t.call('post', `${path}/${missed.body.id}/retraction`, { body: { reason: 'twice' } })).status).toBe(
      409,
    );
    expect((await statusOf(trial.id, p.id, 'm6')).status).toBe('overdue');
    expect(
      (
        await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/visits/m9/missed`, {
          body: { reason: 'x', recordedOn: p.randomizedOn },
        })
      ).status,
    ).toBe(404);
  });

  it('does not expect a visit added by amendment from participants past its window', async () => {
    const trial = await followUpTrial();
    const p = await randomized(trial.id);
    const base = smcmFollowUp() as Required<ReturnType<typeof smcmFollowUp>>;
    const m1 = { code: 'm1', label: '1-month call', day: 30, windowBefore: 7, windowAfter: 7 };
    setToday(addDays(p.randomizedOn, 60));
    const res = await t.call('put', `/v1/trials/${trial.id}/follow-up`, {
      body: { ...base, visits: [...base.visits, m1], reason: 'added call', effectiveOn: addDays(p.randomizedOn, 38) },
    });
    expect(res.status).toBe(200);
    expect(await statusOf(trial.id, p.id, 'm1')).toMatchObject({
      status: 'not_expected',
      reason: `the visit was added by an amendment effective ${addDays(p.randomizedOn, 38)}, after this window closed`,
    });
    const workList = await t.call('get', `/v1/trials/${trial.id}/visits?status=overdue,not_expected`);
    expect(workList.body.items.find((i: { visit: string }) => i.visit === 'm1')).toMatchObject({
      status: 'not_expected',
    });
  });

  it("lists by window close, filtered, paged, as CSV, in a key's sites, agreeing with the schedules", async () => {
    const trial = await followUpTrial();
    const a1 = await randomized(trial.id, 'A');
    const b1 = await randomized(trial.id, 'B');
    const a2 = await randomized(trial.id, 'A');
    setToday(addDays(a1.randomizedOn, 220)); // m6 overdue for all three, m12 not due
    await record(trial.id, a2.id, { visit: 'm6', assessedOn: addDays(a2.randomizedOn, 190), values: {} });
    await t.call('post', `/v1/trials/${trial.id}/participants/${b1.id}/visits/baseline/missed`, {
      body: { reason: 'refused the interview', recordedOn: b1.randomizedOn },
    });

    const everyStatus = 'not_due,open,overdue,completed,missed,not_expected';
    const all = await t.call('get', `/v1/trials/${trial.id}/visits?status=${everyStatus}&limit=4`);
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(4);
    const rest = await t.call(
      'get',
      `/v1/trials/${trial.id}/visits?status=${everyStatus}&limit=5&cursor=${all.body.nextCursor}`,
    );
    const rows = [...all.body.items, ...rest.body.items];
    expect(rows).toHaveLength(9);
    expect(rest.body.nextCursor).toBeNull();
    const closes = rows.map((r: { windowCloses: string }) => r.windowCloses);
    expect(closes).toEqual([...closes].sort());
    for (const p of [a1, b1, a2]) {
      const own = await schedule(trial.id, p.id);
      for (const v of own.visits) {
        const row = rows.find(
          (r: { participantId: string; visit: string }) => r.participantId === p.id && r.visit === v.visit,
        );
        expect({ visit: v.visit, status: row.status, reason: row.reason }).toEqual({
          visit: v.visit,
          status: v.status,
          reason: v.reason,
        });
      }
    }

    const overdue = await t.call('get', `/v1/trials/${trial.id}/visits?status=overdue&siteCode=A`);
    expect(overdue.body.items.map((i: { participantId: string; visit: string }) => [i.participantId, i.visit])).toEqual(
      [...[a1.id, a2.id].sort().map((id) => [id, 'baseline']), [a1.id, 'm6']],
    );
    const due = await t.call(
      'get',
      `/v1/trials/${trial.id}/visits?status=overdue&dueBefore=${addDays(a1.randomizedOn, 1)}`,
    );
    expect(due.body.items.every((i: { visit: string }) => i.visit === 'baseline')).toBe(true);

    const siteB = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] });
    const scoped = await t.call('get', `/v1/trials/${trial.id}/visits?status=overdue,missed`, { key: siteB.key });
    expect(new Set(scoped.body.items.map((i: { siteCode: string }) => i.siteCode))).toEqual(new Set(['B']));
    const outside = await t.call('get', `/v1/trials/${trial.id}/visits?siteCode=A`, { key: siteB.key });
    expect(outside.body.items).toEqual([]);

    const csv = await t.call('get', `/v1/trials/${trial.id}/visits?status=overdue`, {
      headers: { Accept: 'text/csv' },
    });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const table = parseCsv(csv.text);
    expect(table[0]).toEqual([
      'participantId',
      'label',
      'siteCode',
      'visit',
      'visitLabel',
      'targetDate',
      'windowOpens',
      'windowCloses',
      'status',
      'assessedOn',
      'reason',
    ]);
    expect(table).toHaveLength(1 + 4);
  });
});

describe('completeness and blinded assessors', () => {
  it('counts per visit, arm and site; a blinded assessor records and reads without ever seeing an arm', async () => {
    const trial = await followUpTrial();
    const people = [];
    for (let i = 0; i < 6; i++) people.push(await randomized(trial.id, i % 2 ? 'B' : 'A'));
    const randomizedOn = people[0]!.randomizedOn;
    setToday(addDays(randomizedOn, 215));
    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'outcome assessor', role: 'coordinator', trialIds: [trial.id], blinded: true },
    });
    const key = blinded.body.key as string;
    const arms = new Set(['SMCM', 'TAU', 'Strengths model case management', 'Treatment as usual']);
    const leaks = (text: string) => [...arms].filter((arm) => text.includes(arm));

    const recorded = await record(
      trial.id,
      people[0]!.id,
      { visit: 'm6', assessedOn: addDays(randomizedOn, 180), assessor: 'BA', values: { hope: { items: HOPE_ITEMS } } },
      key,
    );
    expect(recorded.status).toBe(201);
    expect(leaks(recorded.text)).toEqual([]);
    await record(trial.id, people[1]!.id, { visit: 'm6', assessedOn: addDays(randomizedOn, 214), values: {} });
    await t.call('post', `/v1/trials/${trial.id}/participants/${people[2]!.id}/visits/m6/missed`, {
      body: { reason: 'moved away', recordedOn: addDays(randomizedOn, 213) },
    });
    expect(
      leaks((await t.call('get', `/v1/trials/${trial.id}/participants/${people[0]!.id}/schedule`, { key })).text),
    ).toEqual([]);
    expect(leaks((await t.call('get', `/v1/trials/${trial.id}/visits`, { key })).text)).toEqual([]);

    const open = await t.call('get', `/v1/trials/${trial.id}/follow-up/completeness`);
    expect(open.status).toBe(200);
    const m6 = open.body.visits.filter((r: { visit: string }) => r.visit === 'm6');
    const total = (field: string) => m6.reduce((sum: number, r: Record<string, number>) => sum + r[field]!, 0);
    expect(total('randomized')).toBe(6);
    expect(total('expected')).toBe(6);
    expect(total('completedInWindow')).toBe(1);
    expect(total('completedOutOfWindow')).toBe(1);
    expect(total('missed')).toBe(1);
    expect(total('overdue')).toBe(3);
    for (const row of open.body.visits)
      expect(
        row.completedInWindow +
          row.completedOutOfWindow +
          row.missed +
          row.overdue +
          row.open +
          row.notDue +
          row.notExpected,
      ).toBe(row.randomized);
    expect(m6.find((r: { missed: number }) => r.missed === 1).missedByReason).toEqual({ 'moved away': 1 });
    expect(new Set(open.body.visits.map((r: { arm: string }) => r.arm))).toEqual(new Set(['SMCM', 'TAU']));
    expect(open.body.measures).toContainEqual({
      measure: 'hope',
      visit: 'm6',
      assessments: 2,
      missingScores: 1,
      missingItems: 0,
    });

    const masked = await t.call('get', `/v1/trials/${trial.id}/follow-up/completeness`, { key });
    expect(masked.status).toBe(200);
    expect(leaks(masked.text)).toEqual([]);
    expect(new Set(masked.body.visits.map((r: { arm: string }) => r.arm))).toEqual(new Set(['Group 1', 'Group 2']));
    const maskedCsv = await t.call('get', `/v1/trials/${trial.id}/follow-up/completeness`, {
      key,
      headers: { Accept: 'text/csv' },
    });
    expect(leaks(maskedCsv.text)).toEqual([]);
    expect(parseCsv(maskedCsv.text)).toHaveLength(1 + open.body.visits.length);
    expect(maskedCsv.text).toContain('moved away: 1');
  });
});

describe('analysis dataset', () => {
  it('has a row per randomized service user and visit, baseline scores as columns, in JSON pages and CSV', async () => {
    const trial = await followUpTrial();
    const p1 = await randomized(trial.id, 'A');
    const p2 = await randomized(trial.id, 'B');
    setToday(addDays(p1.randomizedOn, 200));
    await record(trial.id, p1.id, {
      visit: 'baseline',
      assessedOn: p1.randomizedOn,
      values: { hope: { items: HOPE_ITEMS }, employed: false },
    });
    await record(trial.id, p1.id, {
      visit: 'm6',
      assessedOn: addDays(p1.randomizedOn, 185),
      values: { hope: { items: [...HOPE_ITEMS.slice(0, 10), null, null] }, employed: true, admissions: 1 },
    });

    const first = await t.call('get', `/v1/trials/${trial.id}/analysis-dataset?limit=4&items=true`);
    expect(first.status).toBe(200);
    const second = await t.call(
      'get',
      `/v1/trials/${trial.id}/analysis-dataset?limit=4&items=true&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.nextCursor).toBeNull();
    const rows = [...first.body.items, ...second.body.items];
    expect(rows).toHaveLength(6);
    expect(first.body.columns.slice(0, 15)).toEqual([
      'participantId',
      'label',
      'siteCode',
      'stratum',
      'arm',
      'randomizedOn',
      'visit',
      'targetDate',
      'assessedOn',
      'daysFromRandomization',
      'inWindow',
      'status',
      'population_itt',
      'population_per_protocol',
      'per_protocol_exclusions',
    ]);
    expect(first.body.columns).toEqual(expect.arrayContaining(['hope', 'hope_baseline', 'admissions', 'hope_item12']));
    expect(first.body.columns).not.toContain('admissions_baseline');
    const m6 = rows.find((r) => r.participantId === p1.id && r.visit === 'm6');
    expect(m6).toMatchObject({
      arm: expect.stringMatching(/^(SMCM|TAU)$/),
      assessedOn: addDays(p1.randomizedOn, 185),
      daysFromRandomization: 185,
      inWindow: true,
      status: 'completed',
      population_itt: true,
      population_per_protocol: true,
      per_protocol_exclusions: null,
      hope: null,
      hope_baseline: 34,
      employed: true,
      employed_baseline: false,
      admissions: 1,
      hope_item1: 3,
      hope_item12: null,
    });
    expect(rows.find((r) => r.participantId === p2.id && r.visit === 'm6')).toMatchObject({
      status: 'open',
      assessedOn: null,
      hope: null,
      hope_baseline: null,
    });

    const csv = await t.call('get', `/v1/trials/${trial.id}/analysis-dataset`, { headers: { Accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    const table = parseCsv(csv.text);
    expect(table).toHaveLength(7);
    expect(table[0]).not.toContain('hope_item1');
    const header = table[0]!;
    const csvM6 = table.find(
      (r) => r[header.indexOf('participantId')] === p1.id && r[header.indexOf('visit')] === 'm6',
    )!;
    expect(csvM6[header.indexOf('hope_baseline')]).toBe('34');
    expect(csvM6[header.indexOf('employed')]).toBe('true');
    // The items, read only when asked for, agree with the JSON pages.
    const itemsCsv = parseCsv(
      (await t.call('get', `/v1/trials/${trial.id}/analysis-dataset?items=true`, { headers: { Accept: 'text/csv' } }))
        .text,
    );
    expect(itemsCsv[0]).toEqual(first.body.columns);
    const itemsHeader = itemsCsv[0]!;
    expect(itemsCsv.slice(1).map((r) => Object.fromEntries(itemsHeader.map((name, i) => [name, r[i]])))).toEqual(
      rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)]))),
    );

    const dictionary = await t.call('get', `/v1/trials/${trial.id}/analysis-dataset/dictionary`);
    expect(dictionary.body.columns.map((c: { name: string }) => c.name)).toEqual(parseCsv(csv.text)[0]);
    expect(dictionary.body.columns.find((c: { name: string }) => c.name === 'hope')).toEqual({
      name: 'hope',
      label: 'Herth Hope Index',
      type: 'number',
      unit: null,
      range: '12-48',
      scoring:
        'sum of 12 items scored 1-4; items 3, 6 reverse-scored; ' +
        'prorated (mean of answered × 12) with up to 1 unanswered, otherwise missing',
    });

    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded statistician', role: 'statistician', trialIds: [trial.id], blinded: true },
    });
    const key = blinded.body.key as string;
    const maskedCsv = await t.call('get', `/v1/trials/${trial.id}/analysis-dataset`, {
      key,
      headers: { Accept: 'text/csv' },
    });
    expect(maskedCsv.text).not.toMatch(/SMCM|TAU/);
    expect(maskedCsv.text).toMatch(/Group [12]/);
    const maskedJson = await t.call('get', `/v1/trials/${trial.id}/analysis-dataset`, { key });
    expect(maskedJson.text).not.toMatch(/SMCM|TAU/);
    const coordinator = await t.createKey('coordinator', { trialIds: [trial.id] });
    expect((await t.call('get', `/v1/trials/${trial.id}/analysis-dataset`, { key: coordinator.key })).status).toBe(403);
  });
});

describe('CONSORT lost to follow-up from the schedule', () => {
  it('counts a missed or overdue primary visit, once per participant, alongside events, as of the date', async () => {
    const trial = await followUpTrial();
    const [missed, overdue, both, completed] = [
      await randomized(trial.id, 'A'),
      await randomized(trial.id, 'B'),
      await randomized(trial.id, 'A'),
      await randomized(trial.id, 'B'),
    ];
    // The primary visit m12: day 365, window 2019-02-03 .. 2019-04-04 for a randomization on 2018-03-05.
    setToday('2019-05-01');
    const markMissed = (id: string, reason: string) =>
      t.call('post', `/v1/trials/${trial.id}/participants/${id}/visits/m12/missed`, {
        body: { reason, recordedOn: '2019-04-10' },
      });
    expect((await markMissed(missed!.id, 'moved away')).status).toBe(201);
    expect((await markMissed(both!.id, 'no contact')).status).toBe(201);
    const event = await t.call('post', `/v1/trials/${trial.id}/participants/${both!.id}/events`, {
      body: { type: 'lost_to_follow_up', occurredOn: '2018-12-01', reason: 'emigrated' },
    });
    expect(event.status).toBe(201);
    await record(trial.id, completed!.id, { visit: 'm12', assessedOn: '2019-03-05', values: {} });

    const lost = async (asOf: string) => {
      const res = await t.call('get', `/v1/trials/${trial.id}/consort?asOf=${asOf}`);
      expect(res.status).toBe(200);
      const reasons = new Map<string, number>();
      let total = 0;
      for (const arm of res.body.arms) {
        total += arm.lostToFollowUp.total;
        for (const r of arm.lostToFollowUp.reasons) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + r.count);
      }
      return { total, reasons: Object.fromEntries([...reasons].sort(([a], [b]) => a.localeCompare(b))) };
    };
    expect(await lost('2019-05-01')).toEqual({ total: 3, reasons: { emigrated: 1, 'moved away': 1, overdue: 1 } });
    // On the window's last day nothing is overdue yet, and the missed visits are not recorded yet.
    expect(await lost('2019-04-04')).toEqual({ total: 1, reasons: { emigrated: 1 } });
    // The day after: overdue, until the missed visit is recorded with its reason.
    expect(await lost('2019-04-05')).toEqual({ total: 3, reasons: { emigrated: 1, overdue: 2 } });
    expect(await lost('2018-11-30')).toEqual({ total: 0, reasons: {} });
    expect(overdue).toBeDefined();
  });
});
