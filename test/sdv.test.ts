import { smcmFollowUp } from '../scripts/smcm-trial';
import { createActiveTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
let now = new Date('2018-03-10T12:00:00Z');

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
});
afterAll(async () => {
  await t.close();
});

const GSE_ITEMS = [3, 3, 3, 3, 3, 3, 3, 3, 3, 3];

/** A follow-up trial with a randomized participant at site A (baseline assessment recorded) and one at B. */
async function world() {
  now = new Date('2018-03-10T12:00:00Z');
  const trial = await createActiveTrial(t, smcmFollowUp());
  const people = [];
  for (const siteCode of ['A', 'B']) {
    const p = await screen(t, trial.id, serviceUserInput({ siteCode, screenedOn: '2018-03-01' }));
    await grantConsent(t, trial.id, p.id, 'trial', '1.0', '2018-03-02');
    expect((await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`)).status).toBe(201);
    const a = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/assessments`, {
      body: { visit: 'baseline', assessedOn: '2018-03-10', values: { gse: { items: GSE_ITEMS } } },
    });
    expect(a.status).toBe(201);
    people.push({ id: p.id, assessmentId: a.body.id as string });
  }
  const monitor = await t.createKey('monitor', { trialIds: [trial.id] });
  return { trial, a: people[0]!, b: people[1]!, monitor: monitor.key };
}

const sdv = (trialId: string, rest = '') => `/v1/trials/${trialId}/sdv${rest}`;

async function mark(trialId: string, key: string, target: Record<string, string>, verifiedOn = '2018-03-10') {
  const res = await t.call('post', sdv(trialId), { body: { target, verifiedOn }, key });
  if (res.status !== 201) throw new Error(`marking failed: ${res.status} ${res.text}`);
  return res.body;
}

describe('source-data verification', () => {
  it('marks records and items; a correction through the assessment or baseline operation clears them and says so', async () => {
    const { trial, a, b, monitor } = await world();
    const item = await mark(trial.id, monitor, { kind: 'assessment', id: a.assessmentId, pointer: '/values/gse' });
    expect(item).toMatchObject({
      target: { kind: 'assessment', id: a.assessmentId, pointer: '/values/gse' },
      participantId: a.id,
      siteCode: 'A',
      verifiedOn: '2018-03-10',
      status: 'verified',
      clearedBecause: null,
    });
    const whole = await mark(trial.id, monitor, { kind: 'assessment', id: b.assessmentId });
    expect(whole.target.pointer).toBe('');
    const age = await mark(trial.id, monitor, { kind: 'participant', id: a.id, pointer: '/baseline/age' });
    const sex = await mark(trial.id, monitor, { kind: 'participant', id: a.id, pointer: '/baseline/sex' });

    const items = [...GSE_ITEMS];
    items[0] = 4;
    const corrected = await t.call('patch', `/v1/trials/${trial.id}/participants/${a.id}/assessments/baseline`, {
      body: { values: { gse: { items } }, reason: 'transcription error, item 1' },
    });
    expect(corrected.status).toBe(200);
    // A correction to another record's assessor only: b's whole-record mark is cleared too (the record changed).
    const assessor = await t.call('patch', `/v1/trials/${trial.id}/participants/${b.id}/assessments/baseline`, {
      body: { assessor: 'KL', reason: 'assessor missing' },
    });
    expect(assessor.status).toBe(200);
    const baseline = await t.call('put', `/v1/trials/${trial.id}/participants/${a.id}/baseline`, {
      body: { values: { age: 46, sex: 'female', diagnosis: 'depression', onsetYears: 11 }, reason: 'ID card' },
    });
    expect(baseline.status).toBe(200);

    const list = await t.call('get', sdv(trial.id), { key: monitor });
    expect(list.status).toBe(200);
    const byId = new Map(list.body.items.map((m: { id: string }) => [m.id, m]));
    expect(byId.get(item.id)).toMatchObject({ status: 'cleared', clearedBecause: 'value_changed' });
    expect(byId.get(whole.id)).toMatchObject({ status: 'cleared', clearedBecause: 'value_changed' });
    expect(byId.get(age.id)).toMatchObject({ status: 'cleared', clearedBecause: 'value_changed' });
    expect(byId.get(sex.id)).toMatchObject({ status: 'verified', clearedBecause: null });

    // Verified again, the mark holds with the new value and the new day.
    now = new Date('2018-03-12T12:00:00Z');
    const again = await mark(
      trial.id,
      monitor,
      { kind: 'participant', id: a.id, pointer: '/baseline/age' },
      '2018-03-12',
    );
    expect(again).toMatchObject({ id: age.id, verifiedOn: '2018-03-12', status: 'verified' });

    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityType=sdv_mark&entityId=${age.id}`);
    expect(audit.body.items.map((r: { action: string }) => r.action)).toEqual(['sdv.marked', 'sdv.marked']);
    expect(audit.body.items[1].before).toMatchObject({ status: 'cleared', clearedBecause: 'value_changed' });
  });

  it('refuses records the trial does not have, pointers that name nothing, future days and other roles', async () => {
    const { trial, a, monitor } = await world();
    const post = (body: unknown, key = monitor) => t.call('post', sdv(trial.id), { body, key });
    const missing = await post({
      target: { kind: 'assessment', id: '00000000-0000-4000-8000-000000000000' },
      verifiedOn: '2018-03-10',
    });
    expect(missing.status).toBe(422);
    expect(missing.body.errors[0].pointer).toBe('/target/id');
    const nothing = await post({
      target: { kind: 'assessment', id: a.assessmentId, pointer: '/values/hope/items/40' },
      verifiedOn: '2018-03-10',
    });
    expect(nothing.status).toBe(422);
    expect(nothing.body.errors[0].pointer).toBe('/target/pointer');
    const future = await post({ target: { kind: 'participant', id: a.id }, verifiedOn: '2018-03-11' });
    expect(future.status).toBe(422);
    const coordinator = await t.createKey('coordinator', { trialIds: [trial.id] });
    expect(
      (await post({ target: { kind: 'participant', id: a.id }, verifiedOn: '2018-03-10' }, coordinator.key)).status,
    ).toBe(403);
  });

  it('counts coverage per site and kind over records and key items; site-limited and blinded keys', async () => {
    const { trial, a, b, monitor } = await world();
    const keys = await t.call('put', sdv(trial.id, '/key-items'), {
      body: {
        items: [
          { kind: 'assessment', pointer: '/values/gse' },
          { kind: 'assessment', pointer: '/values/hope' },
          { kind: 'participant', pointer: '/baseline/age' },
        ],
      },
    });
    expect(keys.status).toBe(200);
    const twice = await t.call('put', sdv(trial.id, '/key-items'), {
      body: {
        items: [
          { kind: 'participant', pointer: '/baseline/age' },
          { kind: 'participant', pointer: '/baseline/age' },
        ],
      },
    });
    expect(twice.status).toBe(422);
    expect(twice.body.errors[0].pointer).toBe('/items/1');

    await mark(trial.id, monitor, { kind: 'assessment', id: a.assessmentId, pointer: '/values/gse' });
    await mark(trial.id, monitor, { kind: 'participant', id: b.id });
    await mark(trial.id, monitor, { kind: 'participant', id: a.id, pointer: '/baseline/age' });

    const coverage = await t.call('get', sdv(trial.id, '/coverage'), { key: monitor });
    expect(coverage.status).toBe(200);
    const rows = coverage.body.rows.filter(
      (r: { kind: string }) => r.kind === 'assessment' || r.kind === 'participant',
    );
    expect(rows).toEqual([
      // gse is recorded at baseline, hope is not (the baseline assessment carries gse only): one key item each.
      {
        siteCode: 'A',
        kind: 'assessment',
        records: 1,
        recordsVerified: 0,
        recordShare: 0,
        keyItems: 1,
        keyItemsVerified: 1,
        keyItemShare: 1,
      },
      {
        siteCode: 'A',
        kind: 'participant',
        records: 1,
        recordsVerified: 0,
        recordShare: 0,
        keyItems: 1,
        keyItemsVerified: 1,
        keyItemShare: 1,
      },
      {
        siteCode: 'B',
        kind: 'assessment',
        records: 1,
        recordsVerified: 0,
        recordShare: 0,
        keyItems: 1,
        keyItemsVerified: 0,
        keyItemShare: 0,
      },
      {
        siteCode: 'B',
        kind: 'participant',
        records: 1,
        recordsVerified: 1,
        recordShare: 1,
        keyItems: 1,
        keyItemsVerified: 1,
        keyItemShare: 1,
      },
    ]);

    // A correction of the verified item takes it out of the coverage.
    await t.call('put', `/v1/trials/${trial.id}/participants/${a.id}/baseline`, {
      body: { values: { age: 47, sex: 'female', diagnosis: 'depression', onsetYears: 11 }, reason: 'ID card' },
    });
    const after = await t.call('get', sdv(trial.id, '/coverage'), { key: monitor });
    expect(
      after.body.rows.find((r: { siteCode: string; kind: string }) => r.siteCode === 'A' && r.kind === 'participant'),
    ).toMatchObject({
      keyItemsVerified: 0,
      keyItemShare: 0,
    });

    const coordinatorA = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['A'] });
    const scoped = await t.call('get', sdv(trial.id, '/coverage'), { key: coordinatorA.key });
    expect([...new Set(scoped.body.rows.map((r: { siteCode: string }) => r.siteCode))]).toEqual(['A']);
    const scopedList = await t.call('get', sdv(trial.id), { key: coordinatorA.key });
    expect(scopedList.body.items.map((m: { siteCode: string }) => m.siteCode)).toEqual(['A', 'A']);

    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded monitor', role: 'monitor', trialIds: [trial.id], blinded: true },
    });
    const blindList = await t.call('get', sdv(trial.id), { key: blinded.body.key });
    expect(blindList.status).toBe(200);
    expect(JSON.stringify(blindList.body)).not.toMatch(/arm/i);
  });

  it('pages marks with a cursor', async () => {
    const { trial, a, b, monitor } = await world();
    for (const pointer of ['/baseline/age', '/baseline/sex', '/baseline/diagnosis'])
      for (const p of [a, b]) await mark(trial.id, monitor, { kind: 'participant', id: p.id, pointer });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=4&cursor=${cursor}` : '?limit=4';
      const page = await t.call('get', sdv(trial.id, q), { key: monitor });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((m: { id: string }) => m.id));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(2);
    expect(new Set(seen).size).toBe(6);
    expect((await t.call('get', sdv(trial.id, '?cursor=bm9wZQ'), { key: monitor })).status).toBe(422);
  });
});
