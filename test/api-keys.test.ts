import { digestApiKey } from '../src/features/api-keys/api-keys';
import { createTrial, addSites } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('API keys', () => {
  it('creates a key shown once and stores only its SHA-256 digest', async () => {
    const res = await t.call('post', '/v1/api-keys', { body: { name: 'Statistician at HKU', role: 'statistician' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Statistician at HKU',
      role: 'statistician',
      trialIds: null,
      siteCodes: null,
      revokedAt: null,
    });
    expect(res.body.key).toMatch(/^td_[A-Za-z0-9_-]{43}$/);
    expect(res.body.key.startsWith(res.body.prefix)).toBe(true);

    const row = await t.db.knex('api_keys').where({ id: res.body.id }).first();
    expect(row.key_digest).toBe(digestApiKey(res.body.key));
    expect(JSON.stringify(row)).not.toContain(res.body.key);

    const list = await t.call('get', '/v1/api-keys');
    expect(list.text).not.toContain(res.body.key);
    expect(list.body.items.map((k: { id: string }) => k.id)).toContain(res.body.id);
  });

  it('answers 401 without a key, with an unknown key and with a malformed header', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer td_unknownunknownunknownunknown' },
      { Authorization: 'Basic abc' },
    ];
    for (const headers of attempts) {
      const res = await t.call('get', '/v1/trials', { key: null, headers });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="trialdesk"');
    }
  });

  it('answers 403 to a role the operation does not allow', async () => {
    const { key } = await t.createKey('coordinator');
    const res = await t.call('post', '/v1/trials', { key, body: {} });
    expect(res.status).toBe(403);
    expect(res.body.detail).toContain('coordinator');
    expect((await t.call('get', '/v1/api-keys', { key })).status).toBe(403);
  });

  it('revokes a key at once; a second revocation is a conflict', async () => {
    const { id, key } = await t.createKey('monitor');
    expect((await t.call('get', '/v1/trials', { key })).status).toBe(200);
    const revoked = await t.call('delete', `/v1/api-keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expect((await t.call('get', '/v1/trials', { key })).status).toBe(401);
    const again = await t.call('delete', `/v1/api-keys/${id}`);
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('https://trialdesk.dev/problems/api-key-already-revoked');
    expect((await t.call('delete', '/v1/api-keys/00000000-0000-4000-8000-000000000000')).status).toBe(404);

    const active = await t.call('get', '/v1/api-keys');
    expect(active.body.items.map((k: { id: string }) => k.id)).not.toContain(id);
    const all = await t.call('get', '/v1/api-keys?includeRevoked=true');
    expect(all.body.items.map((k: { id: string }) => k.id)).toContain(id);
  });

  it('limits keys to trials: other trials answer 404, exactly like trials that do not exist', async () => {
    const mine = await createTrial(t);
    const other = await createTrial(t);
    const { key } = await t.createKey('statistician', { trialIds: [mine.id] });
    expect((await t.call('get', `/v1/trials/${mine.id}`, { key })).status).toBe(200);
    const hidden = await t.call('get', `/v1/trials/${other.id}`, { key });
    const missing = await t.call('get', '/v1/trials/00000000-0000-4000-8000-000000000000', { key });
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(hidden.body.detail.replace(other.id, 'ID')).toBe(
      missing.body.detail.replace('00000000-0000-4000-8000-000000000000', 'ID'),
    );
    expect((await t.call('get', `/v1/trials/${other.id}/sites`, { key })).status).toBe(404);
    const list = await t.call('get', '/v1/trials', { key });
    expect(list.body.items.map((trial: { id: string }) => trial.id)).toEqual([mine.id]);
  });

  it('keeps trial-scoped admin keys out of trial creation and key management', async () => {
    const trial = await createTrial(t);
    const { key } = await t.createKey('admin', { trialIds: [trial.id] });
    expect((await t.call('post', '/v1/trials', { key, body: {} })).status).toBe(403);
    expect((await t.call('get', '/v1/api-keys', { key })).status).toBe(403);
    expect((await t.call('post', `/v1/trials/${trial.id}/sites`, { key, body: { code: 'Z', name: 'Z' } })).status).toBe(
      201,
    );
  });

  it('validates scopes: sites only for coordinators of exactly one existing trial and its existing sites', async () => {
    const trial = await createTrial(t);
    await addSites(t, trial.id, ['A', 'B']);
    const post = (body: object) => t.call('post', '/v1/api-keys', { body: { name: 'k', ...body } });

    const ok = await post({ role: 'coordinator', trialIds: [trial.id], siteCodes: ['A'] });
    expect(ok.status).toBe(201);
    expect(ok.body.siteCodes).toEqual(['A']);

    const cases: [object, string][] = [
      [{ role: 'statistician', trialIds: [trial.id], siteCodes: ['A'] }, '/siteCodes'],
      [{ role: 'coordinator', siteCodes: ['A'] }, '/siteCodes'],
      [{ role: 'coordinator', trialIds: [trial.id], siteCodes: ['A', 'Q'] }, '/siteCodes/1'],
      [{ role: 'monitor', trialIds: ['00000000-0000-4000-8000-000000000000'] }, '/trialIds/0'],
      [{ role: 'superuser' }, '/role'],
    ];
    for (const [body, pointer] of cases) {
      const res = await post(body);
      expect(res.status).toBe(422);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
  });

  it('pages through keys with a cursor, oldest first, without repeats', async () => {
    for (let i = 0; i < 5; i++) await t.createKey('monitor');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.call(
        'get',
        `/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((k) => k.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    const all = await t.call('get', '/v1/api-keys?limit=500');
    expect(seen).toEqual(all.body.items.map((k: { id: string }) => k.id));
    expect(new Set(seen).size).toBe(seen.length);
    expect((await t.call('get', '/v1/api-keys?cursor=bm90LWEtY3Vyc29y')).status).toBe(422);
  });
});
