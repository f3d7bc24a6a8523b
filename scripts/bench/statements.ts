/**
 * SQL statements per write on a coordinator's path (docs/benchmarks.md): screening, consent, randomization and coupon
 * issue, counted from knex's query events (recordStatements) over N participants on a fresh embedded database (the
 * counts are the same on PostgreSQL: the same code sends the same statements). Statements inside database triggers
 * (the audit chain) are not knex queries and are not counted.
 *
 *   npx tsx scripts/bench/statements.ts [--participants 20] [--database-url URL]
 */
import { parseArgs } from 'node:util';
import { DEFAULT_DATABASE_LIMITS } from '../../src/config';
import { consentedServiceUser, createActiveTrial, serviceUser } from './fixtures';
import { recordStatements } from './measure';
import { createScratchDatabase, startService } from './service';

const { values } = parseArgs({
  options: { participants: { type: 'string', default: '20' }, 'database-url': { type: 'string' } },
});
const n = Number(values.participants);
const url = values['database-url'];

async function main(): Promise<void> {
  const scratch = url ? await createScratchDatabase(url) : null;
  const service = await startService(
    scratch
      ? { kind: 'postgresql', url: scratch.url, poolMax: 10, ...DEFAULT_DATABASE_LIMITS }
      : { kind: 'embedded', dataDir: null, poolMax: 1, ...DEFAULT_DATABASE_LIMITS },
  );
  try {
    const td = service.client;
    const trial = await createActiveTrial(td, 3);
    // Warm the process (first use of each code path and of each stratum) before counting.
    const warm = await consentedServiceUser(td, trial, 0);
    await td.post('/v1/trials/{trialId}/participants/{participantId}/randomization', {
      params: { path: { trialId: trial.id, participantId: warm } },
    });
    const rows: [string, number, Record<string, number>][] = [];
    const count = async (name: string, work: (i: number) => Promise<unknown>, ids: string[] = []) => {
      const recorder = recordStatements(service.db.knex);
      for (let i = 1; i <= n; i++) ids.push(String(await work(i)));
      const profile = recorder.stop();
      rows.push([name, profile.statements / n, profile.byShape]);
      return ids;
    };
    const ids = await count('screening', async (i) => {
      const site = trial.sites[i % trial.sites.length]!.code;
      const participant = await td.post('/v1/trials/{trialId}/participants', {
        params: { path: { trialId: trial.id } },
        body: serviceUser(i, site),
      });
      return participant.id;
    });
    await count('consent', async (i) => {
      await td.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
        params: { path: { trialId: trial.id, participantId: ids[i - 1]! } },
        body: {
          form: 'trial',
          version: '1.0',
          decision: 'granted',
          signedOn: '2018-03-02',
          obtainedBy: 'IW',
          method: 'written',
        },
      });
    });
    await count('randomization', async (i) => {
      await td.post('/v1/trials/{trialId}/participants/{participantId}/randomization', {
        params: { path: { trialId: trial.id, participantId: ids[i - 1]! } },
      });
    });
    await count('coupon issue', async (i) => {
      await td.post('/v1/trials/{trialId}/participants/{participantId}/incentives', {
        params: { path: { trialId: trial.id, participantId: ids[i - 1]! } },
        body: { incentive: 'interview_coupon', issuedOn: '2018-03-03', reference: `C-${i}` },
      });
    });
    for (const [name, perOperation, shapes] of rows) {
      console.log(`${name}: ${perOperation.toFixed(2)} statements per operation`);
      for (const [shape, total] of Object.entries(shapes)) console.log(`  ${(total / n).toFixed(2)}  ${shape}`);
    }
  } finally {
    await service.close();
    await scratch?.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
