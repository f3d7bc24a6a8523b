import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chiSquaredDistributionTable } from 'simple-statistics';

/** A reproducible stand-in for a freshly generated seed: SHA-256 of a label. */
export function seedFor(label: string): Buffer {
  return createHash('sha256').update(label).digest();
}

export function chiSquareStatistic(observed: readonly number[], expected: readonly number[]): number {
  return observed.reduce((sum, count, index) => {
    const expectedCount = expected[index]!;
    return sum + (count - expectedCount) ** 2 / expectedCount;
  }, 0);
}

/**
 * Upper 0.5% point of the chi-square distribution. The tests draw from fixed seeds, so they are
 * deterministic: a sound sampler passes every run, and a biased one fails every run.
 */
export function chiSquareCritical(degreesOfFreedom: number): number {
  const row = chiSquaredDistributionTable[degreesOfFreedom as keyof typeof chiSquaredDistributionTable];
  if (row === undefined) throw new RangeError(`no chi-square table row for ${degreesOfFreedom} degrees of freedom`);
  return row[0.005];
}

export const REPOSITORY_ROOT = resolve(__dirname, '../..');
export const VERIFIER_SCRIPT = join(REPOSITORY_ROOT, 'scripts', 'verify-allocations.py');

export interface ProcessResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runPython(args: readonly string[], standardInput = ''): ProcessResult {
  const result = spawnSync('python3', args, { cwd: REPOSITORY_ROOT, encoding: 'utf8', input: standardInput });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs scripts/verify-allocations.py on a trial as the API returns it and its allocation export (CSV); status 0 when
 * everything matches. `output` is stdout and stderr together.
 */
export function verifyExport(
  trial: object,
  seed: string,
  csv: string,
  commitment?: string,
): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'verify-'));
  try {
    writeFileSync(join(dir, 'trial.json'), JSON.stringify(trial));
    writeFileSync(join(dir, 'allocations.csv'), csv);
    const args = ['--seed', seed, '--config', join(dir, 'trial.json'), '--allocations', join(dir, 'allocations.csv')];
    if (commitment) args.push('--commitment', commitment);
    const result = runPython([VERIFIER_SCRIPT, ...args]);
    return { status: result.status, output: result.stdout + result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
