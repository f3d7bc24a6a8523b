/**
 * trialdesk benchmarks (docs/benchmarks.md).
 *
 *   npx tsx scripts/bench/run.ts [--quick] [--database-url URL] [--pool-max N] [--only postgresql|embedded]
 *                                [--levels 1,8,32,64] [--participants N] [--read-sizes 10000,100000]
 *                                [--sites 3] [--driver fetch|typed] [--without-audit-chain]
 *                                [--embedded-storage memory|file]
 *
 * With a PostgreSQL URL (--database-url, else DATABASE_URL) it creates a scratch database
 * trialdesk_bench_<random> on that server, measures, and drops it; it always measures the embedded
 * database (PGlite, in memory unless --embedded-storage file) too, at smaller sizes. The service runs in this
 * process on an ephemeral port and is driven over HTTP by the typed client. Prints a table and writes
 * scripts/bench/results/<timestamp>.json.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config';
import { DatabaseConfig, DEFAULT_DATABASE_LIMITS } from '../../src/config';

/** Benchmarks time the full query however long it takes, so the statement timeout is off. */
const BENCH_LIMITS = { ...DEFAULT_DATABASE_LIMITS, statementTimeoutMs: 0 };
import { createActiveTrial } from './fixtures';
import { loadTrialPopulation, LoadResult } from './load';
import { lifetimeMaxRssMiB, LatencySummary, RssSampler } from './measure';
import { Driver, measureClientCeiling, measureRandomization, RandomizationLevel, warmUp } from './randomization';
import { describeMachine, describeMachineLine, fixed, formatTable, Machine, ResultRow, writeResults } from './report';
import { findEndpoint, READ_SCENARIOS, timeCeilingQuery, timeEndpoint } from './scenarios';
import {
  createScratchDatabase,
  embeddedBenchDatabase,
  parseEmbeddedStorage,
  serverVersion,
  startService,
} from './service';

type DatabaseKind = 'postgresql' | 'embedded';

interface Plan {
  levels: number[];
  participants: Record<DatabaseKind, number>;
  readSizes: Record<DatabaseKind, number[]>;
  /** Sizes in the scenario table that this run does not load (reported as not run). */
  listedReadSizes: number[];
  clientCeilingRequests: number;
  queryRepeats: number;
}

const LISTED_READ_SIZES = [10_000, 100_000, 1_000_000];

function planFor(quick: boolean): Plan {
  return quick
    ? {
        levels: [1, 8, 32, 64],
        participants: { postgresql: 250, embedded: 80 },
        readSizes: { postgresql: [10_000], embedded: [2_000] },
        listedReadSizes: LISTED_READ_SIZES,
        clientCeilingRequests: 2_000,
        queryRepeats: 3,
      }
    : {
        levels: [1, 8, 32, 64],
        participants: { postgresql: 2_000, embedded: 300 },
        readSizes: { postgresql: [10_000, 100_000], embedded: [10_000] },
        listedReadSizes: LISTED_READ_SIZES,
        clientCeilingRequests: 10_000,
        queryRepeats: 5,
      };
}

const list = (text: string) =>
  text
    .split(',')
    .map((item) => Number(item.trim()))
    .filter((n) => Number.isSafeInteger(n) && n > 0);
const latencies = (s: LatencySummary) => `${fixed(s.p50Ms)} / ${fixed(s.p95Ms)} / ${fixed(s.p99Ms)} ms`;
const thousands = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n));

interface ReadResult {
  size: number;
  load: LoadResult;
  peakRssMiB: number;
  scenarios: { name: string; endpoint: string | null; endpointMs: number | null; ceilingMs: number }[];
}

interface DatabaseRun {
  database: DatabaseKind;
  poolMax: number;
  clientCeiling: { typed: LatencySummary; plainFetch: LatencySummary };
  levels: RandomizationLevel[];
  reads: ReadResult[];
  peakRssMiB: number;
}

async function benchmarkDatabase(
  database: DatabaseKind,
  config: DatabaseConfig,
  plan: Plan,
  shape: { sites: number; driver: Driver; withoutAuditChain: boolean },
  rss: RssSampler,
  log: (line: string) => void,
): Promise<DatabaseRun> {
  const service = await startService(config);
  try {
    if (shape.withoutAuditChain) {
      // Diagnostic only (docs/benchmarks.md): audit rows are written but not linked, so no transaction waits for the
      // trial's chain head. An upper bound for taking the chain off the critical path; never a way to run.
      log(`${database}: DIAGNOSTIC — audit chain trigger disabled in this scratch database`);
      await service.db.knex.raw('ALTER TABLE audit_events DISABLE TRIGGER audit_events_link');
      await service.db.knex.raw(
        'ALTER TABLE audit_events ALTER COLUMN chain_seq DROP NOT NULL, ALTER COLUMN row_hash DROP NOT NULL',
      );
      await service.db.knex.raw('ALTER TABLE audit_events DROP CONSTRAINT audit_events_chain_seq');
    }
    log(`${database}: warming up`);
    await warmUp(service, 30);
    const clientConcurrency = 32;
    log(`${database}: client ceiling (stub server, c=${clientConcurrency})`);
    const clientCeiling = await measureClientCeiling(plan.clientCeilingRequests, clientConcurrency);

    const levels: RandomizationLevel[] = [];
    for (const concurrency of plan.levels) {
      log(`${database}: randomization c=${concurrency}, ${plan.participants[database]} participants`);
      const level = await measureRandomization(service, {
        concurrency,
        participants: plan.participants[database],
        sites: shape.sites,
        driver: shape.driver,
        rss,
      });
      log(
        `${database}:   ${fixed(level.service.rate)}/s vs ceiling ${fixed(level.ceiling.rate)}/s; node ${fixed(level.cpu.processCores, 2)} cores, postgres ${level.cpu.postgresCores === null ? '—' : fixed(level.cpu.postgresCores, 2)}, machine ${fixed(level.cpu.machineCores, 2)} (prepared in ${fixed(level.preparedInSeconds)} s)`,
      );
      levels.push(level);
    }

    const reads: ReadResult[] = [];
    for (const size of plan.readSizes[database]) {
      log(`${database}: bulk load ${size} participants`);
      rss.reset();
      const trial = await createActiveTrial(service.client, 3);
      const load = await loadTrialPopulation(service.db.knex, trial, { participants: size });
      await service.db.knex.raw('ANALYZE participants, consents, consent_withdrawals, allocations');
      const scenarios: ReadResult['scenarios'] = [];
      for (const scenario of READ_SCENARIOS) {
        const endpoint = findEndpoint(scenario);
        const ceilingMs = await timeCeilingQuery(service.db.knex, scenario, trial.id, plan.queryRepeats);
        const endpointMs = endpoint
          ? await timeEndpoint(service.baseUrl, service.adminKey, endpoint, trial.id, plan.queryRepeats)
          : null;
        scenarios.push({ name: scenario.name, endpoint: endpoint?.operationId ?? null, endpointMs, ceilingMs });
      }
      reads.push({ size, load, peakRssMiB: rss.reset(), scenarios });
    }
    return { database, poolMax: config.poolMax, clientCeiling, levels, reads, peakRssMiB: lifetimeMaxRssMiB() };
  } finally {
    await service.close();
  }
}

function rowsOf(run: DatabaseRun, plan: Plan): ResultRow[] {
  const db = run.database;
  const rows: ResultRow[] = [];
  for (const level of run.levels) {
    const c = `c=${level.concurrency}`;
    rows.push({
      database: db,
      figure: `randomizations/s, ${c}`,
      value: fixed(level.service.rate),
      ceiling: `${fixed(level.ceiling.rate)} commits/s`,
      ratio: level.ratio,
    });
    rows.push({
      database: db,
      figure: `  cores busy: node / postgres / machine, ${c}`,
      value: `${fixed(level.cpu.processCores, 2)} / ${level.cpu.postgresCores === null ? '—' : fixed(level.cpu.postgresCores, 2)} / ${fixed(level.cpu.machineCores, 2)}`,
      ceiling: '—',
      ratio: null,
    });
    rows.push({
      database: db,
      figure: `randomize p50/p95/p99, ${c}`,
      value: latencies(level.service),
      ceiling: latencies(level.ceiling),
      ratio: null,
    });
    rows.push({
      database: db,
      figure: `  diagnostic: ${Math.round(level.statements.statements / level.participants)}-statement txn, ${c}`,
      value: `${fixed(level.statementMatched.rate)} txn/s`,
      ceiling: `${fixed(level.ceiling.rate)} commits/s`,
      ratio: level.statementMatched.rate / level.ceiling.rate,
    });
    rows.push({
      database: db,
      figure: `  diagnostic: chain head only (BEGIN, audit INSERT, COMMIT; one trial), ${c}`,
      value: `${fixed(level.chainHead.rate)} txn/s, p99 ${fixed(level.chainHead.p99Ms)} ms`,
      ceiling: `${fixed(level.ceiling.rate)} commits/s`,
      ratio: level.chainHead.rate / level.ceiling.rate,
    });
  }
  const profiled = run.levels.find((level) => level.concurrency === 32) ?? run.levels[run.levels.length - 1];
  if (profiled) {
    const c = `c=${profiled.concurrency}`;
    rows.push({
      database: db,
      figure: 'SQL statements per randomization',
      value: fixed(profiled.statements.statements / profiled.participants),
      ceiling: '3 (BEGIN, INSERT, COMMIT)',
      ratio: null,
    });
    rows.push({
      database: db,
      figure: `transaction BEGIN→COMMIT p50/p95, ${c}`,
      value: `${fixed(profiled.statements.transactionP50Ms)} / ${fixed(profiled.statements.transactionP95Ms)} ms`,
      ceiling: '—',
      ratio: null,
    });
  }
  rows.push({
    database: db,
    figure: 'load generator vs stub server, c=32',
    value: `typed client ${fixed(run.clientCeiling.typed.rate, 0)} req/s`,
    ceiling: `plain fetch ${fixed(run.clientCeiling.plainFetch.rate, 0)} req/s`,
    ratio: run.clientCeiling.typed.rate / run.clientCeiling.plainFetch.rate,
  });
  for (const read of run.reads) {
    const size = thousands(read.size);
    rows.push({
      database: db,
      figure: `bulk load ${size} participants`,
      value: `${fixed(read.load.rowsPerSecond, 0)} rows/s (${read.load.rows} rows, ${fixed(read.load.seconds)} s)`,
      ceiling: '—',
      ratio: null,
    });
    for (const scenario of read.scenarios) {
      rows.push({
        database: db,
        figure: `${scenario.name} @ ${size}`,
        value: scenario.endpointMs === null ? 'not available' : `${fixed(scenario.endpointMs)} ms`,
        ceiling: `${fixed(scenario.ceilingMs)} ms (GROUP BY)`,
        ratio: scenario.endpointMs === null ? null : scenario.ceilingMs / scenario.endpointMs,
      });
    }
    rows.push({
      database: db,
      figure: `peak RSS during ${size} load + reads`,
      value: `${fixed(read.peakRssMiB, 0)} MiB`,
      ceiling: '—',
      ratio: null,
    });
  }
  for (const size of plan.listedReadSizes.filter((s) => !run.reads.some((read) => read.size === s))) {
    for (const scenario of READ_SCENARIOS)
      rows.push({
        database: db,
        figure: `${scenario.name} @ ${thousands(size)}`,
        value: 'not run (--read-sizes)',
        ceiling: '—',
        ratio: null,
      });
  }
  rows.push({
    database: db,
    figure: 'peak RSS of the process so far',
    value: `${fixed(run.peakRssMiB, 0)} MiB`,
    ceiling: '—',
    ratio: null,
  });
  return rows;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'database-url': { type: 'string' },
      'pool-max': { type: 'string' },
      only: { type: 'string' },
      levels: { type: 'string' },
      participants: { type: 'string' },
      'read-sizes': { type: 'string' },
      sites: { type: 'string', default: '3' },
      driver: { type: 'string', default: 'fetch' },
      'without-audit-chain': { type: 'boolean', default: false },
      'embedded-storage': { type: 'string', default: 'memory' },
    },
  });
  const started = Date.now();
  const log = (line: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  const plan = planFor(values.quick ?? false);
  if (values.levels) plan.levels = list(values.levels);
  if (values.participants)
    plan.participants = { postgresql: Number(values.participants), embedded: Number(values.participants) };
  if (values['read-sizes'])
    plan.readSizes = { postgresql: list(values['read-sizes']), embedded: list(values['read-sizes']) };

  const sites = Number(values.sites);
  const driver = values.driver === 'typed' ? 'typed' : 'fetch';
  const configured = loadConfig().database;
  const serverUrl = values['database-url'] ?? (configured.kind === 'postgresql' ? configured.url : null);
  const poolMax = values['pool-max']
    ? Number(values['pool-max'])
    : configured.kind === 'postgresql'
      ? configured.poolMax
      : 10;
  const wanted = (database: DatabaseKind) => !values.only || values.only === database;
  const embeddedStorage = parseEmbeddedStorage(values['embedded-storage']);

  const machine: Machine = describeMachine();
  const rss = new RssSampler();
  const runs: DatabaseRun[] = [];
  try {
    if (serverUrl && wanted('postgresql')) {
      machine.postgresql = await serverVersion(serverUrl);
      const scratch = await createScratchDatabase(serverUrl);
      log(`postgresql: scratch database ${scratch.name}, pool max ${poolMax}`);
      try {
        runs.push(
          await benchmarkDatabase(
            'postgresql',
            { kind: 'postgresql', url: scratch.url, poolMax, ...BENCH_LIMITS },
            plan,
            { sites, driver, withoutAuditChain: values['without-audit-chain'] ?? false },
            rss,
            log,
          ),
        );
      } finally {
        await scratch.drop();
        log(`postgresql: dropped ${scratch.name}`);
      }
    } else if (wanted('postgresql')) {
      log('postgresql: skipped (no --database-url or DATABASE_URL)');
    }
    if (wanted('embedded')) {
      const embedded = embeddedBenchDatabase(embeddedStorage, BENCH_LIMITS);
      log(`embedded: ${embedded.dataDir ? `file-backed in ${embedded.dataDir}` : 'in memory'}`);
      try {
        runs.push(
          await benchmarkDatabase(
            'embedded',
            embedded.config,
            plan,
            { sites, driver, withoutAuditChain: values['without-audit-chain'] ?? false },
            rss,
            log,
          ),
        );
      } finally {
        embedded.remove();
      }
    }
  } finally {
    rss.stop();
  }

  const rows = runs.flatMap((run) => rowsOf(run, plan));
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`\nMachine: ${describeMachineLine(machine)}\n`);
  process.stdout.write(
    `Mode: ${values.quick ? 'quick' : 'full'}; ${sites} sites (strata); driver ${driver}; PostgreSQL pool max ${poolMax}; embedded storage ${embeddedStorage}${values['without-audit-chain'] ? '; DIAGNOSTIC: audit chain trigger disabled' : ''}; total ${fixed(seconds)} s\n\n`,
  );
  process.stdout.write(`${formatTable(rows)}\n\n`);
  const file = writeResults({
    startedAt: new Date(started).toISOString(),
    seconds,
    mode: values.quick ? 'quick' : 'full',
    commit: gitCommit(),
    machine,
    plan,
    sites,
    driver,
    poolMax,
    embeddedStorage,
    rows,
    runs,
  });
  process.stdout.write(`Results written to ${file}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
