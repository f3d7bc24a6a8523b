import type pg from 'pg';
import {
  checkInvariants,
  existingParticipants,
  mismatchWithAnswer,
  openDrillClient,
  storedWorkOf,
} from './support/drill-checks';
import { describeExchange, DrillResponse, isServiceUnavailableProblem, jsonOf } from './support/drill-http';
import {
  ApiRequest,
  consentedServiceUsers,
  couponWrite,
  createDrillTrial,
  DRILL_SITES,
  DrillApi,
  inParallel,
  isIdempotencyKeyInUse,
  KeyedWrite,
  newAdminKey,
  Participant,
  pick,
  randomizeWrite,
  screeningRequest,
  sendUntilSettled,
  sleep,
  uniqueLabel,
  verifyAuditChain,
} from './support/drill-world';
import { recordFigures } from './support/figures';
import { PrivatePostgres } from './support/private-postgres';
import { ServiceProcess } from './support/service-process';

/*
 * Database restart drill. Several clients keep reading and writing (randomizations and coupons with
 * Idempotency-Keys, screenings without) while PostgreSQL is stopped with `pg_ctl stop -m immediate`
 * (a crash: connections cut, recovery at the next start), kept away for a few seconds, and started
 * again. Checked:
 * - the service process never exits;
 * - no 500 (or any 5xx but 503) at any time, and every 503 is problem+json with Retry-After;
 * - every request sent after the stop and answered before the start is such a 503;
 * - every request answers within ANSWER_BOUND_MS (no hangs);
 * - after `pg_ctl start` returns, a 2xx answer comes within RECOVERY_LIMIT_MS;
 * - nothing acknowledged is lost: every 201 is in the database, equal to the answer, once.
 *
 * A second drill makes the crash land while COMMITs are in flight, deterministically: with
 * synchronous_standby_names naming a standby that never connects, a COMMIT is flushed (durable) and
 * then waits for the standby; PostgreSQL is crashed during that wait. The writes are then in the
 * database although their connections died, so their answers must not say "Nothing was written"
 * (a client would send an unkeyed write again and duplicate it), and a keyed retry must replay.
 */

const RESTARTS = Number(process.env.DRILL_DB_RESTARTS || 3);
const CLIENTS = 8;
const DOWN_MS = 3_000;
const ACQUIRE_TIMEOUT_MS = 2_000;
/** A pool wait plus a connection attempt (each at most the acquire timeout) plus a margin for a loaded machine. */
const ANSWER_BOUND_MS = 2 * ACQUIRE_TIMEOUT_MS + 3_000;
const RECOVERY_LIMIT_MS = 10_000;

let postgres: PrivatePostgres;
let service: ServiceProcess;
let api: DrillApi;
let url: string;
/** The drills' own connections (each opened once the database stays up), closed at the end. */
const clients: pg.Client[] = [];
async function connect(): Promise<pg.Client> {
  const client = await openDrillClient(url);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  const adminKey = newAdminKey();
  postgres = await PrivatePostgres.create('db-restart');
  url = await postgres.createDatabase('trialdesk');
  service = await ServiceProcess.start({
    databaseUrl: url,
    adminApiKey: adminKey,
    env: { DATABASE_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS) },
  });
  api = new DrillApi(service.baseUrl, adminKey);
});

afterAll(async () => {
  await service?.stop().catch(() => undefined);
  for (const client of clients) await client.end().catch(() => undefined);
  await postgres?.destroy();
});

interface Exchange {
  op: 'randomize' | 'coupon' | 'screen' | 'read';
  request: ApiRequest;
  response: DrillResponse;
  write?: KeyedWrite;
  label?: string;
}

/** A 503 whose problem detail tells the client that nothing was written (src/http/problem.ts). */
const claimsNothingWritten = (response: DrillResponse): boolean =>
  response.status === 503 && /nothing was written/i.test(jsonOf<{ detail?: string }>(response)?.detail ?? '');

interface Window {
  stopBegin: number;
  stopEnd: number;
  startBegin: number;
  startEnd: number;
  recoveryMs: number | null;
}

it(`answers 503 while PostgreSQL is away and recovers, through ${RESTARTS} crash restarts of the database under load`, async () => {
  const servicePid = service.pid;
  const trialId = await createDrillTrial(api, 'database restart drill');
  const toRandomize = await consentedServiceUsers(api, trialId, 60);
  const consented = [...toRandomize];

  const exchanges: Exchange[] = [];
  const pending: KeyedWrite[] = [];
  let writeCounter = 0;
  let stopLoad = false;

  function nextOperation(): Omit<Exchange, 'response'> {
    const retry = pending.shift();
    if (retry) return { op: retry.kind, request: retry.request, write: retry };
    const roll = Math.random();
    if (roll < 0.3 && toRandomize.length) {
      const write = randomizeWrite(trialId, toRandomize.shift()!, `dbr-rand-${++writeCounter}`);
      return { op: 'randomize', request: write.request, write };
    }
    if (roll < 0.6) {
      const write = couponWrite(trialId, pick(consented), `dbr-coupon-${++writeCounter}`);
      return { op: 'coupon', request: write.request, write };
    }
    if (roll < 0.7) {
      const label = uniqueLabel('DBR');
      return { op: 'screen', request: screeningRequest(trialId, pick(DRILL_SITES), label), label };
    }
    const reads: ApiRequest[] = [
      { method: 'GET', path: `/v1/trials/${trialId}/participants/${pick(consented)}` },
      { method: 'GET', path: `/v1/trials/${trialId}` },
      { method: 'GET', path: `/v1/trials/${trialId}/incentives?limit=5` },
      { method: 'GET', path: '/healthz', key: null },
    ];
    return { op: 'read', request: pick(reads) };
  }

  const clients = Array.from({ length: CLIENTS }, async () => {
    while (!stopLoad) {
      const operation = nextOperation();
      const response = await api.call({ ...operation.request, timeoutMs: ANSWER_BOUND_MS * 3 });
      exchanges.push({ ...operation, response });
      // A careful client retries a keyed write that got no final answer with the same key, later.
      const unsettled = response.status === 0 || response.status === 503 || isIdempotencyKeyInUse(response);
      if (operation.write && unsettled) pending.push(operation.write);
      await sleep(response.status === 503 || response.status === 0 ? 100 : 10);
    }
  });

  const windows: Window[] = [];
  try {
    for (let restart = 1; restart <= RESTARTS; restart++) {
      await sleep(1_500);
      const stopBegin = performance.now();
      await postgres.stopImmediate();
      const stopEnd = performance.now();
      await sleep(DOWN_MS);
      const startBegin = performance.now();
      await postgres.start();
      const startEnd = performance.now();
      const window: Window = { stopBegin, stopEnd, startBegin, startEnd, recoveryMs: null };
      windows.push(window);
      const deadline = startEnd + 30_000;
      while (performance.now() < deadline) {
        const recovered = exchanges.find(
          (e) => e.response.endedAt >= startEnd && e.response.status >= 200 && e.response.status < 300,
        );
        if (recovered) {
          window.recoveryMs = recovered.response.endedAt - startEnd;
          break;
        }
        await sleep(25);
      }
      await sleep(1_000);
    }
  } finally {
    stopLoad = true;
    await Promise.all(clients);
  }

  const db = await connect();
  const findings: string[] = [];
  let answersWhileDown = 0;
  let status503 = 0;
  let status5xxOther = 0;
  let unanswered = 0;
  let maxAnswerMs = 0;
  let maxAnswerMsWhileDown = 0;
  for (const exchange of exchanges) {
    const { response } = exchange;
    maxAnswerMs = Math.max(maxAnswerMs, response.ms);
    const whileDown = windows.some((w) => response.sentAt >= w.stopEnd && response.endedAt <= w.startBegin);
    if (whileDown) {
      answersWhileDown += 1;
      maxAnswerMsWhileDown = Math.max(maxAnswerMsWhileDown, response.ms);
      if (!isServiceUnavailableProblem(response))
        findings.push(
          `answer while the database was down is not 503 problem+json with Retry-After: ${describeExchange(exchange.request, response)}`,
        );
    }
    if (response.status === 503) {
      status503 += 1;
      if (!isServiceUnavailableProblem(response))
        findings.push(`503 without problem+json or Retry-After: ${describeExchange(exchange.request, response)}`);
    } else if (response.status >= 500) {
      status5xxOther += 1;
      findings.push(`server error: ${describeExchange(exchange.request, response)}`);
    } else if (response.status === 0) {
      unanswered += 1;
      findings.push(`no answer: ${describeExchange(exchange.request, response)}`);
    } else if (response.status >= 400 && !isIdempotencyKeyInUse(response)) {
      findings.push(`unexpected answer: ${describeExchange(exchange.request, response)}`);
    }
    if (response.ms > ANSWER_BOUND_MS)
      findings.push(`answer slower than ${ANSWER_BOUND_MS} ms: ${describeExchange(exchange.request, response)}`);
  }
  windows.forEach((w, i) => {
    if (w.recoveryMs === null || w.recoveryMs > RECOVERY_LIMIT_MS)
      findings.push(
        `restart ${i + 1}: no 2xx answer within ${RECOVERY_LIMIT_MS} ms of the database being back (${w.recoveryMs} ms)`,
      );
  });

  // Writes never acknowledged but committed: their 503 said "Nothing was written".
  const keyed = [...new Map(exchanges.filter((e) => e.write).map((e) => [e.write!.key, e.write!])).values()];
  const acknowledgedText = new Map<string, string>();
  for (const exchange of exchanges) {
    if (!exchange.write || exchange.response.status !== 201) continue;
    const first = acknowledgedText.get(exchange.write.key);
    if (first === undefined) acknowledgedText.set(exchange.write.key, exchange.response.text);
    else if (first !== exchange.response.text)
      findings.push(
        `replay differs from the first answer for key ${exchange.write.key}: ${first} / ${exchange.response.text}`,
      );
  }
  const storedBeforeRetry = await storedWorkOf(db, trialId, keyed);
  const screenings = exchanges.filter((e) => e.op === 'screen');
  const screenedLabels = new Set(
    (
      await db.query<{ label: string }>(
        'SELECT label FROM participants WHERE trial_id = $1 AND label = ANY($2::text[])',
        [trialId, screenings.map((e) => e.label!)],
      )
    ).rows.map((r) => r.label),
  );
  // A write never acknowledged but committed: its transaction was committing when PostgreSQL went
  // down. Fine after a 500 (flagged above anyway) or an answer that says the outcome is unknown; but
  // a 503 saying "Nothing was written" is false, and a client that believes it and sends the request
  // again without a key writes twice.
  const inFlightAtCrash = (e: Exchange) =>
    windows.some((w) => e.response.sentAt <= w.stopEnd && e.response.endedAt >= w.stopBegin);
  let committedUnacknowledged = 0;
  let committedDespite503 = 0;
  for (const write of keyed) {
    const stored = storedBeforeRetry.get(write.key)!;
    if (acknowledgedText.has(write.key) || stored.allocations.length + stored.entries.length === 0) continue;
    committedUnacknowledged += 1;
    const answers = exchanges.filter((e) => e.write?.key === write.key);
    const misleading = answers.filter(inFlightAtCrash).find((e) => claimsNothingWritten(e.response));
    if (misleading) {
      committedDespite503 += 1;
      findings.push(
        `a write answered 503 "Nothing was written" was written (answers: ${answers.map((e) => e.response.status).join(', ')}): ${describeExchange(misleading.request, misleading.response)}`,
      );
    }
  }
  for (const exchange of screenings) {
    if (exchange.response.status >= 500 && screenedLabels.has(exchange.label!)) {
      committedUnacknowledged += 1;
      if (claimsNothingWritten(exchange.response)) {
        committedDespite503 += 1;
        findings.push(
          `a screening answered 503 "Nothing was written" was written (a retry would screen the person twice): ${describeExchange(exchange.request, exchange.response)}`,
        );
      }
    }
  }

  // Nothing acknowledged is lost.
  let acknowledged = 0;
  let recordsLost = 0;
  for (const write of keyed) {
    const text = acknowledgedText.get(write.key);
    if (text === undefined) continue;
    acknowledged += 1;
    const mismatch = mismatchWithAnswer(write, storedBeforeRetry.get(write.key)!, text);
    if (mismatch) {
      recordsLost += 1;
      findings.push(`acknowledged write lost or altered (${mismatch}): key ${write.key}`);
    }
  }
  const screenedIds = screenings
    .filter((e) => e.response.status === 201)
    .map((e) => jsonOf<Participant>(e.response)!.id);
  acknowledged += screenedIds.length;
  const present = await existingParticipants(db, trialId, screenedIds);
  for (const id of screenedIds) {
    if (!present.has(id)) {
      recordsLost += 1;
      findings.push(`acknowledged screening lost: participant ${id}`);
    }
  }

  // Settle every keyed write with its key: one record each, replays equal to the first answer.
  const finals = await inParallel(keyed.length, 16, async (i) =>
    (await sendUntilSettled(api, keyed[i]!.request)).at(-1)!,
  );
  const storedAfter = await storedWorkOf(db, trialId, keyed);
  keyed.forEach((write, i) => {
    const final = finals[i]!;
    const first = acknowledgedText.get(write.key);
    if (final.status !== 201) findings.push(`retry did not settle with 201: ${describeExchange(write.request, final)}`);
    else if (first !== undefined && final.text !== first)
      findings.push(`replay after the drill differs for key ${write.key}: ${first} / ${final.text}`);
    const mismatch = mismatchWithAnswer(write, storedAfter.get(write.key)!, final.text);
    if (mismatch) findings.push(`after settling key ${write.key}: ${mismatch}`);
  });
  const { violations, counts } = await checkInvariants(db, trialId);
  findings.push(...violations);
  const chain = await verifyAuditChain(api, trialId);
  if (!chain.valid) findings.push(`audit chain broken: ${JSON.stringify(chain.firstBrokenLink)}`);
  const logged = service.logLines().filter((line) => /"level":(50|60)/.test(line));
  if (logged.length) findings.push(`service logged errors:\n${logged.slice(0, 10).join('\n')}`);

  const recoverySeconds = windows.map((w) => (w.recoveryMs ?? Infinity) / 1000);
  recordFigures('db-restart', {
    restarts: windows.length,
    requests: exchanges.length,
    answersWhileDown,
    status503,
    status5xxOther,
    unanswered,
    maxAnswerMsWhileDown: Math.round(maxAnswerMsWhileDown),
    maxAnswerMs: Math.round(maxAnswerMs),
    recoverySeconds: recoverySeconds.map((s) => s.toFixed(2)).join(', '),
    maxRecoverySeconds: Number(Math.max(...recoverySeconds).toFixed(2)),
    acknowledged,
    recordsLost,
    committedUnacknowledged,
    committedDespite503,
    allocations: counts.allocations,
    ledgerEntries: counts.ledgerEntries,
    auditRowsVerified: chain.rowsChecked,
  });

  expect(service.unexpectedExits()).toEqual([]);
  expect(service.pid).toBe(servicePid);
  expect(findings).toEqual([]);
  expect(answersWhileDown).toBeGreaterThan(0);
  expect(status5xxOther).toBe(0);
  expect(recordsLost).toBe(0);
});

it('does not answer "Nothing was written" for a write whose COMMIT PostgreSQL made durable before it crashed', async () => {
  // Two trials: writes to one trial queue behind each other on its audit chain head, so only one of
  // them could be in COMMIT at a time.
  const screeningTrial = await createDrillTrial(api, 'in-doubt commit drill (screening)');
  const couponTrial = await createDrillTrial(api, 'in-doubt commit drill (coupon)');
  const [participantId] = await consentedServiceUsers(api, couponTrial, 1);
  const label = uniqueLabel('INDOUBT');
  const screening = screeningRequest(screeningTrial, 'A', label);
  const coupon = couponWrite(couponTrial, participantId!, `in-doubt-${label}`);
  const servicePid = service.pid;

  await postgres.psql(`ALTER SYSTEM SET synchronous_standby_names = 'drill_standby_that_never_connects'`);
  await postgres.psql('SELECT pg_reload_conf()');
  let answers: DrillResponse[];
  let waitingInCommit = 0;
  try {
    const inFlight = Promise.all([
      api.call({ ...screening, timeoutMs: 60_000 }),
      api.call({ ...coupon.request, timeoutMs: 60_000 }),
    ]);
    const deadline = performance.now() + 20_000;
    while (waitingInCommit < 2 && performance.now() < deadline) {
      await sleep(50);
      const out = await postgres.psql(
        `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'trialdesk' AND wait_event = 'SyncRep'`,
      );
      // A psql call that fails while the server is busy prints no count: poll again rather than stop (NaN < 2 is
      // false, which ended the wait at once in one clean-clone run).
      const count = Number.parseInt(out.trim(), 10);
      waitingInCommit = Number.isFinite(count) ? count : 0;
    }
    await postgres.stopImmediate();
    answers = await inFlight;
    await postgres.start();
  } finally {
    if (
      !(await postgres.psql('SELECT 1').then(
        () => true,
        () => false,
      ))
    )
      await postgres.start();
    await postgres.psql('ALTER SYSTEM RESET synchronous_standby_names');
    await postgres.psql('SELECT pg_reload_conf()');
  }

  const db = await connect();
  const screened = (
    await db.query('SELECT participant_id FROM participants WHERE trial_id = $1 AND label = $2', [
      screeningTrial,
      label,
    ])
  ).rows.length;
  const issued = (
    await db.query(`SELECT entry_id FROM incentive_ledger WHERE trial_id = $1 AND reference = $2`, [
      couponTrial,
      coupon.reference,
    ])
  ).rows.length;
  const [screeningAnswer, couponAnswer] = answers;
  const findings: string[] = [];
  for (const [request, answer, written] of [
    [screening, screeningAnswer!, screened],
    [coupon.request, couponAnswer!, issued],
  ] as const) {
    if (!isServiceUnavailableProblem(answer))
      findings.push(`not 503 problem+json with Retry-After: ${describeExchange(request, answer)}`);
    if (written && claimsNothingWritten(answer))
      findings.push(`written, but answered "Nothing was written": ${describeExchange(request, answer)}`);
  }
  const retry = (await sendUntilSettled(api, coupon.request)).at(-1)!;
  const afterRetry = (await storedWorkOf(db, couponTrial, [coupon])).get(coupon.key)!;
  const mismatch =
    retry.status === 201
      ? mismatchWithAnswer(coupon, afterRetry, retry.text)
      : `retry answered ${describeExchange(coupon.request, retry)}`;
  if (mismatch) findings.push(`keyed retry after the in-doubt commit: ${mismatch}`);

  recordFigures('db-restart-in-doubt-commit', {
    commitsInFlightAtCrash: waitingInCommit,
    writtenDespiteCrash: screened + issued,
    screeningStatus: screeningAnswer!.status,
    couponStatus: couponAnswer!.status,
    misleadingNothingWritten: findings.filter((f) => f.startsWith('written, but')).length,
  });

  expect(service.unexpectedExits()).toEqual([]);
  expect(service.pid).toBe(servicePid);
  // The drill only proves something if both COMMITs were waiting when PostgreSQL went down.
  expect(waitingInCommit).toBe(2);
  expect(findings).toEqual([]);
});
