/**
 * Follow-up read models against hand-written SQL ceilings (docs/benchmarks.md, "Follow-up").
 *
 *   npx tsx scripts/bench/follow-up.ts [--database-url URL] [--participants 100000] [--repeats 5] [--dataset]
 *   npx tsx scripts/bench/follow-up.ts --embedded [--embedded-storage memory|file] [--participants 10000] ...
 *
 * Creates a scratch PostgreSQL database (with --embedded: a PGlite database in memory, or file-backed in a fresh
 * temporary directory), starts the service on it, creates the SMCM trial with its
 * visits (baseline, 6 and 12 months) and measures through the API, then loads the population straight
 * into the tables (`loadTrialPopulation`) and, in SQL, spreads randomization over the past two years and
 * adds assessments (~80% of due visits, some outside the window) and missed visits (~8%, with reasons).
 * It times, each against its ceiling measured in the same run:
 * - the work list, `GET /v1/trials/{id}/visits` (default statuses open and overdue, first page of 50),
 *   against one query that dates every visit, decides open/overdue and returns the first 50 by window close;
 * - the completeness report, `GET …/follow-up/completeness`, against one GROUP BY visit, arm and site
 *   counting the statuses.
 * - with --dataset, the analysis dataset as CSV, `GET …/analysis-dataset` with `Accept: text/csv`, read as it
 *   arrives (never held whole), once, with this process's peak RSS sampled every 50 ms while it streams; its
 *   ceiling streams the dated visits (one row per participant × visit, the same rows) through a cursor.
 * - with --dataset --probe, after that, what the export does to everyone else: the CSV is downloaded once more
 *   (pausing --probe-chunk-delay-ms after each chunk, a slow client) while a probe reads the trial
 *   (`GET /v1/trials/{id}`) every 50 ms; its latencies during the download are printed. On the embedded database
 *   the export holds the one connection, and the process's one thread, while it produces its rows.
 * The ceilings omit what the service also does (withdrawals, amendments, measure missingness, JSON), so
 * they are lower bounds. Ratio = endpoint time ÷ ceiling time (target < 2×).
 */
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { performance } from 'node:perf_hooks';
import { DEFAULT_DATABASE_LIMITS, type DatabaseConfig } from '../../src/config';
import { withoutJit } from '../../src/db/database';
import { completenessByMeasure, completenessByVisit, listWorkList } from '../../src/features/follow-up/follow-up.query';
import { smcmFollowUp } from '../smcm-trial';
import { benchTrialInput, siteCodes } from './fixtures';
import { addFollowUpHistory, DATED_SQL } from './follow-up-population';
import { loadTrialPopulation } from './load';
import { median, retryOnStaleConnection, RssSampler } from './measure';
import { createScratchDatabase, embeddedBenchDatabase, parseEmbeddedStorage, startService } from './service';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    embedded: { type: 'boolean', default: false },
    'embedded-storage': { type: 'string', default: 'memory' },
    participants: { type: 'string', default: '100000' },
    repeats: { type: 'string', default: '5' },
    explain: { type: 'boolean', default: false },
    dataset: { type: 'boolean', default: false },
    probe: { type: 'boolean', default: false },
    'probe-chunk-delay-ms': { type: 'string', default: '0' },
  },
});
const serverUrl = values['database-url'] ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const participants = Number(values.participants);
const repeats = Number(values.repeats);

/** Every randomized service user × visit with its window, assessment and active missed visit. */

const WORK_LIST_CEILING = `
  WITH s AS MATERIALIZED (${DATED_SQL})
  SELECT participant_id, label, site_code, visit, window_opens, window_closes,
         CASE WHEN current_date <= window_closes THEN 'open' ELSE 'overdue' END AS status
    FROM s
   WHERE assessed_on IS NULL AND NOT missed AND current_date >= window_opens
   ORDER BY window_closes, participant_id, day
   LIMIT 50`;

const COMPLETENESS_CEILING = `
  SELECT visit, arm_code, site_code, count(*) AS randomized,
         count(*) FILTER (WHERE assessed_on BETWEEN window_opens AND window_closes) AS in_window,
         count(*) FILTER (WHERE assessed_on IS NOT NULL AND assessed_on NOT BETWEEN window_opens AND window_closes)
           AS out_of_window,
         count(*) FILTER (WHERE assessed_on IS NULL AND missed) AS missed,
         count(*) FILTER (WHERE assessed_on IS NULL AND NOT missed AND current_date > window_closes) AS overdue,
         count(*) FILTER (WHERE assessed_on IS NULL AND NOT missed AND current_date BETWEEN window_opens AND window_closes)
           AS open,
         count(*) FILTER (WHERE assessed_on IS NULL AND NOT missed AND current_date < window_opens) AS not_due
    FROM (${DATED_SQL}) s
   GROUP BY visit, arm_code, site_code`;

async function timeIt(work: () => Promise<unknown>): Promise<number> {
  await retryOnStaleConnection(work);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function main(): Promise<void> {
  const limits = { ...DEFAULT_DATABASE_LIMITS, statementTimeoutMs: 0 };
  let config: DatabaseConfig;
  let cleanup: () => Promise<void>;
  if (values.embedded) {
    const embedded = embeddedBenchDatabase(parseEmbeddedStorage(values['embedded-storage']), limits);
    config = embedded.config;
    cleanup = async () => embedded.remove();
    console.log(`embedded: ${embedded.dataDir ? `file-backed in ${embedded.dataDir}` : 'in memory'}`);
  } else {
    const scratch = await createScratchDatabase(serverUrl);
    config = { kind: 'postgresql', url: scratch.url, poolMax: 10, ...limits };
    cleanup = () => scratch.drop();
  }
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    service = await startService(config);
  } catch (error) {
    await cleanup();
    throw error;
  }
  const rss = new RssSampler();
  try {
    const td = service.client;
    const created = await td.post('/v1/trials', { body: { ...benchTrialInput(), ...smcmFollowUp() } });
    for (const code of siteCodes(3))
      await td.post('/v1/trials/{trialId}/sites', {
        params: { path: { trialId: created.id } },
        body: { code, name: `Centre ${code}` },
      });
    const trial = await td.post('/v1/trials/{trialId}/activation', { params: { path: { trialId: created.id } } });
    const knex = service.db.knex;
    const t0 = performance.now();
    const load = await loadTrialPopulation(knex, trial, { participants });
    await addFollowUpHistory(knex, trial.id);
    const counts = await knex.raw(
      `SELECT (SELECT count(*) FROM assessments WHERE trial_id = :t) AS assessments,
              (SELECT count(*) FROM missed_visits WHERE trial_id = :t) AS missed`,
      { t: trial.id },
    );
    const generated = (performance.now() - t0) / 1000;
    console.log(
      `${participants} participants (${load.allocations} randomized, ${load.allocations * 3} visits), ` +
        `${counts.rows[0].assessments} assessments, ${counts.rows[0].missed} missed visits; generated in ${generated.toFixed(1)} s`,
    );

    const get = (path: string) => async () => {
      const response = await fetch(`${service.baseUrl}${path}`, {
        headers: { Authorization: `Bearer ${service.adminKey}`, Accept: 'application/json' },
      });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${body.slice(0, 300)}`);
    };
    const scenarios = [
      { name: 'work list (open,overdue, page of 50)', path: `/v1/trials/${trial.id}/visits`, sql: WORK_LIST_CEILING },
      { name: 'completeness report', path: `/v1/trials/${trial.id}/follow-up/completeness`, sql: COMPLETENESS_CEILING },
    ];
    for (const scenario of scenarios) {
      const endpointMs = await timeIt(get(scenario.path));
      // JIT off, as the service runs these reads: with it, compilation alone can take about a second.
      const ceilingMs = await timeIt(() => withoutJit(knex, (trx) => trx.raw(scenario.sql, { trialId: trial.id })));
      console.log(
        `${scenario.name.padEnd(38)} endpoint ${endpointMs.toFixed(1).padStart(8)} ms   ceiling ` +
          `${ceilingMs.toFixed(1).padStart(8)} ms   ratio ${(endpointMs / ceilingMs).toFixed(2)}×`,
      );
    }
    if (values.dataset) await datasetScenario(service.baseUrl, service.adminKey, knex, trial.id);
    if (values.dataset && values.probe) await probeDuringDataset(service.baseUrl, service.adminKey, trial.id);
    // Where the endpoints' time goes: their queries alone, through the same pool.
    const today = new Date().toISOString().slice(0, 10);
    const parts: [string, () => Promise<unknown>][] = [
      [
        'listWorkList query',
        () =>
          withoutJit(knex, (trx) =>
            listWorkList(trx, { trialId: trial.id, today, statuses: ['open', 'overdue'], siteCodes: null, limit: 51 }),
          ),
      ],
      ['completenessByVisit query', () => withoutJit(knex, (trx) => completenessByVisit(trx, trial.id, today))],
      ['completenessByMeasure query', () => withoutJit(knex, (trx) => completenessByMeasure(trx, trial.id))],
    ];
    if (values.explain) {
      // The plans of the service's own queries, captured as knex sends them (--explain).
      for (const [name, work] of parts) {
        let captured: { sql: string; bindings: unknown[] } | null = null;
        const listener = (query: { sql: string; bindings: unknown[] }) => {
          if (query.bindings?.length) captured ??= query;
        };
        knex.on('query', listener);
        await work();
        knex.off('query', listener);
        const { sql, bindings } = captured!;
        const plan = await knex.raw(
          `EXPLAIN (ANALYZE, BUFFERS) ${sql.replace(/\$\d+/g, '?')}`,
          bindings as Knex.RawBinding[],
        );
        console.log(`${name}:\n${plan.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n')}`);
      }
    }
    for (const [name, work] of parts)
      console.log(`  ${name.padEnd(36)} ${(await timeIt(work)).toFixed(1).padStart(8)} ms`);
    console.log(`peak RSS of the process (load and reads): ${rss.reset().toFixed(0)} MiB`);
  } finally {
    rss.stop();
    await service.close();
    await cleanup();
  }
}

/**
 * The analysis dataset streamed as CSV (once: at 1M rows one pass is the measurement), the body read chunk by
 * chunk and counted, never kept; this process (service and client alike) sampled for peak RSS meanwhile.
 */
async function datasetScenario(baseUrl: string, key: string, knex: Knex, trialId: string): Promise<void> {
  const sampler = new RssSampler();
  try {
    const before = process.memoryUsage.rss() / 2 ** 20;
    sampler.reset();
    const t0 = performance.now();
    const response = await fetch(`${baseUrl}/v1/trials/${trialId}/analysis-dataset`, {
      headers: { Authorization: `Bearer ${key}`, Accept: 'text/csv' },
    });
    if (response.status !== 200 || response.body === null)
      throw new Error(`analysis-dataset answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    let bytes = 0;
    let lines = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const byte of chunk) if (byte === 10) lines += 1;
    }
    const endpointMs = performance.now() - t0;
    const endpointPeak = sampler.reset();
    const t1 = performance.now();
    let ceilingRows = 0;
    await withoutJit(knex, async (trx) => {
      for await (const _row of trx.raw(DATED_SQL, { trialId }).stream()) ceilingRows += 1;
    });
    const ceilingMs = performance.now() - t1;
    const ceilingPeak = sampler.reset();
    console.log(
      `analysis dataset (CSV, streamed)        endpoint ${endpointMs.toFixed(1).padStart(8)} ms   ceiling ` +
        `${ceilingMs.toFixed(1).padStart(8)} ms   ratio ${(endpointMs / ceilingMs).toFixed(2)}×\n` +
        `  ${lines - 1} rows (ceiling ${ceilingRows}), ${(bytes / 2 ** 20).toFixed(1)} MiB of CSV; RSS before ` +
        `${before.toFixed(0)} MiB, peak while streaming ${endpointPeak.toFixed(0)} MiB ` +
        `(+${(endpointPeak - before).toFixed(0)} MiB), peak during the ceiling ${ceilingPeak.toFixed(0)} MiB`,
    );
  } finally {
    sampler.stop();
  }
}

/**
 * Latencies of `GET /v1/trials/{id}` while the CSV is downloaded (see --probe). The probe is meant to start every
 * 50 ms and each latency runs from that intended start, not from when the request could be sent: the service and
 * this client share one thread, so while the export keeps the thread busy no request is even sent, and timing from
 * the send would hide exactly the wait a second user sees.
 */
async function probeDuringDataset(baseUrl: string, key: string, trialId: string): Promise<void> {
  const headers = { Authorization: `Bearer ${key}` };
  const chunkDelayMs = Number(values['probe-chunk-delay-ms']);
  const intervalMs = 50;
  let downloading = true;
  const probes: number[] = [];
  const statuses = new Map<number, number>();
  const t0 = performance.now();
  const download = (async () => {
    try {
      const response = await fetch(`${baseUrl}/v1/trials/${trialId}/analysis-dataset`, {
        headers: { ...headers, Accept: 'text/csv' },
      });
      for await (const _chunk of response.body as unknown as AsyncIterable<Uint8Array>)
        if (chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, chunkDelayMs));
    } finally {
      downloading = false;
    }
  })();
  for (let k = 0; downloading; k++) {
    const intended = t0 + 20 + k * intervalMs;
    const wait = intended - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (!downloading) break;
    const response = await fetch(`${baseUrl}/v1/trials/${trialId}`, { headers });
    await response.text();
    probes.push(performance.now() - intended);
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  }
  await download;
  const sorted = [...probes].sort((a, b) => a - b);
  console.log(
    `probe during a CSV download (${chunkDelayMs} ms pause per chunk, download ${(performance.now() - t0).toFixed(0)} ms): ` +
      `${probes.length} reads of the trial meant every ${intervalMs} ms, latency from the intended start ` +
      `p50 ${median(probes).toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms; ` +
      `statuses ${[...statuses].map(([status, n]) => `${status} × ${n}`).join(', ')}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
