/**
 * Where the analysis dataset's CSV time goes (docs/benchmarks.md, "The analysis dataset, profiled"):
 *
 *   npx tsx scripts/bench/dataset-profile.ts --database bench_x [--participants 20000] [--rounds 5] [--keep]
 *
 * (Re)creates the PostgreSQL database `--database`, loads the follow-up
 * population of follow-up.ts into it, starts the service, then interleaves per round:
 * - endpoint: `GET …/analysis-dataset` as CSV over HTTP, read chunk by chunk (sha256 of the body, chunks counted);
 * - ceiling: the dated-visits cursor of follow-up.ts (no ORDER BY, no jsonb columns);
 * - query: the service's own dataset query through the same knex cursor, rows discarded;
 * - query + shaping + CSV: the same, each row shaped and formatted as the endpoint does, lines discarded.
 * Then EXPLAIN (ANALYZE, BUFFERS) of the ceiling and of the service's query. `--profile FILE` writes a V8 CPU
 * profile of the rounds alone (service and client share the process) for scripts/bench/cpu-profile-summary.ts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import type { Knex } from 'knex';
import { DEFAULT_DATABASE_LIMITS } from '../../src/config';
import { withoutJit } from '../../src/db/database';
import { streamDataset, streamDatasetInBatches } from '../../src/features/follow-up/follow-up.query';
import { datasetColumns, datasetHeader, datasetLine } from '../../src/features/follow-up/analysis-dataset';
import { toDatasetRow } from '../../src/features/follow-up/follow-up.service';
import { smcmFollowUp } from '../smcm-trial';
import { benchTrialInput, siteCodes } from './fixtures';
import { addFollowUpHistory, DATED_SQL } from './follow-up-population';
import { loadTrialPopulation } from './load';
import { median } from './measure';
import { startService } from './service';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    database: { type: 'string', default: 'bench_dataset_profile' },
    participants: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const serverUrl = values['database-url'] ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function freshDatabase(): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(values.database!)) throw new Error('--database: a plain lower-case name');
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${values.database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${values.database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${values.database}`;
  return url.toString();
}

async function load(td: Awaited<ReturnType<typeof startService>>, knex: Knex, participants: number): Promise<string> {
  const created = await td.client.post('/v1/trials', { body: { ...benchTrialInput(), ...smcmFollowUp() } });
  for (const code of siteCodes(3))
    await td.client.post('/v1/trials/{trialId}/sites', {
      params: { path: { trialId: created.id } },
      body: { code, name: `Centre ${code}` },
    });
  const trial = await td.client.post('/v1/trials/{trialId}/activation', { params: { path: { trialId: created.id } } });
  await loadTrialPopulation(knex, trial, { participants });
  await addFollowUpHistory(knex, trial.id);
  return trial.id;
}

async function main(): Promise<void> {
  const url = await freshDatabase();
  const service = await startService({
    kind: 'postgresql',
    url,
    poolMax: 10,
    ...DEFAULT_DATABASE_LIMITS,
    statementTimeoutMs: 0,
  });
  const knex = service.db.knex;
  try {
    const t0 = performance.now();
    const trialId = await load(service, knex, Number(values.participants));
    const rowCount = (await knex.raw(`SELECT count(*)::int AS n FROM (${DATED_SQL}) s`, { trialId })).rows[0]
      .n as number;
    console.log(
      `trial ${trialId}: ${rowCount} participant × visit rows (loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const trial = (await knex('trials').where({ trial_id: trialId }).first()) as { measures: unknown };
    const columns = datasetColumns(trial.measures as never, false);
    const today = new Date().toISOString().slice(0, 10);

    const endpoint = async () => {
      const t0 = performance.now();
      const response = await fetch(`${service.baseUrl}/v1/trials/${trialId}/analysis-dataset`, {
        headers: { Authorization: `Bearer ${service.adminKey}`, Accept: 'text/csv' },
      });
      if (response.status !== 200 || response.body === null) throw new Error(`answered ${response.status}`);
      const hash = createHash('sha256');
      let bytes = 0;
      let chunks = 0;
      let firstChunkMs = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (chunks === 0) firstChunkMs = performance.now() - t0;
        hash.update(chunk);
        bytes += chunk.length;
        chunks += 1;
      }
      return `${hash.digest('hex').slice(0, 16)} ${bytes} B in ${chunks} chunks, first after ${firstChunkMs.toFixed(0)} ms`;
    };
    const ceiling = () =>
      withoutJit(knex, async (trx) => {
        let n = 0;
        for await (const _row of trx.raw(DATED_SQL, { trialId }).stream()) n += 1;
        return `${n} rows`;
      });
    const queryOnly = () =>
      withoutJit(knex, async (trx) => {
        let n = 0;
        for await (const _row of streamDataset(trx, { trialId, today, siteCodes: null })) n += 1;
        return `${n} rows`;
      });
    const noExclusions = new Map<string, never[]>();
    const unlabelled = (arm: string) => arm;
    const queryCsv = () =>
      withoutJit(knex, async (trx) => {
        const hash = createHash('sha256');
        hash.update(datasetHeader(columns));
        for await (const batch of streamDatasetInBatches(trx, { trialId, today, siteCodes: null })) {
          let text = '';
          for (const r of batch) text += datasetLine(columns, toDatasetRow(r, unlabelled, noExclusions));
          hash.update(text);
        }
        return `(arms unlabelled) ${hash.digest('hex').slice(0, 16)}`;
      });
    const all: [string, () => Promise<string>][] = [
      ['endpoint (HTTP, CSV)', endpoint],
      ['ceiling cursor', ceiling],
      ['service query, cursor only', queryOnly],
      ['service query + shaping + CSV', queryCsv],
    ];
    const scenarios = values.only ? all.filter(([name]) => name.startsWith(values.only!)) : all;
    const times = new Map<string, number[]>(scenarios.map(([name]) => [name, []]));
    // --profile FILE: a V8 CPU profile of the rounds only (not of the load), for cpu-profile-summary.ts.
    const session = values.profile ? new Session() : null;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const [name, work] of scenarios) {
        const t = performance.now();
        const note = await work();
        const ms = performance.now() - t;
        times.get(name)!.push(ms);
        console.log(`  round ${round} ${name.padEnd(32)} ${ms.toFixed(0).padStart(7)} ms  ${note}`);
      }
    }
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      fs.writeFileSync(values.profile!, JSON.stringify(profile));
      session.disconnect();
    }
    const ceilingMedian = times.has('ceiling cursor') ? median(times.get('ceiling cursor')!) : NaN;
    for (const [name, list] of times)
      console.log(
        `${name.padEnd(32)} median ${median(list).toFixed(0).padStart(7)} ms  (${(median(list) / ceilingMedian).toFixed(2)}× ceiling)`,
      );
    if (!values.only) {
      let captured: { sql: string; bindings: unknown[] } | null = null;
      const listener = (q: { sql: string; bindings: unknown[] }) => {
        if (q.sql.includes('visit_definitions')) captured ??= q;
      };
      knex.on('query', listener);
      await withoutJit(knex, (trx) => streamDataset(trx, { trialId, today, siteCodes: null }).toArray());
      knex.off('query', listener);
      for (const [name, sql, bindings] of [
        ['ceiling', DATED_SQL.replace(/:trialId/g, '?'), [trialId, trialId]],
        ['service query', captured!.sql.replace(/\$\d+/g, '?'), captured!.bindings],
      ] as const) {
        const plan = await withoutJit(knex, (trx) =>
          trx.raw(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, bindings as Knex.RawBinding[]),
        );
        console.log(`${name}:\n${plan.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n')}`);
      }
      // The same query with the server's default JIT setting, as a statement outside withoutJit runs.
      const jitPlan = await knex.raw(
        `EXPLAIN (ANALYZE, BUFFERS) ${captured!.sql.replace(/\$\d+/g, '?')}`,
        captured!.bindings as Knex.RawBinding[],
      );
      const lines = jitPlan.rows.map((row: Record<string, string>) => row['QUERY PLAN']) as string[];
      const jitAt = lines.findIndex((line) => line.startsWith('JIT:'));
      console.log(
        `service query, JIT as configured:\n${(jitAt < 0 ? lines.slice(-2) : lines.slice(jitAt)).join('\n')}`,
      );
    }
  } finally {
    await service.close();
    if (!values.keep) {
      const admin = new Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${values.database} WITH (FORCE)`);
      await admin.end();
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
