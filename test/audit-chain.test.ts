import { migrationSource } from '../src/db/migrations';
import { createActiveTrial, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const verify = async (trialId: string) => {
  const res = await t.call('get', `/v1/trials/${trialId}/audit/verification`);
  expect(res.status).toBe(200);
  return res.body;
};

/** Changes audit rows the way only a database superuser can: with every trigger switched off for the transaction. */
async function tamper(sql: string, bindings: unknown[]): Promise<void> {
  await t.db.knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL session_replication_role = replica');
    await trx.raw(sql, bindings as never);
  });
}

async function trialWithTrail(participants: number) {
  const trial = await createActiveTrial(t);
  for (let i = 0; i < participants; i++) await screen(t, trial.id, serviceUserInput({ label: `SU-${i}` }));
  return trial;
}

describe('tamper-evident audit trail', () => {
  it('links every row to the one before it and verifies an intact chain', async () => {
    const trial = await trialWithTrail(3);
    const trail = (await t.call('get', `/v1/trials/${trial.id}/audit?limit=200`)).body.items;
    expect(trail.map((e: { sequence: number }) => e.sequence)).toEqual(trail.map((_: unknown, i: number) => i + 1));
    expect(trail[0].previousHash).toBeNull();
    for (let i = 1; i < trail.length; i++) expect(trail[i].previousHash).toBe(trail[i - 1].hash);

    const result = await verify(trial.id);
    expect(result).toMatchObject({
      chain: 'trial',
      trialId: trial.id,
      valid: true,
      rowsChecked: trail.length,
      firstBrokenLink: null,
    });
    const head = { lane: 0, sequence: trail.length, eventId: trail.at(-1).id, hash: trail.at(-1).hash };
    expect(result.head).toEqual(head);
    expect(result.lanes).toEqual([head]); // one writer at a time: one lane
    expect(trail.every((e: { lane: number }) => e.lane === 0)).toBe(true);
  });

  it('the hash is SHA-256 of the previous hash and the documented payload', async () => {
    const trial = await trialWithTrail(1);
    const [first, second] = (await t.call('get', `/v1/trials/${trial.id}/audit`)).body.items;
    const { createHash } = await import('node:crypto');
    const payload = async (id: string) =>
      (
        await t.db.knex.raw(
          `SELECT audit_chain_payload(trial_id::text, chain_seq, id, occurred_at, actor_key_id, actor_role, action, entity_type, entity_id, before, after, reason, request_id) AS p
           FROM audit_events WHERE trial_id = ? AND id = ?`,
          [trial.id, id],
        )
      ).rows[0].p as string;
    const firstPayload = await payload(first.id);
    expect(JSON.parse(firstPayload).slice(0, 3)).toEqual([trial.id, 1, Number(first.id)]);
    expect(createHash('sha256').update(firstPayload, 'utf8').digest('hex')).toBe(first.hash);
    const secondPayload = await payload(second.id);
    expect(
      createHash('sha256').update(Buffer.from(first.hash, 'hex')).update(secondPayload, 'utf8').digest('hex'),
    ).toBe(second.hash);
  });

  it('keeps every lane unbroken when 40 writers hit one trial at once', async () => {
    const trial = await createActiveTrial(t);
    // screen() throws unless the answer is 201.
    const screened = await Promise.all(
      Array.from({ length: 40 }, (_, i) => screen(t, trial.id, serviceUserInput({ label: `C-${i}` }))),
    );
    expect(new Set(screened.map((p) => p.id)).size).toBe(40);
    const result = await verify(trial.id);
    expect(result.valid).toBe(true);
    const { rows } = await t.db.knex.raw(
      `SELECT chain_lane AS lane, count(*)::int AS n, max(chain_seq)::int AS m, count(DISTINCT previous_hash)::int AS d
         FROM audit_events WHERE trial_id = ? GROUP BY chain_lane ORDER BY chain_lane`,
      [trial.id],
    );
    // Lane 0 is always taken first; in each lane, positions run 1..n and every row but the first points at a
    // different predecessor: no fork.
    expect(rows[0].lane).toBe(0);
    for (const lane of rows) {
      expect(lane.n).toBe(lane.m);
      expect(lane.d).toBe(lane.n - 1);
    }
    expect(result.lanes.map((l: { lane: number; sequence: number }) => [l.lane, l.sequence])).toEqual(
      rows.map((r: { lane: number; n: number }) => [r.lane, r.n]),
    );
    expect(rows.reduce((sum: number, r: { n: number }) => sum + r.n, 0)).toBe(result.rowsChecked);
  });

  it('reports the row a superuser altered', async () => {
    const trial = await trialWithTrail(4);
    const trail = (await t.call('get', `/v1/trials/${trial.id}/audit?limit=200`)).body.items;
    const victim = trail[3];
    await tamper(
      `UPDATE audit_events SET after = jsonb_set(after, '{label}', '"SU-forged"') WHERE trial_id = ? AND id = ?`,
      [trial.id, victim.id],
    );
    const result = await verify(trial.id);
    expect(result.valid).toBe(false);
    expect(result.firstBrokenLink).toMatchObject({
      sequence: victim.sequence,
      eventId: victim.id,
      problem: 'content-altered',
      storedHash: victim.hash,
    });
    expect(result.firstBrokenLink.expectedHash).not.toBe(victim.hash);
  });

  it('reports the next row when the altered row was re-hashed to hide the change', async () => {
    const trial = await trialWithTrail(4);
    const trail = (await t.call('get', `/v1/trials/${trial.id}/audit?limit=200`)).body.items;
    const victim = trail[2];
    await tamper(
      `UPDATE audit_events SET reason = 'forged', row_hash = audit_chain_hash(previous_hash, audit_chain_payload(trial_id::text, chain_seq, id, occurred_at,
         actor_key_id, actor_role, action, entity_type, entity_id, before, after, 'forged', request_id)) WHERE trial_id = ? AND id = ?`,
      [trial.id, victim.id],
    );
    const result = await verify(trial.id);
    expect(result.firstBrokenLink).toMatchObject({
      sequence: victim.sequence + 1,
      eventId: trail[3].id,
      problem: 'previous-hash-mismatch',
    });
  });

  it('reports removed rows, in the middle and at the end', async () => {
    const trial = await trialWithTrail(4);
    const trail = (await t.call('get', `/v1/trials/${trial.id}/audit?limit=200`)).body.items;
    await tamper('DELETE FROM audit_events WHERE trial_id = ? AND id = ?', [trial.id, trail[1].id]);
    expect((await verify(trial.id)).firstBrokenLink).toMatchObject({
      sequence: 3,
      eventId: trail[2].id,
      problem: 'sequence-gap',
    });

    const other = await trialWithTrail(2);
    const otherTrail = (await t.call('get', `/v1/trials/${other.id}/audit?limit=200`)).body.items;
    await tamper('DELETE FROM audit_events WHERE trial_id = ? AND id = ?', [other.id, otherTrail.at(-1).id]);
    const result = await verify(other.id);
    expect(result.firstBrokenLink).toMatchObject({
      sequence: otherTrail.length,
      eventId: null,
      problem: 'missing-rows-at-end',
    });
    expect(result.rowsChecked).toBe(otherTrail.length - 1);
  });

  it('verifies the system trail (API keys) and detects a change in it', async () => {
    await t.createKey('monitor');
    const intact = (await t.call('get', '/v1/audit/verification')).body;
    expect(intact).toMatchObject({ chain: 'system', trialId: null, valid: true, firstBrokenLink: null });
    const events = (await t.call('get', '/v1/audit?limit=200')).body.items;
    await tamper(`UPDATE system_audit_events SET actor_role = 'monitor' WHERE id = ?`, [events[0].id]);
    const broken = (await t.call('get', '/v1/audit/verification')).body;
    expect(broken.firstBrokenLink).toMatchObject({ sequence: 1, eventId: events[0].id, problem: 'content-altered' });
  });

  it('is for admins and monitors; a monitor key of another trial gets 404', async () => {
    const trial = await trialWithTrail(0);
    const monitor = await t.createKey('monitor');
    expect((await t.call('get', `/v1/trials/${trial.id}/audit/verification`, { key: monitor.key })).status).toBe(200);
    const coordinator = await t.createKey('coordinator');
    expect((await t.call('get', `/v1/trials/${trial.id}/audit/verification`, { key: coordinator.key })).status).toBe(
      403,
    );
    const elsewhere = await createActiveTrial(t);
    const scoped = await t.createKey('monitor', { trialIds: [elsewhere.id] });
    expect((await t.call('get', `/v1/trials/${trial.id}/audit/verification`, { key: scoped.key })).status).toBe(404);
  });

  it('links rows written before the chain existed when the migration runs', async () => {
    const trial = await trialWithTrail(2);
    // Roll back to just before the chain migration (and whatever came after it).
    const names = await migrationSource.getMigrations([]);
    const chainIndex = names.findIndex((name) => name.endsWith('_audit_hash_chain'));
    expect(chainIndex).toBeGreaterThan(0);
    for (let i = names.length - 1; i >= chainIndex; i--) await t.db.knex.migrate.down({ migrationSource });
    expect(await t.db.knex.schema.hasColumn('audit_events', 'row_hash')).toBe(false);
    await t.db.knex('audit_events').insert({
      trial_id: trial.id,
      actor_role: 'admin',
      action: 'legacy.row',
      entity_type: 'trial',
      entity_id: trial.id,
      after: JSON.stringify({ n: 1 }),
    });
    await t.db.knex.migrate.latest({ migrationSource });
    const result = await verify(trial.id);
    expect(result).toMatchObject({ valid: true, firstBrokenLink: null });
    const trail = (await t.call('get', `/v1/trials/${trial.id}/audit?limit=200`)).body.items;
    expect(trail.at(-1)).toMatchObject({ action: 'legacy.row', sequence: trail.length });
    // New rows continue the migrated chain.
    await screen(t, trial.id, serviceUserInput({ label: 'after-migration' }));
    expect((await verify(trial.id)).valid).toBe(true);
  });
});
