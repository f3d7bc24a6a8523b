/**
 * The bound the audit chain puts on one trial's writes, measured without Node (docs/benchmarks.md, #19). pgbench (a C
 * client, so the load generator costs almost nothing) runs on a scratch database migrated by the service, at each
 * concurrency, for `--seconds` each, back to back:
 *
 *   ceiling      BEGIN; INSERT INTO bench_ceiling (v) VALUES (…); COMMIT      (the smallest durable commit)
 *   chain head   BEGIN; INSERT INTO audit_events (one trial) VALUES (…); COMMIT   (the trigger takes the trial's chain
 *                head lock at the INSERT and keeps it until COMMIT has flushed the WAL)
 *   8 trials     the same, each client writing to one of 8 trials (client id mod 8): eight chain heads
 *
 * Every audited write of one trial (randomization, screening, consent, coupon issue) contains the chain-head
 * transaction, so its rate over the ceiling is the most any of them can reach while the chain is linked inside the
 * inserting transaction.
 *
 *   npx tsx scripts/bench/chain-head.ts --database-url URL [--levels 1,8,32] [--seconds 10]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATABASE_LIMITS } from '../../src/config';
import { createActiveTrial } from './fixtures';
import { fixed } from './report';
import { createScratchDatabase, startService } from './service';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    levels: { type: 'string', default: '1,8,32' },
    seconds: { type: 'string', default: '10' },
  },
});

function pgbench(url: string, script: string, clients: number, seconds: number): { tps: number; latencyMs: number } {
  const out = execFileSync(
    'pgbench',
    [
      '-n',
      '-M',
      'prepared',
      '-c',
      String(clients),
      '-j',
      String(Math.min(clients, 2)),
      '-T',
      String(seconds),
      '-f',
      script,
      url,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tps = /tps = ([\d.]+)/.exec(out);
  const latency = /latency average = ([\d.]+) ms/.exec(out);
  if (!tps || !latency) throw new Error(`unexpected pgbench output:\n${out}`);
  return { tps: Number(tps[1]), latencyMs: Number(latency[1]) };
}

async function main(): Promise<void> {
  const serverUrl = values['database-url'];
  if (!serverUrl) throw new Error('--database-url is required');
  const levels = values.levels!.split(',').map(Number);
  const seconds = Number(values.seconds);
  const scratch = await createScratchDatabase(serverUrl);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chain-head-'));
  try {
    const service = await startService({
      kind: 'postgresql',
      url: scratch.url,
      poolMax: 2,
      ...DEFAULT_DATABASE_LIMITS,
    });
    const trials: string[] = [];
    try {
      for (let t = 0; t < 8; t++) trials.push((await createActiveTrial(service.client, 1)).id);
      await service.db.knex.raw('CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, v int)');
    } finally {
      await service.close();
    }
    const insertAudit = (trial: string) =>
      `INSERT INTO audit_events (trial_id, actor_role, action, entity_type, entity_id, after) SELECT ${trial}, 'admin', 'bench.chain_head', 'bench', :client_id::text, '{}';`;
    const scripts = {
      ceiling: 'BEGIN;\nINSERT INTO bench_ceiling (v) VALUES (:client_id);\nCOMMIT;\n',
      'chain head, one trial': `BEGIN;\n${insertAudit(`'${trials[0]}'::uuid`)}\nCOMMIT;\n`,
      'chain head, 8 trials': `\\set t :client_id % 8\nBEGIN;\n${insertAudit(`(ARRAY['${trials.join("','")}']::uuid[])[:t + 1]`)}\nCOMMIT;\n`,
    };
    const files = Object.fromEntries(
      Object.entries(scripts).map(([name, text], i) => {
        const file = path.join(dir, `${i}.sql`);
        fs.writeFileSync(file, text);
        return [name, file];
      }),
    );
    const lines = [
      '| c | load average | ceiling commits/s | chain head, one trial | ratio | chain head, 8 trials | ratio |',
    ];
    lines.push('|---|---|---|---|---|---|---|');
    for (const c of levels) {
      const load0 = os.loadavg()[0]!;
      const ceiling = pgbench(scratch.url, files.ceiling!, c, seconds);
      const one = pgbench(scratch.url, files['chain head, one trial']!, c, seconds);
      const eight = pgbench(scratch.url, files['chain head, 8 trials']!, c, seconds);
      const load1 = os.loadavg()[0]!;
      lines.push(
        `| ${c} | ${fixed(load0, 2)} → ${fixed(load1, 2)} | ${fixed(ceiling.tps)} (${fixed(ceiling.latencyMs, 2)} ms) | ${fixed(one.tps)} (${fixed(one.latencyMs, 2)} ms) | ${fixed((100 * one.tps) / ceiling.tps, 0)} % | ${fixed(eight.tps)} (${fixed(eight.latencyMs, 2)} ms) | ${fixed((100 * eight.tps) / ceiling.tps, 0)} % |`,
      );
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await scratch.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
