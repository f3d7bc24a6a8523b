/**
 * Backup-and-restore drill: proves that a `pg_dump` of a trialdesk database restores to a database the
 * service runs on with nothing lost or changed (docs/benchmarks.md: run ANALYZE after a restore).
 *
 *   npx tsx scripts/backup-drill.ts [--database-url URL] [--participants N] [--seed S] [--json FILE]
 *
 * On the PostgreSQL server of URL (else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test,
 * used only as the maintenance connection) it creates a scratch source database, runs the service on
 * it in this process and builds the demo trial through the typed client (N service users, default
 * 300). Then, in one exported snapshot, it records every table's row count and digest and dumps
 * with `pg_dump --format=custom`; restores into a second scratch database with `pg_restore
 * --no-owner --exit-on-error`; starts the service on the restored database and times CONSORT before
 * and after ANALYZE; and compares: counts and digests, the schema, CONSORT and baseline JSON, the
 * audit chains (valid, same heads), the triggers (present, enabled, refusing changes), and that a
 * write after the restore extends both chains. Prints a summary (and writes it as JSON with --json),
 * exits 1 on any mismatch, and always drops both databases and removes the dump.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { DEFAULT_DATABASE_LIMITS, loadConfig } from '../src/config';
import { utcToday } from './demo/cohort';
import { demoWithClient } from './demo';
import { createScratchDatabase, RunningService, ScratchDatabase, serverVersion, startService } from './bench/service';
import {
  attemptTamper,
  fingerprintTables,
  listTriggers,
  previousHashAt,
  TableFingerprint,
  tablesWithStatistics,
  TAMPER_STATEMENTS,
  TriggerState,
  withClient,
} from './backup-drill/database-state';
import { findPgTools, runPgTool, schemaText } from './backup-drill/pg-tools';
import { Checks, DrillReport, formatSummary } from './backup-drill/report';
import { startServiceOnExistingDatabase } from './backup-drill/restored-service';
import {
  ChainState,
  firstDifference,
  listTrialIds,
  readTrial,
  RequestTimings,
  timeRequests,
  TrialReads,
  verifyChains,
} from './backup-drill/service-reads';

const USAGE = 'usage: npx tsx scripts/backup-drill.ts [--database-url URL] [--participants N] [--seed S] [--json FILE]';
const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** CONSORT requests timed before and after ANALYZE on the restored service. */
const CONSORT_REPEATS = 5;

export class UsageError extends Error {}

export interface DrillArguments {
  serverUrl: string;
  participants: number;
  seed: string;
  json: string | null;
}

export function parseDrillArguments(argv: readonly string[]): DrillArguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'database-url': { type: 'string' },
        participants: { type: 'string', default: '300' },
        seed: { type: 'string', default: '2018' },
        json: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const participants = Number(values.participants);
  if (!Number.isSafeInteger(participants) || participants < 1 || participants > 100_000) {
    throw new UsageError(
      `--participants must be a whole number from 1 to 100000, got "${values.participants}"\n${USAGE}`,
    );
  }
  const configured = values['database-url'] === undefined ? loadConfig().database : null;
  const serverUrl = values['database-url'] ?? (configured?.kind === 'postgresql' ? configured.url : DEFAULT_SERVER_URL);
  if (!/^postgres(ql)?:\/\//.test(serverUrl))
    throw new UsageError(`--database-url must be a postgres:// URL\n${USAGE}`);
  return { serverUrl, participants, seed: values.seed!, json: values.json ?? null };
}

/**
 * Undo steps, run last-registered first. Every caller of `runAll` (a signal handler, the `finally` of
 * the interrupted drill) waits for the same drain, so none exits before the databases are dropped;
 * a step registered after cleanup began (a database created just as the interrupt came) runs at once.
 */
export class Cleanup {
  private readonly steps: { label: string; run: () => Promise<void> | void }[] = [];
  private draining: Promise<void> | null = null;
  private started = false;

  constructor(private readonly log: (line: string) => void) {}

  add(label: string, run: () => Promise<void> | void): void {
    this.steps.push({ label, run });
    if (this.started) {
      void this.drain();
      throw new Error('interrupted: cleaning up');
    }
  }

  runAll(): Promise<void> {
    this.started = true;
    return this.drain();
  }

  private drain(): Promise<void> {
    this.draining ??= (async () => {
      for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
        try {
          await step.run();
        } catch (error) {
          this.log(`cleanup: could not ${step.label}: ${(error as Error).message}`);
        }
      }
    })().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }
}

/** Makes `close` safe to call twice: the drill stops a service early, and cleanup stops it again on failure. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | null = null;
  return () => (closing ??= close());
}

async function timedSeconds<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - started) / 1000 };
}

async function timeOrError(work: () => Promise<RequestTimings>): Promise<RequestTimings | { error: string }> {
  try {
    return await work();
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function compareTables(checks: Checks, source: TableFingerprint[], restored: TableFingerprint[]) {
  const names = [...new Set([...source, ...restored].map((t) => t.table))].sort();
  let rowCountMismatches = 0;
  let md5Mismatches = 0;
  for (const name of names) {
    const before = source.find((t) => t.table === name);
    const after = restored.find((t) => t.table === name);
    if (!before || !after) {
      rowCountMismatches++;
      checks.expect(`table ${name}`, false, before ? 'missing after restore' : 'not in the source');
      continue;
    }
    if (before.rows !== after.rows) rowCountMismatches++;
    if (before.md5 !== after.md5) md5Mismatches++;
    checks.expect(
      `table ${name}`,
      before.rows === after.rows && before.md5 === after.md5,
      `rows ${before.rows} -> ${after.rows}, md5 ${before.md5} -> ${after.md5}`,
    );
  }
  return { tablesCompared: names.length, rowCountMismatches, md5Mismatches };
}

function compareChains(checks: Checks, source: ChainState[], restored: ChainState[]): boolean {
  let headsEqual = source.length === restored.length;
  for (const before of source) {
    checks.expect(`source audit chain ${before.chain} valid`, before.valid, JSON.stringify(before.firstBrokenLink));
    const after = restored.find((state) => state.chain === before.chain);
    if (!after) {
      headsEqual = false;
      checks.expect(
        `audit chain ${before.chain} after restore`,
        false,
        'not verified on the restored service (trial missing?)',
      );
      continue;
    }
    const sameHead = isDeepStrictEqual(before.head, after.head) && isDeepStrictEqual(before.lanes, after.lanes);
    headsEqual &&= sameHead;
    checks.expect(
      `audit chain ${after.chain} after restore`,
      after.valid && sameHead && after.rowsChecked === before.rowsChecked,
      `valid ${after.valid}, rows ${before.rowsChecked} -> ${after.rowsChecked}, head ${JSON.stringify(before.head)} -> ${JSON.stringify(after.head)}${after.firstBrokenLink ? `; ${after.firstBrokenLink.detail}` : ''}`,
    );
  }
  return headsEqual;
}

function compareReads(checks: Checks, source: TrialReads, restored: TrialReads) {
  const same = (name: string, a: unknown, b: unknown) => {
    const difference = firstDifference(a, b);
    return checks.expect(name, difference === null, difference === null ? '' : `first difference at ${difference}`);
  };
  return {
    consortIdentical: same('CONSORT JSON identical', source.consort, restored.consort),
    serviceUserBaselineIdentical: same(
      'baseline table (service users) identical',
      source.serviceUserBaseline,
      restored.serviceUserBaseline,
    ),
    caseWorkerBaselineIdentical: same(
      'baseline table (case workers) identical',
      source.caseWorkerBaseline,
      restored.caseWorkerBaseline,
    ),
  };
}

function compareTriggers(checks: Checks, source: TriggerState[], restored: TriggerState[]) {
  const identical = checks.expect(
    'triggers identical',
    isDeepStrictEqual(source, restored),
    `source ${source.length}, restored ${restored.length}: ${JSON.stringify(restored.filter((t) => !source.some((s) => isDeepStrictEqual(s, t))))}`,
  );
  const disabled = restored.filter((trigger) => trigger.enabled !== 'O');
  const allEnabled = checks.expect(
    'triggers enabled after restore',
    disabled.length === 0,
    disabled.map((t) => `${t.table}.${t.trigger} is ${t.enabled}`).join(', '),
  );
  return { count: restored.length, identical, allEnabled };
}

/**
 * Writes one audited change to a trial (a new case worker) and one to the system trail (an API key)
 * on the restored service, then checks that each chain grew from the restored head and still verifies.
 */
async function writeAfterRestore(
  checks: Checks,
  service: RunningService,
  databaseUrl: string,
  trialId: string,
  restored: ChainState[],
): Promise<ChainState[]> {
  await service.client.post('/v1/trials/{trialId}/participants', {
    params: { path: { trialId } },
    body: {
      siteCode: 'A',
      role: 'case_worker',
      label: 'BACKUP-DRILL-CW',
      screenedOn: utcToday(),
      eligibility: {},
      baseline: { experienceYears: 3, profession: 'nurse' },
    },
  });
  await service.client.post('/v1/api-keys', { body: { name: 'backup drill: written after restore', role: 'monitor' } });
  const after = await verifyChains(
    service.client,
    restored.map((state) => state.chain).filter((chain) => chain !== 'system'),
  );
  await withClient(databaseUrl, async (client) => {
    for (const chain of [trialId, 'system']) {
      const before = restored.find((state) => state.chain === chain);
      const now = after.find((state) => state.chain === chain);
      if (!before || !now) {
        checks.expect(`audit chain ${chain} extended after restore`, false, 'chain not found');
        continue;
      }
      // One writer at a time links in lane 0 (the lowest lane no other transaction holds).
      const restoredHead = before.lanes.find((lane) => lane.lane === 0);
      const firstNew = (restoredHead?.sequence ?? 0) + 1;
      const linkedTo = await previousHashAt(client, chain === 'system' ? null : chain, 0, firstNew);
      checks.expect(
        `audit chain ${chain} extended after restore`,
        now.valid && now.rowsChecked > before.rowsChecked && linkedTo === (restoredHead?.hash ?? null),
        `valid ${now.valid}, rows ${before.rowsChecked} -> ${now.rowsChecked}, lane 0 row #${firstNew} links to ${linkedTo ?? 'null'} (restored lane 0 head ${restoredHead?.hash ?? 'null'})`,
      );
    }
  });
  return after;
}

export async function runDrill(
  args: DrillArguments,
  log: (line: string) => void,
  cleanup: Cleanup,
): Promise<DrillReport> {
  const checks = new Checks();
  const toolWarnings: string[] = [];
  const tools = findPgTools();
  const server = await serverVersion(args.serverUrl);
  log(`PostgreSQL ${server.version}; ${tools.dumpVersion} from ${tools.binDir}`);

  // 1. The source: a scratch database with the demo trial, built over HTTP.
  const source: ScratchDatabase = await createScratchDatabase(args.serverUrl);
  cleanup.add(`drop database ${source.name}`, () => source.drop());
  log(`source database ${source.name}`);
  const sourceService = await startService({
    kind: 'postgresql',
    url: source.url,
    poolMax: 10,
    ...DEFAULT_DATABASE_LIMITS,
  });
  const closeSource = once(() => sourceService.close());
  cleanup.add('stop the source service', closeSource);
  const built = await timedSeconds(() =>
    demoWithClient(sourceService.client, {
      participants: args.participants,
      seed: args.seed,
      baseUrl: sourceService.baseUrl,
      progress: process.stderr,
    }),
  );
  const trial = built.result.run.trial;
  log(`demo trial ${trial.code} built in ${built.seconds.toFixed(1)} s`);

  // 2. What the restored copy must reproduce, read before the dump.
  const trialIds = await listTrialIds(sourceService.client);
  const sourceChains = await verifyChains(sourceService.client, trialIds);
  const sourceReads = await readTrial(sourceService.client, trial.id);

  // 3. Digests and dump from one exported snapshot, so they describe exactly the same data.
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trialdesk-backup-drill-'));
  cleanup.add(`remove ${tempDir}`, () => fs.rmSync(tempDir, { recursive: true, force: true }));
  const dumpFile = path.join(tempDir, 'trialdesk.dump');
  const snapshot = await withClient(source.url, async (client) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const exported = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
    const tables = await fingerprintTables(client);
    const triggers = await listTriggers(client);
    log(`recorded ${tables.length} tables; dumping`);
    const dump = await runPgTool(tools, 'pg_dump', source.url, [
      '--format=custom',
      `--snapshot=${exported}`,
      `--file=${dumpFile}`,
    ]);
    await client.query('COMMIT');
    return { tables, triggers, dump };
  });
  if (snapshot.dump.stderr) toolWarnings.push(`pg_dump: ${snapshot.dump.stderr}`);
  const dumpBytes = fs.statSync(dumpFile).size;
  await closeSource();
  const sourceSchema = await schemaText(tools, source.url);

  // 4. Restore into a second scratch database.
  const restored: ScratchDatabase = await createScratchDatabase(args.serverUrl);
  cleanup.add(`drop database ${restored.name}`, () => restored.drop());
  log(`restoring into ${restored.name}`);
  const restore = await runPgTool(tools, 'pg_restore', restored.url, ['--no-owner', '--exit-on-error', dumpFile]);
  if (restore.stderr) toolWarnings.push(`pg_restore: ${restore.stderr}`);
  const restoredState = await withClient(restored.url, async (client) => ({
    tables: await fingerprintTables(client),
    triggers: await listTriggers(client),
    withStatistics: await tablesWithStatistics(client),
  }));
  const tableComparison = compareTables(checks, snapshot.tables, restoredState.tables);
  const schemaDifference = firstDifference(
    sourceSchema.split('\n'),
    (await schemaText(tools, restored.url)).split('\n'),
  );
  const schemaIdentical = checks.expect(
    'schema identical (pg_dump --schema-only)',
    schemaDifference === null,
    `first differing line ${schemaDifference}`,
  );

  // 5. The service on the restored database (the source's admin key was restored with the data), CONSORT before and
  // after ANALYZE.
  const restoredService = await startServiceOnExistingDatabase(restored.url, sourceService.adminKey);
  cleanup.add(
    'stop the restored service',
    once(() => restoredService.close()),
  );
  checks.expect(
    'no migrations to apply on the restored database',
    restoredService.migrationsApplied.length === 0,
    restoredService.migrationsApplied.join(', '),
  );
  const consortRequest = () =>
    restoredService.client.get('/v1/trials/{trialId}/consort', { params: { path: { trialId: trial.id } } });
  await restoredService.client.get('/v1/trials/{trialId}', { params: { path: { trialId: trial.id } } });
  const consortBefore = await timeOrError(() => timeRequests(CONSORT_REPEATS, consortRequest));
  log('analyzing the restored database');
  const analyze = await withClient(restored.url, async (client) => {
    const timed = await timedSeconds(() => client.query('ANALYZE'));
    return { seconds: timed.seconds, withStatistics: await tablesWithStatistics(client) };
  });
  const consortAfter = await timeOrError(() => timeRequests(CONSORT_REPEATS, consortRequest));

  // 6. The restored service answers as the source did.
  const readComparison = compareReads(checks, sourceReads, await readTrial(restoredService.client, trial.id));
  const restoredTrialIds = await listTrialIds(restoredService.client);
  checks.expect(
    'same trials listed',
    isDeepStrictEqual(trialIds, restoredTrialIds),
    `${trialIds.join(', ')} -> ${restoredTrialIds.join(', ')}`,
  );
  const restoredChains = await verifyChains(restoredService.client, restoredTrialIds);
  const headsEqual = compareChains(checks, sourceChains, restoredChains);

  // 7. The audit protections survived: triggers present and enabled, changes refused, new writes chained.
  const triggers = compareTriggers(checks, snapshot.triggers, restoredState.triggers);
  const tamper = await withClient(restored.url, async (client) => {
    const attempts = [];
    for (const statement of TAMPER_STATEMENTS) attempts.push(await attemptTamper(client, statement));
    return attempts;
  });
  for (const attempt of tamper)
    checks.expect(`refused: ${attempt.statement.split(' WHERE')[0]}`, attempt.refused, attempt.outcome);
  const afterWrite = await writeAfterRestore(checks, restoredService, restored.url, trial.id, restoredChains);

  const failedChecks = checks.failed;
  return {
    passed: failedChecks.length === 0,
    mismatches: failedChecks.length,
    checksRun: checks.results.length,
    server: { version: server.version, pgDump: tools.dumpVersion },
    trial: { id: trial.id, code: trial.code, serviceUsersRequested: args.participants, seed: args.seed },
    databases: { source: source.name, restored: restored.name },
    seconds: {
      buildDemo: built.seconds,
      dump: snapshot.dump.seconds,
      restore: restore.seconds,
      analyze: analyze.seconds,
    },
    demoPhasesMs: built.result.run.timings,
    dump: { format: 'custom', bytes: dumpBytes, consistentWithFingerprint: 'exported snapshot' },
    data: {
      tables: snapshot.tables.length,
      rows: snapshot.tables.reduce((sum, t) => sum + t.rows, 0),
      byTable: snapshot.tables,
    },
    comparison: { ...tableComparison, schemaIdentical, ...readComparison },
    statistics: {
      tables: restoredState.tables.length,
      emptyTables: restoredState.tables.filter((t) => t.rows === 0).length,
      withStatisticsBeforeAnalyze: restoredState.withStatistics,
      withStatisticsAfterAnalyze: analyze.withStatistics,
    },
    consortMs: { beforeAnalyze: consortBefore, afterAnalyze: consortAfter },
    audit: { source: sourceChains, restored: restoredChains, headsEqual, afterWrite },
    triggers: { ...triggers, tamper },
    migrationsAppliedOnRestore: restoredService.migrationsApplied,
    toolWarnings,
    failedChecks,
    checks: checks.results,
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseDrillArguments(argv);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const cleanup = new Cleanup(log);
  const onSignal = (signal: NodeJS.Signals) => {
    log(`\n${signal}: dropping the scratch databases and removing the dump`);
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let report: DrillReport;
  try {
    report = await runDrill(args, log, cleanup);
  } finally {
    await cleanup.runAll();
  }
  process.stdout.write(`${formatSummary(report)}\n`);
  if (args.json !== null) fs.writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.passed ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `\n${error instanceof UsageError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
