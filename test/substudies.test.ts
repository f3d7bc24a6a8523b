import { caseWorkerInput, createActiveTrial, grantConsent, screen, serviceUserInput, Trial } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
let trial: Trial;
const ARMS = ['SMCM', 'TAU'];
const SECRET_WORDS = ['SMCM', 'TAU', 'Strengths model', 'Treatment as usual'];

beforeAll(async () => {
  t = await startTestApp({ clock: () => new Date('2019-12-31T12:00:00Z') });
  trial = await createActiveTrial(t);
});
afterAll(() => t.close());

const base = (code: string, suffix = '') => `/v1/trials/${trial.id}/substudies/${code}${suffix}`;
let substudyCounter = 0;

/** A sub-study with a quota of `target` for every site A/B × arm × role. */
async function createSubstudy(target = 2, overrides: object = {}) {
  const code = `pe-${++substudyCounter}`;
  const quotas = ['A', 'B'].flatMap((siteCode) =>
    ARMS.flatMap((arm) => ['service_user', 'case_worker'].map((role) => ({ siteCode, arm, role, target }))),
  );
  const res = await t.call('post', `/v1/trials/${trial.id}/substudies`, {
    body: { code, title: 'Process evaluation', incentive: 'interview_coupon', quotas, ...overrides },
  });
  expect(res.status).toBe(201);
  return code;
}

async function randomizedServiceUser(site = 'A') {
  const p = await screen(t, trial.id, serviceUserInput({ siteCode: site }));
  await grantConsent(t, trial.id, p.id);
  const res = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`);
  expect(res.status).toBe(201);
  return { id: p.id as string, arm: res.body.arm as string };
}

async function assignedCaseWorker(site = 'A', arm = 'SMCM') {
  const p = await screen(t, trial.id, caseWorkerInput({ siteCode: site }));
  const res = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/assignment`, {
    body: { arm, reason: 'trained' },
  });
  expect(res.status).toBe(201);
  return p.id as string;
}

async function invite(code: string, participantId: string, invitedOn = '2019-06-01') {
  return t.call('post', base(code, '/invitations'), { body: { participantId, invitedOn, invitedBy: 'ST' } });
}

async function acceptedInvitation(code: string, participantId: string) {
  const inv = await invite(code, participantId);
  expect(inv.status).toBe(201);
  const res = await t.call('post', base(code, `/invitations/${inv.body.id}/answer`), {
    body: { answer: 'accepted', answeredOn: '2019-06-03' },
  });
  expect(res.status).toBe(200);
  return res.body;
}

const interviewBody = (participantId: string, audioRecorded: boolean) => ({
  participantId,
  conductedOn: '2019-07-01',
  interviewer: 'ST',
  durationMinutes: 45,
  location: 'centre A',
  audioRecorded,
});

describe('sub-studies with quotas', () => {
  it('creates a sub-study with its sampling frame, lists it, and refuses an unknown site, arm, form or a repeat', async () => {
    const code = await createSubstudy(3);
    const list = await t.call('get', `/v1/trials/${trial.id}/substudies`);
    const created = list.body.find((s: { code: string }) => s.code === code);
    expect(created).toMatchObject({
      title: 'Process evaluation',
      audioConsentForm: 'audio',
      incentive: 'interview_coupon',
    });
    expect(created.quotas).toHaveLength(8);
    expect(created.quotas[0]).toEqual({ siteCode: 'A', arm: 'SMCM', role: 'case_worker', target: 3 });

    const bad = await t.call('post', `/v1/trials/${trial.id}/substudies`, {
      body: {
        code: 'bad',
        title: 'x',
        audioConsentForm: 'video',
        incentive: 'cash',
        quotas: [
          { siteCode: 'Z', arm: 'SMCM', role: 'service_user', target: 1 },
          { siteCode: 'A', arm: 'Group 1', role: 'service_user', target: 1 },
          { siteCode: 'A', arm: 'TAU', role: 'service_user', target: 1 },
          { siteCode: 'A', arm: 'TAU', role: 'service_user', target: 2 },
        ],
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
      '/audioConsentForm',
      '/incentive',
      '/quotas/0/siteCode',
      '/quotas/1/arm',
      '/quotas/3',
    ]);
    const again = await t.call('post', `/v1/trials/${trial.id}/substudies`, {
      body: { code, title: 'again', quotas: [{ siteCode: 'A', arm: 'TAU', role: 'service_user', target: 1 }] },
    });
    expect(again.status).toBe(409);
    expect(again.body.type).toMatch(/duplicate-substudy$/);
  });

  it('lets a site-limited coordinator set quotas only at its sites and shows it only its own', async () => {
    const key = (await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] })).key;
    const quota = (siteCode: string) => ({ siteCode, arm: 'TAU', role: 'service_user', target: 1 });
    const refused = await t.call('post', `/v1/trials/${trial.id}/substudies`, {
      key,
      body: { code: 'b-only', title: 'x', quotas: [quota('B'), quota('A')] },
    });
    expect(refused.status).toBe(403);
    const ok = await t.call('post', `/v1/trials/${trial.id}/substudies`, {
      key,
      body: { code: 'b-only', title: 'x', quotas: [quota('B')] },
    });
    expect(ok.status).toBe(201);
    const code = await createSubstudy(1);
    const list = await t.call('get', `/v1/trials/${trial.id}/substudies`, { key });
    const seen = list.body.find((s: { code: string }) => s.code === code);
    expect(seen.quotas.map((q: { siteCode: string }) => q.siteCode)).toEqual(['B', 'B', 'B', 'B']);
  });

  it('shows a blinded key masked labels in every format, and accepts its labels in quotas', async () => {
    const res = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded coordinator', role: 'coordinator', trialIds: [trial.id], blinded: true },
    });
    const key = res.body.key;
    const created = await t.call('post', `/v1/trials/${trial.id}/substudies`, {
      key,
      body: {
        code: 'masked',
        title: 'x',
        quotas: [{ siteCode: 'A', arm: 'Group 1', role: 'service_user', target: 2 }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.quotas[0].arm).toBe('Group 1');
    const stored = await t.db.knex('substudy_quotas').where({ trial_id: trial.id, substudy_code: 'masked' }).first();
    expect(ARMS).toContain(stored.arm);
    const code = await createSubstudy(2);
    for (const accept of ['application/json', 'text/csv', 'text/html']) {
      const table = await t.call('get', base(code, '/sampling'), { key, headers: { Accept: accept } });
      expect(table.status).toBe(200);
      for (const word of SECRET_WORDS) expect(table.text).not.toContain(word);
      expect(table.text).toContain('Group 2');
    }
    const list = await t.call('get', `/v1/trials/${trial.id}/substudies`, { key });
    for (const word of SECRET_WORDS) expect(list.text).not.toContain(word);
    // Audit rows name the arms of quotas and invitations under `arm`: masked for a blinded monitor too.
    await invite(code, (await randomizedServiceUser('A')).id);
    const monitor = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded monitor', role: 'monitor', trialIds: [trial.id], blinded: true },
    });
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?limit=500`, { key: monitor.body.key });
    expect(audit.text).toContain('substudy.invited');
    // The trial's own code and title name the arms here; the audit rows' arms must not.
    expect(audit.text).not.toMatch(/"arm":"(SMCM|TAU)"/);
    expect(audit.text).toMatch(/"quotas":\[\{"arm":"Group \d"/);
    const unblinded = await t.call('get', `/v1/trials/${trial.id}/audit?limit=500`);
    expect(unblinded.text).toContain('"arm":"SMCM"');
  });
});

describe('invitations and the sampling table', () => {
  it('invites only randomized service users and assigned case workers, in cells with a quota, once each', async () => {
    const code = await createSubstudy(2, {
      quotas: [{ siteCode: 'A', arm: 'SMCM', role: 'case_worker', target: 1 }],
    });
    const unrandomized = await screen(t, trial.id, serviceUserInput());
    const notCandidate = await invite(code, unrandomized.id);
    expect(notCandidate.status).toBe(409);
    expect(notCandidate.body.type).toMatch(/not-a-substudy-candidate$/);
    const unassigned = await screen(t, trial.id, caseWorkerInput());
    expect((await invite(code, unassigned.id)).body.type).toMatch(/not-a-substudy-candidate$/);
    const tauWorker = await assignedCaseWorker('A', 'TAU');
    const outside = await invite(code, tauWorker);
    expect(outside.status).toBe(409);
    expect(outside.body.type).toMatch(/outside-sampling-frame$/);
    const worker = await assignedCaseWorker('A', 'SMCM');
    const ok = await invite(code, worker);
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ siteCode: 'A', arm: 'SMCM', role: 'case_worker', answer: null });
    expect((await invite(code, worker)).body.type).toMatch(/already-invited$/);
    expect((await invite(code, worker, '2020-01-02')).status).toBe(422);
  });

  it('records accepted and declined answers once, and counts target, invited, answers, interviews and gap', async () => {
    const code = await createSubstudy(2);
    const users = [];
    for (let i = 0; i < 4; i++) users.push(await randomizedServiceUser('A'));
    const answers = ['accepted', 'accepted', 'declined', null];
    const invitations = [];
    for (const [i, user] of users.entries()) {
      const inv = (await invite(code, user.id)).body;
      invitations.push(inv);
      if (answers[i]) {
        const res = await t.call('post', base(code, `/invitations/${inv.id}/answer`), {
          body: {
            answer: answers[i],
            answeredOn: '2019-06-02',
            reason: answers[i] === 'declined' ? 'too busy' : undefined,
          },
        });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ answer: answers[i], answeredOn: '2019-06-02' });
      }
    }
    const twice = await t.call('post', base(code, `/invitations/${invitations[0].id}/answer`), {
      body: { answer: 'declined', answeredOn: '2019-06-05' },
    });
    expect(twice.status).toBe(409);
    const early = await t.call('post', base(code, `/invitations/${invitations[3].id}/answer`), {
      body: { answer: 'accepted', answeredOn: '2019-05-01' },
    });
    expect(early.body.type).toMatch(/date-before-invitation$/);
    await t.call('post', base(code, '/interviews'), { body: interviewBody(users[0]!.id, false) });

    const table = await t.call('get', base(code, '/sampling'));
    expect(table.status).toBe(200);
    const expected = {
      target: 0,
      invited: 0,
      accepted: 0,
      declined: 0,
      awaiting: 0,
      withdrawn: 0,
      interviewed: 0,
      recordingsFlagged: 0,
      recordingsDeleted: 0,
      gap: 0,
    };
    for (const arm of ARMS) {
      const mine = users.map((u, i) => ({ ...u, i })).filter((u) => u.arm === arm);
      const row = table.body.rows.find(
        (r: { siteCode: string; arm: string; role: string }) =>
          r.siteCode === 'A' && r.arm === arm && r.role === 'service_user',
      );
      const interviewed = mine.filter((u) => u.i === 0).length;
      const want = {
        target: 2,
        invited: mine.length,
        accepted: mine.filter((u) => answers[u.i] === 'accepted').length,
        declined: mine.filter((u) => answers[u.i] === 'declined').length,
        awaiting: mine.filter((u) => answers[u.i] === null).length,
        withdrawn: 0,
        interviewed,
        recordingsFlagged: 0,
        recordingsDeleted: 0,
        gap: 2 - interviewed,
      };
      expect(row).toMatchObject(want);
      for (const k of Object.keys(expected) as (keyof typeof expected)[]) expected[k] += want[k];
    }
    const su = table.body.totals.find((r: { role: string }) => r.role === 'service_user');
    expect(su).toEqual({ role: 'service_user', ...expected, target: 8, gap: expected.gap + 4 });
    expect(table.body.rows.map((r: { siteCode: string; role: string }) => `${r.siteCode}/${r.role}`)).toEqual([
      'A/service_user',
      'A/service_user',
      'A/case_worker',
      'A/case_worker',
      'B/service_user',
      'B/service_user',
      'B/case_worker',
      'B/case_worker',
    ]);
    const csv = await t.call('get', base(code, '/sampling'), { headers: { Accept: 'text/csv' } });
    expect(csv.text.split('\r\n')[0]).toBe(
      'siteCode,arm,role,target,invited,accepted,declined,awaiting,withdrawn,interviewed,recordingsFlagged,recordingsDeleted,gap',
    );
    expect(csv.text.trim().split('\r\n')).toHaveLength(1 + 8 + 3);
    const html = await t.call('get', base(code, '/sampling'), { headers: { Accept: 'text/html' } });
    expect(html.text).toContain('<table>');
  });
});

describe('interviews, audio consent and transcripts', () => {
  it('refuses an audio-recorded interview without a granted audio consent, writing nothing', async () => {
    const code = await createSubstudy(2);
    const user = await randomizedServiceUser('A');
    const notInvited = await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, false) });
    expect(notInvited.body.type).toMatch(/invitation-not-accepted$/);
    await acceptedInvitation(code, user.id);
    const before = await t.db.knex('substudy_interviews').count<{ n: number }[]>('* as n').first();
    const refused = await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, true) });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/audio-consent-missing$/);
    const after = await t.db.knex('substudy_interviews').count<{ n: number }[]>('* as n').first();
    expect(after!.n).toBe(before!.n);
    // A consent signed after the interview does not cover it.
    await grantConsent(t, trial.id, user.id, 'audio', '1.0', '2019-07-02');
    const late = await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, true) });
    expect(late.body.type).toMatch(/audio-consent-missing$/);
    const unrecorded = await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, false) });
    expect(unrecorded.status).toBe(201);
    expect(unrecorded.body.recording).toBeNull();
    const twice = await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, false) });
    expect(twice.body.type).toMatch(/already-interviewed$/);
  });

  it('records an audio-recorded interview, and flags the recording for deletion once the consent is withdrawn', async () => {
    const code = await createSubstudy(2);
    const user = await randomizedServiceUser('A');
    const consent = await grantConsent(t, trial.id, user.id, 'audio', '1.0', '2019-06-03');
    await acceptedInvitation(code, user.id);
    const res = await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, true) });
    expect(res.status).toBe(201);
    expect(res.body.recording).toEqual({ consentId: consent.id, deletionRequiredSince: null, deletion: null });
    const withdrawal = await t.call(
      'post',
      `/v1/trials/${trial.id}/participants/${user.id}/consents/${consent.id}/withdrawal`,
      { body: { withdrawnOn: '2019-08-15', reason: 'changed her mind about the recording', scope: 'all' } },
    );
    expect(withdrawal.status).toBe(201);
    const list = await t.call('get', base(code, '/interviews'));
    const interview = list.body.find((i: { id: string }) => i.id === res.body.id);
    expect(interview.recording).toEqual({ consentId: consent.id, deletionRequiredSince: '2019-08-15', deletion: null });

    const deletion = (deletedOn: string, key?: string) =>
      t.call('post', base(code, `/interviews/${res.body.id}/recording-deletion`), {
        key,
        body: { deletedOn, deletedBy: 'IW', method: 'secure erase of the recorder and the share' },
      });
    const siteB = (await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] })).key;
    expect((await deletion('2019-08-20', siteB)).status).toBe(404);
    expect((await deletion('2019-08-14')).body.type).toMatch(/recording-deletion-refused$/);
    expect((await deletion('2020-01-02')).status).toBe(422);
    const deleted = await deletion('2019-08-20');
    expect(deleted.status).toBe(200);
    expect(deleted.body.recording.deletion).toEqual({
      on: '2019-08-20',
      by: 'IW',
      method: 'secure erase of the recorder and the share',
    });
    const twice = await deletion('2019-08-21');
    expect(twice.status).toBe(409);
    expect(twice.body.type).toMatch(/recording-deletion-refused$/);
    const unrecord = await t.call('patch', base(code, `/interviews/${res.body.id}`), {
      body: { audioRecorded: false, reason: 'no recording any more' },
    });
    expect(unrecord.body.type).toMatch(/interview-correction-refused$/);
    const table = await t.call('get', base(code, '/sampling'));
    expect(table.body.totals.find((r: { role: string }) => r.role === 'all')).toMatchObject({
      interviewed: 1,
      recordingsFlagged: 1,
      recordingsDeleted: 1,
    });
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?limit=500`);
    const row = audit.body.items.find(
      (e: { action: string; entityId: string }) =>
        e.action === 'substudy.recording_deleted' && e.entityId === res.body.id,
    );
    expect(row.after.deletion).toMatchObject({ on: '2019-08-20', by: 'IW' });
  });

  it('refuses to record the deletion of a recording that is not flagged, or of an interview not recorded', async () => {
    const code = await createSubstudy(2);
    const recorded = await randomizedServiceUser('A');
    await grantConsent(t, trial.id, recorded.id, 'audio', '1.0', '2019-06-03');
    await acceptedInvitation(code, recorded.id);
    const unrecorded = await randomizedServiceUser('A');
    await acceptedInvitation(code, unrecorded.id);
    for (const [user, audio] of [
      [recorded, true],
      [unrecorded, false],
    ] as const) {
      const interview = await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, audio) });
      const res = await t.call('post', base(code, `/interviews/${interview.body.id}/recording-deletion`), {
        body: { deletedOn: '2019-08-20', deletedBy: 'IW' },
      });
      expect(res.status).toBe(409);
      expect(res.body.type).toMatch(/recording-deletion-refused$/);
    }
  });

  it('keeps the transcript stages in order: transcribed, checked against the recording, de-identified', async () => {
    const code = await createSubstudy(2);
    const user = await randomizedServiceUser('B');
    await grantConsent(t, trial.id, user.id, 'audio', '1.0', '2019-06-03');
    await acceptedInvitation(code, user.id);
    const interview = (await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, true) })).body;
    const stage = (s: string, on: string) =>
      t.call('post', base(code, `/interviews/${interview.id}/transcript`), { body: { stage: s, by: 'IW', on } });
    expect((await stage('checked', '2019-07-10')).body.type).toMatch(/transcript-stage-refused$/);
    expect((await stage('transcribed', '2019-06-30')).body.type).toMatch(/transcript-stage-refused$/);
    expect((await stage('transcribed', '2019-07-05')).status).toBe(200);
    expect((await stage('transcribed', '2019-07-06')).status).toBe(409);
    expect((await stage('deidentified', '2019-07-10')).status).toBe(409);
    expect((await stage('checked', '2019-07-04')).status).toBe(409);
    expect((await stage('checked', '2019-07-08')).status).toBe(200);
    const done = await stage('deidentified', '2019-07-09');
    expect(done.status).toBe(200);
    expect(done.body.transcript).toEqual({
      transcribed: { by: 'IW', on: '2019-07-05' },
      checked: { by: 'IW', on: '2019-07-08' },
      deidentified: { by: 'IW', on: '2019-07-09' },
    });
    expect((await stage('transcribed', '2019-07-20')).status).toBe(409);
  });
});

describe('interview coupons', () => {
  it('issues one coupon per interview through the ledger, idempotently, for service users only', async () => {
    const code = await createSubstudy(2);
    const user = await randomizedServiceUser('A');
    await acceptedInvitation(code, user.id);
    const interview = (await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, false) })).body;
    const couponPath = base(code, `/interviews/${interview.id}/coupon`);
    const first = await t.call('post', couponPath, { body: { issuedOn: '2019-07-01', reference: `C-${code}` } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      participantId: user.id,
      incentive: 'interview_coupon',
      amount: 50,
      currency: 'HKD',
    });
    expect(first.body.note).toContain(interview.id);
    const retry = await t.call('post', couponPath, { body: { issuedOn: '2019-07-01', reference: `C-${code}` } });
    expect(retry.body.id).toBe(first.body.id);
    const other = await t.call('post', couponPath, { body: { issuedOn: '2019-07-01', reference: `D-${code}` } });
    expect(other.status).toBe(409);
    expect(other.body.type).toMatch(/interview-coupon-already-issued$/);
    const entries = await t.db.knex('incentive_ledger').where({ trial_id: trial.id, participant_id: user.id });
    expect(entries).toHaveLength(1);
    const listed = await t.call('get', base(code, '/interviews'));
    expect(listed.body.find((i: { id: string }) => i.id === interview.id).couponId).toBe(first.body.id);

    const worker = await assignedCaseWorker('A', 'SMCM');
    await grantConsent(t, trial.id, worker);
    await acceptedInvitation(code, worker);
    const cwInterview = (await t.call('post', base(code, '/interviews'), { body: interviewBody(worker, false) })).body;
    const refused = await t.call('post', base(code, `/interviews/${cwInterview.id}/coupon`), {
      body: { issuedOn: '2019-07-01', reference: `CW-${code}` },
    });
    expect(refused.status).toBe(422);
  });

  it('answers 409 for a sub-study without an incentive, and 404 for another site’s interview', async () => {
    const code = await createSubstudy(2, { incentive: undefined });
    const user = await randomizedServiceUser('A');
    await acceptedInvitation(code, user.id);
    const interview = (await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, false) })).body;
    const none = await t.call('post', base(code, `/interviews/${interview.id}/coupon`), {
      body: { issuedOn: '2019-07-01', reference: `N-${code}` },
    });
    expect(none.body.type).toMatch(/substudy-has-no-incentive$/);
    const key = (await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] })).key;
    const hidden = await t.call('post', base(code, `/interviews/${interview.id}/transcript`), {
      key,
      body: { stage: 'transcribed', by: 'IW', on: '2019-07-02' },
    });
    expect(hidden.status).toBe(404);
    expect((await t.call('get', base(code, '/interviews'), { key })).body).toEqual([]);
  });
});

describe('coding rounds', () => {
  /** 17 units coded by two coders, agreeing on 15 (the paper's 88.2%). */
  function paperRound() {
    const codes = ['goal_attainment', 'strengths', 'relationship'];
    const codings = [];
    for (let u = 0; u < 17; u++) {
      const code = codes[u % 3]!;
      codings.push({ unit: `t${u}`, coder: 'ST', code });
      codings.push({ unit: `t${u}`, coder: 'IWKL', code: u === 4 || u === 11 ? codes[(u + 1) % 3]! : code });
    }
    return { coders: ['ST', 'IWKL'], codings };
  }

  it('gives 15 of 17 = 88.2% with kappa, its SE and CI, alpha, per-code agreement and the trend', async () => {
    const code = await createSubstudy(1);
    const round = paperRound();
    const res = await t.call('post', base(code, '/coding-rounds'), { body: round });
    expect(res.status).toBe(201);
    expect(res.body.round).toBe(1);
    expect(res.body.units).toBe(17);
    const pa = res.body.agreement.percentAgreement;
    expect(pa).toMatchObject({ agreeing: 15, units: 17 });
    expect(pa.percent).toBeCloseTo(88.235294117647, 10);
    // Cohen's kappa from the marginals, computed independently here.
    const first = round.codings.filter((c) => c.coder === 'ST').map((c) => c.code);
    const second = round.codings.filter((c) => c.coder === 'IWKL').map((c) => c.code);
    const share = (xs: string[], k: string) => xs.filter((x) => x === k).length / 17;
    const pe = ['goal_attainment', 'strengths', 'relationship'].reduce(
      (s, k) => s + share(first, k) * share(second, k),
      0,
    );
    const kappa = (15 / 17 - pe) / (1 - pe);
    const estimate = res.body.agreement.cohensKappa.unweighted;
    expect(estimate.value).toBeCloseTo(kappa, 12);
    expect(estimate.standardError).toBeGreaterThan(0);
    expect(estimate.confidenceInterval.lower).toBeCloseTo(kappa - 1.959963984540054 * estimate.standardError, 10);
    expect(res.body.agreement.krippendorffAlpha.value).toBeGreaterThan(0.7);
    const goal = res.body.byCode.find((c: { code: string }) => c.code === 'goal_attainment');
    // goal_attainment: units 0,3,...,15 (6 units), plus unit 11 where IWKL used it instead of relationship.
    expect(goal).toMatchObject({ unitsWithCode: 7, unitsAllAgree: 6 });

    const better = {
      ...round,
      codings: round.codings.map((c) => ({ ...c, code: c.unit === 't4' ? 'strengths' : c.code })),
    };
    await t.call('post', base(code, '/coding-rounds'), { body: better });
    const list = await t.call('get', base(code, '/coding-rounds'));
    expect(list.body.rounds.map((r: { round: number }) => r.round)).toEqual([1, 2]);
    expect(list.body.trend[1].percentAgreement).toBeCloseTo((16 / 17) * 100, 10);
    expect(list.body.trend[1].change).toBeCloseTo(100 / 17, 10);
    expect(list.body.trend[0].change).toBeNull();
  });

  it('allows missing codings for alpha and refuses an unknown coder or a unit coded twice by one coder', async () => {
    const code = await createSubstudy(1);
    const res = await t.call('post', base(code, '/coding-rounds'), {
      body: {
        coders: ['A', 'B', 'C'],
        codings: [
          { unit: 'u1', coder: 'A', code: 'x' },
          { unit: 'u1', coder: 'B', code: 'x' },
          { unit: 'u2', coder: 'A', code: 'y' },
          { unit: 'u2', coder: 'C', code: 'y' },
          { unit: 'u3', coder: 'A', code: 'x' },
          { unit: 'u3', coder: 'B', code: 'y' },
          { unit: 'u3', coder: 'C', code: 'y' },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.agreement.percentAgreement).toMatchObject({ agreeing: 0, units: 1 });
    expect(res.body.agreement.krippendorffAlpha.pairableUnits).toBe(3);
    expect(res.body.agreement.fleissKappa).toBeDefined();
    const bad = await t.call('post', base(code, '/coding-rounds'), {
      body: {
        coders: ['A', 'B'],
        codings: [
          { unit: 'u1', coder: 'A', code: 'x' },
          { unit: 'u1', coder: 'A', code: 'y' },
          { unit: 'u1', coder: 'Z', code: 'x' },
        ],
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/codings/1', '/codings/2/coder']);
    expect((await t.call('get', base('nope', '/coding-rounds'))).status).toBe(404);
  });
});

describe('changes after the fact: quotas, withdrawn invitations, corrected interviews', () => {
  it('changes quotas with a reason, adds a cell, reports a target below the accepted count, and audits it', async () => {
    const code = await createSubstudy(2);
    const users = [await randomizedServiceUser('A'), await randomizedServiceUser('A')];
    for (const user of users) await acceptedInvitation(code, user.id);
    const arm = users[0]!.arm;
    const accepted = users.filter((u) => u.arm === arm).length;
    const res = await t.call('patch', base(code, '/quotas'), {
      body: {
        quotas: [
          { siteCode: 'A', arm, role: 'service_user', target: 0 },
          { siteCode: 'C', arm: 'TAU', role: 'case_worker', target: 4 },
        ],
        reason: 'the steering committee moved interviews to centre C',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.belowAccepted).toEqual([{ siteCode: 'A', arm, role: 'service_user', target: 0, accepted }]);
    expect(res.body.substudy.quotas).toHaveLength(9);
    expect(res.body.substudy.quotas).toContainEqual({ siteCode: 'C', arm: 'TAU', role: 'case_worker', target: 4 });
    const table = await t.call('get', base(code, '/sampling'));
    const cell = table.body.rows.find(
      (r: { siteCode: string; arm: string; role: string }) =>
        r.siteCode === 'A' && r.arm === arm && r.role === 'service_user',
    );
    expect(cell).toMatchObject({ target: 0, accepted, gap: 0 });
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?limit=500`);
    const row = audit.body.items.find(
      (e: { action: string; entityId: string }) => e.action === 'substudy.quotas_changed' && e.entityId === code,
    );
    expect(row.reason).toBe('the steering committee moved interviews to centre C');
    expect(row.before.quotas).toContainEqual({ siteCode: 'C', arm: 'TAU', role: 'case_worker', target: null });
    expect(row.before.quotas).toContainEqual({ siteCode: 'A', arm, role: 'service_user', target: 2 });

    const siteB = (await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] })).key;
    const foreign = await t.call('patch', base(code, '/quotas'), {
      key: siteB,
      body: { quotas: [{ siteCode: 'A', arm, role: 'case_worker', target: 1 }], reason: 'x' },
    });
    expect(foreign.status).toBe(403);
    const own = await t.call('patch', base(code, '/quotas'), {
      key: siteB,
      body: { quotas: [{ siteCode: 'B', arm, role: 'case_worker', target: 1 }], reason: 'fewer workers at B' },
    });
    expect(own.status).toBe(200);
    expect(own.body.substudy.quotas.every((q: { siteCode: string }) => q.siteCode === 'B')).toBe(true);
    const bad = await t.call('patch', base(code, '/quotas'), {
      body: { quotas: [{ siteCode: 'Z', arm: 'X', role: 'case_worker', target: 1 }], reason: 'x' },
    });
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/quotas/0/siteCode', '/quotas/0/arm']);
    expect((await t.call('patch', base('nope', '/quotas'), { body: { quotas: [], reason: 'x' } })).status).toBe(422);
    const missing = await t.call('patch', base('nope', '/quotas'), {
      body: { quotas: [{ siteCode: 'A', arm, role: 'case_worker', target: 1 }], reason: 'x' },
    });
    expect(missing.status).toBe(404);

    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded quota coordinator', role: 'coordinator', trialIds: [trial.id], blinded: true },
    });
    const masked = await t.call('patch', base(code, '/quotas'), {
      key: blinded.body.key,
      body: { quotas: [{ siteCode: 'B', arm: 'Group 2', role: 'service_user', target: 3 }], reason: 'more at B' },
    });
    expect(masked.status).toBe(200);
    for (const word of SECRET_WORDS) expect(masked.text).not.toContain(word);
  });

  it('withdraws an invitation before the interview, counts it apart in Table 3, and refuses what cannot be withdrawn', async () => {
    const code = await createSubstudy(2);
    const worker = await assignedCaseWorker('A', 'SMCM');
    const awaiting = (await invite(code, worker)).body;
    const workerAccepted = await assignedCaseWorker('A', 'SMCM');
    const accepted = await acceptedInvitation(code, workerAccepted);
    const declinedWorker = await assignedCaseWorker('A', 'SMCM');
    const declined = (await invite(code, declinedWorker)).body;
    await t.call('post', base(code, `/invitations/${declined.id}/answer`), {
      body: { answer: 'declined', answeredOn: '2019-06-02' },
    });
    const interviewedWorker = await assignedCaseWorker('A', 'SMCM');
    const interviewed = await acceptedInvitation(code, interviewedWorker);
    await t.call('post', base(code, '/interviews'), { body: interviewBody(interviewedWorker, false) });

    const withdraw = (id: string, withdrawnOn = '2019-06-10', key?: string) =>
      t.call('post', base(code, `/invitations/${id}/withdrawal`), {
        key,
        body: { withdrawnOn, withdrawnBy: 'ST', reason: 'the cell is full' },
      });
    const siteB = (await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] })).key;
    expect((await withdraw(awaiting.id, '2019-06-10', siteB)).status).toBe(404);
    expect((await withdraw(awaiting.id, '2020-01-02')).status).toBe(422);
    expect((await withdraw(accepted.id, '2019-06-02')).body.type).toMatch(/date-before-invitation$/);
    const first = await withdraw(awaiting.id);
    expect(first.status).toBe(200);
    expect(first.body.withdrawal).toEqual({ on: '2019-06-10', by: 'ST', reason: 'the cell is full' });
    expect((await withdraw(awaiting.id)).body.type).toMatch(/invitation-already-withdrawn$/);
    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded withdrawing coordinator', role: 'coordinator', trialIds: [trial.id], blinded: true },
    });
    const masked = await withdraw(accepted.id, '2019-06-10', blinded.body.key);
    expect(masked.status).toBe(200);
    expect(masked.body.arm).toMatch(/^Group \d$/);
    for (const word of SECRET_WORDS) expect(masked.text).not.toContain(word);
    expect((await withdraw(declined.id)).body.type).toMatch(/invitation-declined$/);
    expect((await withdraw(interviewed.id)).body.type).toMatch(/already-interviewed$/);

    const answer = await t.call('post', base(code, `/invitations/${awaiting.id}/answer`), {
      body: { answer: 'accepted', answeredOn: '2019-06-11' },
    });
    expect(answer.body.type).toMatch(/invitation-already-withdrawn$/);
    const noInterview = await t.call('post', base(code, '/interviews'), { body: interviewBody(workerAccepted, false) });
    expect(noInterview.body.type).toMatch(/invitation-not-accepted$/);
    expect((await invite(code, worker)).body.type).toMatch(/already-invited$/);

    const table = await t.call('get', base(code, '/sampling'));
    const cell = table.body.rows.find(
      (r: { siteCode: string; arm: string; role: string }) =>
        r.siteCode === 'A' && r.arm === 'SMCM' && r.role === 'case_worker',
    );
    expect(cell).toMatchObject({ invited: 4, accepted: 1, declined: 1, awaiting: 0, withdrawn: 2, interviewed: 1 });
    expect(cell.invited).toBe(cell.accepted + cell.declined + cell.awaiting + cell.withdrawn);
  });

  it('corrects an interview with a reason, keeps every correction, and re-checks the audio consent', async () => {
    const code = await createSubstudy(2);
    const user = await randomizedServiceUser('A');
    await acceptedInvitation(code, user.id);
    const interview = (await t.call('post', base(code, '/interviews'), { body: interviewBody(user.id, false) })).body;
    const correct = (body: object, key?: string) =>
      t.call('patch', base(code, `/interviews/${interview.id}`), { key, body });

    const siteB = (await t.createKey('coordinator', { trialIds: [trial.id], siteCodes: ['B'] })).key;
    expect((await correct({ durationMinutes: 50, reason: 'x' }, siteB)).status).toBe(404);
    const first = await correct({ durationMinutes: 55, location: 'home visit', interviewer: 'ST', reason: 'notes' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ durationMinutes: 55, location: 'home visit' });
    expect(first.body.corrections).toEqual([
      expect.objectContaining({
        number: 1,
        before: { durationMinutes: 45, location: 'centre A' },
        after: { durationMinutes: 55, location: 'home visit' },
        reason: 'notes',
      }),
    ]);
    expect((await correct({ durationMinutes: 55, reason: 'same' })).body.type).toMatch(/interview-correction-refused$/);
    expect((await correct({ conductedOn: '2020-01-02', reason: 'x' })).status).toBe(422);
    expect((await correct({ conductedOn: '2019-06-02', reason: 'x' })).body.type).toMatch(/date-before-acceptance$/);
    expect((await correct({ reason: 'only a reason' })).status).toBe(422);

    const count = async () =>
      (await t.db.knex('substudy_interview_corrections').where({ interview_id: interview.id })).length;
    const refused = await correct({ audioRecorded: true, reason: 'it was recorded after all' });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/audio-consent-missing$/);
    expect(await count()).toBe(1);
    const consent = await grantConsent(t, trial.id, user.id, 'audio', '1.0', '2019-06-20');
    const recorded = await correct({ audioRecorded: true, reason: 'it was recorded after all' });
    expect(recorded.status).toBe(200);
    expect(recorded.body.recording).toEqual({ consentId: consent.id, deletionRequiredSince: null, deletion: null });
    expect(recorded.body.corrections.map((c: { number: number }) => c.number)).toEqual([1, 2]);
    const early = await correct({ conductedOn: '2019-06-10', reason: 'wrong date' });
    expect(early.body.type).toMatch(/audio-consent-missing$/);
    expect((await correct({ conductedOn: '2019-06-25', reason: 'wrong date' })).status).toBe(200);
    const unrecorded = await correct({ audioRecorded: false, reason: 'the recorder failed' });
    expect(unrecorded.body.recording).toBeNull();
    expect(await count()).toBe(4);
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?limit=500`);
    const rows = audit.body.items.filter(
      (e: { action: string; entityId: string }) =>
        e.action === 'substudy.interview_corrected' && e.entityId === interview.id,
    );
    expect(rows).toHaveLength(4);
  });
});

describe('audit', () => {
  it('records every change in the trial audit trail', async () => {
    const res = await t.call('get', `/v1/trials/${trial.id}/audit?limit=500`);
    const actions = new Set(res.body.items.map((e: { action: string }) => e.action));
    for (const action of [
      'substudy.created',
      'substudy.invited',
      'substudy.invitation_accepted',
      'substudy.invitation_declined',
      'substudy.interviewed',
      'substudy.transcript_checked',
      'substudy.coupon_issued',
      'substudy.coding_round_recorded',
      'substudy.quotas_changed',
      'substudy.invitation_withdrawn',
      'substudy.interview_corrected',
      'substudy.recording_deleted',
    ])
      expect(actions).toContain(action);
  });
});
