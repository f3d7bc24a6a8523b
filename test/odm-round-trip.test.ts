import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smcmFollowUp } from '../scripts/smcm-trial';
import {
  addSites,
  caseWorkerInput,
  createActiveTrial,
  grantConsent,
  screen,
  serviceUserInput,
  Trial,
} from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

/*
 * ODM ClinicalData import (issue #20): a trial exported to ODM re-imports into an equal trial. The export is
 * validated with xmllint, a new trial is created from its study definition (odm-import), activated, and takes the
 * ClinicalData through the imports operation (kind=odm); participants, baseline, consents, allocations, events,
 * assessments, CONSORT and Table 1 must then be equal. Blinded exports and documents for another definition are
 * refused, and row problems are located by element.
 */

let t: TestApp;
let work: string;
beforeAll(async () => {
  t = await startTestApp();
  work = mkdtempSync(join(tmpdir(), 'trialdesk-odm-rt-'));
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await t.close();
});

const XSD = join(__dirname, 'fixtures', 'odm-1.3.2', 'ODM1-3-2.xsd');
function schemaErrors(xml: string): string {
  const file = join(work, `doc-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  try {
    execFileSync('xmllint', ['--noout', '--nonet', '--schema', XSD, file], { stdio: 'pipe' });
    return '';
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? error).slice(0, 4000);
  }
}

const today = () => new Date().toISOString().slice(0, 10);

async function ok(method: 'post' | 'patch', path: string, body: object, status = 201) {
  const res = await t.call(method, path, { body });
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

const importOdm = (trialId: string, xml: string, dryRun = false) =>
  t.call('post', `/v1/trials/${trialId}/imports?kind=odm${dryRun ? '&dryRun=true' : ''}`, {
    raw: { contentType: 'application/xml', data: xml },
  });

/**
 * A running trial with every kind of history: ineligible, declined, withdrawn before and after randomization,
 * not randomized, randomized at two sites (one flagged in error), a case worker assigned, events, assessments.
 */
async function runningTrial(): Promise<Trial> {
  const trial = await createActiveTrial(t, { ...smcmFollowUp() });
  const base = `/v1/trials/${trial.id}/participants`;
  const people = [];
  for (let i = 0; i < 9; i++)
    people.push(
      await screen(
        t,
        trial.id,
        serviceUserInput({
          siteCode: ['A', 'B', 'C'][i % 3]!,
          screenedOn: `2026-01-${String(10 + i).padStart(2, '0')}`,
          baseline: { age: 30 + i * 3, sex: i % 2 ? 'male' : 'female', diagnosis: 'depression', onsetYears: i + 1 },
        }),
      ),
    );
  await screen(
    t,
    trial.id,
    serviceUserInput({ screenedOn: '2026-01-20', eligibility: { ...serviceUserInput().eligibility, age18: false } }),
  );
  const worker = await screen(t, trial.id, caseWorkerInput({ screenedOn: '2026-01-05' }));
  await ok('post', `${base}/${worker.id}/assignment`, { arm: 'SMCM', reason: 'delivers the model at centre A' });

  // 0–5 consent and are randomized; 6 consents and is not randomized; 7 declines consent; 8 declines by event.
  const consents = [];
  for (let i = 0; i < 7; i++)
    consents.push(await grantConsent(t, trial.id, people[i]!.id, 'trial', '1.0', `2026-02-0${i + 1}`));
  await ok('post', `${base}/${people[7]!.id}/consents`, {
    form: 'trial',
    version: '1.0',
    decision: 'declined',
    signedOn: '2026-02-08',
    obtainedBy: 'IW',
    method: 'written',
    reason: 'no time',
  });
  await ok('post', `${base}/${people[8]!.id}/events`, { type: 'declined', occurredOn: '2026-02-09', reason: 'moved' });
  await ok('post', `${base}/${people[6]!.id}/events`, {
    type: 'not_randomized',
    occurredOn: '2026-02-10',
    reason: 'hospitalised',
  });
  for (let i = 0; i < 6; i++) await ok('post', `${base}/${people[i]!.id}/randomization`, {});
  await ok('post', `${base}/${people[5]!.id}/randomization/error`, { reason: 'randomized twice on paper' }, 200);

  await ok('post', `${base}/${people[0]!.id}/assessments`, {
    visit: 'baseline',
    assessedOn: '2026-02-15',
    assessor: 'IW',
    values: {
      hope: { items: [3, 3, 2, 4, 3, 2, 3, 3, 3, null, 3, 3] },
      gse: { items: [2, 3, 3, 3, 2, 2, 3, 3, 4, 4] },
    },
  });
  await ok('post', `${base}/${people[1]!.id}/assessments`, {
    visit: 'baseline',
    assessedOn: '2026-02-16',
    values: { hope: { items: [1, 2, 2, 4, 3, 2, 3, 1, 3, 2, 3, 4] }, employed: true },
  });
  // Assessed before the withdrawal below stops the follow-up: the import records it although the withdrawal is
  // imported first, since the rule compares dates.
  await ok('post', `${base}/${people[4]!.id}/assessments`, {
    visit: 'baseline',
    assessedOn: '2026-02-20',
    values: { employed: false },
  });
  await ok('post', `${base}/${people[0]!.id}/assessments`, {
    visit: 'm6',
    assessedOn: today(),
    assessor: 'KL',
    values: { employed: false, admissions: 2 },
  });
  await ok('post', `${base}/${people[1]!.id}/visits/m6/missed`, { reason: 'in hospital', recordedOn: today() });
  await ok('post', `${base}/${people[2]!.id}/events`, {
    type: 'lost_to_follow_up',
    occurredOn: today(),
    reason: 'moved',
  });
  await ok('post', `${base}/${people[3]!.id}/events`, { type: 'excluded_from_analysis', occurredOn: today() });
  await ok('post', `${base}/${people[4]!.id}/consents/${consents[4]!.id}/withdrawal`, {
    withdrawnOn: today(),
    reason: 'no longer interested',
    scope: 'follow_up',
  });
  return trial;
}

type Json = Record<string, unknown>;

/** Everything about a trial's participants that the round trip must keep, without ids and recording instants. */
async function history(trialId: string): Promise<Json[]> {
  const list = (await t.call('get', `/v1/trials/${trialId}/participants?limit=100`)).body.items as { id: string }[];
  const people: Json[] = [];
  for (const { id } of list) {
    const p = (await t.call('get', `/v1/trials/${trialId}/participants/${id}`)).body;
    const schedule = (await t.call('get', `/v1/trials/${trialId}/participants/${id}/schedule`)).body;
    people.push({
      label: p.label,
      siteCode: p.siteCode,
      role: p.role,
      status: p.status,
      screenedOn: p.screenedOn,
      eligible: p.eligible,
      unmetCriteria: p.unmetCriteria,
      eligibility: p.eligibility,
      baseline: p.baseline,
      consents: p.consents.map((c: Json) => {
        const { id: _id, recordedAt: _r, participantId: _p, withdrawal, ...rest } = c;
        const w = withdrawal as Json | null;
        return { ...rest, withdrawal: w && { withdrawnOn: w.withdrawnOn, reason: w.reason, scope: w.scope } };
      }),
      allocation: p.allocation && {
        arm: p.allocation.arm,
        sequenceNumber: p.allocation.sequenceNumber,
        randomizedAt: p.allocation.randomizedAt,
        stratum: p.allocation.stratum,
        errorReason: p.allocation.errorReason ?? null,
      },
      assignment: p.assignment && { arm: p.assignment.arm, reason: p.assignment.reason },
      events: p.events.map((e: Json) => [e.type, e.occurredOn, e.reason, e.retraction]),
      assessments: JSON.stringify(schedule.visits ?? schedule, (key, value) =>
        ['assessmentId', 'id', 'recordedAt', 'updatedAt', 'participantId', 'trialId'].includes(key) ? undefined : value,
      ),
    });
  }
  return people.sort((a, b) => String(a.label).localeCompare(String(b.label)));
}

/** The SubjectData elements of an export, sorted (imported participants share one creation instant). */
const subjectsOf = (xml: string) => (xml.match(/<SubjectData [\s\S]*?<\/SubjectData>/g) ?? []).sort();

describe('ODM ClinicalData import', () => {
  it('round-trips: export, a new trial from the definition, import the ClinicalData, and the trials are equal', async () => {
    const original = await runningTrial();
    const exported = await t.call('get', `/v1/trials/${original.id}/odm`);
    expect(exported.status).toBe(200);
    expect(schemaErrors(exported.text)).toBe('');
    expect(exported.text).toContain('<ItemData ItemOID="I.EVENT.TYPE" Value="lost_to_follow_up"/>');
    expect(exported.text).toContain('<ItemData ItemOID="I.RAND.ERROR" Value="randomized twice on paper"/>');
    expect(exported.text).toContain('<ItemData ItemOID="I.MISSED.REASON" Value="in hospital"/>');

    const created = await t.call('post', `/v1/trials/odm-import?code=RT-${process.pid}`, {
      raw: { contentType: 'application/xml', data: exported.text },
    });
    expect(created.status).toBe(201);
    const copy = created.body.trial as Trial;
    await addSites(t, copy.id);
    expect((await t.call('post', `/v1/trials/${copy.id}/activation`)).status).toBe(200);

    // The status each subject's document states must be the one its imported history gives: without its
    // `declined` event, a subject would come back eligible.
    const withoutEvent = exported.text.replace(
      /<StudyEventData StudyEventOID="SE.EVENTS" StudyEventRepeatKey="1">(?:(?!<\/StudyEventData>)[\s\S])*?Value="declined"[\s\S]*?<\/StudyEventData>/,
      '',
    );
    expect(withoutEvent).not.toBe(exported.text);
    const missing = await importOdm(copy.id, withoutEvent, true);
    expect(missing.body.errors).toEqual([
      {
        location: expect.stringMatching(/IG.SCREENING"\]\/ItemData\[@ItemOID="I.SCR.STATUS"\]$/),
        detail: 'the imported history gives the status eligible, the document says declined',
      },
    ]);

    const dry = await importOdm(copy.id, exported.text, true);
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ importId: null, kind: 'odm', dryRun: true, rows: 11, errors: [] });
    expect((await t.call('get', `/v1/trials/${copy.id}/participants`)).body.items).toEqual([]);

    const res = await importOdm(copy.id, exported.text);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'odm', dryRun: false, rows: 11, errors: [] });

    const [before, after] = [await history(original.id), await history(copy.id)];
    expect(after).toHaveLength(11);
    expect(after).toEqual(before);
    for (const path of ['consort', 'baseline']) {
      const of = async (id: string) => {
        const { trialId: _id, ...body } = (await t.call('get', `/v1/trials/${id}/${path}`)).body as Json;
        return body;
      };
      expect(await of(copy.id)).toEqual(await of(original.id));
    }
    const allocations = (id: string) =>
      t
        .call('get', `/v1/trials/${id}/allocations?limit=100`)
        .then((r) =>
          (r.body.items as Json[])
            .map((a) => [a.arm, a.sequenceNumber, a.randomizedAt, JSON.stringify(a.stratum)].join(' '))
            .sort(),
        );
    expect(await allocations(copy.id)).toEqual(await allocations(original.id));

    // The copy exports the same subjects, down to every ItemData.
    const again = await t.call('get', `/v1/trials/${copy.id}/odm`);
    expect(schemaErrors(again.text)).toBe('');
    expect(subjectsOf(again.text)).toEqual(subjectsOf(exported.text));

    // Imported rows are marked with the import; a second import of the same document fails on every subject.
    const audit = (await t.call('get', `/v1/trials/${copy.id}/audit?limit=200`)).body.items as Json[];
    const marked = audit.filter((e) => e.requestId === `import:${res.body.importId}`).map((e) => e.action);
    expect(marked).toContain('participant.randomized');
    expect(marked).toContain('event.recorded');
    expect(marked).toContain('randomization.flagged_error');
    expect(marked.filter((a) => a === 'trial.history_imported')).toHaveLength(1);
    const twice = await importOdm(copy.id, exported.text, true);
    expect(twice.status).toBe(200);
    expect(twice.body.errors.length).toBeGreaterThanOrEqual(11);
    expect(twice.body.errors[0]).toEqual({
      location: expect.stringMatching(/^\/ODM\/ClinicalData\/SubjectData\[@SubjectKey="[^"]+"\]$/),
      detail: expect.stringContaining('label'),
    });
  });

  it('refuses a blinded export (masked arms), for the definition and for the ClinicalData', async () => {
    const original = await runningTrial();
    const key = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded statistician', role: 'statistician', blinded: true },
    });
    const blinded = await t.call('get', `/v1/trials/${original.id}/odm`, { key: key.body.key });
    expect(schemaErrors(blinded.text)).toBe('');
    expect(blinded.text).toContain('<Alias Context="trialdesk.arms" Name="masked"/>');
    expect(blinded.text).toMatch(/<ItemData ItemOID="I.RAND.ARM" Value="Group [12]"/);

    const definition = await t.call('post', `/v1/trials/odm-import?code=BLIND-${process.pid}`, {
      raw: { contentType: 'application/xml', data: blinded.text },
    });
    expect(definition.status).toBe(422);
    expect(definition.body.errors[0].detail).toContain('blinded key');

    const unblinded = await t.call('get', `/v1/trials/${original.id}/odm`);
    const created = await t.call('post', `/v1/trials/odm-import?code=BLIND2-${process.pid}`, {
      raw: { contentType: 'application/xml', data: unblinded.text },
    });
    const copy = created.body.trial as Trial;
    await addSites(t, copy.id);
    await t.call('post', `/v1/trials/${copy.id}/activation`);
    for (const dryRun of [true, false]) {
      const res = await importOdm(copy.id, blinded.text, dryRun);
      expect(res.status).toBe(422);
      expect(res.body.errors[0].detail).toContain('masked labels');
    }
    expect((await t.call('get', `/v1/trials/${copy.id}/participants`)).body.items).toEqual([]);
  });

  it('refuses ClinicalData for another definition, listing what does not map', async () => {
    const original = await runningTrial();
    const exported = await t.call('get', `/v1/trials/${original.id}/odm`);
    // The plain SMCM trial has no follow-up visits or measures, and here one arm fewer code matches.
    const other = await createActiveTrial(t, {
      arms: [
        { code: 'SMCM', name: 'Strengths model case management', ratio: 1 },
        { code: 'WAIT', name: 'Wait list', ratio: 1 },
      ],
    });
    const res = await importOdm(other.id, exported.text, true);
    expect(res.status).toBe(422);
    const mdvOid = /<MetaDataVersion OID="([^"]+)"/.exec(exported.text)![1];
    const mdv = `/ODM/Study[@OID="TD.${original.code}"]/MetaDataVersion[@OID="${mdvOid}"]`;
    const problems = (res.body.errors as { pointer: string; detail: string }[]).map((e) => `${e.pointer} ${e.detail}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        `${mdv}/CodeList[@OID="CL.ARM"]/CodeListItem[@CodedValue="TAU"] the trial has no arm TAU`,
        `${mdv} the document does not define the trial's arm WAIT`,
        `${mdv}/StudyEventDef[@OID="SE.VISIT.m6"] the trial has no visit m6`,
        `${mdv}/ItemGroupDef[@OID="IG.MEASURE.hope"] the trial has no measure hope`,
      ]),
    );

    // Without its Study, ClinicalData must name the trial's own study and metadata version.
    const clinicalOnly = exported.text.replace(/<Study [\s\S]*<\/Study>\n?/, '');
    const bare = await importOdm(other.id, clinicalOnly, true);
    expect(bare.status).toBe(422);
    expect(bare.body.errors[0].detail).toContain(`not the trial's own (TD.${other.code}, MDV.${other.version})`);
  });

  it('locates every problem by element in a dry run, and writes nothing', async () => {
    const original = await runningTrial();
    const exported = await t.call('get', `/v1/trials/${original.id}/odm`);
    const created = await t.call('post', `/v1/trials/odm-import?code=LOC-${process.pid}`, {
      raw: { contentType: 'application/xml', data: exported.text },
    });
    const copy = created.body.trial as Trial;
    await addSites(t, copy.id, ['A', 'B']);
    await t.call('post', `/v1/trials/${copy.id}/activation`);
    const broken = exported.text
      .replace('<ItemData ItemOID="I.BL.age" Value="30"/>', '<ItemData ItemOID="I.BL.age" Value="12"/>')
      .replace(/(<ItemData ItemOID="I.CONSENT.SIGNED_ON" Value=")2026-02-02/, '$12026-02-31')
      .replace(
        /(<SubjectData SubjectKey="CW-[^"]+">[\s\S]*?)<ItemData ItemOID="I.SCR.ROLE"/,
        '$1<ItemData ItemOID="I.SCR.UNKNOWN" Value="x"/><ItemData ItemOID="I.SCR.ROLE"',
      );
    const res = await importOdm(copy.id, broken, true);
    expect(res.status).toBe(200);
    const problems = (res.body.errors as { location: string; detail: string }[]).map(
      (e) => `${e.location.replace(/SubjectKey="[^"]+"/, 'SubjectKey=…')} ${e.detail}`,
    );
    const screening =
      '/ODM/ClinicalData/SubjectData[@SubjectKey=…]/StudyEventData[@StudyEventOID="SE.SCREENING"][@StudyEventRepeatKey="1"]';
    expect(problems).toEqual(
      expect.arrayContaining([
        `${screening}/FormData[@FormOID="F.SCREENING"]/ItemGroupData[@ItemGroupOID="IG.SCREENING"]/ItemData[@ItemOID="I.SCR.UNKNOWN"] the trial's definition has no item I.SCR.UNKNOWN in IG.SCREENING`,
        '/ODM/ClinicalData/SubjectData[@SubjectKey=…]/StudyEventData[@StudyEventOID="SE.CONSENT"][@StudyEventRepeatKey="1"]/FormData[@FormOID="F.CONSENT"]/ItemGroupData[@ItemGroupOID="IG.CONSENT"][@ItemGroupRepeatKey="1"]/ItemData[@ItemOID="I.CONSENT.SIGNED_ON"] must be a date, YYYY-MM-DD',
        expect.stringMatching(
          /^\/ODM\/ClinicalData\/SubjectData\[@SubjectKey=…\]\/StudyEventData\[@StudyEventOID="SE.SCREENING"\]\[@StudyEventRepeatKey="1"\]\/FormData\[@FormOID="F.BASELINE"\]\/ItemGroupData\[@ItemGroupOID="IG.BASELINE"\]\/ItemData\[@ItemOID="I.BL.age"\] /,
        ),
        // Site C was not added to the copy.
        expect.stringMatching(/^\/ODM\/ClinicalData\/SubjectData\[@SubjectKey=…\]\/SiteRef .*C/),
      ]),
    );
    expect((await t.call('get', `/v1/trials/${copy.id}/participants`)).body.items).toEqual([]);
    const real = await importOdm(copy.id, broken);
    expect(real.status).toBe(422);
    expect(real.body.errors[0].pointer).toMatch(/^\/ODM\/ClinicalData\/SubjectData/);
    expect((await t.call('get', `/v1/trials/${copy.id}/participants`)).body.items).toEqual([]);
  });
});
