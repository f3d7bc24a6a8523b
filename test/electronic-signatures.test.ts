import { createActiveTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp, TestResponse } from './support/test-app';

/*
 * Electronic signatures (21 CFR 11.200, #17): a person signed in to the console re-enters their password to
 * randomize and to record a consent withdrawal; the printed name, the time and the meaning are stored with the
 * record and shown in the audit row; a wrong password is a 422 at its pointer, throttled like sign-in; API keys
 * do not sign. And the console's language, remembered per caller on the server.
 */
let clock = new Date('2026-03-02T09:00:00Z');
let t: TestApp;
let trialId: string;

beforeAll(async () => {
  t = await startTestApp({ clock: () => clock });
  trialId = (await createActiveTrial(t)).id;
});
afterAll(() => t.close());

const PASSWORD = 'green tea at nine';
let emailCounter = 0;

/** A coordinator of the trial, signed in: its id, e-mail and session cookie. */
async function signedInCoordinator(name = 'Chan Tai Man') {
  const email = `signer${++emailCounter}@centre-a.example.hk`;
  const created = await t.call('post', '/v1/users', {
    body: { name, email, role: 'coordinator', trialIds: [trialId] },
  });
  expect(created.status).toBe(201);
  await t.call('post', '/v1/password', {
    key: null,
    body: { token: created.body.setPasswordToken, password: PASSWORD },
  });
  const res = await t.call('post', '/v1/session', { key: null, body: { email, password: PASSWORD } });
  expect(res.status).toBe(201);
  const cookie = (res.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
  return { id: created.body.id as string, email, cookie, me: res.body };
}

const asUser = (cookie: string, extra: Record<string, string> = {}) => ({
  key: null,
  headers: { Cookie: cookie, 'X-Trialdesk-CSRF': '1', ...extra },
});

async function consented() {
  const p = await screen(t, trialId, serviceUserInput({ siteCode: 'A' }));
  const consent = await grantConsent(t, trialId, p.id);
  return { participantId: p.id, consentId: consent.id };
}

const randomize = (participantId: string, options: { key?: string | null; body?: unknown; headers?: object }) =>
  t.call('post', `/v1/trials/${trialId}/participants/${participantId}/randomization`, options as never);

async function auditOf(entityId: string, action: string) {
  const res = await t.call('get', `/v1/trials/${trialId}/audit?entityId=${entityId}&limit=100`);
  return res.body.items.filter((e: { action: string }) => e.action === action);
}

describe('randomization by a signed-in person', () => {
  it('needs the password; stores the printed name, time and meaning with the allocation and in the audit', async () => {
    const user = await signedInCoordinator();
    const { participantId } = await consented();
    const unsigned = await randomize(participantId, { ...asUser(user.cookie) });
    expect(unsigned.status).toBe(422);
    expect(unsigned.body.errors).toEqual([{ pointer: '/signature', detail: expect.stringContaining('password') }]);
    const wrong = await randomize(participantId, {
      ...asUser(user.cookie),
      body: { signature: { password: 'not my password', meaning: 'randomized' } },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors).toEqual([{ pointer: '/signature/password', detail: 'the password is wrong' }]);
    const otherMeaning = await randomize(participantId, {
      ...asUser(user.cookie),
      body: { signature: { password: PASSWORD, meaning: 'recorded withdrawal' } },
    });
    expect(otherMeaning.status).toBe(422);
    expect(otherMeaning.body.errors[0].pointer).toBe('/signature/meaning');
    expect(await auditOf(participantId, 'participant.randomized')).toHaveLength(0);

    const signed = await randomize(participantId, {
      ...asUser(user.cookie, { 'Idempotency-Key': 'sign-1' }),
      body: { signature: { password: PASSWORD, meaning: 'randomized' } },
    });
    expect(signed.status).toBe(201);
    const [row] = await auditOf(participantId, 'participant.randomized');
    expect(row.actor).toEqual({ keyId: user.id, role: 'coordinator' });
    expect(row.after.signature).toEqual({
      userId: user.id,
      name: 'Chan Tai Man',
      signedAt: clock.toISOString(),
      meaning: 'randomized',
    });
    const stored = await t.db.knex('allocations').where({ trial_id: trialId, participant_id: participantId }).first();
    expect(stored.signature).toEqual(row.after.signature);

    // A retry with the same key replays the first answer; the password is not part of the stored fingerprint.
    const retry = await randomize(participantId, {
      ...asUser(user.cookie, { 'Idempotency-Key': 'sign-1' }),
      body: { signature: { password: PASSWORD, meaning: 'randomized' } },
    });
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(signed.body);
    const idempotency = await t.db.knex('idempotency_keys').select('request_fingerprint');
    for (const { request_fingerprint: fingerprint } of idempotency)
      expect(fingerprint).not.toContain(PASSWORD.replace(/ /g, ''));
  });

  it('counts wrong passwords as failed sign-ins: 429 after 5 within 15 minutes', async () => {
    const user = await signedInCoordinator();
    const { participantId } = await consented();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res: TestResponse = await randomize(participantId, {
        ...asUser(user.cookie),
        body: { signature: { password: `wrong password ${i}`, meaning: 'randomized' } },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([422, 422, 422, 422, 422, 429]);
    // The right password is refused too while throttled, and sign-in with it as well.
    const right = await randomize(participantId, {
      ...asUser(user.cookie),
      body: { signature: { password: PASSWORD, meaning: 'randomized' } },
    });
    expect(right.status).toBe(429);
    expect(right.headers['retry-after']).toBeDefined();
    const signIn = await t.call('post', '/v1/session', { key: null, body: { email: user.email, password: PASSWORD } });
    expect(signIn.status).toBe(429);
    clock = new Date(clock.getTime() + 16 * 60_000);
    const later = await signedInCoordinator();
    const ok = await randomize(participantId, {
      ...asUser(later.cookie),
      body: { signature: { password: PASSWORD, meaning: 'randomized' } },
    });
    expect(ok.status).toBe(201);
  });

  it('is unchanged for API keys, which send no signature and may not send one', async () => {
    const { participantId } = await consented();
    const keyed = await randomize(participantId, {
      body: { signature: { password: PASSWORD, meaning: 'randomized' } },
    });
    expect(keyed.status).toBe(422);
    expect(keyed.body.errors).toEqual([{ pointer: '/signature', detail: expect.stringContaining('API key') }]);
    const plain = await randomize(participantId, {});
    expect(plain.status).toBe(201);
    const [row] = await auditOf(participantId, 'participant.randomized');
    expect(row.after.signature).toBeUndefined();
    const stored = await t.db.knex('allocations').where({ trial_id: trialId, participant_id: participantId }).first();
    expect(stored.signature).toBeNull();
  });
});

describe('consent withdrawal by a signed-in person', () => {
  const withdrawal = { withdrawnOn: '2018-04-01', reason: 'moved out of the district', scope: 'follow_up' };
  const withdraw = (ids: { participantId: string; consentId: string }, options: object) =>
    t.call(
      'post',
      `/v1/trials/${trialId}/participants/${ids.participantId}/consents/${ids.consentId}/withdrawal`,
      options as never,
    );

  it('needs the password and stores the signature "recorded withdrawal"', async () => {
    const user = await signedInCoordinator('Wong Siu Ming');
    const ids = await consented();
    expect((await withdraw(ids, { ...asUser(user.cookie), body: withdrawal })).body.errors[0].pointer).toBe(
      '/signature',
    );
    const wrong = await withdraw(ids, {
      ...asUser(user.cookie),
      body: { ...withdrawal, signature: { password: 'no no no no no', meaning: 'recorded withdrawal' } },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors[0].pointer).toBe('/signature/password');
    const signed = await withdraw(ids, {
      ...asUser(user.cookie),
      body: { ...withdrawal, signature: { password: PASSWORD, meaning: 'recorded withdrawal' } },
    });
    expect(signed.status).toBe(201);
    expect(signed.body.withdrawal).toMatchObject({ scope: 'follow_up' });
    const [row] = await auditOf(ids.consentId, 'consent.withdrawn');
    expect(row.after.signature).toEqual({
      userId: user.id,
      name: 'Wong Siu Ming',
      signedAt: clock.toISOString(),
      meaning: 'recorded withdrawal',
    });
    const stored = await t.db
      .knex('consent_withdrawals')
      .where({ trial_id: trialId, consent_id: ids.consentId })
      .first();
    expect(stored.signature).toEqual(row.after.signature);
  });

  it('is unchanged for API keys', async () => {
    const ids = await consented();
    expect((await withdraw(ids, { body: withdrawal })).status).toBe(201);
    const [row] = await auditOf(ids.consentId, 'consent.withdrawn');
    expect(row.after.signature).toBeUndefined();
  });
});

describe('preferences', () => {
  it('remember the language per user on the server, answered at sign-in and by getSession', async () => {
    const user = await signedInCoordinator();
    expect(user.me.language).toBeNull();
    const set = await t.call('put', '/v1/session/preferences', { ...asUser(user.cookie), body: { language: 'zh-HK' } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ kind: 'user', id: user.id, language: 'zh-HK' });
    expect((await t.call('get', '/v1/session', asUser(user.cookie))).body.language).toBe('zh-HK');
    const again = await t.call('post', '/v1/session', { key: null, body: { email: user.email, password: PASSWORD } });
    expect(again.body.language).toBe('zh-HK');
    expect(
      (await t.call('put', '/v1/session/preferences', { ...asUser(user.cookie), body: { language: 'fr' } })).body
        .errors[0].pointer,
    ).toBe('/language');
    // Another user's choice is their own.
    expect((await signedInCoordinator()).me.language).toBeNull();
    // A key remembers its own, separately.
    expect((await t.call('put', '/v1/session/preferences', { body: { language: 'en' } })).body.language).toBe('en');
    expect((await t.call('get', '/v1/session')).body.language).toBe('en');
  });
});
