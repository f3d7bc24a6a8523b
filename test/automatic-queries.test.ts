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
    // and the item corrected into place keeps its query (it is not withdrawn).
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
    ).toBe('open');

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

    const coordinator = await t.createKey('coordinator', { trialIds: [trial.id] });
    expect((await t.call('post', `/v1/trials/${trial.id}/automatic-queries`, { key: coordinator.key })).status).toBe(
      403,
    );
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
