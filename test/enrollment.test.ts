import {
  caseWorkerInput,
  createActiveTrial,
  createTrial,
  addSites,
  grantConsent,
  screen,
  serviceUserInput,
  Trial,
} from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
let trial: Trial;
beforeAll(async () => {
  t = await startTestApp();
  trial = await createActiveTrial(t, {
    baselineVariables: [
      { name: 'age', type: 'number', unit: 'years', min: 18, max: 120, required: true },
      { name: 'sex', type: 'category', levels: ['female', 'male'] },
      {
        name: 'diagnosis',
        type: 'category',
        levels: ['schizophrenia', 'depression', 'bipolar', 'adjustment', 'anxiety', 'other'],
      },
      { name: 'onsetYears', type: 'number', unit: 'years', min: 0 },
      { name: 'experienceYears', type: 'number', unit: 'years', min: 0, roles: ['case_worker'] },
      {
        name: 'profession',
        type: 'category',
        levels: ['nurse', 'social_worker', 'welfare_worker'],
        roles: ['case_worker'],
      },
    ],
  });
});
afterAll(() => t.close());

const path = (suffix = '') => `/v1/trials/${trial.id}/participants${suffix}`;
const pointers = (body: { errors?: { pointer: string }[] }) => (body.errors ?? []).map((e) => e.pointer).sort();
const counts = async () => ({
  participants: (await t.db.knex('participants').count<{ n: number }[]>('* as n').first())!.n,
  consents: (await t.db.knex('consents').count<{ n: number }[]>('* as n').first())!.n,
  withdrawals: (await t.db.knex('consent_withdrawals').count<{ n: number }[]>('* as n').first())!.n,
  audit: (await t.db.knex('audit_events').count<{ n: number }[]>('* as n').first())!.n,
});
async function expectNothingWritten(act: () => Promise<unknown>) {
  const before = await counts();
  await act();
  expect(await counts()).toEqual(before);
}

describe('screening', () => {
  it('records an eligible service user with status eligible and an audit row', async () => {
    const res = await t.call('post', path(), { body: serviceUserInput({ label: 'SU-0042' }) });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(path(`/${res.body.id}`));
    expect(res.body).toMatchObject({
      label: 'SU-0042',
      siteCode: 'A',
      role: 'service_user',
      status: 'eligible',
      eligible: true,
      unmetCriteria: [],
      consents: [],
      assignment: null,
      reconsentRequired: false,
    });
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityId=${res.body.id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['participant.screened']);
  });

  it('records an ineligible person with every unmet criterion, in trial order', async () => {
    const participant = await screen(
      t,
      trial.id,
      serviceUserInput({
        eligibility: {
          age18: true,
          chinese: false,
          cantonese: true,
          written_consent: true,
          immediate_risk: true,
          overt_symptoms: false,
        },
      }),
    );
    expect(participant).toMatchObject({
      status: 'ineligible',
      eligible: false,
      unmetCriteria: ['chinese', 'immediate_risk'],
    });
  });

  it('refuses a missing answer, an unknown criterion, a future date, an unknown site and bad baseline values at once, writing nothing', async () => {
    await expectNothingWritten(async () => {
      const input = serviceUserInput({
        siteCode: 'Z',
        screenedOn: '2999-01-01',
        baseline: { age: 17, sex: 'unknown', onsetYears: -1 },
      });
      const { cantonese: _dropped, ...answers } = input.eligibility;
      const res = await t.call('post', path(), { body: { ...input, eligibility: { ...answers, tall: true } } });
      expect(res.status).toBe(422);
      expect(pointers(res.body)).toEqual([
        '/baseline/age',
        '/baseline/onsetYears',
        '/baseline/sex',
        '/eligibility/cantonese',
        '/eligibility/tall',
        '/screenedOn',
        '/siteCode',
      ]);
    });
  });

  it('refuses impossible calendar dates and a missing required baseline variable', async () => {
    expect(
      pointers((await t.call('post', path(), { body: serviceUserInput({ screenedOn: '2019-02-30' }) })).body),
    ).toEqual(['/screenedOn']);
    expect(
      pointers((await t.call('post', path(), { body: serviceUserInput({ baseline: { sex: 'male' } }) })).body),
    ).toEqual(['/baseline/age']);
  });

  it('refuses a duplicate label, also when it differs only by Unicode normalization', async () => {
    await screen(t, trial.id, serviceUserInput({ label: 'Caf\u00e9-1' }));
    await expectNothingWritten(async () => {
      const res = await t.call('post', path(), { body: serviceUserInput({ label: 'Cafe\u0301-1' }) });
      expect(res.status).toBe(409);
      expect(res.body.type).toBe('https://trialdesk.dev/problems/duplicate-label');
    });
  });

  it('refuses screening before activation', async () => {
    const draft = await createTrial(t);
    await addSites(t, draft.id, ['A']);
    const res = await t.call('post', `/v1/trials/${draft.id}/participants`, { body: serviceUserInput() });
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('https://trialdesk.dev/problems/trial-not-active');
  });

  it('keeps statisticians and monitors from screening', async () => {
    for (const role of ['statistician', 'monitor'] as const) {
      const { key } = await t.createKey(role);
      expect((await t.call('post', path(), { key, body: serviceUserInput() })).status).toBe(403);
    }
  });
});

describe('site scope for coordinators', () => {
  it('lets a site-A coordinator work at A only; B participants answer 404 and are not listed', async () => {
    const { key } = await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['A'] });
    const atB = await screen(t, trial.id, serviceUserInput({ siteCode: 'B' }));
    const atA = await screen(t, trial.id, serviceUserInput({ siteCode: 'A' }), key);

    expect((await t.call('post', path(), { key, body: serviceUserInput({ siteCode: 'B' }) })).status).toBe(403);
    expect((await t.call('get', path(`/${atB.id}`), { key })).status).toBe(404);
    expect((await t.call('get', path(`/${atA.id}`), { key })).status).toBe(200);
    expect(
      (
        await t.call('post', path(`/${atB.id}/consents`), {
          key,
          body: {
            form: 'trial',
            version: '1.0',
            decision: 'granted',
            signedOn: '2018-03-02',
            obtainedBy: 'IW',
            method: 'written',
          },
        })
      ).status,
    ).toBe(404);
    expect(
      (await t.call('put', path(`/${atB.id}/baseline`), { key, body: { values: { age: 50 }, reason: 'x' } })).status,
    ).toBe(404);

    const listed = await t.call('get', `${path()}?limit=500`, { key });
    expect(listed.body.items.every((p: { siteCode: string }) => p.siteCode === 'A')).toBe(true);
    expect(listed.body.items.map((p: { id: string }) => p.id)).toContain(atA.id);
  });
});

describe('baseline values', () => {
  it('fills gaps without a reason and needs a reason to correct, auditing old and new values', async () => {
    const p = await screen(t, trial.id, serviceUserInput({ baseline: { age: 40 } }));
    const filled = await t.call('put', path(`/${p.id}/baseline`), { body: { values: { age: 40, sex: 'male' } } });
    expect(filled.status).toBe(200);
    expect(filled.body.baseline).toEqual({ age: 40, sex: 'male' });

    await expectNothingWritten(async () => {
      const noReason = await t.call('put', path(`/${p.id}/baseline`), { body: { values: { age: 41, sex: 'male' } } });
      expect(noReason.status).toBe(422);
      expect(pointers(noReason.body)).toEqual(['/reason']);
      const outOfRange = await t.call('put', path(`/${p.id}/baseline`), {
        body: { values: { age: 200, sex: 'male' }, reason: 'typo' },
      });
      expect(pointers(outOfRange.body)).toEqual(['/values/age']);
    });

    const corrected = await t.call('put', path(`/${p.id}/baseline`), {
      body: { values: { age: 41, sex: 'male' }, reason: 'transcription error in the case file' },
    });
    expect(corrected.status).toBe(200);
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityId=${p.id}`);
    const [, set, correction] = audit.body.items;
    expect(set).toMatchObject({
      action: 'participant.baseline_set',
      before: { baseline: { age: 40 } },
      after: { baseline: { age: 40, sex: 'male' } },
      reason: null,
    });
    expect(correction).toMatchObject({
      action: 'participant.baseline_corrected',
      before: { baseline: { age: 40, sex: 'male' } },
      after: { baseline: { age: 41, sex: 'male' } },
      reason: 'transcription error in the case file',
    });
  });
});

describe('consent', () => {
  const consentBody = (overrides: object = {}) => ({
    form: 'trial',
    version: '1.0',
    decision: 'granted',
    signedOn: '2018-03-02',
    obtainedBy: 'IW',
    method: 'written',
    ...overrides,
  });

  it('moves an eligible participant to consented when every required form is granted', async () => {
    const p = await screen(t, trial.id, serviceUserInput());
    const audio = await t.call('post', path(`/${p.id}/consents`), { body: consentBody({ form: 'audio' }) });
    expect(audio.status).toBe(201);
    expect((await t.call('get', path(`/${p.id}`))).body.status).toBe('eligible'); // audio is not required
    const res = await t.call('post', path(`/${p.id}/consents`), { body: consentBody() });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      form: 'trial',
      version: '1.0',
      current: true,
      decision: 'granted',
      withdrawal: null,
      participantId: p.id,
    });
    const after = await t.call('get', path(`/${p.id}`));
    expect(after.body.status).toBe('consented');
    expect(after.body.consents.map((c: { form: string }) => c.form)).toEqual(['audio', 'trial']);
  });

  it('moves a participant who declines a required form to declined', async () => {
    const p = await screen(t, trial.id, serviceUserInput());
    await t.call('post', path(`/${p.id}/consents`), {
      body: consentBody({ decision: 'declined', reason: 'not interested' }),
    });
    expect((await t.call('get', path(`/${p.id}`))).body.status).toBe('declined');
  });

  it('refuses unknown forms and versions and future dates with 422, writing nothing', async () => {
    const p = await screen(t, trial.id, serviceUserInput());
    await expectNothingWritten(async () => {
      expect(
        pointers((await t.call('post', path(`/${p.id}/consents`), { body: consentBody({ version: '9.9' }) })).body),
      ).toEqual(['/version']);
      expect(
        pointers((await t.call('post', path(`/${p.id}/consents`), { body: consentBody({ form: 'blood' }) })).body),
      ).toEqual(['/form']);
      expect(
        pointers(
          (await t.call('post', path(`/${p.id}/consents`), { body: consentBody({ signedOn: '2999-01-01' }) })).body,
        ),
      ).toEqual(['/signedOn']);
    });
  });

  it('refuses with 409: an ineligible participant, a date before screening, a second decision on the same version', async () => {
    const ineligible = await screen(
      t,
      trial.id,
      serviceUserInput({
        eligibility: {
          age18: false,
          chinese: true,
          cantonese: true,
          written_consent: true,
          immediate_risk: false,
          overt_symptoms: false,
        },
      }),
    );
    const p = await screen(t, trial.id, serviceUserInput());
    await expectNothingWritten(async () => {
      const a = await t.call('post', path(`/${ineligible.id}/consents`), { body: consentBody() });
      expect([a.status, a.body.type]).toEqual([409, 'https://trialdesk.dev/problems/participant-ineligible']);
      const b = await t.call('post', path(`/${p.id}/consents`), { body: consentBody({ signedOn: '2018-02-28' }) });
      expect([b.status, b.body.type]).toEqual([409, 'https://trialdesk.dev/problems/date-before-screening']);
    });
    await grantConsent(t, trial.id, p.id);
    await expectNothingWritten(async () => {
      const c = await t.call('post', path(`/${p.id}/consents`), { body: consentBody({ decision: 'declined' }) });
      expect([c.status, c.body.type]).toEqual([409, 'https://trialdesk.dev/problems/consent-already-recorded']);
    });
  });
});

describe('consent form versions', () => {
  it('flags participants on an older version until they sign the current one, and counts per version', async () => {
    const local = await createActiveTrial(t);
    const p = await screen(t, local.id, serviceUserInput());
    await grantConsent(t, local.id, p.id);
    const other = await screen(t, local.id, serviceUserInput());
    await t.call('post', `/v1/trials/${local.id}/participants/${other.id}/consents`, {
      body: {
        form: 'trial',
        version: '1.0',
        decision: 'declined',
        signedOn: '2018-03-02',
        obtainedBy: 'IW',
        method: 'written',
      },
    });

    const added = await t.call('post', `/v1/trials/${local.id}/consent-forms`, {
      body: { code: 'trial', version: '2.0', required: true, title: 'Amended information sheet' },
    });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({
      code: 'trial',
      version: '2.0',
      title: 'Amended information sheet',
      required: true,
      current: true,
      granted: 0,
      declined: 0,
      withdrawn: 0,
    });

    const flagged = await t.call('get', `/v1/trials/${local.id}/participants/${p.id}`);
    expect(flagged.body).toMatchObject({ status: 'consented', reconsentRequired: true });
    expect(flagged.body.consents[0].current).toBe(false);
    await grantConsent(t, local.id, p.id, 'trial', '2.0', '2018-06-01');
    expect((await t.call('get', `/v1/trials/${local.id}/participants/${p.id}`)).body.reconsentRequired).toBe(false);

    const usage = await t.call('get', `/v1/trials/${local.id}/consent-forms`);
    expect(usage.body.items).toEqual([
      {
        code: 'trial',
        version: '1.0',
        title: 'Participant information sheet and consent',
        required: true,
        current: false,
        granted: 1,
        declined: 1,
        withdrawn: 0,
      },
      {
        code: 'audio',
        version: '1.0',
        title: 'Audio recording of interviews',
        required: false,
        current: true,
        granted: 0,
        declined: 0,
        withdrawn: 0,
      },
      {
        code: 'trial',
        version: '2.0',
        title: 'Amended information sheet',
        required: true,
        current: true,
        granted: 1,
        declined: 0,
        withdrawn: 0,
      },
    ]);
    expect(
      (await t.call('get', `/v1/trials/${local.id}`)).body.consentForms.map((f: { version: string }) => f.version),
    ).toEqual(['1.0', '1.0', '2.0']);
  });

  it('counts only the sites of a site-limited coordinator', async () => {
    const local = await createActiveTrial(t);
    for (const site of ['A', 'A', 'B'])
      await grantConsent(t, local.id, (await screen(t, local.id, serviceUserInput({ siteCode: site }))).id);
    const granted = async (key?: string) =>
      (await t.call('get', `/v1/trials/${local.id}/consent-forms`, { key })).body.items.find(
        (f: { code: string }) => f.code === 'trial',
      ).granted;
    expect(await granted()).toBe(3);
    expect(await granted((await t.createKey('coordinator', { trialIds: [local.id], siteCodes: ['B'] })).key)).toBe(1);
    expect(await granted((await t.createKey('coordinator', { trialIds: [local.id], siteCodes: ['A', 'B'] })).key)).toBe(
      3,
    );
  });

  it('refuses a duplicate version, a disagreeing required flag, and non-admins', async () => {
    const duplicate = await t.call('post', `/v1/trials/${trial.id}/consent-forms`, {
      body: { code: 'trial', version: '1.0', required: true },
    });
    expect([duplicate.status, duplicate.body.type]).toEqual([
      409,
      'https://trialdesk.dev/problems/duplicate-consent-form-version',
    ]);
    const disagree = await t.call('post', `/v1/trials/${trial.id}/consent-forms`, {
      body: { code: 'trial', version: '3.0', required: false },
    });
    expect([disagree.status, pointers(disagree.body)]).toEqual([422, ['/required']]);
    const { key } = await t.createKey('coordinator');
    expect(
      (
        await t.call('post', `/v1/trials/${trial.id}/consent-forms`, {
          key,
          body: { code: 'x', version: '1', required: false },
        })
      ).status,
    ).toBe(403);
  });
});

describe('withdrawal', () => {
  it('keeps the consent, adds the withdrawal as a new fact, and moves the participant to withdrawn', async () => {
    const p = await screen(t, trial.id, serviceUserInput());
    const consent = await grantConsent(t, trial.id, p.id);
    const res = await t.call('post', path(`/${p.id}/consents/${consent.id}/withdrawal`), {
      body: { withdrawnOn: '2018-09-01', reason: 'moved away', scope: 'intervention' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: consent.id,
      decision: 'granted',
      signedOn: '2018-03-02',
      withdrawal: { withdrawnOn: '2018-09-01', reason: 'moved away', scope: 'intervention' },
    });
    const after = await t.call('get', path(`/${p.id}`));
    expect(after.body.status).toBe('withdrawn');
    expect(after.body.consents).toHaveLength(1);

    await expectNothingWritten(async () => {
      const again = await t.call('post', path(`/${p.id}/consents/${consent.id}/withdrawal`), {
        body: { withdrawnOn: '2018-09-02', reason: 'again', scope: 'all' },
      });
      expect([again.status, again.body.type]).toEqual([
        409,
        'https://trialdesk.dev/problems/consent-already-withdrawn',
      ]);
    });
  });

  it('refuses to withdraw a declined consent, before signing, in the future, or an unknown consent', async () => {
    const p = await screen(t, trial.id, serviceUserInput());
    const declined = (
      await t.call('post', path(`/${p.id}/consents`), {
        body: {
          form: 'trial',
          version: '1.0',
          decision: 'declined',
          signedOn: '2018-03-02',
          obtainedBy: 'IW',
          method: 'written',
        },
      })
    ).body;
    const q = await screen(t, trial.id, serviceUserInput());
    const granted = await grantConsent(t, trial.id, q.id);
    await expectNothingWritten(async () => {
      const a = await t.call('post', path(`/${p.id}/consents/${declined.id}/withdrawal`), {
        body: { withdrawnOn: '2018-09-01', reason: 'x', scope: 'all' },
      });
      expect([a.status, a.body.type]).toEqual([409, 'https://trialdesk.dev/problems/consent-declined']);
      const b = await t.call('post', path(`/${q.id}/consents/${granted.id}/withdrawal`), {
        body: { withdrawnOn: '2018-03-01', reason: 'x', scope: 'all' },
      });
      expect([b.status, b.body.type]).toEqual([409, 'https://trialdesk.dev/problems/date-before-consent']);
      const c = await t.call('post', path(`/${q.id}/consents/${granted.id}/withdrawal`), {
        body: { withdrawnOn: '2999-01-01', reason: 'x', scope: 'all' },
      });
      expect([c.status, pointers(c.body)]).toEqual([422, ['/withdrawnOn']]);
      const d = await t.call('post', path(`/${p.id}/consents/${granted.id}/withdrawal`), {
        body: { withdrawnOn: '2018-09-01', reason: 'x', scope: 'all' },
      });
      expect(d.status).toBe(404);
      const e = await t.call('post', path(`/${q.id}/consents/${granted.id}/withdrawal`), {
        body: { withdrawnOn: '2018-09-01', reason: 'x', scope: 'sometimes' },
      });
      expect([e.status, pointers(e.body)]).toEqual([422, ['/scope']]);
    });
  });

  it('serialises concurrent withdrawals of one consent: exactly one succeeds', async () => {
    const p = await screen(t, trial.id, serviceUserInput());
    const consent = await grantConsent(t, trial.id, p.id);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.call('post', path(`/${p.id}/consents/${consent.id}/withdrawal`), {
          body: { withdrawnOn: '2018-09-01', reason: 'x', scope: 'all' },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
  });
});

describe('case workers', () => {
  it('keeps case workers with their own variables and records the arm they deliver', async () => {
    const cw = await screen(t, trial.id, caseWorkerInput({ baseline: { experienceYears: 6, profession: 'nurse' } }));
    expect(cw).toMatchObject({
      role: 'case_worker',
      status: 'eligible',
      eligible: true,
      baseline: { experienceYears: 6, profession: 'nurse' },
      assignment: null,
    });
    const first = await t.call('post', path(`/${cw.id}/assignment`), {
      body: { arm: 'SMCM', reason: 'trained in SMCM' },
    });
    expect(first.status).toBe(201);
    expect(first.body.assignment).toMatchObject({ arm: 'SMCM', reason: 'trained in SMCM' });
    const second = await t.call('post', path(`/${cw.id}/assignment`), { body: { arm: 'TAU', reason: 'moved team' } });
    expect(second.body.assignment.arm).toBe('TAU');
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityId=${cw.id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual([
      'participant.screened',
      'case_worker.assigned',
      'case_worker.assigned',
    ]);
  });

  it('refuses assignment of a service user or to an unknown arm, and service-user variables for case workers', async () => {
    const su = await screen(t, trial.id, serviceUserInput());
    const cw = await screen(t, trial.id, caseWorkerInput());
    await expectNothingWritten(async () => {
      expect((await t.call('post', path(`/${su.id}/assignment`), { body: { arm: 'SMCM', reason: 'x' } })).status).toBe(
        422,
      );
      expect(
        pointers((await t.call('post', path(`/${cw.id}/assignment`), { body: { arm: 'XYZ', reason: 'x' } })).body),
      ).toEqual(['/arm']);
      const wrongVariable = await t.call('post', path(), { body: caseWorkerInput({ baseline: { age: 40 } }) });
      expect(wrongVariable.body.errors).toEqual([
        { pointer: '/baseline/age', detail: 'applies to service users only' },
      ]);
    });
  });
});

describe('listing', () => {
  it('filters by status, role and site, and pages without repeats', async () => {
    const local = await createActiveTrial(t);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await screen(t, local.id, serviceUserInput({ siteCode: i % 2 ? 'B' : 'A' })));
    await screen(t, local.id, caseWorkerInput());
    await grantConsent(t, local.id, made[0]!.id);
    const list = (q: string) => t.call('get', `/v1/trials/${local.id}/participants?${q}`);
    expect((await list('status=consented')).body.items.map((p: { id: string }) => p.id)).toEqual([made[0]!.id]);
    expect((await list('role=case_worker')).body.items).toHaveLength(1);
    expect((await list('siteCode=B')).body.items).toHaveLength(2);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await list(
        `limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      ids.push(...page.body.items.map((p) => p.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(6);
    expect(ids.slice(0, 5)).toEqual(made.map((p) => p.id));
  });
});
