import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ResultRow {
  database: 'postgresql' | 'embedded';
  figure: string;
  value: string;
  ceiling: string;
  /** service / ceiling, as a fraction; null when there is no ceiling or no service figure. */
  ratio: number | null;
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  postgresql?: { version: string; synchronousCommit: string; fsync: string; maxConnections: string };
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

export const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '—');

export function formatTable(rows: ResultRow[]): string {
  const header = ['database', 'figure', 'value', 'ceiling', 'ratio'];
  const cells = rows.map((row) => [
    row.database,
    row.figure,
    row.value,
    row.ceiling,
    row.ratio === null ? '—' : `${(row.ratio * 100).toFixed(0)}%`,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) => `| ${values.map((value, i) => value.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export function describeMachineLine(machine: Machine): string {
  const pg = machine.postgresql
    ? `; PostgreSQL ${machine.postgresql.version} on 127.0.0.1 (synchronous_commit=${machine.postgresql.synchronousCommit}, fsync=${machine.postgresql.fsync})`
    : '';
  return `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}${pg}`;
}

/** Writes the run to scripts/bench/results/<timestamp>.json and returns the path. */
export function writeResults(document: Record<string, unknown>): string {
  const directory = path.join(__dirname, 'results');
  fs.mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}
