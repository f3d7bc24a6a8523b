import type pg from 'pg';
import { checkInvariants, mismatchWithAnswer, openDrillClient, storedWorkOf } from './support/drill-checks';
import { describeExchange, DrillResponse, jsonOf } from './support/drill-http';
import {
  consentedServiceUsers,
  couponWrite,
  createDrillTrial,
  DrillApi,
  inParallel,
  KeyedWrite,
  newAdminKey,
  pick,
  randomizeWrite,
  range,
  sendUntilSettled,
  shuffled,
  sleep,
  verifyAuditChain,
} from './support/drill-world';
import { recordFigures } from './support/figures';
import { PrivatePostgres } from './support/private-postgres';
import { ServiceProcess } from './support/service-process';

/*
 * kill -9 drill. Each round: 32 clients randomize fresh consented service users and issue coupons,
 * every request with its own Idempotency-Key; at a random moment the service gets SIGKILL. It is
 * restarted on the same database, and then:
 * - every request answered 2xx before the kill is in the database, equal to the answer;
 * - every request of the round (answered, cut off, or never sent) is retried with its key: the
 *   acknowledged ones replay their first answer byte for byte (docs/randomization.md promises it;
 *   incentives "work as for randomization"), and afterwards each key has exactly one allocation or
 *   ledger entry, equal to the final answer;
 * - no allocation or ledger entry without its audit row, no stratum slot consumed without its
 *   allocation, no participant with two allocations, no work without its idempotency record;
 * - the trial's audit hash chain verifies.
 */

const ITERATIONS = Number(process.env.DRILL_KILL_ITERATIONS || 20);
const WIDTH = 32;
const RANDOMIZATIONS_PER_ROUND = 32;
const COUPONS_PER_ROUND = 32;

let postgres: PrivatePostgres | undefined;
let service: ServiceProcess | undefined;
let db: pg.Client | undefined;

afterAll(async () => {
  await service?.stop().catch(() => undefined);
  await db?.end().catch(() => undefined);
  await postgres?.destroy();
});

interface RoundLoad {
  /** First attempt of each write; null: not sent before the kill. */
  first: (DrillResponse | null)[];
  killAtMs: number;
  inFlightAtKill: number;
  completedBeforeKill: number;
}

/** Sends the writes with WIDTH clients and kills the service after `killDelayMs`; no new request starts after that. */
async function loadUntilKilled(
  api: DrillApi,
  target: ServiceProcess,
  writes: KeyedWrite[],
  killDelayMs: number,
): Promise<RoundLoad> {
  const first: (DrillResponse | null)[] = writes.map(() => null);
  let next = 0;
  let inFlight = 0;
  let completed = 0;
  let killed = false;
  const load: RoundLoad = { first, killAtMs: killDelayMs, inFlightAtKill: 0, completedBeforeKill: 0 };
  const kill = sleep(killDelayMs).then(async () => {
    killed = true;
    load.inFlightAtKill = inFlight;
    load.completedBeforeKill = completed;
    await target.kill9();
  });
  await Promise.all(
    Array.from({ length: WIDTH }, async () => {
      while (!killed && next < writes.length) {
        const i = next++;
        inFlight += 1;
        first[i] = await api.call(writes[i]!.request);
        inFlight -= 1;
        completed += 1;
      }
    }),
  );
  await kill;
  return load;
}

it(`keeps every acknowledged write and all invariants through ${ITERATIONS} kill -9 of the service under load`, async () => {
  const adminKey = newAdminKey();
  postgres = await PrivatePostgres.create('kill9');
  const url = await postgres.createDatabase('trialdesk');
  service = await ServiceProcess.start({ databaseUrl: url, adminApiKey: adminKey });
  db = await openDrillClient(url);
  const api = new DrillApi(service.baseUrl, adminKey);
  const trialId = await createDrillTrial(api, 'kill -9 drill');

  const findings: string[] = [];
  const consented: string[] = [];
  const killPoints: number[] = [];
  const inFlightAtKill: number[] = [];
  // How long the round's writes take without a kill; the retries of each round (same width) re-measure it.
  let estimatedLoadMs = 1_000;
  let requestsSent = 0;
  let acknowledged = 0;
  let committedUnacknowledged = 0;
  let recordsLost = 0;
  let replaysMatched = 0;
  let retriesSent = 0;
  let unexpectedAnswers = 0;
  let chainRows = 0;

  for (let round = 1; round <= ITERATIONS; round++) {
    const marks: [string, number][] = [['start', performance.now()]];
    const mark = (name: string) => marks.push([name, performance.now()]);
    const fresh = await consentedServiceUsers(api, trialId, RANDOMIZATIONS_PER_ROUND);
    consented.push(...fresh);
    const writes = shuffled([
      ...fresh.map((participantId, i) => randomizeWrite(trialId, participantId, `k9-${round}-rand-${i}`)),
      ...Array.from({ length: COUPONS_PER_ROUND }, (_, i) =>
        couponWrite(trialId, pick(consented), `k9-${round}-coupon-${i}`),
      ),
    ]);
    const logMark = service.logMark();
    mark('prepared');

    // Somewhere in the load, so that kills land with requests in flight and some already answered.
    const killDelay = Math.round(10 + Math.random() * estimatedLoadMs * 0.8);
    const load = await loadUntilKilled(api, service, writes, killDelay);
    mark('killed');
    killPoints.push(load.killAtMs);
    inFlightAtKill.push(load.inFlightAtKill);
    const sent = load.first.filter((r) => r !== null).length;
    requestsSent += sent;

    // Restart, and meanwhile look in the database for every acknowledged write.
    const [, storedBefore] = await Promise.all([service.start(), storedWorkOf(db, trialId, writes)]);
    writes.forEach((write, i) => {
      const answer = load.first[i];
      const stored = storedBefore.get(write.key)!;
      if (answer && answer.status >= 200 && answer.status < 300) {
        acknowledged += 1;
        const mismatch = mismatchWithAnswer(write, stored, answer.text);
        if (mismatch) {
          recordsLost += 1;
          findings.push(
            `round ${round}: acknowledged write lost or altered after kill -9 (${mismatch}): ${describeExchange(write.request, answer)}`,
          );
        }
      } else {
        if (stored.allocations.length + stored.entries.length > 0) committedUnacknowledged += 1;
        if (answer && answer.status !== 0 && answer.status !== 503) {
          unexpectedAnswers += 1;
          findings.push(
            `round ${round}: unexpected first answer before the kill: ${describeExchange(write.request, answer)}`,
          );
        }
      }
    });

    mark('restarted');
    // Retry every write of the round with its key.
    const retryStarted = performance.now();
    const retries = await inParallel(writes.length, WIDTH, (i) => sendUntilSettled(api, writes[i]!.request));
    estimatedLoadMs = Math.min(5_000, Math.max(200, performance.now() - retryStarted));
    retriesSent += retries.reduce((n, attempts) => n + attempts.length, 0);
    const storedAfter = await storedWorkOf(db, trialId, writes);
    writes.forEach((write, i) => {
      const final = retries[i]!.at(-1)!;
      const answer = load.first[i];
      if (final.status !== 201) {
        findings.push(`round ${round}: retry did not settle with 201: ${describeExchange(write.request, final)}`);
        return;
      }
      if (answer && answer.status === 201) {
        if (final.text === answer.text) replaysMatched += 1;
        else
          findings.push(
            `round ${round}: replay differs from the acknowledged answer: first ${answer.text} / replay ${final.text}`,
          );
      }
      const mismatch = mismatchWithAnswer(write, storedAfter.get(write.key)!, final.text);
      if (mismatch) findings.push(`round ${round}: after retrying key ${write.key}: ${mismatch}`);
    });

    mark('retried');
    const { violations } = await checkInvariants(db, trialId);
    findings.push(...violations.map((v) => `round ${round}: ${v}`));
    const chain = await verifyAuditChain(api, trialId);
    chainRows = chain.rowsChecked;
    if (!chain.valid) findings.push(`round ${round}: audit chain broken: ${JSON.stringify(chain.firstBrokenLink)}`);

    const errors = service.logLines(logMark).filter((line) => /"level":(50|60)/.test(line));
    if (errors.length) findings.push(`round ${round}: service logged errors:\n${errors.slice(0, 10).join('\n')}`);
    if (service.unexpectedExits().length)
      findings.push(`round ${round}: the service exited by itself: ${JSON.stringify(service.unexpectedExits())}`);
    mark('checked');
    if (process.env.DRILL_DEBUG) {
      const phases = marks
        .slice(1)
        .map(([name, at], i) => `${name} ${Math.round(at - marks[i]![1])}`)
        .join(', ');
      process.stdout.write(
        `[kill9] round ${round}: kill at ${load.killAtMs} ms, ${load.inFlightAtKill} in flight, ${load.completedBeforeKill} answered; ${phases} ms\n`,
      );
    }
  }

  const { counts } = await checkInvariants(db, trialId);
  const figures = {
    iterations: ITERATIONS,
    requestsSent,
    acknowledged,
    committedUnacknowledged,
    recordsLost,
    replaysMatched,
    retriesSent,
    unexpectedAnswers,
    killPointsMs: range(killPoints),
    inFlightAtKill: range(inFlightAtKill),
    restartMs: range(service.startupMs.slice(1)),
    helperProcesses: [...service.helperCommands].join(' ') || 'none',
    orphanedHelpers: service.orphans.length,
    allocations: counts.allocations,
    ledgerEntries: counts.ledgerEntries,
    auditRowsVerified: chainRows,
  };
  recordFigures('kill9', figures);

  // SIGKILL reached the whole service: no node child process, no helper outliving it.
  expect([...service.helperCommands].filter((command) => /node/.test(command))).toEqual([]);
  expect(service.orphans).toEqual([]);
  expect(findings).toEqual([]);
  expect(recordsLost).toBe(0);
  expect(replaysMatched).toBe(acknowledged);
  // The drill is only worth something if kills hit requests in flight.
  expect(inFlightAtKill.filter((n) => n > 0).length).toBeGreaterThanOrEqual(Math.ceil(ITERATIONS / 2));
  expect(jsonOf(await api.call({ method: 'GET', path: '/healthz', key: null }))).toMatchObject({ status: 'ok' });
});
