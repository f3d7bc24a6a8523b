/**
 * Multi-trial scenario (#19, docs/benchmarks.md): do trials contend with one another?
 *
 *   npx tsx scripts/bench/multi-trial.ts [--database-url URL] [--embedded] [--trials 8] [--participants 40]
 *                                        [--concurrency 32] [--sites 3] [--pool-max N]
 *
 * Prepares `trials` active trials with `participants` consented service users each, and one more trial with
 * trials × participants, all through the API. Then, with the same total number of requests in flight:
 *
 * - one trial: every randomization goes to the single large trial;
 * - all trials at once: the same number of randomizations spread over the `trials` trials, each request picking the
 *   next participant of trial i mod `trials`;
 *
 * and, right after each phase, the ceiling (BEGIN; INSERT; COMMIT on the same pool and concurrency). On PostgreSQL a
 * second connection samples `pg_stat_activity` every 10 ms and counts the scratch database's backends waiting for a
 * lock (`wait_event_type = 'Lock'`): within one trial the randomizations queue on the stratum cursors and the trial's
 * audit chain head; if trials did not contend, spreading the same load over eight trials makes those waits vanish and
 * the rate is bound by CPU and commits instead.
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { DEFAULT_DATABASE_LIMITS, type DatabaseConfig } from '../../src/config';
import { consentedServiceUser, createActiveTrial, type Trial } from './fixtures';
import { inParallel, type LatencySummary, runClosedLoop, withCpuShare, type CpuShare } from './measure';
import { ceilingTransactions, randomizer, warmUp } from './randomization';
import { fixed } from './report';
import { createScratchDatabase, type RunningService, startService } from './service';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    embedded: { type: 'boolean', default: false },
    trials: { type: 'string', default: '8' },
    participants: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '32' },
    sites: { type: 'string', default: '3' },
    'pool-max': { type: 'string', default: '10' },
  },
});

const PREPARE_WIDTH = 16;

interface Phase {
  name: string;
  trials: number;
  service: LatencySummary;
  ceiling: LatencySummary;
  cpu: CpuShare;
  /** Mean number of this database's backends waiting for a lock, sampled every 10 ms; null on the embedded database. */
  meanLockWaiters: number | null;
}

/** Samples the backends of `database` waiting for a lock while `work` runs. */
async function withLockSampling<T>(
  serverUrl: string | null,
  database: string | null,
  work: () => Promise<T>,
): Promise<{ result: T; meanLockWaiters: number | null }> {
  if (!serverUrl || !database) return { result: await work(), meanLockWaiters: null };
  const sampler = new Client({ connectionString: serverUrl });
  await sampler.connect();
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await sampler.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        [database],
      );
      samples.push(Number(rows[0]!.n));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    const result = await work();
    return { result, meanLockWaiters: samples.reduce((s, n) => s + n, 0) / Math.max(samples.length, 1) };
  } finally {
    running = false;
    await loop;
    await sampler.end();
  }
}

async function prepare(service: RunningService, trials: number, participants: number, sites: number) {
  const many: { trial: Trial; ids: string[] }[] = [];
  for (let t = 0; t < trials; t++) {
    const trial = await createActiveTrial(service.client, sites);
    many.push({
      trial,
      ids: await inParallel(participants, PREPARE_WIDTH, (i) => consentedServiceUser(service.client, trial, i)),
    });
  }
  const solo = await createActiveTrial(service.client, sites);
  const soloIds = await inParallel(trials * participants, PREPARE_WIDTH, (i) =>
    consentedServiceUser(service.client, solo, i),
  );
  return { many, solo: { trial: solo, ids: soloIds } };
}

async function runPhase(
  service: RunningService,
  name: string,
  work: { trialId: string; participantId: string }[],
  concurrency: number,
  sampling: { serverUrl: string | null; database: string | null },
): Promise<Phase> {
  const send = randomizer(service, 'fetch');
  const randomize = (i: number) => send(work[i]!.trialId, work[i]!.participantId);
  const { result, meanLockWaiters } = await withLockSampling(sampling.serverUrl, sampling.database, () =>
    withCpuShare(
      () => runClosedLoop(work.length, concurrency, randomize),
      service.db.kind === 'postgresql' ? service.db.knex : null,
    ),
  );
  const ceiling = await ceilingTransactions(service.db.knex, Math.max(work.length, 200), concurrency);
  return {
    name,
    trials: new Set(work.map((w) => w.trialId)).size,
    service: result.result,
    cpu: result.cpu,
    ceiling,
    meanLockWaiters,
  };
}

async function measure(config: DatabaseConfig, sampling: { serverUrl: string | null; database: string | null }) {
  const trials = Number(values.trials);
  const participants = Number(values.participants);
  const concurrency = Number(values.concurrency);
  const service = await startService(config);
  try {
    await warmUp(service, 30);
    const started = Date.now();
    const { many, solo } = await prepare(service, trials, participants, Number(values.sites));
    process.stderr.write(`prepared ${trials * participants * 2} participants in ${(Date.now() - started) / 1000} s\n`);
    const spread = Array.from({ length: trials * participants }, (_, i) => {
      const { trial, ids } = many[i % trials]!;
      return { trialId: trial.id, participantId: ids[Math.floor(i / trials)]! };
    });
    const single = solo.ids.map((participantId) => ({ trialId: solo.trial.id, participantId }));
    return [
      await runPhase(service, 'one trial', single, concurrency, sampling),
      await runPhase(service, `${trials} trials at once`, spread, concurrency, sampling),
    ];
  } finally {
    await service.close();
  }
}

async function main(): Promise<void> {
  const poolMax = Number(values['pool-max']);
  const limits = { ...DEFAULT_DATABASE_LIMITS, statementTimeoutMs: 0 };
  let phases: Phase[];
  if (values.embedded) {
    phases = await measure(
      { kind: 'embedded', dataDir: null, poolMax: 1, ...limits },
      { serverUrl: null, database: null },
    );
  } else {
    const serverUrl = values['database-url'] ?? process.env.DATABASE_URL;
    if (!serverUrl) throw new Error('--database-url (or DATABASE_URL) or --embedded is required');
    const scratch = await createScratchDatabase(serverUrl);
    try {
      phases = await measure(
        { kind: 'postgresql', url: scratch.url, poolMax, ...limits },
        { serverUrl, database: scratch.name },
      );
    } finally {
      await scratch.drop();
    }
  }
  const lines = [
    '| phase | randomizations/s | ceiling commits/s | ratio | p50 / p99 ms | backends waiting for a lock (mean) | cores: node / postgres / machine |',
    '|---|---|---|---|---|---|---|',
    ...phases.map(
      (p) =>
        `| ${p.name} | ${fixed(p.service.rate)} | ${fixed(p.ceiling.rate)} | ${fixed((100 * p.service.rate) / p.ceiling.rate, 0)} % | ` +
        `${fixed(p.service.p50Ms)} / ${fixed(p.service.p99Ms)} | ${p.meanLockWaiters === null ? '—' : fixed(p.meanLockWaiters, 1)} | ` +
        `${fixed(p.cpu.processCores, 2)} / ${p.cpu.postgresCores === null ? '—' : fixed(p.cpu.postgresCores, 2)} / ${fixed(p.cpu.machineCores, 2)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
