import { digestApiKey } from '../src/features/api-keys/api-keys';
import { authenticateApiKey, ensureBootstrapAdminKey } from '../src/features/api-keys/api-keys.service';
import { createTestDatabase, TestDatabase } from './support/database';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(() => db.close());

describe('bootstrap admin key', () => {
  it('creates one admin key on an empty database, stores only its digest, and not again', async () => {
    const first = await ensureBootstrapAdminKey(db.knex, null);
    expect(first.kind).toBe('generated');
    const key = (first as { key: string }).key;
    const rows = await db.knex('api_keys').select('*');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      role: 'admin',
      key_digest: digestApiKey(key),
      is_bootstrap: true,
      trial_ids: null,
    });
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(await authenticateApiKey(db.knex, key)).toMatchObject({ role: 'admin', trialIds: null });

    expect(await ensureBootstrapAdminKey(db.knex, null)).toEqual({ kind: 'existing' });
    expect(await db.knex('api_keys').count<{ n: number }[]>('* as n').first()).toEqual({ n: 1 });
    const audit = await db.knex('system_audit_events').select('action', 'actor_role', 'actor_key_id');
    expect(audit).toEqual([{ action: 'api_key.created', actor_role: 'service', actor_key_id: null }]);
  });

  it('registers ADMIN_API_KEY once, even when started repeatedly', async () => {
    const configured = 'x'.repeat(20) + 'configured-admin-key-value';
    expect(await ensureBootstrapAdminKey(db.knex, configured)).toEqual({ kind: 'configured', created: true });
    expect(await ensureBootstrapAdminKey(db.knex, configured)).toEqual({ kind: 'configured', created: false });
    expect(await db.knex('api_keys').pluck('key_digest')).toEqual([digestApiKey(configured)]);
    expect(await authenticateApiKey(db.knex, configured)).toMatchObject({ role: 'admin' });
  });

  it('creates a single key when several processes start at once', async () => {
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => ensureBootstrapAdminKey(db.knex, null)));
    expect(outcomes.filter((o) => o.kind === 'generated')).toHaveLength(1);
    expect(await db.knex('api_keys').count<{ n: number }[]>('* as n').first()).toEqual({ n: 1 });
  });
});
