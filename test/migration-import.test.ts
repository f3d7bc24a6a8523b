import { smcmFollowUp } from '../scripts/smcm-trial';
import { createActiveTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { verifyExport } from './support/randomization-cases';
import { startTestApp, TestApp } from './support/test-app';

/* Migrating a running trial's history from CSV: participants and consents, all or nothing, with a dry run. */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const ELIGIBLE =
  'eligibility.age18,eligibility.chinese,eligibility.cantonese,eligibility.written_consent,eligibility.immediate_risk,eligibility.overt_symptoms';
const yes = 'true,true,true,true,false,false';

const participantsCsv = [
  `label,siteCode,role,screenedOn,${ELIGIBLE},baseline.age,baseline.sex`,
  `OLD-001,A,service_user,2018-01-10,${yes},44,female`,
  `OLD-002,B,service_user,2018-01-11,false,true,true,true,false,false,70,male`,
  `"OLD-003, quoted",A,service_user,2018-02-01,${yes},,`,
].join('\n');

const importCsv = (trialId: string, kind: string, csv: string, dryRun = false) =>
  t.call('post', `/v1/trials/${trialId}/imports?kind=${kind}${dryRun ? '&dryRun=true' : ''}`, {
    raw: { contentType: 'text/csv', data: csv },
  });

describe('history import', () => {
  it('imports participants and consents with their original dates, marked in the audit', async () => {
    const trial = await createActiveTrial(t);
    const dry = await importCsv(trial.id, 'participants', participantsCsv, true);
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ importId: null, kind: 'participants', dryRun: true, rows: 3, errors: [] });
    expect((await t.call('get', `/v1/trials/${trial.id}/participants`)).body.items).toEqual([]);

    const res = await importCsv(trial.id, 'participants', participantsCsv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'participants', dryRun: false, rows: 3, errors: [] });
    // Imported in one transaction, they share their creation instant: sorted by label here.
    const list = (await t.call('get', `/v1/trials/${trial.id}/participants?limit=10`)).body.items.sort(
      (a: { label: string }, b: { label: string }) => a.label.localeCompare(b.label),
    );
    expect(
      list.map((p: { label: string; screenedOn: string; status: string }) => [p.label, p.screenedOn, p.status]),
    ).toEqual([
      ['OLD-001', '2018-01-10', 'eligible'],
      ['OLD-002', '2018-01-11', 'ineligible'],
      ['OLD-003, quoted', '2018-02-01', 'eligible'],
    ]);

    const consents = [
      'label,form,version,decision,signedOn,obtainedBy,method,reason,withdrawnOn,withdrawalReason,withdrawalScope',
      'OLD-001,trial,1.0,granted,2018-01-12,IW,written,,2018-06-01,moved away,all',
      '"OLD-003, quoted",trial,1.0,granted,2018-02-02,IW,written,,,,',
    ].join('\n');
    const imported = await importCsv(trial.id, 'consents', consents);
    expect(imported.status).toBe(200);
    const statuses = (await t.call('get', `/v1/trials/${trial.id}/participants?limit=10`)).body.items
      .map((p: { label: string; status: string }) => `${p.label}: ${p.status}`)
      .sort();
    expect(statuses).toEqual(['OLD-001: withdrawn', 'OLD-002: ineligible', 'OLD-003, quoted: consented']);

    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?limit=100`);
    const marked = audit.body.items.filter(
      (e: { requestId: string | null }) => e.requestId === `import:${res.body.importId}`,
    );
    expect(marked.map((e: { action: string }) => e.action)).toEqual([
      'participant.screened',
      'participant.screened',
      'participant.screened',
      'trial.history_imported',
    ]);
  });

  it('writes nothing when a row fails, and names every failing line and column', async () => {
    const trial = await createActiveTrial(t);
    const bad = [
      `label,siteCode,role,screenedOn,${ELIGIBLE},baseline.age`,
      `NEW-1,A,service_user,2018-01-10,${yes},44`,
      `NEW-2,Z,service_user,2018-13-01,${yes},44`,
      `NEW-3,A,nurse,2018-01-10,${yes},44`,
      `NEW-4,A,service_user,2018-01-10,${yes},12`,
      `NEW-1,A,service_user,2018-01-10,${yes},44`,
      `NEW-5,A,service_user,2018-01-10,maybe,true,true,true,false,false,44`,
    ].join('\n');
    const dry = await importCsv(trial.id, 'participants', bad, true);
    expect(dry.status).toBe(200);
    expect(dry.body.errors.map((e: { line: number; column: string }) => `${e.line}:${e.column}`)).toEqual([
      '3:screenedOn',
      '4:role',
      '5:baseline.age',
      '6:',
      '7:eligibility.age18',
    ]);
    const real = await importCsv(trial.id, 'participants', bad);
    expect(real.status).toBe(422);
    expect(real.body.errors[0]).toEqual({ pointer: '/line/3/screenedOn', detail: 'must be a date, YYYY-MM-DD' });
    expect((await t.call('get', `/v1/trials/${trial.id}/participants`)).body.items).toEqual([]);

    const missingColumn = await importCsv(trial.id, 'consents', 'label,form\nX,trial', true);
    expect(missingColumn.body.errors[0]).toEqual({ line: 1, column: 'version', detail: 'this column is required' });
  });
});

const SEED = '5eed'.padEnd(64, '0');

/** Four eligible service users (three at A, one at B) screened and consented in 2018, imported. */
async function migratedCohort(trialId: string, labels = ['M-1', 'M-2', 'M-3', 'M-4']): Promise<void> {
  const sites = ['A', 'A', 'A', 'B'];
  const people = labels.map((label, i) => `${label},${sites[i]},service_user,2018-01-0${i + 1},${yes},40,male`);
  const participants = [`label,siteCode,role,screenedOn,${ELIGIBLE},baseline.age,baseline.sex`, ...people];
  expect((await importCsv(trialId, 'participants', participants.join('\n'))).status).toBe(200);
  const consents = [
    'label,form,version,decision,signedOn,obtainedBy,method',
    ...labels.map((label, i) => `${label},trial,1.0,granted,2018-01-1${i},IW,written`),
  ];
  expect((await importCsv(trialId, 'consents', consents.join('\n'))).status).toBe(200);
}

type AllocationRecord = { sequenceNumber: number; stratum: { site: string }; arm: string; randomizedAt: string };
const allocationsOf = async (trialId: string): Promise<AllocationRecord[]> =>
  (await t.call('get', `/v1/trials/${trialId}/allocations?limit=100`)).body.items;

describe('allocation import', () => {
  it('keeps arms, sequence numbers and instants, and randomization continues after them without reusing a slot', async () => {
    const trial = await createActiveTrial(t, {
      randomization: { method: 'permuted_block', blockSizes: [2, 4], stratifyBy: ['site'], seed: SEED },
    });
    await migratedCohort(trial.id);
    // Site A's slot 3 was burnt in the old system: the gap stays, and no later randomization takes it.
    const allocations = [
      'label,arm,sequenceNumber,randomizedAt,stratum.site',
      'M-1,SMCM,1,2018-01-20,A',
      'M-2,TAU,2,2018-01-21T09:30:00Z,A',
      'M-3,TAU,4,2018-01-22,A',
      'M-4,SMCM,1,2018-01-23,B',
    ].join('\n');
    const dry = await importCsv(trial.id, 'allocations', allocations, true);
    expect(dry.body).toEqual({ importId: null, kind: 'allocations', dryRun: true, rows: 4, errors: [] });
    expect(await allocationsOf(trial.id)).toEqual([]);
    const res = await importCsv(trial.id, 'allocations', allocations);
    expect(res.status).toBe(200);
    expect(
      (await allocationsOf(trial.id)).map((a) => `${a.stratum.site}${a.sequenceNumber} ${a.arm} ${a.randomizedAt}`),
    ).toEqual([
      'A1 SMCM 2018-01-20T00:00:00.000Z',
      'A2 TAU 2018-01-21T09:30:00.000Z',
      'A4 TAU 2018-01-22T00:00:00.000Z',
      'B1 SMCM 2018-01-23T00:00:00.000Z',
    ]);
    const participants = (await t.call('get', `/v1/trials/${trial.id}/participants?limit=10`)).body.items;
    expect(participants.map((p: { status: string }) => p.status)).toEqual(Array(4).fill('randomized'));

    const audit = (await t.call('get', `/v1/trials/${trial.id}/audit?limit=100`)).body.items.filter(
      (e: { requestId: string | null }) => e.requestId === `import:${res.body.importId}`,
    );
    expect(audit.map((e: { action: string }) => e.action)).toEqual([
      ...Array(4).fill('participant.randomized'),
      'trial.history_imported',
    ]);
    expect(audit[0].after.importId).toBe(res.body.importId);

    for (const site of ['A', 'A', 'B']) {
      const p = await screen(t, trial.id, serviceUserInput({ siteCode: site }));
      await grantConsent(t, trial.id, p.id);
      expect((await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`)).status).toBe(201);
    }
    const records = await t.call('get', `/v1/trials/${trial.id}/allocations?limit=100`);
    const slots = records.body.items.map(
      (a: AllocationRecord & { blockNumber: number | null; positionInBlock: number | null }) =>
        `${a.stratum.site}${a.sequenceNumber} block ${a.blockNumber}:${a.positionInBlock}`,
    );
    expect(slots).toEqual([
      'A1 block null:null',
      'A2 block null:null',
      'A4 block null:null',
      'A5 block 1:1',
      'A6 block 1:2',
      'B1 block null:null',
      'B2 block 1:1',
    ]);

    // The seed's arms from slot 5 (A) and 2 (B) on are what the verifier recomputes; imported rows it counts only.
    await t.call('post', `/v1/trials/${trial.id}/closure`, { body: { reason: 'recruitment complete' } });
    await t.call('post', `/v1/trials/${trial.id}/seed-reveal`, { body: { reason: 'final analysis' } });
    const closed = (await t.call('get', `/v1/trials/${trial.id}`)).body;
    const csv = (await t.call('get', `/v1/trials/${trial.id}/allocations`, { headers: { Accept: 'text/csv' } })).text;
    const verified = verifyExport(closed, SEED, csv, closed.allocationCommitment);
    expect(verified.output).toContain('rows checked: 3\nimported rows (not recomputed from the seed): 4\n');
    expect(verified).toMatchObject({ status: 0 });
    // A seed-decided row moved into the imported range is caught, so is a flipped arm after the imports.
    const lines = csv.split('\r\n');
    const a5 = lines.findIndex((line) => line.startsWith('5,'));
    const tampered = [...lines];
    tampered[a5] = lines[a5]!.replace(/,(SMCM|TAU),/, (_m, arm) => `,${arm === 'SMCM' ? 'TAU' : 'SMCM'},`);
    expect(verifyExport(closed, SEED, tampered.join('\r\n')).status).toBe(1);
  });

  it('continues a minimization trial after the imported sequence, counting imported arms, and verifies', async () => {
    const trial = await createActiveTrial(t, {
      randomization: { method: 'minimization', factors: ['site', 'sex'], p: 1, seed: SEED },
    });
    await migratedCohort(trial.id, ['N-1', 'N-2', 'N-3', 'N-4']);
    const allocations = ['label,arm,sequenceNumber,randomizedAt', 'N-1,SMCM,1,2018-01-20', 'N-2,SMCM,2,2018-01-21'];
    expect((await importCsv(trial.id, 'allocations', allocations.join('\n'))).status).toBe(200);
    const p = await screen(t, trial.id, serviceUserInput({ siteCode: 'A', baseline: { age: 40, sex: 'male' } }));
    await grantConsent(t, trial.id, p.id);
    const randomized = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`);
    // Both imported participants (site A, male) are in SMCM: with p = 1 minimization must choose TAU.
    expect(randomized.body.arm).toBe('TAU');
    const records = await allocationsOf(trial.id);
    expect(records.map((a) => `${a.sequenceNumber} ${a.arm}`)).toEqual(['1 SMCM', '2 SMCM', '3 TAU']);
    await t.call('post', `/v1/trials/${trial.id}/closure`, { body: { reason: 'recruitment complete' } });
    await t.call('post', `/v1/trials/${trial.id}/seed-reveal`, { body: { reason: 'final analysis' } });
    const closed = (await t.call('get', `/v1/trials/${trial.id}`)).body;
    const csv = (await t.call('get', `/v1/trials/${trial.id}/allocations`, { headers: { Accept: 'text/csv' } })).text;
    const verified = verifyExport(closed, SEED, csv, closed.allocationCommitment);
    expect(verified.output).toContain('rows checked: 1\nimported rows (not recomputed from the seed): 2\n');
    expect(verified.status).toBe(0);
  });

  it('refuses a participant twice, a slot twice, an unknown arm, a wrong stratum and a stratum already randomized', async () => {
    const trial = await createActiveTrial(t);
    await migratedCohort(trial.id, ['D-1', 'D-2', 'D-3', 'D-4']);
    const p = await screen(t, trial.id, serviceUserInput({ siteCode: 'B' }));
    await grantConsent(t, trial.id, p.id);
    await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`);
    const bad = [
      'label,arm,sequenceNumber,randomizedAt,stratum.site',
      'D-1,SMCM,1,2018-01-20,A',
      'D-1,TAU,2,2018-01-21,A',
      'D-2,TAU,1,2018-01-21,A',
      'D-3,PLACEBO,3,2018-01-22,A',
      'D-3,TAU,0,2017-13-01,B',
      'D-4,TAU,1,2018-01-23,B',
      'NOBODY,TAU,9,2018-01-23,A',
      'D-2,TAU,5,2017-12-31,A',
    ].join('\n');
    const dry = await importCsv(trial.id, 'allocations', bad, true);
    expect(dry.body.errors.map((e: { line: number; column: string }) => `${e.line}:${e.column}`)).toEqual([
      '3:label',
      '4:sequenceNumber',
      '5:arm',
      '6:sequenceNumber',
      '6:randomizedAt',
      '7:sequenceNumber',
      '8:label',
      '9:randomizedAt',
      '9:randomizedAt',
    ]);
    const real = await importCsv(trial.id, 'allocations', bad);
    expect(real.status).toBe(422);
    expect(real.body.errors[0]).toMatchObject({ pointer: '/line/3/label' });
    expect((await allocationsOf(trial.id)).length).toBe(1);

    const wrongStratum = await importCsv(
      trial.id,
      'allocations',
      'label,arm,sequenceNumber,randomizedAt,stratum.site\nD-2,TAU,1,2018-01-21,B',
      true,
    );
    expect(wrongStratum.body.errors).toEqual([
      { line: 2, column: 'stratum.site', detail: "the participant's site is A" },
    ]);
  });
});

describe('event, assessment and coupon import', () => {
  const hope = [3, 3, 2, 4, 3, '', 3, 3, 4, 2, 3, 3];
  const gse = [2, 3, 3, 3, 2, 3, 3, 4, 3, 3];

  async function randomizedCohort() {
    const trial = await createActiveTrial(t, smcmFollowUp());
    await migratedCohort(trial.id, ['E-1', 'E-2', 'E-3', 'E-4']);
    const allocations = [
      'label,arm,sequenceNumber,randomizedAt',
      'E-1,SMCM,1,2018-01-20',
      'E-2,TAU,2,2018-01-21',
      'E-3,TAU,3,2018-01-22',
      'E-4,SMCM,1,2018-01-23',
    ].join('\n');
    expect((await importCsv(trial.id, 'allocations', allocations)).status).toBe(200);
    return trial;
  }

  it('imports follow-up events, assessments scored as the API scores them, and coupons, with their dates', async () => {
    const trial = await randomizedCohort();
    const events = [
      'label,type,occurredOn,reason',
      'E-1,lost_to_follow_up,2018-09-01,moved abroad',
      'E-2,excluded_from_analysis,2018-10-01,randomized in error',
      'E-3,discontinued_intervention,2018-04-01,',
    ].join('\n');
    const importedEvents = await importCsv(trial.id, 'events', events);
    expect(importedEvents.body).toMatchObject({ kind: 'events', rows: 3, errors: [] });

    const header = [
      'label,visit,assessedOn,assessor',
      ...hope.map((_, i) => `value.hope.${i + 1}`),
      ...gse.map((_, i) => `value.gse.${i + 1}`),
      'value.employed',
    ].join(',');
    const assessments = [header, `E-4,baseline,2018-01-25,KL,${hope.join(',')},${gse.join(',')},yes`].join('\n');
    const importedAssessments = await importCsv(trial.id, 'assessments', assessments);
    expect(importedAssessments.body).toMatchObject({ kind: 'assessments', rows: 1, errors: [] });

    const coupons = ['label,incentive,issuedOn,reference,note', 'E-4,interview_coupon,2018-01-25,HK-0001,baseline'];
    expect((await importCsv(trial.id, 'coupons', coupons.join('\n'))).body).toMatchObject({ rows: 1, errors: [] });

    const people = (await t.call('get', `/v1/trials/${trial.id}/participants?limit=10`)).body.items;
    const byLabel = new Map(people.map((p: { label: string; id: string }) => [p.label, p.id]));
    const e1 = (await t.call('get', `/v1/trials/${trial.id}/participants/${byLabel.get('E-1')}`)).body;
    expect(e1.events.map((e: { type: string; occurredOn: string }) => `${e.type} ${e.occurredOn}`)).toEqual([
      'lost_to_follow_up 2018-09-01',
    ]);
    const e4 = (await t.call('get', `/v1/trials/${trial.id}/participants/${byLabel.get('E-4')}`)).body;
    expect(e4.incentives.map((i: { reference: string; issuedOn: string }) => `${i.reference} ${i.issuedOn}`)).toEqual([
      'HK-0001 2018-01-25',
    ]);

    // The same values through the API on a participant randomized here score the same.
    const p = await screen(t, trial.id, serviceUserInput({ siteCode: 'C' }));
    await grantConsent(t, trial.id, p.id);
    await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`);
    const values = { hope: { items: hope.map((v) => (v === '' ? null : v)) }, gse: { items: gse }, employed: true };
    const today = new Date().toISOString().slice(0, 10);
    const viaApi = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/assessments`, {
      body: { visit: 'baseline', assessedOn: today, values },
    });
    expect(viaApi.status).toBe(201);
    const audit = (await t.call('get', `/v1/trials/${trial.id}/audit?limit=200`)).body.items;
    const baseline = audit.find(
      (e: { action: string; requestId: string }) =>
        e.action === 'assessment.recorded' && e.requestId === `import:${importedAssessments.body.importId}`,
    ).after;
    expect(baseline).toMatchObject({ assessedOn: '2018-01-25', assessor: 'KL', values });
    expect(baseline.scores).toEqual(viaApi.body.scores);
    const schedule = await t.call('get', `/v1/trials/${trial.id}/participants/${byLabel.get('E-4')}/schedule`);
    expect(schedule.body.visits[0]).toMatchObject({ visit: 'baseline', assessedOn: '2018-01-25', status: 'completed' });

    const actionsOf = (importId: string) =>
      audit
        .filter((e: { requestId: string | null }) => e.requestId === `import:${importId}`)
        .map((e: { action: string }) => e.action);
    expect(actionsOf(importedEvents.body.importId)).toEqual([
      ...Array(3).fill('event.recorded'),
      'trial.history_imported',
    ]);
    // The imported assessment runs the automatic checks as any assessment write does (#21): its unanswered hope
    // item raises a missing-item query, audited under the import.
    expect(actionsOf(importedAssessments.body.importId)).toEqual([
      'assessment.recorded',
      'query.raised',
      'trial.history_imported',
    ]);
  });

  it('reports every failing event, assessment and coupon row with its line and column, and writes nothing', async () => {
    const trial = await randomizedCohort();
    const events = [
      'label,type,occurredOn,reason',
      'E-1,lost_to_follow_up,2018-09-01,',
      'E-1,vanished,2018-09-01,',
      'E-2,lost_to_follow_up,2018-02-30,',
      'E-3,lost_to_follow_up,2017-01-01,',
      'NOBODY,lost_to_follow_up,2018-09-01,',
    ].join('\n');
    const dryEvents = await importCsv(trial.id, 'events', events, true);
    expect(dryEvents.body.errors.map((e: { line: number; column: string }) => `${e.line}:${e.column}`)).toEqual([
      '3:type',
      '4:occurredOn',
      '5:',
      '6:label',
    ]);
    const assessments = [
      'label,visit,assessedOn,value.hope.1,value.employed,value.admissions,value.mood',
      'E-1,baseline,2018-01-25,9,maybe,,',
      'E-2,m6,2018-07-21,3,no,x,',
      'E-3,weekly,2018-01-25,,,,3',
      'E-4,baseline,2017-01-25,3,no,,',
    ].join('\n');
    const dryAssessments = await importCsv(trial.id, 'assessments', assessments, true);
    expect(dryAssessments.body.errors.map((e: { line: number; column: string }) => `${e.line}:${e.column}`)).toEqual([
      '2:value.employed',
      '3:value.admissions',
      '4:value.mood',
      '5:',
    ]);
    const coupons = [
      'label,incentive,issuedOn,reference',
      'E-1,interview_coupon,2018-02-01,C-1',
      'E-2,interview_coupon,2018-02-01,C-1',
      'E-1,interview_coupon,2018-03-01,C-2',
      'E-3,cinema,2018-02-01,C-3',
    ].join('\n');
    const dryCoupons = await importCsv(trial.id, 'coupons', coupons, true);
    expect(dryCoupons.body.errors.map((e: { line: number; column: string }) => `${e.line}:${e.column}`)).toEqual([
      '3:',
      '4:',
      '5:incentive',
    ]);
    expect((await importCsv(trial.id, 'coupons', coupons)).status).toBe(422);
    const ledger = await t.call('get', `/v1/trials/${trial.id}/incentives`);
    expect(ledger.body.items).toEqual([]);
  });
});
