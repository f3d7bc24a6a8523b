import type { TableFingerprint, TamperAttempt } from './database-state';
import type { ChainState, RequestTimings } from './service-reads';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** Every comparison the drill makes, passed or failed; a failed one is a mismatch. */
export class Checks {
  readonly results: CheckResult[] = [];

  expect(name: string, ok: boolean, detail = ''): boolean {
    this.results.push({ name, ok, detail });
    return ok;
  }

  get failed(): CheckResult[] {
    return this.results.filter((check) => !check.ok);
  }
}

/** The figures of one drill, printed as the summary and written with --json. */
export interface DrillReport {
  passed: boolean;
  /** Failed checks (each table's count or digest, each chain, each read model, each trigger test counts once). */
  mismatches: number;
  checksRun: number;
  server: { version: string; pgDump: string };
  trial: { id: string; code: string; serviceUsersRequested: number; seed: string };
  databases: { source: string; restored: string };
  seconds: { buildDemo: number; dump: number; restore: number; analyze: number };
  /** The demo's own phases (screening, consent, randomization, ...), in ms. */
  demoPhasesMs: { phase: string; ms: number }[];
  dump: { format: 'custom'; bytes: number; consistentWithFingerprint: 'exported snapshot' };
  data: { tables: number; rows: number; byTable: TableFingerprint[] };
  comparison: {
    tablesCompared: number;
    rowCountMismatches: number;
    md5Mismatches: number;
    schemaIdentical: boolean;
    consortIdentical: boolean;
    serviceUserBaselineIdentical: boolean;
    caseWorkerBaselineIdentical: boolean;
  };
  /** ANALYZE records no statistics for an empty table, so `emptyTables` never get any. */
  statistics: {
    tables: number;
    emptyTables: number;
    withStatisticsBeforeAnalyze: number;
    withStatisticsAfterAnalyze: number;
  };
  consortMs: { beforeAnalyze: RequestTimings | { error: string }; afterAnalyze: RequestTimings | { error: string } };
  audit: { source: ChainState[]; restored: ChainState[]; headsEqual: boolean; afterWrite: ChainState[] };
  triggers: { count: number; identical: boolean; allEnabled: boolean; tamper: TamperAttempt[] };
  migrationsAppliedOnRestore: string[];
  /** Warnings the tools printed although they succeeded. */
  toolWarnings: string[];
  failedChecks: CheckResult[];
  checks: CheckResult[];
}

const integer = (n: number) => n.toLocaleString('en-US');
const count = (n: number, noun: string) => `${integer(n)} ${noun}${n === 1 ? '' : 's'}`;
const seconds = (s: number) => `${s.toFixed(2)} s`;
const mebibytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const shortHash = (hash: string | undefined) => (hash === undefined ? '—' : `${hash.slice(0, 16)}…`);

function timing(t: RequestTimings | { error: string }): string {
  return 'error' in t ? `failed (${t.error})` : `${t.medianMs.toFixed(1)} ms (first ${t.firstMs.toFixed(1)} ms)`;
}

function chainLine(state: ChainState, trialId: string): string {
  const name =
    state.chain === 'system' ? 'system' : state.chain === trialId ? 'trial' : `trial ${state.chain.slice(0, 8)}`;
  const head =
    state.head === null
      ? 'empty'
      : `${count(state.lanes.length, 'lane')}, newest lane ${state.head.lane} #${state.head.sequence} ${shortHash(state.head.hash)}`;
  return `${name} ${state.valid ? 'valid' : 'INVALID'}, ${count(state.rowsChecked, 'row')}, ${head}`;
}

export function formatSummary(report: DrillReport): string {
  const rowsOf = (table: string) => report.data.byTable.find((t) => t.table === `public.${table}`)?.rows ?? 0;
  const c = report.comparison;
  const refused = report.triggers.tamper.filter((attempt) => attempt.refused).length;
  const lines = [
    `trialdesk backup-and-restore drill: ${report.passed ? 'PASS' : 'FAIL'} (${report.mismatches} mismatches in ${report.checksRun} checks)`,
    `  server      PostgreSQL ${report.server.version}; ${report.server.pgDump}`,
    `  source      ${report.databases.source}: demo trial ${report.trial.code}, ${integer(report.trial.serviceUsersRequested)} service users (seed ${report.trial.seed}), built over HTTP in ${seconds(report.seconds.buildDemo)}`,
    `  data        ${report.data.tables} tables, ${integer(report.data.rows)} rows (participants ${integer(rowsOf('participants'))}, audit_events ${integer(rowsOf('audit_events'))}, system_audit_events ${integer(rowsOf('system_audit_events'))})`,
    `  dump        pg_dump --format=custom: ${mebibytes(report.dump.bytes)} (${integer(report.dump.bytes)} bytes) in ${seconds(report.seconds.dump)}`,
    `  restore     pg_restore --no-owner --exit-on-error into ${report.databases.restored}: ${seconds(report.seconds.restore)}`,
    `  analyze     ANALYZE: ${seconds(report.seconds.analyze)}; tables with planner statistics ${report.statistics.withStatisticsBeforeAnalyze} -> ${report.statistics.withStatisticsAfterAnalyze} of ${report.statistics.tables} (${report.statistics.emptyTables} empty)`,
    `  consort     restored service, median of ${'error' in report.consortMs.afterAnalyze ? '?' : report.consortMs.afterAnalyze.count}: before ANALYZE ${timing(report.consortMs.beforeAnalyze)}, after ${timing(report.consortMs.afterAnalyze)}`,
    `  compared    ${c.tablesCompared} tables: ${c.rowCountMismatches} row-count mismatches, ${c.md5Mismatches} md5 mismatches; schema (pg_dump --schema-only) ${c.schemaIdentical ? 'identical' : 'DIFFERS'}`,
    `  reads       CONSORT JSON ${c.consortIdentical ? 'identical' : 'DIFFERS'}; baseline table ${c.serviceUserBaselineIdentical ? 'identical' : 'DIFFERS'} (service users), ${c.caseWorkerBaselineIdentical ? 'identical' : 'DIFFERS'} (case workers)`,
    `  audit       chain heads ${report.audit.headsEqual ? 'equal' : 'DIFFER'} after restore: ${report.audit.restored.map((s) => chainLine(s, report.trial.id)).join('; ')}`,
    `  triggers    ${report.triggers.count} triggers ${report.triggers.identical ? 'identical' : 'DIFFER'}, ${report.triggers.allEnabled ? 'all enabled' : 'NOT ALL ENABLED'}; ${refused}/${report.triggers.tamper.length} tamper attempts refused (UPDATE, DELETE, TRUNCATE audit_events; UPDATE system_audit_events; DELETE incentive_ledger)`,
    `  after write ${report.audit.afterWrite.map((s) => chainLine(s, report.trial.id)).join('; ')}`,
    `  migrations  ${report.migrationsAppliedOnRestore.length === 0 ? 'none to apply on the restored database' : `APPLIED ON RESTORE: ${report.migrationsAppliedOnRestore.join(', ')}`}`,
  ];
  for (const warning of report.toolWarnings) lines.push(`  warning     ${warning}`);
  for (const check of report.failedChecks) lines.push(`  FAILED      ${check.name}: ${check.detail}`);
  return lines.join('\n');
}
