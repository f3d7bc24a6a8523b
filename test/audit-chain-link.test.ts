/*
 * The audit trigger links a row in one UPDATE ... RETURNING of the chain head (migration 20261130070000). These
 * tests hold one writer's transaction open so that another must wait for it, and check that the waiter links after
 * the row its predecessor committed — the head's first row included, where both writers find no head at all.
 * PostgreSQL only: the embedded database has one connection, so no writer can wait for another.
 */
import type { Knex } from 'knex';
import { createActiveTrial, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

const insertAuditRow = (db: Knex, trialId: string, label: string) =>
  db('audit_events').insert({
    trial_id: trialId,
    actor_role: 'admin',
    action: 'test.row',
    entity_type: 'trial',
    entity_id: trialId,
    after: JSON.stringify({ label }),
  });

/** Resolves once a backend of this database waits for a lock. */
async function someoneWaitsForALock(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await t.db.knex.raw(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no writer waited for the chain head');
}

async function chainOf(trialId: string) {
  const { rows } = await t.db.knex.raw(
    `SELECT chain_seq::int AS seq, after ->> 'label' AS label, encode(previous_hash, 'hex') AS previous,
            encode(row_hash, 'hex') AS hash
       FROM audit_events WHERE trial_id = ? ORDER BY chain_seq`,
    [trialId],
  );
  return rows as { seq: number; label: string | null; previous: string | null; hash: string }[];
}

async function verify(trialId: string) {
  return (await t.call('get', `/v1/trials/${trialId}/audit/verification`)).body;
}

onPostgres('audit chain link under concurrent writers', () => {
  it('links a writer that waited for the head after the row its predecessor committed', async () => {
    const trial = await createActiveTrial(t);
    const holder = await t.db.knex.transaction();
    try {
      await insertAuditRow(holder, trial.id, 'first');
      const waiter = insertAuditRow(t.db.knex, trial.id, 'second').then(() => undefined);
      await someoneWaitsForALock();
      await holder.commit();
      await waiter;
    } finally {
      if (!holder.isCompleted()) await holder.rollback();
    }
    const chain = await chainOf(trial.id);
    const [first, second] = chain.slice(-2);
    expect([first!.label, second!.label]).toEqual(['first', 'second']);
    expect(second!.seq).toBe(first!.seq + 1);
    expect(second!.previous).toBe(first!.hash);
    expect(await verify(trial.id)).toMatchObject({ valid: true, firstBrokenLink: null });
  });

  it('starts one chain when two writers find no head: the second links after the first', async () => {
    const trial = await createActiveTrial(t);
    // A trial whose chain has not started: its rows and head removed the way only a superuser can.
    await t.db.knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL session_replication_role = replica');
      await trx.raw('DELETE FROM audit_events WHERE trial_id = ?', [trial.id]);
      await trx.raw('DELETE FROM audit_chain_heads WHERE trial_id = ?', [trial.id]);
    });
    const holder = await t.db.knex.transaction();
    try {
      await insertAuditRow(holder, trial.id, 'first');
      const waiter = insertAuditRow(t.db.knex, trial.id, 'second').then(() => undefined);
      await someoneWaitsForALock();
      await holder.commit();
      await waiter;
    } finally {
      if (!holder.isCompleted()) await holder.rollback();
    }
    expect(await chainOf(trial.id)).toMatchObject([
      { seq: 1, label: 'first', previous: null },
      { seq: 2, label: 'second' },
    ]);
    const [first, second] = await chainOf(trial.id);
    expect(second!.previous).toBe(first!.hash);
    expect(await verify(trial.id)).toMatchObject({ valid: true, rowsChecked: 2, firstBrokenLink: null });
  });

  it('gives the first row back when its writer rolls back: the waiter starts the chain', async () => {
    const trial = await createActiveTrial(t);
    await t.db.knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL session_replication_role = replica');
      await trx.raw('DELETE FROM audit_events WHERE trial_id = ?', [trial.id]);
      await trx.raw('DELETE FROM audit_chain_heads WHERE trial_id = ?', [trial.id]);
    });
    const holder = await t.db.knex.transaction();
    try {
      await insertAuditRow(holder, trial.id, 'aborted');
      const waiter = insertAuditRow(t.db.knex, trial.id, 'kept').then(() => undefined);
      await someoneWaitsForALock();
      await holder.rollback();
      await waiter;
    } finally {
      if (!holder.isCompleted()) await holder.rollback();
    }
    expect(await chainOf(trial.id)).toMatchObject([{ seq: 1, label: 'kept', previous: null }]);
    // The API's own writes continue the chain.
    await screen(t, trial.id, serviceUserInput({ label: 'after' }));
    expect(await verify(trial.id)).toMatchObject({ valid: true, rowsChecked: 2, firstBrokenLink: null });
  });
});
