/*
 * Decisions are made on facts read under the lock (issue #18). Each test holds the trial's row lock in a
 * transaction of its own, sends a request, waits until that request is blocked on the lock, commits a
 * conflicting change (a PATCH of the arms, a closure) in the held transaction, and then checks that the request
 * decided on the trial as it is after the change. The code before #18 read the trial before taking any lock:
 * the allocation table was validated against the old arms, a screening was written into a closed trial.
 * PostgreSQL only: the embedded database has one connection, so no request can wait for another's lock.
 */
import type { Knex } from 'knex';
import pino from 'pino';
import { createUseCaseContext, UseCaseContext } from '../src/core/use-case-context';
import { authenticateApiKey } from '../src/features/api-keys/api-keys.service';
import { armLabellerFor } from '../src/features/blinding/blinding.service';
import { closeTrial, updateTrial } from '../src/features/trials/trials.service';
import {
  addSites,
  createActiveTrial,
  createTrial,
  grantConsent,
  screen,
  serviceUserInput,
  Trial,
} from './support/factories';
import { startTestApp, TestApp, TestResponse } from './support/test-app';

const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

async function adminContext(db: Knex): Promise<UseCaseContext> {
  const principal = (await authenticateApiKey(t.db.knex, t.adminKey))!;
  return createUseCaseContext(
    { db, armLabellerFactory: armLabellerFor },
    { principal, requestId: null, log: pino({ level: 'silent' }) },
  );
}

/** Resolves once another backend of this database waits for a lock; rejects if the request finished first. */
async function blockedOnLock(request: Promise<unknown>): Promise<void> {
  let finished = false;
  void request.then(
    () => (finished = true),
    () => (finished = true),
  );
  for (let i = 0; i < 400; i++) {
    if (finished) throw new Error('the request finished without waiting for the trial lock');
    const { rows } = await t.db.knex.raw(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
    );
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the request never waited for the trial lock');
}

/** Holds the trial's row lock, sends the request, lets `change` run and commit while the request waits. */
async function changeWhileWaiting(
  trialId: string,
  send: () => Promise<TestResponse>,
  change: (ctx: UseCaseContext) => Promise<unknown>,
): Promise<TestResponse> {
  const trx = await t.db.knex.transaction();
  try {
    await trx('trials').where({ trial_id: trialId }).forUpdate().first('trial_id');
    const request = send();
    await blockedOnLock(request);
    await change(await adminContext(trx));
    await trx.commit();
    return await request;
  } catch (error) {
    if (!trx.isCompleted()) await trx.rollback();
    throw error;
  }
}

onPostgres('facts read under the lock', () => {
  it('validates an allocation table against the arms a PATCH committed while the upload waited', async () => {
    const trial = await createTrial(t, { randomization: { method: 'list', stratifyBy: ['site'] } });
    await addSites(t, trial.id, ['A']);
    const rows = [
      { arm: 'SMCM', stratum: { site: 'A' } },
      { arm: 'TAU', stratum: { site: 'A' } },
    ];
    const res = await changeWhileWaiting(
      trial.id,
      () => t.call('put', `/v1/trials/${trial.id}/allocation-table`, { body: { rows } }),
      (ctx) =>
        updateTrial(ctx, {
          trialId: trial.id,
          patch: {
            arms: [
              { code: 'SMCM', name: 'Strengths model case management', ratio: 1 },
              { code: 'WAIT', name: 'Wait list', ratio: 1 },
            ],
          },
          ifMatch: undefined,
        }),
    );
    // Before #18 the rows were checked against SMCM/TAU, read before the lock, and TAU was accepted.
    expect(res.status).toBe(422);
    expect(res.body.errors).toContainEqual(expect.objectContaining({ pointer: '/rows/1/arm' }));
    const stored = await t.db
      .knex('allocation_table_rows')
      .where({ trial_id: trial.id })
      .count<{ n: string }[]>('* as n');
    expect(Number(stored[0]!.n)).toBe(0);
  });

  it('refuses a screening when the trial was closed while the screening waited', async () => {
    const trial: Trial = await createActiveTrial(t);
    const input = serviceUserInput();
    const res = await changeWhileWaiting(
      trial.id,
      () => t.call('post', `/v1/trials/${trial.id}/participants`, { body: input }),
      (ctx) => closeTrial(ctx, { trialId: trial.id, reason: 'recruitment target reached' }),
    );
    // Before #18 the status was checked before the transaction and the participant was written into a closed trial.
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('https://trialdesk.dev/problems/trial-closed');
    expect(await t.db.knex('participants').where({ trial_id: trial.id, label: input.label }).first()).toBeUndefined();
  });

  it('refuses a randomization when the trial was closed while it waited, and allocates nothing', async () => {
    const trial = await createActiveTrial(t);
    const participant = await screen(t, trial.id, serviceUserInput());
    await grantConsent(t, trial.id, participant.id);
    const res = await changeWhileWaiting(
      trial.id,
      () => t.call('post', `/v1/trials/${trial.id}/participants/${participant.id}/randomization`),
      (ctx) => closeTrial(ctx, { trialId: trial.id, reason: 'stopped by the DMC' }),
    );
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('https://trialdesk.dev/problems/trial-not-active');
    expect(await t.db.knex('allocations').where({ trial_id: trial.id }).first()).toBeUndefined();
  });
});
