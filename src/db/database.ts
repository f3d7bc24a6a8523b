import fs from 'node:fs';
import knexFactory, { Knex } from 'knex';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import ClientPgLite from 'knex-pglite';
import { DatabaseConfig, DatabaseLimits, DEFAULT_DATABASE_LIMITS } from '../config';
import { migrationSource } from './migrations';

export type DatabaseKind = 'embedded' | 'postgresql';
export type Executor = Knex | Knex.Transaction;

export interface Database {
  knex: Knex;
  kind: DatabaseKind;
  close(): Promise<void>;
}

const DATE_OID = 1082;
const INT8_OID = 20;

/**
 * Dates stay `YYYY-MM-DD` strings (pg would otherwise build a Date in the server's local time zone),
 * and int8 (COUNT, SUM, bigint ids) becomes a number: every value we store in int8 is below 2^53.
 */
const parseDate = (value: string): string => value;
const parseInt8 = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new Error(`int8 value ${value} exceeds 2^53`);
  return parsed;
};

const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === DATE_OID) return parseDate;
    if (oid === INT8_OID) return parseInt8;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export interface EmbeddedOptions {
  /** Directory of the data files; null keeps everything in memory. */
  dataDir: string | null;
  /** A tarball made by `dumpDataDir`, to start from a copy of another database (tests). */
  loadDataDir?: Blob;
  /**
   * PostgreSQL's shared_buffers, e.g. '16MB'; the default is 128MB. Start-up initialises the whole pool, so
   * tests, whose databases are tiny, start in half the CPU time with 16MB (measured: 1.0 s instead of 2.0 s).
   */
  sharedBuffers?: string;
}

export async function openEmbedded(options: EmbeddedOptions): Promise<PGlite> {
  if (options.dataDir) fs.mkdirSync(options.dataDir, { recursive: true });
  const pglite = new PGlite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    ...(options.sharedBuffers
      ? { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${options.sharedBuffers}`] }
      : {}),
    parsers: { [DATE_OID]: parseDate, [INT8_OID]: parseInt8 },
  });
  await pglite.waitReady;
  return pglite;
}

/**
 * knex over one PGlite instance. knex-pglite fixes the pool at one connection, so transactions queue,
 * never interleave. PGlite runs in this process's thread and has no timer signals, so
 * statement_timeout has no effect on it (measured: pg_sleep(2) under a 500 ms timeout completes).
 */
export function knexForPglite(pglite: PGlite, acquireTimeoutMs = 30_000): Knex {
  return knexFactory({
    client: ClientPgLite as unknown as typeof Knex.Client,
    dialect: 'postgres',
    connection: () => ({ pglite }) as object,
    acquireConnectionTimeout: acquireTimeoutMs,
  } as Knex.Config);
}

/**
 * knex over a PostgreSQL server. Every connection carries the statement timeout (a runaway query is
 * cancelled, SQLSTATE 57014, answered 503) and an idle-in-transaction timeout (a transaction left open
 * by a stuck request cannot hold locks for ever); a request waits at most `acquireTimeoutMs` for a
 * pool connection, and as long again for a new connection to be established, then gets 503.
 */
export function knexForPostgres(
  url: string,
  poolMax: number,
  limits: DatabaseLimits = DEFAULT_DATABASE_LIMITS,
  log?: DriverLog,
): Knex {
  return knexFactory({
    ...(log ? { log: { warn: log.warn, error: log.error, deprecate: log.warn, debug: log.debug } } : {}),
    client: 'pg',
    connection: {
      connectionString: url,
      types: pgTypes,
      statement_timeout: limits.statementTimeoutMs,
      idle_in_transaction_session_timeout: Math.max(limits.statementTimeoutMs * 2, 60_000),
      connectionTimeoutMillis: limits.acquireTimeoutMs,
      application_name: 'trialdesk',
    } as Knex.PgConnectionConfig,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: limits.acquireTimeoutMs,
  });
}

/** knex over an open PGlite; closing it closes both (knex-pglite may already have closed PGlite). */
export function embeddedDatabase(pglite: PGlite, acquireTimeoutMs?: number): Database {
  const knex = knexForPglite(pglite, acquireTimeoutMs);
  return {
    knex,
    kind: 'embedded',
    close: async () => {
      await knex.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

/**
 * Where the driver's own messages go (e.g. "Connection Error: Connection ended unexpectedly" for an idle connection the
 * server dropped).
 */
export interface DriverLog {
  warn(message: unknown): void;
  error(message: unknown): void;
  debug(message: unknown): void;
}

export async function createDb(config: DatabaseConfig, log?: DriverLog): Promise<Database> {
  // The embedded database has one connection that every request queues for; a long queue is
  // normal there (no server to protect), so it waits longer than a pool of a server would.
  if (config.kind === 'embedded')
    return embeddedDatabase(await openEmbedded({ dataDir: config.dataDir }), Math.max(config.acquireTimeoutMs, 30_000));
  const knex = knexForPostgres(config.url, config.poolMax, config, log);
  return { knex, kind: 'postgresql', close: () => knex.destroy() };
}

export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/**
 * Runs read-model queries with PostgreSQL's JIT compiler off. Aggregations over CTEs are estimated at
 * millions of rows, which triggers JIT compilation costing about a second per query (measured: 990 ms
 * of a 1,340 ms CONSORT aggregation at 100k participants) for queries that execute in far less.
 */
export async function withoutJit<T>(knex: Knex, read: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL jit = off');
    return read(trx);
  });
}

/**
 * Runs a report's reads in one read-only REPEATABLE READ transaction (JIT off, as withoutJit): every statement
 * sees the same snapshot, so a report assembled from several reads (rows, deviations, doses) describes one
 * instant even while writes go on. Joins the caller's transaction when there is one.
 */
export async function readSnapshot<T>(knex: Knex, read: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  if (knex.isTransaction) return read(knex as Knex.Transaction);
  return knex.transaction(
    async (trx) => {
      await trx.raw('SET LOCAL jit = off');
      return read(trx);
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

/** Whether this knex runs over the embedded database, whose one connection every request shares. */
export const isSingleConnection = (knex: Knex): boolean =>
  (knex.client.config as Knex.Config).client === (ClientPgLite as unknown);

/**
 * readSnapshot for a streamed read: the rows of `read` in one read-only REPEATABLE READ transaction with JIT off,
 * opened when the stream is first read, committed at its end and rolled back if the consumer stops early (the
 * generator's `finally`). Without it a cursor query runs with the server's JIT: at 20,000 participants 1.0 s of a
 * 1.2 s dataset query was JIT compilation (docs/benchmarks.md, "The analysis dataset, profiled").
 *
 * On the embedded database the transaction would hold its only connection for as long as the client takes to read
 * the response, and every other request would wait for it (9-13 s behind one export at 100,000 participants, and a
 * 503 behind a slow reader: docs/benchmarks.md, "Embedded database"). Its driver holds a query's whole result in
 * memory anyway, so there the rows are read and the transaction committed before the first row is handed on.
 */
export async function* streamInSnapshot<T>(
  knex: Knex,
  read: (trx: Knex.Transaction) => AsyncIterable<T>,
): AsyncGenerator<T> {
  if (knex.isTransaction) {
    yield* read(knex as Knex.Transaction);
    return;
  }
  const trx = await knex.transaction({ isolationLevel: 'repeatable read', readOnly: true });
  try {
    await trx.raw('SET LOCAL jit = off');
    if (isSingleConnection(knex)) {
      const rows: T[] = [];
      for await (const row of read(trx)) rows.push(row);
      await trx.commit();
      yield* rows;
      return;
    }
    yield* read(trx);
    await trx.commit();
  } finally {
    if (!trx.isCompleted()) await trx.rollback();
  }
}

/** A unique constraint refused the write (SQLSTATE 23505), optionally a particular named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

export function isRetryableTransactionError(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && RETRYABLE_SQLSTATES.has((error as { code?: string }).code ?? '')
  );
}

/**
 * Runs `work` in one transaction and retries it, from the start, on serialization failures and
 * deadlocks (SQLSTATE 40001, 40P01), which PostgreSQL reports for races the database resolved.
 */
export async function withTransaction<T>(
  knex: Knex,
  work: (trx: Knex.Transaction) => Promise<T>,
  attempts = 5,
): Promise<T> {
  // A use case run inside an operation-level transaction (idempotency, a test that holds locks) joins it:
  // one transaction per use case, retried as a whole by whoever opened it.
  if (knex.isTransaction) return work(knex as Knex.Transaction);
  for (let attempt = 1; ; attempt++) {
    try {
      return await knex.transaction(work);
    } catch (error) {
      if (attempt >= attempts || !isRetryableTransactionError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));
    }
  }
}
