import { addSites, createTrial } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('audit trail', () => {
  it('records every change of a trial with actor, before and after, in order', async () => {
    const { id: keyId, key } = await t.createKey('admin');
    const trial = (
      await t.call('post', '/v1/trials', { key, body: (await import('./support/factories')).smcmTrialInput() })
    ).body;
    await t.call('patch', `/v1/trials/${trial.id}`, {
      key,
      body: { title: 'Renamed' },
      headers: { 'X-Request-Id': 'req-patch-1' },
    });
    await t.call('post', `/v1/trials/${trial.id}/sites`, { key, body: { code: 'A', name: 'Centre A' } });
    await t.call('post', `/v1/trials/${trial.id}/activation`, { key });

    const res = await t.call('get', `/v1/trials/${trial.id}/audit`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((e: { action: string }) => e.action)).toEqual([
      'trial.created',
      'trial.updated',
      'site.created',
      'trial.activated',
    ]);
    for (const event of res.body.items) {
      expect(event.actor).toEqual({ keyId, role: 'admin' });
      expect(event.trialId).toBe(trial.id);
      expect(event.occurredAt).toMatch(/Z$/);
    }
    const [created, updated, site, activated] = res.body.items;
    expect(created).toMatchObject({ entityType: 'trial', entityId: trial.id, before: null });
    expect(created.after.title).toBe(trial.title);
    expect(updated).toMatchObject({ requestId: 'req-patch-1' });
    expect(updated.before.title).toBe(trial.title);
    expect(updated.after.title).toBe('Renamed');
    expect(site).toMatchObject({
      entityType: 'site',
      entityId: 'A',
      before: null,
      after: { code: 'A', name: 'Centre A' },
    });
    expect(activated).toMatchObject({ before: { status: 'setup' }, after: { status: 'active' } });
  });

  it('writes nothing, audit included, when a change is refused', async () => {
    const trial = await createTrial(t);
    const count = async () =>
      (await t.db.knex('audit_events').where({ trial_id: trial.id }).count<{ n: number }[]>('* as n').first())!.n;
    const before = await count();
    expect((await t.call('post', `/v1/trials/${trial.id}/activation`)).status).toBe(409);
    expect(
      (
        await t.call('patch', `/v1/trials/${trial.id}`, {
          body: {
            arms: [
              { code: 'A', name: 'A', ratio: 3 },
              { code: 'B', name: 'B', ratio: 1 },
            ],
          },
        })
      ).status,
    ).toBe(422);
    expect(await count()).toBe(before);
  });

  it('filters by entity and pages with a cursor', async () => {
    const trial = await createTrial(t);
    await addSites(t, trial.id, ['A', 'B', 'C', 'D']);
    const sites = await t.call('get', `/v1/trials/${trial.id}/audit?entityType=site`);
    expect(sites.body.items.map((e: { entityId: string }) => e.entityId)).toEqual(['A', 'B', 'C', 'D']);
    const one = await t.call('get', `/v1/trials/${trial.id}/audit?entityType=site&entityId=C`);
    expect(one.body.items).toHaveLength(1);

    const ids: string[] = [];
    let after: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.call(
        'get',
        `/v1/trials/${trial.id}/audit?limit=2${after ? `&after=${after}` : ''}`,
      );
      ids.push(...page.body.items.map((e) => e.id));
      after = page.body.nextCursor;
    } while (after);
    expect(ids).toHaveLength(5);
    expect([...ids].sort((a, b) => Number(a) - Number(b))).toEqual(ids);
  });

  it('pages newest first with order=desc, and refuses a cursor of the other order', async () => {
    const trial = await createTrial(t);
    await addSites(t, trial.id, ['A', 'B', 'C', 'D']);
    const oldestFirst = await t.call('get', `/v1/trials/${trial.id}/audit?limit=100`);
    const written = oldestFirst.body.items.map((e: { id: string }) => e.id);
    expect(written).toHaveLength(5);

    const ids: string[] = [];
    let after: string | null = null;
    let firstCursor: string | null = null;
    do {
      const page: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await t.call(
        'get',
        `/v1/trials/${trial.id}/audit?order=desc&limit=2${after ? `&after=${after}` : ''}`,
      );
      expect(page.status).toBe(200);
      ids.push(...page.body.items.map((e) => e.id));
      after = page.body.nextCursor;
      firstCursor ??= after;
    } while (after);
    expect(ids).toEqual([...written].reverse());

    const mixed = await t.call('get', `/v1/trials/${trial.id}/audit?limit=2&after=${firstCursor}`);
    expect(mixed.status).toBe(422);
    expect(mixed.body.errors).toEqual([expect.objectContaining({ pointer: '/query/after' })]);
    const ascending = await t.call('get', `/v1/trials/${trial.id}/audit?limit=2`);
    const reversed = await t.call('get', `/v1/trials/${trial.id}/audit?order=desc&after=${ascending.body.nextCursor}`);
    expect(reversed.status).toBe(422);
  });
  it('lets admins and monitors read it, nobody else, and hides other trials', async () => {
    const trial = await createTrial(t);
    const monitor = await t.createKey('monitor', { trialIds: [trial.id] });
    expect((await t.call('get', `/v1/trials/${trial.id}/audit`, { key: monitor.key })).status).toBe(200);
    for (const role of ['coordinator', 'statistician'] as const) {
      const { key } = await t.createKey(role);
      expect((await t.call('get', `/v1/trials/${trial.id}/audit`, { key })).status).toBe(403);
    }
    const other = await createTrial(t);
    expect((await t.call('get', `/v1/trials/${other.id}/audit`, { key: monitor.key })).status).toBe(404);
  });

  it('records API key changes in the system trail, never the key itself', async () => {
    const { id, key } = await t.createKey('statistician');
    await t.call('delete', `/v1/api-keys/${id}`);
    const res = await t.call('get', `/v1/audit?entityId=${id}`);
    expect(res.body.items.map((e: { action: string }) => e.action)).toEqual(['api_key.created', 'api_key.revoked']);
    expect(res.body.items[0].trialId).toBeNull();
    expect(res.text).not.toContain(key);
    const rows = await t.db.knex('system_audit_events').select('*');
    expect(JSON.stringify(rows)).not.toContain(key);
  });

  it('is append-only in the database itself: UPDATE, DELETE and TRUNCATE are refused', async () => {
    const trial = await createTrial(t);
    const row = await t.db.knex('audit_events').where({ trial_id: trial.id }).first();
    await expect(
      t.db.knex('audit_events').where({ trial_id: trial.id, id: row.id }).update({ action: 'forged' }),
    ).rejects.toThrow(/append-only/);
    await expect(t.db.knex('audit_events').where({ trial_id: trial.id }).delete()).rejects.toThrow(/append-only/);
    await expect(t.db.knex.raw('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
    await expect(t.db.knex('system_audit_events').update({ action: 'forged' })).rejects.toThrow(/append-only/);
    await expect(t.db.knex('system_audit_events').delete()).rejects.toThrow(/append-only/);
    await expect(t.db.knex.raw('TRUNCATE system_audit_events')).rejects.toThrow(/append-only/);
    expect(await t.db.knex('audit_events').where({ trial_id: trial.id, id: row.id }).first()).toEqual(row);
  });
});
