import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';

export interface LatencySummary {
  count: number;
  seconds: number;
  /** Completed operations per second of wall time. */
  rate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/**
 * Runs `count` operations with exactly `concurrency` in flight until the last ones drain, timing
 * each. Every operation must succeed: a benchmark that swallows failures measures the wrong thing.
 */
export async function runClosedLoop(
  count: number,
  concurrency: number,
  operation: (i: number) => Promise<unknown>,
): Promise<LatencySummary> {
  const latencies = new Array<number>(count);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        await operation(i);
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    count,
    seconds,
    rate: count / seconds,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
  };
}

export interface CpuShare {
  /** CPU time of this process (all threads) over wall time, in cores: 1.0 is one core busy. */
  processCores: number;
  /**
   * CPU of the PostgreSQL backends serving this database, in cores; null on the embedded database
   * or when the server's processes are not visible in /proc (another host or container).
   */
  postgresCores: number | null;
  /** Busy time of the whole machine over wall time, in cores (PostgreSQL on this host included). */
  machineCores: number;
}

function machineBusyMs(): number {
  return os.cpus().reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
}

const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process in milliseconds, from /proc/<pid>/stat; null when not visible. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

async function backendPids(knex: Knex): Promise<number[]> {
  const result = await knex.raw<{ rows: { pid: number }[] }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  return result.rows.map((row) => row.pid);
}

/**
 * Measures how many cores this process, the PostgreSQL backends of this database (`knex` on a
 * server on this host) and the whole machine kept busy while `work` ran. The machine figure
 * includes anything else running on the host.
 */
export async function withCpuShare<T>(
  work: () => Promise<T>,
  postgres: Knex | null = null,
): Promise<{ result: T; cpu: CpuShare }> {
  const before = new Map<number, number>();
  if (postgres) for (const pid of await backendPids(postgres)) before.set(pid, processCpuMs(pid) ?? Number.NaN);
  const wall0 = performance.now();
  const process0 = process.cpuUsage();
  const machine0 = machineBusyMs();
  const result = await work();
  const wallMs = performance.now() - wall0;
  const used = process.cpuUsage(process0);
  const machineMs = machineBusyMs() - machine0;
  let postgresCores: number | null = null;
  if (postgres) {
    let total = 0;
    for (const pid of new Set([...before.keys(), ...(await backendPids(postgres))])) {
      const now = processCpuMs(pid);
      if (now === null) continue;
      total += now - (before.get(pid) ?? 0);
    }
    postgresCores = Number.isFinite(total) && [...before.values()].every(Number.isFinite) ? total / wallMs : null;
  }
  return {
    result,
    cpu: { processCores: (used.user + used.system) / 1000 / wallMs, postgresCores, machineCores: machineMs / wallMs },
  };
}

/** Runs tasks with at most `width` in flight, keeping results in order (used to prepare data fast). */
export async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** Peak resident set size of this process, sampled every 50 ms between `reset()` calls. */
export class RssSampler {
  private peak = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.sample(), 50);
    this.timer.unref();
  }

  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }

  /** Peak since the last reset, in MiB; starts the next window. */
  reset(): number {
    this.sample();
    const peak = this.peak;
    this.peak = process.memoryUsage.rss();
    return peak / 2 ** 20;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The peak RSS of the whole process so far, in MiB (getrusage ru_maxrss). */
export function lifetimeMaxRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export interface StatementProfile {
  statements: number;
  transactions: number;
  /** From sending BEGIN to sending COMMIT: how long each transaction held its locks (plus the commit itself). */
  transactionP50Ms: number;
  transactionP95Ms: number;
  /** Statements by their first words, e.g. `select * from "trials"`. */
  byShape: Record<string, number>;
  /**
   * Inside transactions: mean milliseconds from sending each statement to sending the next one
   * (its round trip, any lock wait, and the JavaScript that runs before the next statement).
   */
  meanMsAfterStatement: Record<string, number>;
}

interface QueryEvent {
  sql?: string;
  __knexTxId?: string;
}

const shapeOf = (sql: string) => sql.replace(/\s+/g, ' ').split(' ').slice(0, 4).join(' ').toLowerCase();

/**
 * Counts the statements knex sends (the service's statements, since the service runs in this
 * process) and times what happens inside transactions, from knex's query events. knex emits no
 * response event for COMMIT, so transactions are timed up to the moment COMMIT is sent.
 */
export function recordStatements(knex: Knex): { stop(): StatementProfile } {
  let statements = 0;
  const byShape: Record<string, number> = {};
  const open = new Map<string, { began: number; lastShape: string; lastAt: number }>();
  const durations: number[] = [];
  const gaps: Record<string, { total: number; count: number }> = {};
  const onQuery = (query: QueryEvent) => {
    const now = performance.now();
    statements += 1;
    const sql = (query.sql ?? '').trim();
    const shape = shapeOf(sql);
    byShape[shape] = (byShape[shape] ?? 0) + 1;
    const txId = query.__knexTxId;
    if (!txId) return;
    const state = open.get(txId);
    if (state) {
      const gap = (gaps[state.lastShape] ??= { total: 0, count: 0 });
      gap.total += now - state.lastAt;
      gap.count += 1;
      state.lastShape = shape;
      state.lastAt = now;
    } else if (/^begin/i.test(sql)) {
      open.set(txId, { began: now, lastShape: shape, lastAt: now });
    }
    if (/^(commit|rollback)/i.test(sql) && state) {
      durations.push(now - state.began);
      open.delete(txId);
    }
  };
  knex.on('query', onQuery);
  return {
    stop() {
      knex.removeListener('query', onQuery);
      durations.sort((a, b) => a - b);
      const meanMsAfterStatement = Object.fromEntries(
        Object.entries(gaps).map(([shape, gap]) => [shape, gap.total / gap.count]),
      );
      return {
        statements,
        transactions: durations.length,
        transactionP50Ms: percentile(durations, 50),
        transactionP95Ms: percentile(durations, 95),
        byShape,
        meanMsAfterStatement,
      };
    },
  };
}

/**
 * Runs an unmeasured request once more if it failed because the server closed the idle keep-alive connection as the
 * client reused it. On the embedded database a bulk load blocks this process's one thread for longer than the
 * server's keep-alive timeout, so both ends' timers fire late and together when it ends, and the first request after
 * it can meet a socket that the server is closing (`fetch failed`, cause ECONNRESET). Only for warm-up calls.
 */
export async function retryOnStaleConnection<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (!(error instanceof TypeError) || (cause?.code !== 'ECONNRESET' && cause?.code !== 'UND_ERR_SOCKET'))
      throw error;
    return request();
  }
}
