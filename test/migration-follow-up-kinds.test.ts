import { smcmFollowUp } from '../scripts/smcm-trial';
import { createActiveTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

/* The CSV kinds for missed visits and assessment corrections (issue #20), with the other kinds' conventions. */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const importCsv = (trialId: string, kind: string, csv: string, dryRun = false) =>
  t.call('post', `/v1/trials/${trialId}/imports?kind=${kind}${dryRun ? '&dryRun=true' : ''}`, {
    raw: { contentType: 'text/csv', data: csv },
  });
const today = () => new Date().toISOString().slice(0, 10);

type Audit = { action: string; requestId: string | null; reason: string | null; after: Record<string, unknown> };

async function followedUpPair(): Promise<{ trialId: string; labels: [string, string] }> {
  const trial = await createActiveTrial(t, { ...smcmFollowUp() });
  const people = [];
  for (const siteCode of ['A', 'B']) {
    const p = await screen(t, trial.id, serviceUserInput({ siteCode, screenedOn: '2026-01-10' }));
    await grantConsent(t, trial.id, p.id, 'trial', '1.0', '2026-01-11');
    const res = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`);
    expect(res.status).toBe(201);
    people.push(p);
  }
  const assessed = await t.call('post', `/v1/trials/${trial.id}/participants/${people[0]!.id}/assessments`, {
    body: {
      visit: 'baseline',
      assessedOn: '2026-01-12',
      assessor: 'IW',
      values: { hope: { items: [3, 3, 2, 4, 3, 2, 3, 3, 3, 3, 3, 3] }, employed: true },
    },
  });
  expect(assessed.status).toBe(201);
  return { trialId: trial.id, labels: [people[0]!.label, people[1]!.label] };
}

describe('missed visits and assessment corrections from CSV', () => {
  it('imports missed visits with their recorded dates, all or nothing, with a dry run', async () => {
    const { trialId, labels } = await followedUpPair();
    const [p1, p2] = labels;
    const bad = [
      'label,visit,reason,recordedOn',
      `${p1},m6,moved abroad,${today()}`,
      `${p2},m12,in hospital,2026-13-01`,
      `${p2},m99,in hospital,${today()}`,
      `NOBODY,m6,unknown,${today()}`,
    ].join('\n');
    const dry = await importCsv(trialId, 'missed_visits', bad, true);
    expect(dry.status).toBe(200);
    expect(dry.body.errors.map((e: { line: number; column: string }) => `${e.line}:${e.column}`)).toEqual([
      '3:recordedOn',
      '4:',
      '5:label',
    ]);
    expect((await importCsv(trialId, 'missed_visits', bad)).status).toBe(422);

    const good = ['label,visit,reason,recordedOn', `${p1},m6,moved abroad,${today()}`].join('\n');
    const res = await importCsv(trialId, 'missed_visits', good);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'missed_visits', rows: 1, errors: [] });
    const list = (await t.call('get', `/v1/trials/${trialId}/participants?limit=10`)).body.items as {
      id: string;
      label: string;
    }[];
    const id = list.find((p) => p.label === p1)!.id;
    const schedule = (await t.call('get', `/v1/trials/${trialId}/participants/${id}/schedule`)).body;
    expect(schedule.visits.find((v: { visit: string }) => v.visit === 'm6')).toMatchObject({
      status: 'missed',
      reason: 'moved abroad',
    });
    const audit = (await t.call('get', `/v1/trials/${trialId}/audit?limit=100`)).body.items as Audit[];
    expect(audit.filter((e) => e.requestId === `import:${res.body.importId}`).map((e) => e.action)).toEqual(
      expect.arrayContaining(['trial.history_imported']),
    );
    expect(audit.filter((e) => e.requestId === `import:${res.body.importId}`)).toHaveLength(2);
  });

  it('imports assessment corrections through the correction rules, values replaced whole, with their reason', async () => {
    const { trialId, labels } = await followedUpPair();
    const [p1, p2] = labels;
    const header = 'label,visit,reason,assessor,assessedOn,value.employed,value.hope.1,value.hope.2';
    const bad = [
      header,
      `${p1},baseline,transcription error,KL,,false,,`,
      `${p2},baseline,no such assessment,KL,,,,`,
      `${p1},baseline,changes nothing,,,,,`,
      `${p1},baseline,item out of range,,,,9,`,
      `${p1},baseline,in the future,,2099-01-01,,,`,
    ].join('\n');
    const dry = await importCsv(trialId, 'assessment_corrections', bad, true);
    expect(dry.status).toBe(200);
    expect(dry.body.errors.map((e: { line: number; column: string }) => `${e.line}:${e.column}`)).toEqual([
      '3:',
      '4:reason',
      '5:value.hope.1',
      '6:assessedOn',
    ]);
    expect((await importCsv(trialId, 'assessment_corrections', bad)).status).toBe(422);

    const good = [header, `${p1},baseline,transcription error,KL,,false,,`].join('\n');
    const res = await importCsv(trialId, 'assessment_corrections', good);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'assessment_corrections', rows: 1, errors: [] });
    const audit = (await t.call('get', `/v1/trials/${trialId}/audit?limit=100`)).body.items as Audit[];
    const corrected = audit.find(
      (e) => e.action === 'assessment.corrected' && e.requestId === `import:${res.body.importId}`,
    );
    expect(corrected).toMatchObject({
      reason: 'transcription error',
      after: { assessor: 'KL', assessedOn: '2026-01-12', values: { employed: false } },
    });
    // The values were replaced whole, as the correction request replaces them: the scale is no longer recorded.
    expect((corrected!.after.values as Record<string, unknown>).hope).toBeUndefined();
  });
});
