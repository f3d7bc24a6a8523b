import { createActiveTrial } from './support/factories';
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
