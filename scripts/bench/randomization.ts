import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import { createTrialdeskClient } from '../../src/client';
import { consentedServiceUser, createActiveTrial } from './fixtures';
import {
  CpuShare,
  inParallel,
  LatencySummary,
  recordStatements,
  RssSampler,
  runClosedLoop,
  StatementProfile,
  withCpuShare,
} from './measure';
import type { RunningService } from './service';

/**
 * What sends the measured randomizations: the typed client, or plain fetch (same keep-alive
 * undici pool, no Request objects or middleware). The load generator shares this process's
 * event loop with the service, so a cheaper driver leaves more of it to the service.
 */
export type Driver = 'typed' | 'fetch';

export function randomizer(
  service: RunningService,
  driver: Driver,
): (trialId: string, participantId: string) => Promise<unknown> {
  if (driver === 'typed') return (trialId, participantId) => service.client.randomize(trialId, participantId);
  return async (trialId, participantId) => {
    const response = await fetch(
      `${service.baseUrl}/v1/trials/${trialId}/participants/${participantId}/randomization`,
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${service.adminKey}` },
      },
    );
    const body = await response.text();
    if (response.status !== 201) throw new Error(`randomization answered ${response.status}: ${body.slice(0, 300)}`);
    return body;
  };
}

/** How many requests prepare participants at once: enough to keep the pool busy, not a measured figure. */
const PREPARE_WIDTH = 16;

export interface RandomizationLevel {
  concurrency: number;
  participants: number;
  /** Strata the participants spread over (one per site). */
  strata: number;
  service: LatencySummary;
  ceiling: LatencySummary;
  /** service.rate / ceiling.rate */
  ratio: number;
  /**
   * Diagnostic: a transaction with as many statements as a randomization sends (trivial ones), same pool and
   * concurrency.
   */
  statementMatched: LatencySummary;
  /**
   * Diagnostic, the bound the audit chain imposes: BEGIN, one audit row for the level's trial (linked by the chain
   * trigger, so it takes the trial's chain-head lock and keeps it until after COMMIT's WAL flush), COMMIT; same pool
   * and concurrency. Every audited write of one trial commits one at a time behind that lock, so no randomization of
   * one trial can exceed this rate while the chain is linked inside the transaction.
   */
  chainHead: LatencySummary;
  statements: StatementProfile;
  /** Cores busy during the measured randomizations. */
  cpu: CpuShare;
  driver: Driver;
  preparedInSeconds: number;
  peakRssMiB: number;
}

/**
 * The ceiling: the commit rate of the smallest durable transaction (BEGIN; one INSERT; COMMIT)
 * through the service's own knex pool at the same concurrency. Every randomization needs at least
 * one such commit, so no implementation on this pool and server can exceed this rate.
 */
export async function ceilingTransactions(knex: Knex, count: number, concurrency: number): Promise<LatencySummary> {
  await knex.raw('CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, v int)');
  return runClosedLoop(count, concurrency, (i) => knex.transaction((trx) => trx('bench_ceiling').insert({ v: i })));
}

/**
 * A diagnostic, not the ceiling: BEGIN, `statements - 3` trivial SELECTs, one INSERT, COMMIT. It
 * costs what the randomization's round trips cost through knex and pg, without HTTP, locks or
 * real work, and so separates "too many statements" from everything else.
 */
export async function statementMatchedTransactions(
  knex: Knex,
  count: number,
  concurrency: number,
  statements: number,
): Promise<LatencySummary> {
  await knex.raw('CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, v int)');
  return runClosedLoop(count, concurrency, (i) =>
    knex.transaction(async (trx) => {
      for (let s = 0; s < statements - 3; s++) await trx.raw('SELECT ?::int AS n', [s]);
      await trx('bench_ceiling').insert({ v: i });
    }),
  );
}

/** See RandomizationLevel.chainHead. The rows are written to the benchmark trial's own trail. */
export async function chainHeadTransactions(
  knex: Knex,
  trialId: string,
  count: number,
  concurrency: number,
): Promise<LatencySummary> {
  return runClosedLoop(count, concurrency, (i) =>
    knex.transaction((trx) =>
      trx('audit_events').insert({
        trial_id: trialId,
        actor_role: 'admin',
        action: 'bench.chain_head',
        entity_type: 'bench',
        entity_id: String(i),
        after: JSON.stringify({ i }),
      }),
    ),
  );
}

/**
 * Randomizations per second at one concurrency: a fresh active trial, `participants` consented
 * service users prepared through the API, then every one of them randomized with `concurrency`
 * requests in flight. The ceiling is measured right after, on the same pool.
 */
export async function measureRandomization(
  service: RunningService,
  options: { concurrency: number; participants: number; sites: number; driver: Driver; rss: RssSampler },
): Promise<RandomizationLevel> {
  const td = service.client;
  const prepareStarted = Date.now();
  const trial = await createActiveTrial(td, options.sites);
  const ids = await inParallel(options.participants, PREPARE_WIDTH, (i) => consentedServiceUser(td, trial, i));
  const preparedInSeconds = (Date.now() - prepareStarted) / 1000;

  options.rss.reset();
  const recorder = recordStatements(service.db.knex);
  const randomize = randomizer(service, options.driver);
  const { result: serviceSummary, cpu } = await withCpuShare(
    () => runClosedLoop(ids.length, options.concurrency, (i) => randomize(trial.id, ids[i]!)),
    service.db.kind === 'postgresql' ? service.db.knex : null,
  );
  const statements = recorder.stop();
  const peakRssMiB = options.rss.reset();

  const ceiling = await ceilingTransactions(service.db.knex, Math.max(ids.length, 200), options.concurrency);
  const perRandomization = Math.round(statements.statements / ids.length);
  const statementMatched = await statementMatchedTransactions(
    service.db.knex,
    Math.max(ids.length, 200),
    options.concurrency,
    perRandomization,
  );
  const chainHead = await chainHeadTransactions(
    service.db.knex,
    trial.id,
    Math.max(ids.length, 200),
    options.concurrency,
  );
  return {
    concurrency: options.concurrency,
    participants: options.participants,
    strata: options.sites,
    service: serviceSummary,
    ceiling,
    ratio: serviceSummary.rate / ceiling.rate,
    statementMatched,
    chainHead,
    statements,
    cpu,
    driver: options.driver,
    preparedInSeconds,
    peakRssMiB,
  };
}

/** Randomizes a few participants on a throwaway trial so that the measured levels run warm (JIT, pool, plan cache). */
export async function warmUp(service: RunningService, participants: number): Promise<void> {
  const trial = await createActiveTrial(service.client, 3);
  const ids = await inParallel(participants, PREPARE_WIDTH, (i) => consentedServiceUser(service.client, trial, i));
  await inParallel(ids.length, 4, (i) => service.client.randomize(trial.id, ids[i]!));
  await ceilingTransactions(service.db.knex, 50, 4);
}

/**
 * What the load generator itself can do: the typed client against a stub server in this process
 * that answers every randomization with a canned 201. If this rate is far above the service's,
 * the client is not what limits the measurement; 1/rate is its (and HTTP's) cost per request.
 */
export async function measureClientCeiling(
  count: number,
  concurrency: number,
): Promise<{ typed: LatencySummary; plainFetch: LatencySummary }> {
  const allocation = JSON.stringify({
    allocationId: '00000000-0000-4000-8000-000000000001',
    participantId: '00000000-0000-4000-8000-000000000002',
    arm: 'SMCM',
    stratum: { site: 'A' },
    randomizedAt: new Date().toISOString(),
    error: null,
  });
  const stub = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(allocation) });
      res.end(allocation);
    });
  });
  stub.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  try {
    const baseUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    const td = createTrialdeskClient({ baseUrl, apiKey: 'td_stub' });
    const trialId = '00000000-0000-4000-8000-000000000003';
    const participantId = '00000000-0000-4000-8000-000000000002';
    const typedCall = () => td.randomize(trialId, participantId);
    const plainCall = async () => {
      const response = await fetch(`${baseUrl}/v1/trials/${trialId}/participants/${participantId}/randomization`, {
        method: 'POST',
        headers: { Authorization: 'Bearer td_stub' },
      });
      if (response.status !== 201) throw new Error(`stub answered ${response.status}`);
      return response.json();
    };
    await runClosedLoop(200, concurrency, typedCall);
    await runClosedLoop(200, concurrency, plainCall);
    return {
      typed: await runClosedLoop(count, concurrency, typedCall),
      plainFetch: await runClosedLoop(count, concurrency, plainCall),
    };
  } finally {
    stub.closeAllConnections();
    await new Promise((resolve) => stub.close(resolve));
  }
}
