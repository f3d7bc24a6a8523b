/**
 * The SMCM trial of the seed paper, end to end, on synthetic data (npm run demo).
 *
 *   npx tsx scripts/demo.ts [--participants N] [--seed S] [--url URL --key KEY] [--keep] [--svg FILE]
 *
 * Without --url it starts the service in this process on an in-memory embedded database (nothing
 * is left behind) with a fresh admin key; with --url/--key (or TRIALDESK_URL/TRIALDESK_KEY) it uses a
 * running service. Either way it talks to the service only over HTTP, through the typed client:
 * it creates the trial, screens a seeded synthetic cohort, records consent, randomizes, records
 * follow-up, adds and assigns the case workers, issues the interview coupons, and prints the
 * CONSORT counts and the baseline tables. The same --seed gives the same cohort and, through the
 * trial's randomization seed, the same allocations.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createTrialdeskClient, TrialdeskClient } from '../src/client';
import { Cohort, generateCohort, utcToday } from './demo/cohort';
import { createProgress, ProgressStream } from './demo/progress';
import { formatReport } from './demo/report';
import { DemoRun, runDemo } from './demo/run';
import { startService } from './bench/service';
import { DEFAULT_DATABASE_LIMITS } from '../src/config';

export { generateCohort } from './demo/cohort';
export { runDemo } from './demo/run';

const USAGE = 'usage: npm run demo -- [--participants N] [--seed S] [--url URL --key KEY] [--keep] [--svg FILE]';

export interface DemoArguments {
  participants: number;
  seed: string;
  url: string | null;
  key: string | null;
  keep: boolean;
  svg: string | null;
}

export class UsageError extends Error {}

export function parseDemoArguments(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): DemoArguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        participants: { type: 'string', default: '300' },
        seed: { type: 'string', default: '2018' },
        url: { type: 'string' },
        key: { type: 'string' },
        keep: { type: 'boolean', default: false },
        svg: { type: 'string' },
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
  const url = values.url ?? env.TRIALDESK_URL ?? null;
  const key = values.key ?? env.TRIALDESK_KEY ?? null;
  if (url !== null && key === null) throw new UsageError(`--url needs --key (or TRIALDESK_KEY)\n${USAGE}`);
  if (url === null && values.key !== undefined) throw new UsageError(`--key needs --url (or TRIALDESK_URL)\n${USAGE}`);
  return {
    participants,
    seed: values.seed!,
    url,
    key: url === null ? null : key,
    keep: values.keep!,
    svg: values.svg ?? null,
  };
}

export interface DemoIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
  /** The fetch the typed client uses (tests count and check the requests); `globalThis.fetch` when omitted. */
  fetch?: (input: Request) => Promise<Response>;
  /** Resolves when the user asks to stop (Ctrl-C); only awaited with --keep. */
  untilInterrupted?: () => Promise<void>;
}

export interface DemoResult {
  cohort: Cohort;
  run: DemoRun;
  output: string;
  baseUrl: string;
}

/**
 * The whole demo against one client: generate the cohort, run it through the service, write the
 * report. Exported so that tests (and other scripts) can run it against any client.
 */
export async function demoWithClient(
  client: TrialdeskClient,
  options: {
    participants: number;
    seed: string;
    baseUrl: string;
    keyHint: string;
    progress?: ProgressStream;
    svg?: string | null;
  },
): Promise<DemoResult> {
  const cohort = generateCohort({ seed: options.seed, participants: options.participants, today: utcToday() });
  // Trial codes are unique per service; the suffix lets a running service host many demo runs.
  const trialCode = `SMCM-DEMO-${options.seed.replace(/[^A-Za-z0-9]/g, '').slice(0, 20) || 'seed'}-${Date.now().toString(36)}`;
  const run = await runDemo(client, {
    cohort,
    trialCode,
    ...(options.progress ? { progress: createProgress(options.progress) } : {}),
  });
  if (options.svg) {
    const { data, error } = await client.api.GET('/v1/trials/{trialId}/consort.svg', {
      params: { path: { trialId: run.trial.id } },
      parseAs: 'text',
    });
    if (error !== undefined || typeof data !== 'string') throw new Error('the CONSORT diagram could not be fetched');
    fs.writeFileSync(options.svg, data);
  }
  const output = formatReport({ cohort, run, baseUrl: options.baseUrl, keyHint: options.keyHint });
  return { cohort, run, output, baseUrl: options.baseUrl };
}

export async function main(argv: readonly string[], io: DemoIo): Promise<DemoResult> {
  const args = parseDemoArguments(argv, io.env);
  const common = { participants: args.participants, seed: args.seed, progress: io.stderr, svg: args.svg };
  if (args.url !== null) {
    const client = createTrialdeskClient({
      baseUrl: args.url,
      apiKey: args.key!,
      ...(io.fetch ? { fetch: io.fetch } : {}),
    });
    const result = await demoWithClient(client, { ...common, baseUrl: args.url, keyHint: '$TRIALDESK_KEY' });
    io.stdout.write(`${result.output}\n`);
    return result;
  }
  const service = await startService({ kind: 'embedded', dataDir: null, poolMax: 1, ...DEFAULT_DATABASE_LIMITS });
  let result: DemoResult;
  try {
    io.stderr.write(`Started trialdesk in this process at ${service.baseUrl} (in-memory database)\n`);
    // The key of a throwaway in-memory service: printing it is what makes the curl line usable.
    const client = createTrialdeskClient({
      baseUrl: service.baseUrl,
      apiKey: service.adminKey,
      ...(io.fetch ? { fetch: io.fetch } : {}),
    });
    result = await demoWithClient(client, { ...common, baseUrl: service.baseUrl, keyHint: service.adminKey });
    io.stdout.write(`${result.output}\n`);
    if (args.keep && io.untilInterrupted) {
      io.stdout.write(
        `\nServing ${service.baseUrl} until Ctrl-C (admin key ${service.adminKey}); the data goes when it stops.\n`,
      );
      await io.untilInterrupted();
    }
  } finally {
    await service.close();
  }
  io.stdout.write(
    args.keep
      ? '\nStopped; the in-memory data is gone.\n'
      : '\nThe in-process service has stopped; its in-memory data is gone (--keep keeps it serving until Ctrl-C).\n',
  );
  return result;
}

if (require.main === module) {
  main(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    untilInterrupted: () => new Promise((resolve) => process.once('SIGINT', () => resolve())),
  }).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `\n${error instanceof UsageError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
