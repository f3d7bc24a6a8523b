import type pg from 'pg';
import { openDrillClient } from './support/drill-checks';
import { describeExchange, DrillResponse, isServiceUnavailableProblem, jsonOf } from './support/drill-http';
import {
  ApiRequest,
  consentedServiceUsers,
  createDrillTrial,
  DrillApi,
  newAdminKey,
  range,
  screeningRequest,
  sleep,
  uniqueLabel,
} from './support/drill-world';
import { recordFigures } from './support/figures';
import { PrivatePostgres } from './support/private-postgres';
import { ServiceProcess } from './support/service-process';

/*
 * Pool exhaustion drill. The service gets a pool of 2 connections, a 1 s wait for one and a 2 s
 * statement timeout. A separate superuser connection holds `participants` in ACCESS EXCLUSIVE mode
 * inside an open transaction, so every request that reads or writes participants blocks. A burst of
 * concurrent requests must then all be answered, each within statement timeout + acquire timeout
 * + a margin: the requests that got the two connections with 503 when their statement is cancelled
 * (57014), the others with 503 when no connection became free in time; all with Retry-After. No
 * service backend may be left waiting on the lock, and once the lock is released the service answers
 * 200 again. The first burst fires every request at once; the second spreads them over
 * STAGGER_MS, so that requests also get a connection freed by a cancelled statement and then wait
 * on the lock themselves (the longest path: a pool wait, then a statement timeout).
 */

const POOL_MAX = 2;
const ACQUIRE_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 2_000;
const MARGIN_MS = 1_500;
const ANSWER_BOUND_MS = STATEMENT_TIMEOUT_MS + ACQUIRE_TIMEOUT_MS + MARGIN_MS;
const BURST = 40;
/** Timers may fire a little early relative to our clock; a 503 sooner than this means no real wait. */
const TIMER_SLACK_MS = 50;
const ROUNDS = 2;
const STAGGER_MS = 3_000;

let postgres: PrivatePostgres | undefined;
let service: ServiceProcess | undefined;
const clients: pg.Client[] = [];

afterAll(async () => {
  await service?.stop().catch(() => undefined);
  for (const client of clients) await client.end().catch(() => undefined);
  await postgres?.destroy();
});

/** How the service explained a 503 (src/http/problem.ts). */
function cause(response: DrillResponse): 'statement-timeout' | 'pool-timeout' | 'other' {
  const detail = jsonOf<{ detail?: string }>(response)?.detail ?? '';
  if (/statement timeout/.test(detail)) return 'statement-timeout';
  if (/no database connection became free/.test(detail)) return 'pool-timeout';
  return 'other';
}

/** Retries until the request answers `status` or `withinMs` passes; returns the last answer and when it came. */
async function awaitStatus(
  api: DrillApi,
  request: ApiRequest,
  status: number,
  withinMs: number,
): Promise<{ response: DrillResponse; afterMs: number }> {
  const started = performance.now();
  for (;;) {
    const response = await api.call(request);
    if (response.status === status || performance.now() - started > withinMs)
      return { response, afterMs: performance.now() - started };
    await sleep(100);
  }
}

it('answers every request 503 with Retry-After within statement + acquire timeout while a lock exhausts the pool, then recovers', async () => {
  const adminKey = newAdminKey();
  postgres = await PrivatePostgres.create('pool');
  const url = await postgres.createDatabase('trialdesk');
  service = await ServiceProcess.start({
    databaseUrl: url,
    adminApiKey: adminKey,
    env: {
      DATABASE_POOL_MAX: String(POOL_MAX),
      DATABASE_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS),
      STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    },
  });
  const api = new DrillApi(service.baseUrl, adminKey);
  const trialId = await createDrillTrial(api, 'pool exhaustion drill');
  const participants = await consentedServiceUsers(api, trialId, 6, POOL_MAX);
  const lockHolder = await openDrillClient(url);
  const observer = await openDrillClient(url);
  clients.push(lockHolder, observer);

  const findings: string[] = [];
  const answers: DrillResponse[] = [];
  let maxWaitMs = 0;
  let hung = 0;
  let statementTimeouts = 0;
  let poolTimeouts = 0;
  const poolWaits: number[] = [];
  const statementWaits: number[] = [];
  let recoveryMs = 0;

  for (let round = 1; round <= ROUNDS; round++) {
    await lockHolder.query('BEGIN');
    await lockHolder.query('LOCK TABLE participants IN ACCESS EXCLUSIVE MODE');
    const requests: ApiRequest[] = Array.from({ length: BURST }, (_, i) =>
      i % 2 === 0
        ? { method: 'GET', path: `/v1/trials/${trialId}/participants/${participants[i % participants.length]}` }
        : screeningRequest(trialId, 'A', uniqueLabel('POOL')),
    );
    const staggered = round % 2 === 0;
    const burst = await Promise.all(
      requests.map(async (request) => {
        if (staggered) await sleep(Math.random() * STAGGER_MS);
        return api.call({ ...request, timeoutMs: 30_000 });
      }),
    );
    answers.push(...burst);
    burst.forEach((response, i) => {
      maxWaitMs = Math.max(maxWaitMs, response.ms);
      const evidence = describeExchange(requests[i]!, response);
      if (response.status === 0) {
        hung += 1;
        findings.push(`round ${round}: no answer: ${evidence}`);
      } else if (!isServiceUnavailableProblem(response)) {
        findings.push(`round ${round}: not 503 problem+json with Retry-After: ${evidence}`);
      } else {
        const why = cause(response);
        if (why === 'statement-timeout') {
          statementTimeouts += 1;
          statementWaits.push(response.ms);
          if (response.ms < STATEMENT_TIMEOUT_MS - TIMER_SLACK_MS)
            findings.push(`round ${round}: statement-timeout 503 before the statement timeout: ${evidence}`);
        } else if (why === 'pool-timeout') {
          poolTimeouts += 1;
          poolWaits.push(response.ms);
          if (response.ms < ACQUIRE_TIMEOUT_MS - TIMER_SLACK_MS)
            findings.push(`round ${round}: pool-timeout 503 before the acquire timeout: ${evidence}`);
        } else
          findings.push(`round ${round}: 503 for another reason than the pool or the statement timeout: ${evidence}`);
      }
      if (response.ms > ANSWER_BOUND_MS)
        findings.push(
          `round ${round}: answered after ${Math.round(response.ms)} ms, more than ${ANSWER_BOUND_MS} ms: ${evidence}`,
        );
    });

    // The statement timeout must have cancelled every service statement that waited for the lock.
    const waiting = await observer.query<{ pid: number; query: string; waited_ms: number }>(
      `SELECT pid, query, (extract(epoch FROM now() - query_start) * 1000)::int AS waited_ms FROM pg_stat_activity
        WHERE application_name = 'trialdesk' AND wait_event_type = 'Lock'`,
    );
    for (const row of waiting.rows)
      findings.push(
        `round ${round}: a service backend still waits for the lock after the burst: ${JSON.stringify(row)}`,
      );

    await lockHolder.query('ROLLBACK');
    const read: ApiRequest = { method: 'GET', path: `/v1/trials/${trialId}/participants/${participants[0]}` };
    const { response, afterMs } = await awaitStatus(api, read, 200, 10_000);
    recoveryMs = Math.max(recoveryMs, afterMs);
    if (response.status !== 200)
      findings.push(`round ${round}: no 200 within 10 s of releasing the lock: ${describeExchange(read, response)}`);
    const screening = screeningRequest(trialId, 'B', uniqueLabel('POOL-AFTER'));
    const written = await api.call(screening);
    if (written.status !== 201)
      findings.push(`round ${round}: screening after the lock was released: ${describeExchange(screening, written)}`);
  }

  const logged = service.logLines().filter((line) => /"level":(50|60)/.test(line));
  if (logged.length) findings.push(`service logged errors:\n${logged.slice(0, 10).join('\n')}`);
  recordFigures('pool-exhaustion', {
    rounds: ROUNDS,
    requests: answers.length,
    status503: answers.filter((r) => r.status === 503).length,
    statementTimeouts,
    poolTimeouts,
    otherStatuses: answers.filter((r) => r.status !== 503).length,
    maxWaitMs: Math.round(maxWaitMs),
    poolTimeoutWaitMs: range(poolWaits),
    statementTimeoutWaitMs: range(statementWaits),
    boundMs: ANSWER_BOUND_MS,
    hung,
    recoveryMs: Math.round(recoveryMs),
  });

  expect(service.unexpectedExits()).toEqual([]);
  expect(findings).toEqual([]);
  expect(hung).toBe(0);
  // Both ways of being busy happened: the requests holding the connections and those waiting for one.
  expect(statementTimeouts).toBeGreaterThanOrEqual(1);
  expect(poolTimeouts).toBeGreaterThanOrEqual(1);
});
