/*
 * The layer rules and the linter fail on a deliberate violation (issue #18): a probe feature that breaks each
 * rule is written next to the real features, checked with the project's own configuration, and removed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

function run(command: string, args: string[], input?: string) {
  const result = spawnSync(command, args, { cwd: ROOT, input, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('layer rules (dependency-cruiser)', () => {
  const probe = path.join(ROOT, 'src', 'features', `zz-layer-probe-${process.pid}`);

  beforeAll(() => {
    fs.mkdirSync(probe, { recursive: true });
    // A service reading another feature's repository; a router reaching a repository; a pure module doing I/O;
    // a service importing the HTTP layer; two modules importing each other.
    fs.writeFileSync(
      path.join(probe, 'probe.service.ts'),
      "import { findTrial } from '../trials/trials.repo';\nimport { ValidationError } from '../../core/errors';\n" +
        "import { problemHandler } from '../../http/problem';\nimport { other } from './probe-cycle';\n" +
        'export const probe = [findTrial, ValidationError, problemHandler, other];\n',
    );
    fs.writeFileSync(
      path.join(probe, 'probe-cycle.ts'),
      "import { probe } from './probe.service';\nexport const other = () => probe;\n",
    );
    fs.writeFileSync(
      path.join(probe, 'probe.router.ts'),
      "import { listSites } from '../trials/trials.repo';\nexport const handlers = { listSites };\n",
    );
    fs.writeFileSync(
      path.join(probe, 'probe.ts'),
      "import { withTransaction } from '../../db/database';\nexport const pure = withTransaction;\n",
    );
  });
  afterAll(() => fs.rmSync(probe, { recursive: true, force: true }));

  it('passes on the code as it is and names every rule a probe breaks', () => {
    const result = run(bin('depcruise'), ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err']);
    expect(result.status).not.toBe(0);
    const violations = result.output.split('\n').filter((line) => line.includes('error '));
    // Every violation is the probe's: the real code breaks none.
    expect(violations.length).toBeGreaterThan(0);
    for (const line of violations) expect(line).toContain('zz-layer-probe');
    for (const rule of [
      'no-foreign-repo',
      'repo-only-from-own-service',
      'no-http-below-routers',
      'pure-modules-stay-pure',
      'no-cycles',
    ])
      expect(result.output).toContain(rule);
  });
});

describe('ESLint', () => {
  it('refuses a line over 120 columns and an unused import in service code', () => {
    const code =
      "import { ValidationError } from '../../core/errors';\n" +
      `export const tooLong = [${Array.from({ length: 40 }, (_, i) => i).join(', ')}];\n`;
    const result = run(bin('eslint'), ['--stdin', '--stdin-filename', 'src/features/trials/probe.ts'], code);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('max-len');
    expect(result.output).toContain('@typescript-eslint/no-unused-vars');
  });

  it('refuses a use case that reads the trial before opening its transaction, and accepts it under the lock', () => {
    const header =
      'declare function loadTrial(ctx: unknown, id: string): Promise<unknown>;\n' +
      'declare function lockTrialShared(trx: unknown, id: string): Promise<unknown>;\n' +
      'declare function withTransaction(db: unknown, fn: (trx: unknown) => Promise<unknown>): Promise<unknown>;\n';
    const before =
      header +
      'export async function probe(ctx: unknown, id: string) {\n  await loadTrial(ctx, id);\n' +
      '  return withTransaction(ctx, async (trx) => lockTrialShared(trx, id));\n}\n';
    const under =
      header +
      'export async function probe(ctx: unknown, id: string) {\n' +
      '  return withTransaction(ctx, async (trx) => lockTrialShared(trx, id));\n}\n' +
      'export async function read(ctx: unknown, id: string) {\n  return loadTrial(ctx, id);\n}\n';
    const lint = (code: string) =>
      run(bin('eslint'), ['--stdin', '--stdin-filename', 'src/features/trials/probe.service.ts'], code);
    const refused = lint(before);
    expect(refused.status).not.toBe(0);
    expect(refused.output).toContain('reads the trial under its lock');
    expect(lint(under)).toEqual({ status: 0, output: '' });
  });
});
