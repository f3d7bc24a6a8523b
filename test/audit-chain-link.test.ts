/*
 * The audit trigger links a row to a lane of its trial's chain that no other transaction holds (migration
 * 20261203010000), and a lane's head in one UPDATE ... RETURNING (20261130070000). These tests hold writers'
 * transactions open and check: a second writer opens a lane instead of waiting; a transaction keeps its lane; when
 * every lane is held a writer waits and links after the row its predecessor committed; two writers opening the same
 * lane (the trial's first) serialize; and verification finds a row removed, altered or moved in a lane other than 0,
 * and a removed lane, exactly where it is.
 * PostgreSQL only: the embedded database has one connection, so no writer can wait for another.
 */
import type { Knex } from 'knex';
import { DEFAULT_DATABASE_LIMITS } from '../src/config';
import { knexForPostgres } from '../src/db/database';
import { createActiveTrial, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

let t: TestApp;
/** Connections for transactions held open: more than the service's pool of 10. */
let holdersDb: Knex | undefined;
beforeAll(async () => {
  t = await startTestApp();
  if (t.db.url) holdersDb = knexForPostgres(t.db.url, 40, DEFAULT_DATABASE_LIMITS);
});
afterAll(async () => {
  await holdersDb?.destroy();
  await t?.close();
});

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
    `SELECT id::text, chain_lane AS lane, chain_seq::int AS seq, after ->> 'label' AS label,
            encode(previous_hash, 'hex') AS previous, encode(row_hash, 'hex') AS hash
       FROM audit_events WHERE trial_id = ? ORDER BY chain_lane, chain_seq`,
    [trialId],
  );
  return rows as {
    id: string;
    lane: number;
    seq: number;
    label: string | null;
    previous: string | null;
    hash: string;
  }[];
}

const rowLabelled = async (trialId: string, label: string) => (await chainOf(trialId)).find((r) => r.label === label)!;

/** Changes audit rows the way only a database superuser can: with every trigger switched off for the transaction. */
async function tamper(sql: string, bindings: unknown[]): Promise<void> {
  await t.db.knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL session_replication_role = replica');
    await trx.raw(sql, bindings as never);
  });
}

/** Runs body while `count` transactions each hold a lane of the trial (each wrote one row and has not committed). */
async function withLanesHeld(trialId: string, count: number, body: () => Promise<void>): Promise<void> {
  const holders: Knex.Transaction[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const holder = await holdersDb!.transaction();
      holders.push(holder);
      await insertAuditRow(holder, trialId, `held-${i}`);
    }
    await body();
  } finally {
    for (const holder of holders) if (!holder.isCompleted()) await holder.commit();
  }
}

async function verify(trialId: string) {
  return (await t.call('get', `/v1/trials/${trialId}/audit/verification`)).body;
}

onPostgres('audit chain link under concurrent writers', () => {
  it('lets a second writer open a lane instead of waiting, and keeps each transaction in its lane', async () => {
    const trial = await createActiveTrial(t);
    await withLanesHeld(trial.id, 1, async () => {
      // Would time out if it waited for the holder.
      await t.db.knex.transaction(async (trx) => {
        await insertAuditRow(trx, trial.id, 'second-a');
        await insertAuditRow(trx, trial.id, 'second-b');
      });
    });
    const [held, a, b] = await Promise.all(
      ['held-0', 'second-a', 'second-b'].map((label) => rowLabelled(trial.id, label)),
    );
    expect(held!.lane).toBe(0);
    expect(a).toMatchObject({ lane: 1, seq: 1, previous: null });
    expect(b).toMatchObject({ lane: 1, seq: 2, previous: a!.hash });
    // With nobody holding a lane, the next writer takes the lowest: lane 0, after the holder's row.
    await insertAuditRow(t.db.knex, trial.id, 'later');
    expect(await rowLabelled(trial.id, 'later')).toMatchObject({ lane: 0, seq: held!.seq + 1, previous: held!.hash });
    const verification = await verify(trial.id);
    expect(verification).toMatchObject({ valid: true, firstBrokenLink: null });
    expect(verification.lanes.map((l: { lane: number; sequence: number }) => [l.lane, l.sequence])).toEqual([
      [0, held!.seq + 1],
      [1, 2],
    ]);
    expect(verification.head).toMatchObject({ lane: 0, eventId: (await rowLabelled(trial.id, 'later')).id });
  });

  it('makes a writer wait when all 32 lanes are held, and links it after the row its predecessor committed', async () => {
    const trial = await createActiveTrial(t);
    let waiter: Promise<void> | undefined;
    await withLanesHeld(trial.id, 32, async () => {
      waiter = insertAuditRow(t.db.knex, trial.id, 'seventeenth').then(() => undefined);
      await someoneWaitsForALock();
    });
    await waiter;
    const row = await rowLabelled(trial.id, 'seventeenth');
    const lane = (await chainOf(trial.id)).filter((r) => r.lane === row.lane);
    expect(lane.map((r) => r.seq)).toEqual(lane.map((_, i) => i + 1));
    expect(row.seq).toBe(lane.length);
    expect(row.previous).toBe(lane.at(-2)!.hash);
    const verification = await verify(trial.id);
    expect(verification).toMatchObject({ valid: true, firstBrokenLink: null });
    expect(verification.lanes.map((l: { lane: number }) => l.lane)).toEqual([...Array(32).keys()]);
  });

  it('finds a row removed, altered, moved or re-hashed in a lane other than 0 exactly where it is', async () => {
    const trial = await createActiveTrial(t);
    await withLanesHeld(trial.id, 1, async () => {
      await t.db.knex.transaction(async (trx) => {
        for (const label of ['l1-a', 'l1-b', 'l1-c']) await insertAuditRow(trx, trial.id, label);
      });
    });
    const [a, b, c] = await Promise.all(['l1-a', 'l1-b', 'l1-c'].map((label) => rowLabelled(trial.id, label)));
    expect([a!.lane, b!.lane, c!.lane]).toEqual([1, 1, 1]);
    const brokenLink = async () => (await verify(trial.id)).firstBrokenLink;

    // Altered.
    await tamper(`UPDATE audit_events SET after = '{"label": "forged"}' WHERE id = ?`, [b!.id]);
    expect(await brokenLink()).toMatchObject({ lane: 1, sequence: 2, eventId: b!.id, problem: 'content-altered' });
    // Altered and re-hashed: the next row of the lane no longer points at it.
    await tamper(
      `UPDATE audit_events SET row_hash = audit_chain_hash(previous_hash, audit_chain_payload(audit_chain_label(trial_id, chain_lane),
         chain_seq, id, occurred_at, actor_key_id, actor_role, action, entity_type, entity_id, before, after, reason, request_id))
        WHERE id = ?`,
      [b!.id],
    );
    expect(await brokenLink()).toMatchObject({
      lane: 1,
      sequence: 3,
      eventId: c!.id,
      problem: 'previous-hash-mismatch',
    });
  });

  it('finds a row moved to another lane, a row removed in a lane, and a removed lane', async () => {
    const trial = await createActiveTrial(t);
    await withLanesHeld(trial.id, 2, async () => {
      await t.db.knex.transaction(async (trx) => {
        for (const label of ['l2-a', 'l2-b']) await insertAuditRow(trx, trial.id, label);
      });
    });
    const [a, b] = await Promise.all(['l2-a', 'l2-b'].map((label) => rowLabelled(trial.id, label)));
    expect([a!.lane, b!.lane]).toEqual([2, 2]);
    const held1 = await rowLabelled(trial.id, 'held-1');
    expect(held1.lane).toBe(1);
    const brokenLink = async () => (await verify(trial.id)).firstBrokenLink;

    // Moved from lane 1 to an unused position of lane 2, links untouched: its hash covers its lane.
    await tamper(`UPDATE audit_events SET chain_lane = 2, chain_seq = 3 WHERE id = ?`, [held1.id]);
    expect(await brokenLink()).toMatchObject({ lane: 1, sequence: 1, eventId: null, problem: 'missing-rows-at-end' });
    await tamper(`UPDATE audit_events SET chain_lane = 1, chain_seq = ? WHERE id = ?`, [held1.seq, held1.id]);
    expect(await brokenLink()).toBeNull();

    // Removed from the middle of lane 2's sequence... of two: the first.
    await tamper('DELETE FROM audit_events WHERE id = ?', [a!.id]);
    expect(await brokenLink()).toMatchObject({ lane: 2, sequence: 2, eventId: b!.id, problem: 'sequence-gap' });

    // Lane 1 removed with its head, rows and all: lane 2 still exists, so lane 1 is missing.
    await tamper('DELETE FROM audit_events WHERE trial_id = ? AND chain_lane = 1', [trial.id]);
    await tamper('DELETE FROM audit_chain_heads WHERE trial_id = ? AND lane = 1', [trial.id]);
    const result = await verify(trial.id);
    expect(result.valid).toBe(false);
    expect(result.firstBrokenLink).toMatchObject({ lane: 1, sequence: 1, eventId: null, problem: 'lane-missing' });
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
