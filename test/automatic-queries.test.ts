import { smcmFollowUp, smcmTrialConfiguration } from '../scripts/smcm-trial';
import { createActiveTrial, createTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
let now = new Date('2018-03-10T12:00:00Z');

beforeAll(async () => {
  t = await startTestApp({ clock: () => now });
});
afterAll(async () => {
  await t.close();
});

/** The SMCM configuration with a plausible age of 18 to 70 and at most 10 admissions in six months. */
function withSoftRanges() {
  const config = smcmTrialConfiguration();
  const followUp = smcmFollowUp();
  return {
    ...followUp,
    baselineVariables: config.baselineVariables!.map((v) =>
      v.name === 'age' ? { ...v, softRange: { min: 18, max: 70 } } : v,
    ),
    measures: followUp.measures!.map((m) => (m.code === 'admissions' ? { ...m, softRange: { max: 10 } } : m)),
  };
}

const HOPE = [3, 4, 2, 3, 3, 4, 3, 2, 3, 4, 3, 2];
const GSE = [3, 3, 3, 3, 3, 3, 3, 3, 3, 3];

describe('automatic queries', () => {
  it('are validated in the configuration: numeric variables and measures only, inside the hard limits', async () => {
    const config = withSoftRanges();
    const bad = await t.call('post', '/v1/trials', {
      body: {
        code: `SOFT-${process.pid}`,
        ...smcmTrialConfiguration(),
        ...config,
        baselineVariables: config.baselineVariables!.map((v) =>
          v.name === 'age'
            ? { ...v, softRange: { min: 10, max: 70 } }
            : v.name === 'sex'
              ? { ...v, softRange: { max: 1 } }
              : v,
        ),
        measures: config.measures.map((m) => (m.code === 'employed' ? { ...m, softRange: { max: 1 } } : m)),
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/baselineVariables/0/softRange/min',
      '/baselineVariables/1/softRange',
      '/measures/2/softRange',
    ]);
    const good = await createTrial(t, config);
    expect(good.baselineVariables[0]).toMatchObject({ name: 'age', softRange: { min: 18, max: 70 } });
  });

  it('raise one system query per item out of its soft range or missing at a completed visit, idempotently, on each assessment write and on request', async () => {
    now = new Date('2018-03-10T12:00:00Z');
    const trial = await createActiveTrial(t, withSoftRanges());
    const old = await screen(
      t,
      trial.id,
      serviceUserInput({ siteCode: 'A', baseline: { age: 74, sex: 'male', diagnosis: 'depression', onsetYears: 3 } }),
    );
    const fine = await screen(t, trial.id, serviceUserInput({ siteCode: 'B' }));
    for (const p of [old, fine]) {
      await grantConsent(t, trial.id, p.id, 'trial', '1.0', '2018-03-02');
      expect((await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`)).status).toBe(201);
    }
    const hope = [...HOPE];
    hope[4] = null as unknown as number;
    const assessment = await t.call('post', `/v1/trials/${trial.id}/participants/${old.id}/assessments`, {
      body: { visit: 'baseline', assessedOn: '2018-03-10', values: { hope: { items: hope }, gse: { items: GSE } } },
    });
    expect(assessment.status).toBe(201);
    const complete = await t.call('post', `/v1/trials/${trial.id}/participants/${fine.id}/assessments`, {
      body: {
        visit: 'baseline',
        assessedOn: '2018-03-10',
        values: { hope: { items: HOPE }, gse: { items: GSE }, employed: true },
      },
    });
    expect(complete.status).toBe(201);

    const target = (q: { target: { kind: string; id: string; pointer: string }; check: string }) => [
      q.target.kind,
      q.target.id,
      q.target.pointer,
      q.check,
    ];
    // The checks ran when the baseline was screened and the assessment recorded, each in its write's transaction,
    // as the writer's key.
    const atWrite = await t.call('get', `/v1/trials/${trial.id}/queries`);
    expect(atWrite.body.items.map(target).sort()).toEqual(
      [
        ['participant', old.id, '/baseline/age', 'soft_range'],
        ['assessment', assessment.body.id, '/values/hope/items/4', 'missing_item'],
        ['assessment', assessment.body.id, '/values/employed', 'missing_item'],
      ].sort(),
    );
    for (const q of atWrite.body.items)
      expect(q.messages).toEqual([expect.objectContaining({ action: 'raise', role: 'admin' })]);
    const age = atWrite.body.items.find((q: { check: string }) => q.check === 'soft_range');
    expect(age).toMatchObject({
      status: 'open',
      siteCode: 'A',
      text: 'Automatic check: 74 is above the plausible range (18 to 70); please confirm against the source or correct it.',
    });

    // On request (for data written before the checks ran on writes): the same checks over every record, and
    // nothing the writes already raised is raised again.
    const monitor = await t.createKey('monitor', { trialIds: [trial.id] });
    const run = await t.call('post', `/v1/trials/${trial.id}/automatic-queries`, { key: monitor.key });
    expect(run.status).toBe(201);
    expect(run.body.checked).toEqual({ participants: 2, assessments: 2 });
    expect(run.body.raised).toEqual([]);

    // Again: nothing new, even after one of them was answered and closed.
    const first = age.id;
    await t.call('post', `/v1/trials/${trial.id}/queries/${first}/answers`, { body: { text: 'Age checked: 74' } });
    await t.call('post', `/v1/trials/${trial.id}/queries/${first}/closure`, { body: { text: 'Confirmed' } });
    const again = await t.call('post', `/v1/trials/${trial.id}/automatic-queries`, { key: monitor.key });
    expect(again.body.raised).toEqual([]);
    const list = await t.call('get', `/v1/trials/${trial.id}/queries`);
    expect(list.body.items).toHaveLength(3);
    expect(list.body.items.every((q: { check: string }) => q.check !== null)).toBe(true);

    // A correction runs the checks too: the item still missing raises nothing new, a newly emptied one raises one,
    // and the item filled in has its query resolved (closed by the correction, not withdrawn: see below).
    const corrected = [...HOPE];
    corrected[7] = null as unknown as number;
    const patch = await t.call('patch', `/v1/trials/${trial.id}/participants/${old.id}/assessments/baseline`, {
      body: { values: { hope: { items: corrected }, gse: { items: GSE } }, reason: 'item 8 was transcribed wrongly' },
    });
    expect(patch.status).toBe(200);
    const afterCorrection = await t.call('get', `/v1/trials/${trial.id}/queries`);
    expect(afterCorrection.body.items).toHaveLength(4);
    expect(afterCorrection.body.items.map(target)).toContainEqual([
      'assessment',
      assessment.body.id,
      '/values/hope/items/7',
      'missing_item',
    ]);
    expect(
      afterCorrection.body.items.find(
        (q: { target: { pointer: string } }) => q.target.pointer === '/values/hope/items/4',
      ).status,
    ).toBe('closed');

    // A baseline correction runs the baseline checks: an age above the range raises one query on that person.
    const older = await t.call('put', `/v1/trials/${trial.id}/participants/${fine.id}/baseline`, {
      body: { values: { age: 81, sex: 'female', diagnosis: 'depression', onsetYears: 11 }, reason: 'age misread' },
    });
    expect(older.status).toBe(200);
    const afterBaseline = await t.call('get', `/v1/trials/${trial.id}/queries`);
    expect(afterBaseline.body.items.map(target)).toContainEqual([
      'participant',
      fine.id,
      '/baseline/age',
      'soft_range',
    ]);
    expect(afterBaseline.body.items).toHaveLength(5);

    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityType=query`);
    expect(audit.body.items.filter((r: { action: string }) => r.action === 'query.raised')).toHaveLength(5);
    expect(audit.body.items.filter((r: { action: string }) => r.action === 'query.resolved')).toHaveLength(1);

    const coordinator = await t.createKey('coordinator', { trialIds: [trial.id] });
    expect((await t.call('post', `/v1/trials/${trial.id}/automatic-queries`, { key: coordinator.key })).status).toBe(
      403,
    );
  });
});

type Query = {
  id: string;
  status: string;
  check: string | null;
  target: { kind: string; id: string; pointer: string };
  messages: { action: string; text: string; role: string; viaCorrection: boolean }[];
};

describe('automatic queries put right by a correction', () => {
  /** withSoftRanges, with admissions (at most 10) also asked at baseline so one visit shows every check. */
  function config() {
    const c = withSoftRanges();
    return {
      ...c,
      measures: c.measures.map((m) => (m.code === 'admissions' ? { ...m, visits: ['baseline', 'm6', 'm12'] } : m)),
    };
  }

  it('are resolved (closed, with their own message and audit row) in the correction’s transaction; other values leave them open; a person’s query never', async () => {
    now = new Date('2018-03-10T12:00:00Z');
    const trial = await createActiveTrial(t, config());
    const coordinator = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['A'] });
    const baselineOf = (age: number) => ({ age, sex: 'male', diagnosis: 'depression', onsetYears: 3 });
    const p = await screen(t, trial.id, serviceUserInput({ siteCode: 'A', baseline: baselineOf(74) }));
    await grantConsent(t, trial.id, p.id, 'trial', '1.0', '2018-03-02');
    expect((await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`)).status).toBe(201);
    const assessment = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/assessments`, {
      body: {
        visit: 'baseline',
        assessedOn: '2018-03-10',
        values: { hope: { items: HOPE }, gse: { items: GSE }, admissions: 12 },
      },
    });
    expect(assessment.status).toBe(201);
    // A person's queries on the same items, which no correction may close.
    const personal = async (kind: string, id: string, pointer: string) =>
      (
        await t.call('post', `/v1/trials/${trial.id}/queries`, {
          body: { target: { kind, id, pointer }, text: 'Please check against the clinic notes' },
        })
      ).body as Query;
    const personalAge = await personal('participant', p.id, '/baseline/age');
    const personalAdmissions = await personal('assessment', assessment.body.id, '/values/admissions');
    const queries = async () => (await t.call('get', `/v1/trials/${trial.id}/queries?limit=500`)).body.items as Query[];
    const automatic = async (pointer: string, check: string) =>
      (await queries()).find((q) => q.target.pointer === pointer && q.check === check)!;
    const ageQuery = await automatic('/baseline/age', 'soft_range');
    const employedQuery = await automatic('/values/employed', 'missing_item');
    const admissionsQuery = await automatic('/values/admissions', 'soft_range');
    for (const q of [ageQuery, employedQuery, admissionsQuery]) expect(q.status).toBe('open');
    expect(await queries()).toHaveLength(5);

    const putBaseline = (age: number, extra: Record<string, unknown> = {}) =>
      t.call('put', `/v1/trials/${trial.id}/participants/${p.id}/baseline`, {
        key: coordinator.key,
        body: { values: baselineOf(age), reason: `ID card says ${age}`, ...extra },
      });
    // Corrected to another value out of the range: the query stays open, and no second one is raised.
    expect((await putBaseline(72)).status).toBe(200);
    expect((await automatic('/baseline/age', 'soft_range')).status).toBe('open');
    expect(await queries()).toHaveLength(5);

    // A correction refused (it names a query on another record) keeps nothing: the query stays open.
    expect((await putBaseline(45, { queryId: personalAdmissions.id })).status).toBe(422);
    expect((await automatic('/baseline/age', 'soft_range')).status).toBe('open');

    // Corrected into the range: the automatic query is resolved by the correction, the person's stays open.
    now = new Date('2018-03-12T09:00:00Z');
    expect((await putBaseline(45)).status).toBe(200);
    const resolved = await automatic('/baseline/age', 'soft_range');
    expect(resolved.status).toBe('closed');
    expect(resolved.messages.map((m) => m.action)).toEqual(['raise', 'resolve']);
    expect(resolved.messages[1]).toMatchObject({
      role: 'coordinator',
      viaCorrection: true,
      text: 'Resolved by a correction: the value is now 45, which the soft-range check no longer flags.',
    });
    const stillPersonal = (await queries()).find((q) => q.id === personalAge.id)!;
    expect(stillPersonal.status).toBe('open');
    expect(stillPersonal.messages).toHaveLength(1);
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityType=query&entityId=${ageQuery.id}`);
    expect(audit.body.items.map((r: { action: string }) => r.action)).toEqual(['query.raised', 'query.resolved']);
    expect(audit.body.items[1]).toMatchObject({
      before: { status: 'open' },
      after: { status: 'closed', viaCorrection: true },
    });

    // Changed again to a value the check flags: the resolved query re-opens (no second query); back in range, it is
    // resolved again. A query a monitor closed would stay closed (the first test).
    expect((await putBaseline(80)).status).toBe(200);
    const reopened = await automatic('/baseline/age', 'soft_range');
    expect(reopened.status).toBe('open');
    expect(reopened.messages.map((m) => [m.action, m.viaCorrection])).toEqual([
      ['raise', false],
      ['resolve', true],
      ['reopen', true],
    ]);
    expect(reopened.messages[2]!.text).toMatch(/^Automatic check: 80 is above the plausible range/);
    expect((await putBaseline(50)).status).toBe(200);
    expect((await automatic('/baseline/age', 'soft_range')).messages.map((m) => m.action)).toEqual([
      'raise',
      'resolve',
      'reopen',
      'resolve',
    ]);

    const patch = (body: Record<string, unknown>) =>
      t.call('patch', `/v1/trials/${trial.id}/participants/${p.id}/assessments/baseline`, {
        key: coordinator.key,
        body,
      });
    // Admissions removed (null) is not put right: the soft-range query stays open and a missing-item one is raised.
    // Employment filled in: its missing-item query is resolved.
    expect(
      (
        await patch({
          values: { hope: { items: HOPE }, gse: { items: GSE }, admissions: null, employed: false },
          reason: 'admissions unknown; employment from the notes',
        })
      ).status,
    ).toBe(200);
    expect((await automatic('/values/admissions', 'soft_range')).status).toBe('open');
    expect((await automatic('/values/admissions', 'missing_item')).status).toBe('open');
    const employed = await automatic('/values/employed', 'missing_item');
    expect(employed.status).toBe('closed');
    expect(employed.messages[1]).toMatchObject({
      action: 'resolve',
      text: 'Resolved by a correction: the item now has a value.',
    });

    // The site answers the soft-range query; a correction into range then leaves it answered for the monitor,
    // resolves the missing-item one, and never touches the person's query on the same item.
    const answer = await t.call('post', `/v1/trials/${trial.id}/queries/${admissionsQuery.id}/answers`, {
      key: coordinator.key,
      body: { text: 'Checking the ward records' },
    });
    expect(answer.status).toBe(201);
    expect(
      (
        await patch({
          values: { hope: { items: HOPE }, gse: { items: GSE }, admissions: 2, employed: false },
          reason: 'ward records: 2 admissions',
        })
      ).status,
    ).toBe(200);
    expect((await automatic('/values/admissions', 'soft_range')).status).toBe('answered');
    expect((await automatic('/values/admissions', 'missing_item')).status).toBe('closed');
    expect((await queries()).find((q) => q.id === personalAdmissions.id)!.status).toBe('open');

    const all = await t.call('get', `/v1/trials/${trial.id}/audit?entityType=query&limit=500`);
    const resolvedRows = all.body.items.filter((r: { action: string }) => r.action === 'query.resolved');
    expect(resolvedRows).toHaveLength(4);
  });

  it('a correction naming the open automatic query answers it (it is not resolved first)', async () => {
    now = new Date('2018-03-10T12:00:00Z');
    const trial = await createActiveTrial(t, config());
    const p = await screen(
      t,
      trial.id,
      serviceUserInput({ siteCode: 'A', baseline: { age: 74, sex: 'male', diagnosis: 'depression', onsetYears: 3 } }),
    );
    const [query] = (await t.call('get', `/v1/trials/${trial.id}/queries`)).body.items as Query[];
    expect(query).toMatchObject({ check: 'soft_range', status: 'open' });
    const put = await t.call('put', `/v1/trials/${trial.id}/participants/${p.id}/baseline`, {
      body: {
        values: { age: 47, sex: 'male', diagnosis: 'depression', onsetYears: 3 },
        reason: 'ID card: 47',
        queryId: query!.id,
      },
    });
    expect(put.status).toBe(200);
    const after = (await t.call('get', `/v1/trials/${trial.id}/queries/${query!.id}`)).body as Query;
    expect(after.status).toBe('answered');
    expect(after.messages.map((m) => m.action)).toEqual(['raise', 'answer']);
  });
});

describe('corrections that answer queries', () => {
  it('link a correction through the record’s own operation to the query on it, in one transaction', async () => {
    now = new Date('2018-03-10T12:00:00Z');
    const trial = await createActiveTrial(t, smcmFollowUp());
    const people = [];
    for (const siteCode of ['A', 'B']) {
      const p = await screen(t, trial.id, serviceUserInput({ siteCode }));
      await grantConsent(t, trial.id, p.id, 'trial', '1.0', '2018-03-02');
      expect((await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`)).status).toBe(201);
      const a = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/assessments`, {
        body: { visit: 'baseline', assessedOn: '2018-03-10', values: { hope: { items: HOPE }, gse: { items: GSE } } },
      });
      expect(a.status).toBe(201);
      people.push({ id: p.id, assessmentId: a.body.id as string });
    }
    const [a, b] = people as [{ id: string; assessmentId: string }, { id: string; assessmentId: string }];
    const raise = async (kind: string, id: string, pointer: string) =>
      t.call('post', `/v1/trials/${trial.id}/queries`, {
        body: { target: { kind, id, pointer }, text: 'Please check' },
      });

    const nothing = await raise('assessment', a.assessmentId, '/values/hope/items/12');
    expect(nothing.status).toBe(422);
    expect(nothing.body.errors[0].pointer).toBe('/target/pointer');
    const query = (await raise('assessment', a.assessmentId, '/values/hope/items/4')).body;
    expect(query.status).toBe('open');

    const patch = (participantId: string, body: unknown) =>
      t.call('patch', `/v1/trials/${trial.id}/participants/${participantId}/assessments/baseline`, { body });
    const items = [...HOPE];
    items[4] = 4;
    // The query is on a's assessment: naming it in a correction of b's is 422, and b's correction is not kept.
    const elsewhere = await patch(b.id, { values: { hope: { items } }, reason: 'source says 4', queryId: query.id });
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.errors[0].pointer).toBe('/queryId');
    expect((await t.db.knex('assessment_corrections').where({ trial_id: trial.id })).length).toBe(0);

    const corrected = await patch(a.id, { values: { hope: { items } }, reason: 'source says 4', queryId: query.id });
    expect(corrected.status).toBe(200);
    const answered = await t.call('get', `/v1/trials/${trial.id}/queries/${query.id}`);
    expect(answered.body.status).toBe('answered');
    expect(answered.body.messages[1]).toMatchObject({
      action: 'answer',
      text: 'source says 4',
      viaCorrection: true,
      role: 'admin',
    });
    expect(answered.body.messages[0].viaCorrection).toBe(false);
    // Answered already: a second correction naming it is refused whole.
    items[5] = 1;
    const twice = await patch(a.id, { values: { hope: { items } }, reason: 'again', queryId: query.id });
    expect(twice.status).toBe(409);
    expect(twice.body.type).toMatch(/query-transition-refused/);

    const ageQuery = (await raise('participant', a.id, '/baseline/age')).body;
    const baseline = (body: Record<string, unknown>) =>
      t.call('put', `/v1/trials/${trial.id}/participants/${a.id}/baseline`, {
        body: { values: { age: 46, sex: 'female', diagnosis: 'depression', onsetYears: 11 }, ...body },
      });
    expect((await baseline({ queryId: ageQuery.id })).body.errors[0].pointer).toBe('/reason');
    expect((await baseline({ queryId: ageQuery.id, reason: 'ID card: 46' })).status).toBe(200);
    expect((await t.call('get', `/v1/trials/${trial.id}/queries/${ageQuery.id}`)).body.status).toBe('answered');

    const ae = await t.call('post', `/v1/trials/${trial.id}/participants/${b.id}/adverse-events`, {
      body: {
        term: 'Headache',
        onsetOn: '2018-03-09',
        severity: 'mild',
        serious: null,
        relatedness: 'unlikely',
        expected: true,
        action: 'none',
        reportedBy: 'case worker',
      },
    });
    expect(ae.status).toBe(201);
    const termQuery = (await raise('adverse_event', ae.body.id, '/term')).body;
    const aePatch = await t.call('patch', `/v1/trials/${trial.id}/adverse-events/${ae.body.id}`, {
      body: { term: 'Tension headache', reason: 'Clinic letter', queryId: termQuery.id },
    });
    expect(aePatch.status).toBe(200);
    expect(aePatch.body.term).toBe('Tension headache');
    expect(aePatch.body.history[0].after).toEqual({ term: 'Tension headache' });
    const aeAnswered = await t.call('get', `/v1/trials/${trial.id}/queries/${termQuery.id}`);
    expect(aeAnswered.body.messages[1]).toMatchObject({ text: 'Clinic letter', viaCorrection: true });
  });
});
