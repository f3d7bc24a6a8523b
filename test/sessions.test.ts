import { createActiveTrial, createTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp, TestResponse } from './support/test-app';

/*
 * Console users and sessions (#17): creation with the keys' scoping model, one-time set-password tokens, the
 * password policy, sign-in with a cookie, the CSRF header, idle and absolute expiry (injectable clock), sign-out,
 * throttling that does not reveal accounts, deactivation, and the audit trail naming the user.
 */
let clock = new Date('2026-03-02T09:00:00Z');
const advance = (minutes: number) => (clock = new Date(clock.getTime() + minutes * 60_000));
let t: TestApp;
let trialId: string;
let otherTrialId: string;

beforeAll(async () => {
  t = await startTestApp({ clock: () => clock });
  trialId = (await createActiveTrial(t)).id;
  otherTrialId = (await createTrial(t)).id;
});
afterAll(() => t.close());

let emailCounter = 0;
const newEmail = () => `person${++emailCounter}@centre-a.example.hk`;
const PASSWORD = 'green tea at nine';

async function createUser(body: Record<string, unknown>): Promise<TestResponse> {
  return t.call('post', '/v1/users', {
    body: { name: 'Chan Tai Man', email: newEmail(), role: 'coordinator', ...body },
  });
}

/** A user with a password; returns the user's id, e-mail and a Cookie header value for a fresh session. */
async function signedInUser(body: Record<string, unknown> = {}) {
  const created = await createUser(body);
  expect(created.status).toBe(201);
  const set = await t.call('post', '/v1/password', {
    key: null,
    body: { token: created.body.setPasswordToken, password: PASSWORD },
  });
  expect(set.status).toBe(204);
  const cookie = await signIn(created.body.email);
  return { id: created.body.id as string, email: created.body.email as string, cookie };
}

async function signIn(email: string, password = PASSWORD): Promise<string> {
  const res = await t.call('post', '/v1/session', { key: null, body: { email, password } });
  expect(res.status).toBe(201);
  return cookieOf(res);
}

function cookieOf(res: TestResponse): string {
  const header = res.headers['set-cookie'] as unknown as string[];
  return header[0]!.split(';')[0]!;
}

const withCookie = (cookie: string, extra: Record<string, string> = {}) => ({
  key: null,
  headers: { Cookie: cookie, 'X-Trialdesk-CSRF': '1', ...extra },
});

describe('users', () => {
  it('are created by an admin with the scoping rules of keys, and a one-time token', async () => {
    const res = await createUser({ trialIds: [trialId], siteCodes: ['A'] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ role: 'coordinator', trialIds: [trialId], siteCodes: ['A'], passwordSet: false });
    expect(res.body.setPasswordToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(res.body.setPasswordTokenExpiresAt).getTime() - clock.getTime()).toBe(7 * 86_400_000);

    expect((await createUser({ role: 'admin', blinded: true })).body.errors).toEqual([
      { pointer: '/blinded', detail: expect.stringContaining('cannot be blinded') },
    ]);
    expect((await createUser({ role: 'monitor', trialIds: [trialId], siteCodes: ['A'] })).status).toBe(422);
    expect((await createUser({ trialIds: [trialId], siteCodes: ['Z'] })).body.errors[0].pointer).toBe('/siteCodes/0');
  });

  it('have unique e-mail addresses, compared without case', async () => {
    const first = await createUser({});
    const again = await t.call('post', '/v1/users', {
      body: { name: 'Other', email: first.body.email.toUpperCase(), role: 'monitor' },
    });
    expect(again.status).toBe(409);
  });

  it('are managed only by unscoped admins', async () => {
    const coordinator = await t.createKey('coordinator');
    expect((await t.call('get', '/v1/users', { key: coordinator.key })).status).toBe(403);
    const scopedAdmin = await t.createKey('admin', { trialIds: [trialId] });
    expect((await t.call('get', '/v1/users', { key: scopedAdmin.key })).status).toBe(403);
    const list = await t.call('get', '/v1/users?limit=500');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toMatch(/password_hash|setPasswordToken|scrypt/);
  });
});

describe('passwords', () => {
  it('need 12 characters, not a common one, and a current token used once', async () => {
    const created = await createUser({});
    const token = created.body.setPasswordToken;
    const attempt = (body: object) => t.call('post', '/v1/password', { key: null, body });
    expect((await attempt({ token, password: 'short pass1' })).body.errors).toEqual([
      { pointer: '/password', detail: 'must have at least 12 characters' },
    ]);
    expect((await attempt({ token, password: 'Password1234' })).body.errors).toEqual([
      { pointer: '/password', detail: expect.stringContaining('most common') },
    ]);
    expect((await attempt({ token: 'x'.repeat(43), password: PASSWORD })).body.errors[0].pointer).toBe('/token');
    expect((await attempt({ token, password: PASSWORD })).status).toBe(204);
    expect((await attempt({ token, password: PASSWORD })).body.errors[0].pointer).toBe('/token');
    const listed = await t.call('get', '/v1/users?limit=500');
    expect(listed.body.items.find((u: { id: string }) => u.id === created.body.id).passwordSet).toBe(true);
  });

  it('cannot be set with an expired token', async () => {
    const created = await createUser({});
    advance(7 * 24 * 60 + 1);
    const res = await t.call('post', '/v1/password', {
      key: null,
      body: { token: created.body.setPasswordToken, password: PASSWORD },
    });
    expect(res.body.errors[0].pointer).toBe('/token');
  });
});

describe('sessions', () => {
  it('start with an HttpOnly, Secure, SameSite=Strict cookie and name the person', async () => {
    const created = await createUser({ name: 'Wong Siu Ming' });
    await t.call('post', '/v1/password', {
      key: null,
      body: { token: created.body.setPasswordToken, password: PASSWORD },
    });
    const res = await t.call('post', '/v1/session', {
      key: null,
      body: { email: created.body.email.toUpperCase(), password: PASSWORD },
    });
    expect(res.status).toBe(201);
    const cookie = (res.headers['set-cookie'] as unknown as string[])[0]!;
    expect(cookie).toMatch(
      /^__Host-trialdesk-session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict$/,
    );
    expect(res.body).toMatchObject({ kind: 'user', id: created.body.id, name: 'Wong Siu Ming', role: 'coordinator' });
    const me = await t.call('get', '/v1/session', { key: null, headers: { Cookie: cookie.split(';')[0]! } });
    expect(me.body.session.expiresAt).toBe(new Date(clock.getTime() + 12 * 3_600_000).toISOString());
    expect(me.body.session.idleExpiresAt).toBe(new Date(clock.getTime() + 30 * 60_000).toISOString());
    const key = await t.call('get', '/v1/session', { key: t.adminKey });
    expect(key.body).toMatchObject({ kind: 'key', role: 'admin', session: null });
  });

  it('act exactly like a key of the same role and scope; the audit trail names the user', async () => {
    const user = await signedInUser({ trialIds: [trialId], siteCodes: ['A'] });
    const atA = await t.call('post', `/v1/trials/${trialId}/participants`, {
      ...withCookie(user.cookie),
      body: serviceUserInput({ siteCode: 'A' }),
    });
    expect(atA.status).toBe(201);
    const atB = await t.call('post', `/v1/trials/${trialId}/participants`, {
      ...withCookie(user.cookie),
      body: serviceUserInput({ siteCode: 'B' }),
    });
    expect(atB.status).toBe(403);
    expect((await t.call('get', `/v1/trials/${otherTrialId}`, withCookie(user.cookie))).status).toBe(404);
    expect((await t.call('get', '/v1/api-keys', withCookie(user.cookie))).status).toBe(403);

    const audit = await t.call('get', `/v1/trials/${trialId}/audit?entityId=${atA.body.id}`);
    expect(audit.body.items[0].actor).toEqual({ keyId: user.id, role: 'coordinator' });
    const system = await t.call('get', '/v1/audit?limit=500');
    const started = system.body.items.filter((e: { action: string }) => e.action === 'session.started');
    expect(started.at(-1)).toMatchObject({
      actor: { keyId: user.id },
      after: { userId: user.id, name: 'Chan Tai Man' },
    });
  });

  it('refuse a state-changing request without the CSRF header, but not a read', async () => {
    const user = await signedInUser({ trialIds: [trialId], siteCodes: ['A'] });
    const post = await t.call('post', `/v1/trials/${trialId}/participants`, {
      key: null,
      headers: { Cookie: user.cookie },
      body: serviceUserInput(),
    });
    expect(post.status).toBe(403);
    expect(post.body.detail).toContain('X-Trialdesk-CSRF');
    expect((await t.call('get', `/v1/trials/${trialId}`, { key: null, headers: { Cookie: user.cookie } })).status).toBe(
      200,
    );
  });

  it('end after 30 minutes without a request', async () => {
    const user = await signedInUser();
    advance(29);
    expect((await t.call('get', '/v1/session', withCookie(user.cookie))).status).toBe(200);
    advance(29);
    expect((await t.call('get', '/v1/session', withCookie(user.cookie))).status).toBe(200);
    advance(31);
    const expired = await t.call('get', '/v1/session', withCookie(user.cookie));
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toContain('sign in again');
  });

  it('end 12 hours after sign-in however active', async () => {
    const user = await signedInUser();
    for (let minutes = 0; minutes < 12 * 60 - 25; minutes += 25) {
      advance(25);
      expect((await t.call('get', '/v1/session', withCookie(user.cookie))).status).toBe(200);
    }
    advance(25);
    expect((await t.call('get', '/v1/session', withCookie(user.cookie))).status).toBe(401);
  });

  it('end at sign-out, which clears the cookie', async () => {
    const user = await signedInUser();
    const out = await t.call('delete', '/v1/session', withCookie(user.cookie));
    expect(out.status).toBe(204);
    expect((out.headers['set-cookie'] as unknown as string[])[0]).toContain('Max-Age=0');
    expect((await t.call('get', '/v1/session', withCookie(user.cookie))).status).toBe(401);
    const system = await t.call('get', '/v1/audit?limit=500');
    expect(system.body.items.at(-1)).toMatchObject({ action: 'session.ended', actor: { keyId: user.id } });
  });

  it('end when the user is deactivated, who can then not sign in', async () => {
    const user = await signedInUser();
    const res = await t.call('post', `/v1/users/${user.id}/deactivation`);
    expect(res.status).toBe(200);
    expect(res.body.deactivatedAt).toBe(clock.toISOString());
    expect((await t.call('get', '/v1/session', withCookie(user.cookie))).status).toBe(401);
    const again = await t.call('post', '/v1/session', { key: null, body: { email: user.email, password: PASSWORD } });
    expect(again.status).toBe(401);
    expect((await t.call('post', `/v1/users/${user.id}/deactivation`)).status).toBe(409);
    const listed = await t.call('get', '/v1/users?limit=500&includeDeactivated=true');
    expect(listed.body.items.some((u: { id: string }) => u.id === user.id)).toBe(true);
  });

  it('of a blinded user see no arm, like a blinded key', async () => {
    const user = await signedInUser({ role: 'monitor', blinded: true });
    const trial = await t.call('get', `/v1/trials/${trialId}`, withCookie(user.cookie));
    expect(trial.body.arms.map((a: { code: string }) => a.code)).toEqual(['Group 1', 'Group 2']);
    const p = await screen(t, trialId, serviceUserInput());
    await grantConsent(t, trialId, p.id);
    await t.call('post', `/v1/trials/${trialId}/participants/${p.id}/randomization`);
    const seen = await t.call('get', `/v1/trials/${trialId}/participants/${p.id}`, withCookie(user.cookie));
    expect(JSON.stringify(seen.body)).not.toMatch(/SMCM|TAU/);
  });
});

describe('failed sign-ins', () => {
  it('get one answer for a wrong password and an unknown e-mail', async () => {
    const user = await signedInUser();
    const wrong = await t.call('post', '/v1/session', {
      key: null,
      body: { email: user.email, password: 'not the password' },
    });
    const unknown = await t.call('post', '/v1/session', {
      key: null,
      body: { email: 'nobody@x.hk', password: PASSWORD },
    });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body.detail).toBe(unknown.body.detail);
  });

  it('are throttled per account after 5, whether or not the account exists', async () => {
    const user = await signedInUser();
    for (const email of [user.email, 'ghost@nowhere.hk']) {
      for (let i = 0; i < 5; i++) {
        const res = await t.call('post', '/v1/session', { key: null, body: { email, password: 'wrong password!' } });
        expect(res.status).toBe(401);
      }
    }
    const real = await t.call('post', '/v1/session', { key: null, body: { email: user.email, password: PASSWORD } });
    const ghost = await t.call('post', '/v1/session', {
      key: null,
      body: { email: 'ghost@nowhere.hk', password: PASSWORD },
    });
    expect([real.status, ghost.status]).toEqual([429, 429]);
    expect(real.body.detail).toBe(ghost.body.detail);
    expect(Number(real.headers['retry-after'])).toBeGreaterThan(0);
    advance(16);
    expect(
      (await t.call('post', '/v1/session', { key: null, body: { email: user.email, password: PASSWORD } })).status,
    ).toBe(201);
  });
});
