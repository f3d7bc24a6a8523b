import supertest from 'supertest';
import { createApp } from '../src/app';
import { Database, withTransaction } from '../src/db/database';
import { ensureBootstrapAdminKey } from '../src/features/api-keys/api-keys.service';
import { createEmbeddedTestDatabase } from './support/database';
import { smcmTrialInput } from './support/factories';

/*
 * PGlite has one connection. These tests run on an embedded database whatever TEST_DATABASE_URL says,
 * and show that concurrent transactions queue for that connection instead of interleaving on it.
 */
let db: Database;
beforeAll(async () => {
  db = await createEmbeddedTestDatabase();
  await db.knex.raw('CREATE TABLE interleaving_probe (seq serial PRIMARY KEY, tx int NOT NULL, step text NOT NULL)');
});
afterAll(() => db.close());

const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 3));

describe('embedded database under concurrency', () => {
  it('runs 40 concurrent transactions one after another, never interleaved on the single connection', async () => {
    const transactions = 40;
    await Promise.all(
      Array.from({ length: transactions }, (_, tx) =>
        withTransaction(db.knex, async (trx) => {
          await trx('interleaving_probe').insert({ tx, step: 'begin' });
          await pause(); // yields the event loop mid-transaction, inviting others onto the connection
          await trx('interleaving_probe').insert({ tx, step: 'middle' });
          await pause();
          await trx('interleaving_probe').insert({ tx, step: 'end' });
        }),
      ),
    );
    const rows: { tx: number; step: string }[] = await db.knex('interleaving_probe').orderBy('seq');
    expect(rows).toHaveLength(transactions * 3);
    for (let i = 0; i < rows.length; i += 3) {
      const [begin, middle, end] = rows.slice(i, i + 3);
      expect([begin!.step, middle!.step, end!.step]).toEqual(['begin', 'middle', 'end']);
      expect(new Set([begin!.tx, middle!.tx, end!.tx]).size).toBe(1);
    }
  });

  it('keeps a read-modify-write counter exact under 50 concurrent transactions', async () => {
    await db.knex.raw('CREATE TABLE counter_probe (id int PRIMARY KEY, value int NOT NULL)');
    await db.knex('counter_probe').insert({ id: 1, value: 0 });
    await Promise.all(
      Array.from({ length: 50 }, () =>
        withTransaction(db.knex, async (trx) => {
          const { value } = await trx('counter_probe').where({ id: 1 }).first();
          await pause();
          await trx('counter_probe')
            .where({ id: 1 })
            .update({ value: value + 1 });
        }),
      ),
    );
    expect((await db.knex('counter_probe').where({ id: 1 }).first()).value).toBe(50);
  });

  it('rolls back a failed transaction without disturbing the one queued behind it', async () => {
    const failing = withTransaction(db.knex, async (trx) => {
      await trx('interleaving_probe').insert({ tx: 1000, step: 'begin' });
      await pause();
      throw new Error('abort');
    });
    const succeeding = withTransaction(db.knex, (trx) => trx('interleaving_probe').insert({ tx: 1001, step: 'begin' }));
    await expect(failing).rejects.toThrow('abort');
    await succeeding;
    expect(await db.knex('interleaving_probe').whereIn('tx', [1000, 1001]).pluck('tx')).toEqual([1001]);
  });

  it('serves 30 concurrent trial creations over HTTP with every audit row in place', async () => {
    const bootstrap = await ensureBootstrapAdminKey(db.knex, null);
    if (bootstrap.kind !== 'generated') throw new Error('expected a fresh key');
    const agent = supertest(createApp({ db }));
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        agent.post('/v1/trials').set('Authorization', `Bearer ${bootstrap.key}`).send(smcmTrialInput()),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(201));
    const audits = await db
      .knex('audit_events')
      .where({ action: 'trial.created' })
      .count<{ n: number }[]>('* as n')
      .first();
    expect(audits!.n).toBe(30);
  });
});
