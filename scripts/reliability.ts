/**
 * `npm run test:reliability`: the authorization matrix, the fuzz slice and the fault drills, on
 * PostgreSQL, then a summary of what they measured. `npm run fuzz` runs only the fuzzer, long
 * (FUZZ_CASES, default 20,000) and with a fresh random seed unless FUZZ_SEED is given.
 *
 *   npm run test:reliability [-- <jest args, e.g. a test file>]
 *   npm run fuzz [-- --cases N --seed S]
 *
 * TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) is the server the matrix and
 * the fuzzer use; the drills start their own private PostgreSQL instance and never touch it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_SERVER = 'postgres://postgres@127.0.0.1:5432/test';

interface FigureLine {
  suite: string;
  [name: string]: unknown;
}

function readFigures(file: string): FigureLine[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FigureLine);
}

const num = (value: unknown): number => (typeof value === 'number' ? value : 0);

/** The headline figures the issue asks for, summed over every record of each suite. */
export function summarize(lines: FigureLine[]): string {
  const bySuite = new Map<string, FigureLine[]>();
  for (const line of lines) bySuite.set(line.suite, [...(bySuite.get(line.suite) ?? []), line]);
  const sum = (suite: string, field: string) =>
    (bySuite.get(suite) ?? []).reduce((total, line) => total + num(line[field]), 0);
  const has = (suite: string) => bySuite.has(suite);
  const out: string[] = ['', 'Reliability summary', '==================='];
  const row = (label: string, value: string) => out.push(`${label.padEnd(34)} ${value}`);
  row(
    'authorization cells checked',
    has('authorization-matrix') ? String(sum('authorization-matrix', 'cells')) : 'not run',
  );
  row(
    'blinded responses scanned / leaks',
    has('authorization-matrix')
      ? `${sum('authorization-matrix', 'blindedResponsesScanned')} / ${sum('authorization-matrix', 'leaks')}`
      : 'not run',
  );
  row('fuzz cases / 5xx', has('fuzz') ? `${sum('fuzz', 'cases')} / ${sum('fuzz', 'status5xx')}` : 'not run');
  row('kills survived', has('kill9') ? `${sum('kill9', 'iterations')}` : 'not run');
  row('database restarts survived', has('db-restart') ? `${sum('db-restart', 'restarts')}` : 'not run');
  row('pool-exhaustion requests hung', has('pool-exhaustion') ? `${sum('pool-exhaustion', 'hung')}` : 'not run');
  const lost = ['kill9', 'db-restart', 'fuzz'].reduce(
    (total, suite) => total + sum(suite, 'recordsLost') + sum(suite, 'dbChanges'),
    0,
  );
  row('records lost', ['kill9', 'db-restart', 'fuzz'].some(has) ? String(lost) : 'not run');
  out.push('', 'All figures, per suite:');
  for (const line of lines) {
    const { suite, at: _at, ...figures } = line;
    out.push(
      `  ${suite}: ${Object.entries(figures)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
  }
  return out.join('\n');
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'fuzz-only': { type: 'boolean' }, cases: { type: 'string' }, seed: { type: 'string' } },
  });
  const figuresFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'trialdesk-reliability-')), 'figures.jsonl');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEST_DATABASE_URL: process.env.TEST_DATABASE_URL || DEFAULT_SERVER,
    RELIABILITY_FIGURES_FILE: figuresFile,
  };
  let targets = positionals;
  if (values['fuzz-only']) {
    env.FUZZ_CASES = values.cases ?? process.env.FUZZ_CASES ?? '20000';
    env.FUZZ_SEED = values.seed ?? process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
    targets = ['test/reliability/fuzz.test.ts'];
    process.stdout.write(
      `fuzz: ${env.FUZZ_CASES} cases, seed ${env.FUZZ_SEED} (replay with FUZZ_SEED=${env.FUZZ_SEED})\n`,
    );
  }
  const jest = spawnSync(
    process.execPath,
    [
      '--experimental-vm-modules',
      '--no-warnings=ExperimentalWarning',
      path.join(ROOT, 'node_modules/jest/bin/jest.js'),
      '-c',
      'test/reliability/jest.config.js',
      '--runInBand',
      ...targets,
    ],
    { cwd: ROOT, env, stdio: 'inherit' },
  );
  process.stdout.write(`${summarize(readFigures(figuresFile))}\n`);
  fs.rmSync(path.dirname(figuresFile), { recursive: true, force: true });
  if (jest.status !== 0) process.stdout.write('\nFAILED: see the test output above.\n');
  return jest.status ?? 1;
}

if (require.main === module) process.exit(main());
