import { createActiveTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
let now = new Date('2026-11-29T12:00:00Z');

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
});
afterAll(async () => {
  await t.close();
});

const admission = (overrides: Record<string, unknown> = {}) => ({
  term: 'Psychiatric hospitalisation',
  onsetOn: '2026-11-27',
  severity: 'severe',
  serious: { criteria: ['hospitalization'] },
  relatedness: 'unlikely',
  expected: true,
  action: 'Admitted to the acute ward; intervention paused',
  reportedBy: 'case worker',
  awareAt: '2026-11-27T15:30:00Z',
  ...overrides,
});

const headache = { ...admission(), term: 'Headache', severity: 'mild', serious: null, awareAt: undefined };

async function trialWithParticipants() {
  const trial = await createActiveTrial(t);
  const a = await screen(t, trial.id, serviceUserInput({ siteCode: 'A' }));
  const b = await screen(t, trial.id, serviceUserInput({ siteCode: 'B' }));
  return { trial, a, b };
}

const queries = (trialId: string, suffix = '') => `/v1/trials/${trialId}/queries${suffix}`;

const aePath = (trialId: string, participantId: string) =>
  `/v1/trials/${trialId}/participants/${participantId}/adverse-events`;

async function record(trialId: string, participantId: string, body: unknown, key?: string) {
  const res = await t.call('post', aePath(trialId, participantId), { body, key });
  if (res.status !== 201) throw new Error(`recording failed: ${res.status} ${res.text}`);
  return res.body;
}

describe('adverse events', () => {
  it('records a serious event with its clocks in the trial’s time zone, and lists and reads it', async () => {
    now = new Date('2026-11-28T01:00:00Z');
    const { trial, a, b } = await trialWithParticipants();
    const settings = {
      timeZone: 'Asia/Hong_Kong',
      initialReportHours: 24,
      fatalOrLifeThreateningDays: 7,
      otherSeriousDays: 15,
    };
    expect((await t.call('put', `/v1/trials/${trial.id}/safety/settings`, { body: settings })).status).toBe(200);
    const event = await record(trial.id, a.id, admission());
    expect(event).toMatchObject({
      participantId: a.id,
      siteCode: 'A',
      outcome: null,
      resolvedOn: null,
      history: [],
      clocks: [
        {
          clock: 'sponsor_initial',
          dueAt: '2026-11-28T15:30:00.000Z',
          dueAtLocal: '2026-11-28T23:30:00+08:00',
          status: 'due',
          reportedAt: null,
        },
        { clock: 'ethics', category: 'other_serious', dueAt: '2026-12-12T15:30:00.000Z', status: 'due' },
      ],
    });
    await record(trial.id, b.id, headache);
    const list = await t.call('get', `/v1/trials/${trial.id}/adverse-events`);
    expect(list.body.items.map((e: { term: string }) => e.term)).toEqual(['Psychiatric hospitalisation', 'Headache']);
    const serious = await t.call('get', `/v1/trials/${trial.id}/adverse-events?serious=true`);
    expect(serious.body.items).toHaveLength(1);
    const one = await t.call('get', `/v1/trials/${trial.id}/adverse-events/${event.id}`);
    expect(one.body).toEqual(event);
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityId=${event.id}`);
    expect(audit.body.items.map((r: { action: string }) => r.action)).toEqual(['adverse_event.recorded']);
  });

  it('refuses a serious event without awareness time, and onsets in the future', async () => {
    now = new Date('2026-11-29T12:00:00Z');
    const { trial, a } = await trialWithParticipants();
    const res = await t.call('post', aePath(trial.id, a.id), {
      body: admission({ awareAt: undefined, onsetOn: '2026-12-01' }),
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/onsetOn', '/awareAt']);
  });

  it('takes follow-ups until a final outcome with a resolution date, then only corrections', async () => {
    now = new Date('2026-12-20T12:00:00Z');
    const { trial, a } = await trialWithParticipants();
    const event = await record(trial.id, a.id, admission());
    const followUp = (body: unknown) =>
      t.call('post', `/v1/trials/${trial.id}/adverse-events/${event.id}/follow-ups`, { body });
    expect((await followUp({ note: 'Still on the ward', outcome: 'recovering' })).status).toBe(201);
    const missing = await followUp({ note: 'Discharged', outcome: 'recovered' });
    expect(missing.status).toBe(422);
    const done = await followUp({ note: 'Discharged home', outcome: 'recovered', resolvedOn: '2026-12-10' });
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({ outcome: 'recovered', resolvedOn: '2026-12-10' });
    expect(done.body.history).toMatchObject([
      {
        entry: 1,
        kind: 'follow_up',
        note: 'Still on the ward',
        before: { outcome: null },
        after: { outcome: 'recovering' },
      },
      { entry: 2, kind: 'follow_up', before: { outcome: 'recovering', resolvedOn: null } },
    ]);
    const more = await followUp({ note: 'Seen again' });
    expect(more.status).toBe(409);
    expect(more.body.type).toMatch(/adverse-event-resolved$/);

    const corrected = await t.call('patch', `/v1/trials/${trial.id}/adverse-events/${event.id}`, {
      body: { reason: 'Onset was the day before, per the ward notes', onsetOn: '2026-11-26', relatedness: 'possible' },
    });
    expect(corrected.status).toBe(200);
    expect(corrected.body).toMatchObject({ onsetOn: '2026-11-26', relatedness: 'possible' });
    expect(corrected.body.history[2]).toMatchObject({
      kind: 'correction',
      note: 'Onset was the day before, per the ward notes',
      before: { onsetOn: '2026-11-27', relatedness: 'unlikely' },
      after: { onsetOn: '2026-11-26', relatedness: 'possible' },
    });
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityId=${event.id}`);
    const correction = audit.body.items.find((r: { action: string }) => r.action === 'adverse_event.corrected');
    expect(correction).toMatchObject({ reason: 'Onset was the day before, per the ward notes' });
    expect(correction.before.onsetOn).toBe('2026-11-27');
    expect(correction.after.onsetOn).toBe('2026-11-26');

    const bad = await t.call('patch', `/v1/trials/${trial.id}/adverse-events/${event.id}`, {
      body: { reason: 'x', awareAt: '2026-11-20T00:00:00Z' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0]).toMatchObject({ pointer: '/awareAt' });
  });

  it('records reports once per recipient, judged against the clock', async () => {
    now = new Date('2026-11-30T12:00:00Z');
    const { trial, a } = await trialWithParticipants();
    const event = await record(trial.id, a.id, admission());
    const report = (body: unknown) =>
      t.call('post', `/v1/trials/${trial.id}/adverse-events/${event.id}/reports`, { body });
    const beforeAware = await report({ recipient: 'sponsor', reportedAt: '2026-11-27T15:00:00Z' });
    expect(beforeAware.status).toBe(422);
    const sponsor = await report({ recipient: 'sponsor', reportedAt: '2026-11-28T16:00:00Z' });
    expect(sponsor.status).toBe(201);
    expect(sponsor.body.clocks[0]).toMatchObject({ status: 'reported_late', reportedAt: '2026-11-28T16:00:00.000Z' });
    expect((await report({ recipient: 'sponsor', reportedAt: '2026-11-28T16:00:00Z' })).status).toBe(409);
    const ethics = await report({ recipient: 'ethics_committee', reportedAt: '2026-11-30T09:00:00+08:00' });
    expect(ethics.body.clocks[1]).toMatchObject({ status: 'reported_on_time', reportedAt: '2026-11-30T01:00:00.000Z' });
    const again = await report({ recipient: 'ethics_committee', reportedAt: '2026-11-30T02:00:00Z' });
    expect(again.body.type).toMatch(/already-reported$/);
    const mild = await record(trial.id, a.id, headache);
    const notSerious = await t.call('post', `/v1/trials/${trial.id}/adverse-events/${mild.id}/reports`, {
      body: { recipient: 'sponsor', reportedAt: '2026-11-29T00:00:00Z' },
    });
    expect(notSerious.body.type).toMatch(/not-serious$/);
  });

  it('lists what is due or late by site, for a coordinator only their site', async () => {
    now = new Date('2026-11-28T12:00:00Z');
    const { trial, a, b } = await trialWithParticipants();
    await t.call('put', `/v1/trials/${trial.id}/safety/settings`, {
      body: { timeZone: 'Asia/Hong_Kong', initialReportHours: 24, fatalOrLifeThreateningDays: 7, otherSeriousDays: 15 },
    });
    const early = await record(trial.id, a.id, admission({ awareAt: '2026-11-27T01:00:00Z' }));
    await record(
      trial.id,
      b.id,
      admission({ term: 'Self-harm', awareAt: '2026-11-28T03:00:00Z', relatedness: 'possible' }),
    );
    await record(trial.id, b.id, headache);
    const due = await t.call('get', `/v1/trials/${trial.id}/safety/due`);
    expect(due.status).toBe(200);
    expect(due.body).toMatchObject({ asOf: '2026-11-28T12:00:00.000Z', timeZone: 'Asia/Hong_Kong', due: 3, late: 1 });
    expect(due.body.sites.map((s: { siteCode: string }) => s.siteCode)).toEqual(['A', 'B']);
    expect(due.body.sites[0].items[0]).toMatchObject({
      adverseEventId: early.id,
      clock: 'sponsor_initial',
      status: 'late',
      hoursRemaining: -11,
      dueAtLocal: '2026-11-28T09:00:00+08:00',
    });
    await t.call('post', `/v1/trials/${trial.id}/adverse-events/${early.id}/reports`, {
      body: { recipient: 'sponsor', reportedAt: '2026-11-28T11:00:00Z' },
    });
    const coordinatorB = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] });
    const scoped = await t.call('get', `/v1/trials/${trial.id}/safety/due`, { key: coordinatorB.key });
    expect(scoped.body.sites.map((s: { siteCode: string }) => s.siteCode)).toEqual(['B']);
    expect(scoped.body).toMatchObject({ due: 2, late: 0 });
    const afterReport = await t.call('get', `/v1/trials/${trial.id}/safety/due`);
    expect(afterReport.body).toMatchObject({ due: 3, late: 0 });
    expect(
      (await t.call('get', `/v1/trials/${trial.id}/adverse-events/${early.id}`, { key: coordinatorB.key })).status,
    ).toBe(404);
    const list = await t.call('get', `/v1/trials/${trial.id}/adverse-events`, { key: coordinatorB.key });
    expect(new Set(list.body.items.map((e: { siteCode: string }) => e.siteCode))).toEqual(new Set(['B']));
  });

  it('lets blinded keys record and read events, which name no arm', async () => {
    now = new Date('2026-11-29T12:00:00Z');
    const { trial, a } = await trialWithParticipants();
    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded coordinator', role: 'coordinator', trialIds: [trial.id], blinded: true },
    });
    const event = await record(trial.id, a.id, admission(), blinded.body.key);
    expect(Object.keys(event)).not.toContain('arm');
    const read = await t.call('get', `/v1/trials/${trial.id}/adverse-events/${event.id}`, { key: blinded.body.key });
    expect(read.status).toBe(200);
  });

  it('refuses unknown time zones', async () => {
    const { trial } = await trialWithParticipants();
    const res = await t.call('put', `/v1/trials/${trial.id}/safety/settings`, {
      body: { timeZone: 'Mars/Olympus', initialReportHours: 24, fatalOrLifeThreateningDays: 7, otherSeriousDays: 15 },
    });
    expect(res.status).toBe(422);
    expect((await t.call('get', `/v1/trials/${trial.id}/safety/settings`)).body).toEqual({
      timeZone: 'UTC',
      initialReportHours: 24,
      fatalOrLifeThreateningDays: 7,
      otherSeriousDays: 15,
    });
  });
});

describe('data queries', () => {
  it('go open → answered → re-opened → answered → closed, never backwards, with their conversation', async () => {
    now = new Date('2026-11-01T09:00:00Z');
    const { trial, a } = await trialWithParticipants();
    const event = await record(trial.id, a.id, admission({ onsetOn: '2026-10-30', awareAt: '2026-10-31T01:00:00Z' }));
    const monitor = await t.createKey('monitor', { trialIds: [trial.id] });
    const siteA = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['A'] });
    const siteB = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] });
    const raised = await t.call('post', queries(trial.id), {
      key: monitor.key,
      body: {
        target: { kind: 'adverse_event', id: event.id, pointer: '/severity' },
        text: 'Severe, yet no admission?',
      },
    });
    expect(raised.status).toBe(201);
    expect(raised.body).toMatchObject({ status: 'open', siteCode: 'A', participantId: a.id, ageDays: 0 });
    const id = raised.body.id;
    const step = (action: string, key: string, text = action) =>
      t.call('post', queries(trial.id, `/${id}/${action}`), { key, body: { text } });

    expect((await step('answers', siteB.key)).status).toBe(404);
    expect((await step('reopening', monitor.key)).body.type).toMatch(/query-transition-refused$/);
    now = new Date('2026-11-03T09:00:00Z');
    expect((await step('answers', siteA.key, 'Admitted the same night; see follow-up')).body.status).toBe('answered');
    expect((await step('answers', siteA.key)).status).toBe(409);
    expect((await step('reopening', monitor.key, 'Please attach the discharge letter')).body.status).toBe('open');
    expect((await step('answers', siteA.key, 'Attached')).body.status).toBe('answered');
    now = new Date('2026-11-05T09:00:00Z');
    const closed = await step('closure', monitor.key, 'Resolved');
    expect(closed.body).toMatchObject({ status: 'closed', ageDays: 4 });
    expect(closed.body.messages.map((m: { action: string; role: string }) => `${m.action}:${m.role}`)).toEqual([
      'raise:monitor',
      'answer:coordinator',
      'reopen:monitor',
      'answer:coordinator',
      'close:monitor',
    ]);
    expect((await step('closure', monitor.key)).status).toBe(409);
    expect((await step('answers', siteA.key)).status).toBe(409);
    now = new Date('2026-12-05T09:00:00Z');
    expect((await t.call('get', queries(trial.id, `/${id}`))).body).toMatchObject({ status: 'closed', ageDays: 4 });
    expect((await step('reopening', monitor.key)).body).toMatchObject({ status: 'open', ageDays: 34 });
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityType=query&entityId=${id}`);
    expect(audit.body.items.map((r: { action: string }) => r.action)).toEqual([
      'query.raised',
      'query.answered',
      'query.reopened',
      'query.answered',
      'query.closed',
      'query.reopened',
    ]);
  });

  it('refuse a target the trial does not have', async () => {
    const { trial } = await trialWithParticipants();
    const res = await t.call('post', queries(trial.id), {
      body: {
        target: { kind: 'assessment', id: '00000000-0000-4000-8000-000000000000', pointer: '/values' },
        text: '?',
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].pointer).toBe('/target/id');
    const badPointer = await t.call('post', queries(trial.id), {
      body: {
        target: { kind: 'participant', id: '00000000-0000-4000-8000-000000000000', pointer: 'baseline' },
        text: '?',
      },
    });
    expect(badPointer.status).toBe(422);
  });

  it('list with filters, ageing and counts by site and kind; site-limited keys see their sites only', async () => {
    now = new Date('2026-11-01T09:00:00Z');
    const { trial, a, b } = await trialWithParticipants();
    const raise = async (kind: string, id: string, pointer: string) => {
      const res = await t.call('post', queries(trial.id), {
        body: { target: { kind, id, pointer }, text: `check ${pointer}` },
      });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    await raise('participant', a.id, '/baseline/age');
    now = new Date('2026-11-10T09:00:00Z');
    await raise('participant', b.id, '/baseline/onsetYears');
    const eventB = await record(trial.id, b.id, { ...headache, onsetOn: '2026-11-08' });
    const answered = await raise('adverse_event', eventB.id, '/term');
    await t.call('post', queries(trial.id, `/${answered}/answers`), { body: { text: 'Tension headache' } });
    now = new Date('2026-11-20T09:00:00Z');

    const all = await t.call('get', queries(trial.id));
    expect(all.body.items.map((q: { ageDays: number }) => q.ageDays)).toEqual([19, 10, 10]);
    expect(all.body.summary).toEqual({
      bySite: [
        { siteCode: 'A', open: 1, answered: 0, closed: 0 },
        { siteCode: 'B', open: 1, answered: 1, closed: 0 },
      ],
      byKind: [
        { kind: 'adverse_event', open: 0, answered: 1, closed: 0 },
        { kind: 'participant', open: 2, answered: 0, closed: 0 },
      ],
      oldestOpenDays: 19,
    });
    const old = await t.call('get', queries(trial.id, '?status=open&olderThan=14'));
    expect(old.body.items.map((q: { target: { pointer: string } }) => q.target.pointer)).toEqual(['/baseline/age']);
    const siteB = await t.call('get', queries(trial.id, '?siteCode=B&status=answered'));
    expect(siteB.body.items.map((q: { id: string }) => q.id)).toEqual([answered]);

    const coordinatorA = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['A'] });
    const scoped = await t.call('get', queries(trial.id), { key: coordinatorA.key });
    expect(scoped.body.items.map((q: { siteCode: string }) => q.siteCode)).toEqual(['A']);
    expect(scoped.body.summary.bySite).toEqual([{ siteCode: 'A', open: 1, answered: 0, closed: 0 }]);
    expect((await t.call('get', queries(trial.id, `/${answered}`), { key: coordinatorA.key })).status).toBe(404);
  });
});

describe('lists', () => {
  it('page adverse events and queries with a cursor, in list order, within the caller’s sites', async () => {
    now = new Date('2026-11-29T12:00:00Z');
    const { trial, a, b } = await trialWithParticipants();
    const onsets = ['2026-11-20', '2026-11-18', '2026-11-20', '2026-11-19', '2026-11-18'];
    for (const [i, onsetOn] of onsets.entries()) await record(trial.id, i % 2 ? b.id : a.id, { ...headache, onsetOn });
    const pages = async (path: string, key?: string) => {
      const items: { id: string; onsetOn?: string; siteCode: string }[] = [];
      let cursor: string | null = null;
      let count = 0;
      do {
        const sep = path.includes('?') ? '&' : '?';
        const res = await t.call('get', `${path}${sep}limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key });
        expect(res.status).toBe(200);
        items.push(...res.body.items);
        cursor = res.body.nextCursor;
        count += 1;
      } while (cursor);
      return { items, count };
    };
    const events = await pages(`/v1/trials/${trial.id}/adverse-events`);
    expect(events.count).toBe(3);
    expect(events.items.map((e) => e.onsetOn)).toEqual([...onsets].sort());
    expect(new Set(events.items.map((e) => e.id)).size).toBe(5);
    const coordinatorA = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['A'] });
    const scoped = await pages(`/v1/trials/${trial.id}/adverse-events`, coordinatorA.key);
    expect(scoped.items.map((e) => e.siteCode)).toEqual(['A', 'A', 'A']);

    for (const e of events.items) {
      now = new Date(now.getTime() + 60_000);
      await t.call('post', queries(trial.id), {
        body: { target: { kind: 'adverse_event', id: e.id, pointer: '/term' }, text: 'Term?' },
      });
    }
    const raised = await pages(queries(trial.id, '?status=open'));
    expect(raised.count).toBe(3);
    expect(raised.items.map((q) => (q as unknown as { target: { id: string } }).target.id)).toEqual(
      events.items.map((e) => e.id),
    );
    const bad = await t.call('get', `/v1/trials/${trial.id}/adverse-events?cursor=eyJvbiI6MX0`);
    expect(bad.status).toBe(422);
  });
});

describe('DMC reports', () => {
  it('pool the open report, give harms by arm in the closed one, and refuse the closed one to blinded keys', async () => {
    now = new Date('2026-11-29T12:00:00Z');
    const trial = await createActiveTrial(t);
    const people: { id: string; arm: string }[] = [];
    for (const siteCode of ['A', 'A', 'B', 'B', 'B']) {
      const p = await screen(t, trial.id, serviceUserInput({ siteCode, screenedOn: '2026-10-01' }));
      await grantConsent(t, trial.id, p.id, 'trial', '1.0', '2026-10-02');
      const r = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`);
      expect(r.status).toBe(201);
      people.push({ id: p.id, arm: r.body.arm });
    }
    await record(trial.id, people[0]!.id, admission({ onsetOn: '2026-11-01', awareAt: '2026-11-01T10:00:00Z' }));
    await record(trial.id, people[0]!.id, { ...headache, onsetOn: '2026-11-02' });
    await record(
      trial.id,
      people[2]!.id,
      admission({ term: 'Self-harm', onsetOn: '2026-11-03', awareAt: '2026-11-03T10:00:00Z' }),
    );
    await record(trial.id, people[3]!.id, { ...headache, onsetOn: '2026-11-04', severity: 'moderate' });
    await t.call('post', `/v1/trials/${trial.id}/queries`, {
      body: { target: { kind: 'participant', id: people[1]!.id, pointer: '/baseline/age' }, text: 'Age?' },
    });

    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded DMC statistician', role: 'statistician', trialIds: [trial.id], blinded: true },
    });
    const open = await t.call('get', `/v1/trials/${trial.id}/dmc/open-report`, { key: blinded.body.key });
    expect(open.status).toBe(200);
    expect(open.body.recruitment).toEqual([
      {
        siteCode: 'A',
        screened: 2,
        randomized: 2,
        byMonth: [
          { month: '2026-10', screened: 2, randomized: 0 },
          { month: '2026-11', screened: 0, randomized: 2 },
        ],
      },
      {
        siteCode: 'B',
        screened: 3,
        randomized: 3,
        byMonth: [
          { month: '2026-10', screened: 3, randomized: 0 },
          { month: '2026-11', screened: 0, randomized: 3 },
        ],
      },
    ]);
    expect(open.body.adverseEvents).toMatchObject({
      participantsWithEvent: 3,
      participantsWithSeriousEvent: 2,
      events: 4,
      seriousEvents: 2,
    });
    expect(open.body.adverseEvents.bySite).toEqual([
      { siteCode: 'A', participantsWithEvent: 1, participantsWithSeriousEvent: 1, events: 2, seriousEvents: 1 },
      { siteCode: 'B', participantsWithEvent: 2, participantsWithSeriousEvent: 1, events: 2, seriousEvents: 1 },
    ]);
    expect(open.body.queries.bySite).toEqual([{ siteCode: 'A', open: 1, answered: 0, closed: 0 }]);
    expect(open.body.safetyReports).toEqual({ due: 0, late: 4 });
    const text = JSON.stringify(open.body);
    for (const arm of trial.arms) expect(text).not.toContain(`"${arm.code}"`);
    const html = await t.call('get', `/v1/trials/${trial.id}/dmc/open-report`, {
      key: blinded.body.key,
      headers: { accept: 'text/html' },
    });
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.text).toContain('Self-harm');

    expect((await t.call('get', `/v1/trials/${trial.id}/dmc/closed-report`, { key: blinded.body.key })).status).toBe(
      403,
    );
    const closed = await t.call('get', `/v1/trials/${trial.id}/dmc/closed-report`);
    expect(closed.status).toBe(200);
    const byArm = new Map(closed.body.harms.arms.map((a: { arm: string }) => [a.arm, a]));
    for (const arm of trial.arms) {
      const members = people.filter((p) => p.arm === arm.code).map((p) => p.id);
      const withEvent = [people[0]!.id, people[2]!.id, people[3]!.id].filter((id) => members.includes(id)).length;
      const withSerious = [people[0]!.id, people[2]!.id].filter((id) => members.includes(id)).length;
      expect(byArm.get(arm.code)).toMatchObject({
        atRisk: members.length,
        participantsWithEvent: withEvent,
        participantsWithSeriousEvent: withSerious,
      });
    }
    expect(
      closed.body.consort.arms
        .map((a: { allocated: number }) => a.allocated)
        .reduce((s: number, n: number) => s + n, 0),
    ).toBe(5);
    const any = closed.body.harms.riskDifferences.find((d: { outcome: string }) => d.outcome === 'any adverse event');
    expect(any.estimate).toBeCloseTo(
      any.first.participants / any.first.atRisk - any.second.participants / any.second.atRisk,
      12,
    );
    const closedHtml = await t.call('get', `/v1/trials/${trial.id}/dmc/closed-report`, {
      headers: { accept: 'text/html' },
    });
    expect(closedHtml.text).toContain('Participants at risk');

    // CONSORT's own counts carry the harms items per arm, equal to the closed report's; masked for blinded keys.
    const consort = await t.call('get', `/v1/trials/${trial.id}/consort`);
    for (const row of consort.body.arms) {
      const harms = byArm.get(row.arm) as Record<string, number>;
      expect(row.harms).toEqual({
        atRisk: harms.atRisk,
        participantsWithEvent: harms.participantsWithEvent,
        participantsWithSeriousEvent: harms.participantsWithSeriousEvent,
        events: harms.events,
        seriousEvents: harms.seriousEvents,
      });
    }
    const blindConsort = await t.call('get', `/v1/trials/${trial.id}/consort`, { key: blinded.body.key });
    expect(blindConsort.body.arms.map((a: { arm: string }) => a.arm)).toEqual(['Group 1', 'Group 2']);
    expect(blindConsort.body.arms.map((a: { harms: { events: number } }) => a.harms.events).sort()).toEqual(
      consort.body.arms.map((a: { harms: { events: number } }) => a.harms.events).sort(),
    );
    const siteA = await t.call('get', `/v1/trials/${trial.id}/consort?siteCode=A`);
    expect(siteA.body.arms.reduce((n: number, a: { harms: { events: number } }) => n + a.harms.events, 0)).toBe(2);
    const early = await t.call('get', `/v1/trials/${trial.id}/consort?asOf=2026-11-02`);
    expect(early.body.arms.reduce((n: number, a: { harms: { events: number } }) => n + a.harms.events, 0)).toBe(2);
  });
});
