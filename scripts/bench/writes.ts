/**
 * The writes on a coordinator's path, timed (docs/benchmarks.md, #19): screening, consent, randomization and coupon
 * issue at each concurrency, each against the minimal durable commit (the ceiling) and the trial's audit chain head
 * (BEGIN, one audit row, COMMIT on the same trial) measured right after it on the same pool and concurrency, with the
 * statements per operation counted from knex's query events and the load average of the machine.
 *
 *   npx tsx scripts/bench/writes.ts --database-url URL [--levels 1,8,32] [--participants 300] [--sites 3]
 *   npx tsx scripts/bench/writes.ts --embedded [--embedded-storage memory|file] [--levels 1,8,32] ...
 *
 * With --embedded the service runs on PGlite (one connection, in this process), in memory or file-backed in a fresh
 * temporary directory; the ceiling and the chain head run on that same connection.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_DATABASE_LIMITS, type DatabaseConfig } from '../../src/config';
import { createActiveTrial, serviceUser, Trial } from './fixtures';
import { LatencySummary, recordStatements, runClosedLoop, withCpuShare } from './measure';
import { ceilingTransactions, chainHeadTransactions, randomizer, warmUp } from './randomization';
import { fixed, formatTable, ResultRow, writeResults } from './report';
import {
  createScratchDatabase,
  embeddedBenchDatabase,
  parseEmbeddedStorage,
  RunningService,
  startService,
} from './service';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    embedded: { type: 'boolean', default: false },
    'embedded-storage': { type: 'string', default: 'memory' },
    levels: { type: 'string', default: '1,8,32' },
    participants: { type: 'string', default: '300' },
    sites: { type: 'string', default: '3' },
  },
});

interface Measured {
  write: string;
  concurrency: number;
  service: LatencySummary;
  ceiling: LatencySummary;
  chainHead: LatencySummary;
  statementsPerOperation: number;
  cores: { node: number; postgres: number | null; machine: number };
  loadAverage: [number, number];
}

async function measureWrite(
  service: RunningService,
  trial: Trial,
  write: string,
  concurrency: number,
  count: number,
  operation: (i: number) => Promise<unknown>,
): Promise<Measured> {
  const load0 = os.loadavg()[0]!;
  const recorder = recordStatements(service.db.knex);
  const { result, cpu } = await withCpuShare(
    () => runClosedLoop(count, concurrency, operation),
    service.db.kind === 'postgresql' ? service.db.knex : null,
  );
  const profile = recorder.stop();
  const ceiling = await ceilingTransactions(service.db.knex, Math.max(count, 200), concurrency);
  const chainHead = await chainHeadTransactions(service.db.knex, trial.id, Math.max(count, 200), concurrency);
  return {
    write,
    concurrency,
    service: result,
    ceiling,
    chainHead,
    statementsPerOperation: profile.statements / count,
    cores: { node: cpu.processCores, postgres: cpu.postgresCores, machine: cpu.machineCores },
    loadAverage: [load0, os.loadavg()[0]!],
  };
}

async function main(): Promise<void> {
  const url = values['database-url'];
  if (!url && !values.embedded) throw new Error('--database-url or --embedded is required');
  const levels = values.levels!.split(',').map(Number);
  const n = Number(values.participants);
  const sites = Number(values.sites);
  const started = Date.now();
  let config: DatabaseConfig;
  let cleanup: () => Promise<void>;
  if (values.embedded) {
    const embedded = embeddedBenchDatabase(parseEmbeddedStorage(values['embedded-storage']), DEFAULT_DATABASE_LIMITS);
    config = embedded.config;
    cleanup = async () => embedded.remove();
    process.stderr.write(`embedded: ${embedded.dataDir ? `file-backed in ${embedded.dataDir}` : 'in memory'}\n`);
  } else {
    const scratch = await createScratchDatabase(url!);
    config = { kind: 'postgresql', url: scratch.url, poolMax: 10, ...DEFAULT_DATABASE_LIMITS };
    cleanup = () => scratch.drop();
  }
  const database = config.kind;
  const measured: Measured[] = [];
  let service: RunningService;
  try {
    service = await startService(config);
  } catch (error) {
    await cleanup();
    throw error;
  }
  try {
    await warmUp(service, 30);
    const td = service.client;
    const randomize = randomizer(service, 'fetch');
    for (const c of levels) {
      const trial = await createActiveTrial(td, sites);
      const ids: string[] = new Array<string>(n);
      measured.push(
        await measureWrite(service, trial, 'screening', c, n, async (i) => {
          const site = trial.sites[i % trial.sites.length]!.code;
          const participant = await td.post('/v1/trials/{trialId}/participants', {
            params: { path: { trialId: trial.id } },
            body: serviceUser(i, site),
          });
          ids[i] = participant.id;
        }),
      );
      measured.push(
        await measureWrite(service, trial, 'consent', c, n, (i) =>
          td.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
            params: { path: { trialId: trial.id, participantId: ids[i]! } },
            body: {
              form: 'trial',
              version: '1.0',
              decision: 'granted',
              signedOn: '2018-03-02',
              obtainedBy: 'IW',
              method: 'written',
            },
          }),
        ),
      );
      measured.push(await measureWrite(service, trial, 'randomization', c, n, (i) => randomize(trial.id, ids[i]!)));
      measured.push(
        await measureWrite(service, trial, 'coupon issue', c, n, (i) =>
          td.post('/v1/trials/{trialId}/participants/{participantId}/incentives', {
            params: { path: { trialId: trial.id, participantId: ids[i]! } },
            body: { incentive: 'interview_coupon', issuedOn: '2018-03-03', reference: `C-${i}` },
          }),
        ),
      );
      process.stderr.write(`c=${c} done after ${fixed((Date.now() - started) / 1000)} s\n`);
    }
  } finally {
    await service.close();
    await cleanup();
  }
  const rows: ResultRow[] = measured.flatMap((m) => [
    {
      database,
      figure: `${m.write}/s, c=${m.concurrency} (load ${fixed(m.loadAverage[0], 2)} → ${fixed(m.loadAverage[1], 2)})`,
      value: `${fixed(m.service.rate)}/s, p50/p99 ${fixed(m.service.p50Ms)} / ${fixed(m.service.p99Ms)} ms, ${fixed(m.statementsPerOperation, 1)} stmts`,
      ceiling: `${fixed(m.ceiling.rate)} commits/s`,
      ratio: m.service.rate / m.ceiling.rate,
    },
    {
      database,
      figure: `  chain head only, c=${m.concurrency}; cores node / postgres / machine`,
      value: `${fixed(m.chainHead.rate)} txn/s; ${fixed(m.cores.node, 2)} / ${m.cores.postgres === null ? '—' : fixed(m.cores.postgres, 2)} / ${fixed(m.cores.machine, 2)}`,
      ceiling: `${fixed(m.ceiling.rate)} commits/s`,
      ratio: m.chainHead.rate / m.ceiling.rate,
    },
  ]);
  process.stdout.write(`${formatTable(rows)}\n`);
  const file = writeResults({
    script: 'writes',
    database,
    embeddedStorage: values.embedded ? values['embedded-storage'] : null,
    startedAt: new Date(started).toISOString(),
    levels,
    n,
    sites,
    measured,
  });
  process.stdout.write(`Results written to ${file}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
