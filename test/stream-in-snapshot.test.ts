import { isSingleConnection, streamInSnapshot } from '../src/db/database';
import { createTestDatabase, TestDatabase } from './support/database';

/* The analysis dataset's CSV streams its rows through streamInSnapshot (docs/benchmarks.md, "The analysis
   dataset, profiled"): JIT off, one read-only transaction, released whether the stream ends or is abandoned. */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.close());

async function* settingsOf(trx: Parameters<Parameters<typeof streamInSnapshot>[1]>[0]) {
  for (let i = 0; i < 3; i++) {
    const { rows } = await trx.raw(
      "SELECT current_setting('jit') AS jit, current_setting('transaction_read_only') AS read_only, " +
        "current_setting('transaction_isolation') AS isolation",
    );
    yield { ...rows[0], i };
  }
}

describe('streamInSnapshot', () => {
  it('reads with JIT off in a read-only repeatable-read transaction, and commits at the end', async () => {
    const seen = [];
    for await (const row of streamInSnapshot(db.knex, settingsOf)) seen.push(row);
    expect(seen).toEqual([0, 1, 2].map((i) => ({ jit: 'off', read_only: 'on', isolation: 'repeatable read', i })));
    // The session is back to its default: SET LOCAL ended with the transaction.
    const { rows } = await db.knex.raw("SELECT current_setting('transaction_read_only') AS read_only");
    expect(rows[0].read_only).toBe('off');
  });

  it('releases its connection when the consumer stops early or the read fails', async () => {
    // More abandoned streams than the pool has connections: a leaked transaction would make this hang.
    for (let n = 0; n < 12; n++) {
      for await (const row of streamInSnapshot(db.knex, settingsOf)) if (row.i === 0) break;
    }
    async function* failing(trx: Parameters<Parameters<typeof streamInSnapshot>[1]>[0]) {
      yield* settingsOf(trx);
      throw new Error('read failed');
    }
    for (let n = 0; n < 12; n++) {
      await expect(
        (async () => {
          for await (const _row of streamInSnapshot(db.knex, failing));
        })(),
      ).rejects.toThrow('read failed');
    }
    const { rows } = await db.knex.raw('SELECT 1 AS one');
    expect(rows[0].one).toBe(1);
  });

  it('leaves the connection to other requests while the consumer reads: the embedded database reads first', async () => {
    const stream = streamInSnapshot(db.knex, settingsOf);
    const first = await stream.next();
    expect(first.value).toMatchObject({ jit: 'off', i: 0 });
    // The consumer pauses after the first row. Another statement must still get a connection: on the embedded
    // database (one connection) only because the snapshot was read and committed before the first row came out.
    const other = db.knex.raw('SELECT 1 AS one').then(({ rows }) => rows[0].one as number);
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      other,
      new Promise<'blocked'>((resolve) => (timer = setTimeout(() => resolve('blocked'), 5_000))),
    ]);
    clearTimeout(timer);
    expect(waited).toBe(1);
    expect(isSingleConnection(db.knex)).toBe(db.kind === 'embedded');
    const rest = [];
    for await (const row of { [Symbol.asyncIterator]: () => stream }) rest.push(row.i);
    expect(rest).toEqual([1, 2]);
  });
});
