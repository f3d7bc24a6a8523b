/**
 * The SMCM trial of the seed paper, end to end, on synthetic data (npm run demo).
 *
 *   npx tsx scripts/demo.ts [--participants N] [--seed S] [--url URL --key KEY] [--keep] [--data-dir DIR] [--svg FILE]
 *                           [--forest FILE] [--dataset FILE]
 *
 * Without --url it starts the service in this process with a fresh admin key, on an in-memory embedded
 * database (nothing is left behind) or, with --data-dir, on an embedded database in a new directory that
 * `DATA_DIR=DIR npm start` serves afterwards; with --url/--key (or TRIALDESK_URL/TRIALDESK_KEY) it uses a
 * running service. Either way it talks to the service only over HTTP, through the typed client:
 * it creates the trial, screens a seeded synthetic cohort, records consent, randomizes, records
 * follow-up events and the baseline visits (assessments, missed visits), adds and assigns the case workers,
 * issues the interview coupons, and prints the follow-up completeness table,
 * CONSORT counts and the baseline tables; on its own service's calendar it records the 6- and 12-month visits and
 * ends as a statistician would: Table 2, the primary analysis (ANCOVA at 12 months) with its methods sentence, the
 * forest plot (--forest FILE writes it) and the analysis dataset R reads (--dataset FILE writes the CSV). The same
 * --seed gives the same cohort and, through the trial's randomization seed, the same allocations.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createTrialdeskClient, TrialdeskClient } from '../src/client';
import { Cohort, generateCohort, utcToday } from './demo/cohort';
import { createDemoCalendar, DemoCalendar, randomizationDay } from './demo/calendar';
import { createProgress, ProgressStream } from './demo/progress';
import { curlDiagram, formatReport } from './demo/report';
import { DemoRun, runDemo } from './demo/run';
import { DeliveryDemo, formatDeliveryDemo, progressOf, runDeliveryDemo } from './demo/delivery';
import { FOLLOW_UP_DAYS } from './demo/visits';
import { DemoOutcomes, demoOutcomes, formatOutcomes } from './demo/outcomes';
import { startService } from './bench/service';
import { DEFAULT_DATABASE_LIMITS } from '../src/config';

export { generateCohort } from './demo/cohort';
export { runDemo } from './demo/run';

const USAGE =
  'usage: npm run demo -- [--participants N] [--seed S] [--url URL --key KEY] [--keep] [--data-dir DIR] [--svg FILE]' +
  ' [--forest FILE] [--dataset FILE]';

export interface DemoArguments {
  participants: number;
  seed: string;
  url: string | null;
  key: string | null;
  keep: boolean;
  /** A new or empty directory for the in-process service's embedded database; null: in memory. */
  dataDir: string | null;
  svg: string | null;
  /** Where to write the forest plot (SVG) and the analysis dataset (CSV), when the primary visit has data. */
  forest: string | null;
  dataset: string | null;
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
        'data-dir': { type: 'string' },
        svg: { type: 'string' },
        forest: { type: 'string' },
        dataset: { type: 'string' },
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
  const dataDir = values['data-dir'] ?? null;
  if (url !== null && dataDir !== null) {
    throw new UsageError(`--data-dir is for the demo's own service; it cannot be used with --url\n${USAGE}`);
  }
  if (dataDir !== null && fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    throw new UsageError(`--data-dir ${dataDir} is not empty: give a new or empty directory\n${USAGE}`);
  }
  return {
    participants,
    seed: values.seed!,
    url,
    key: url === null ? null : key,
    keep: values.keep!,
    dataDir: dataDir === null ? null : path.resolve(dataDir),
    svg: values.svg ?? null,
    forest: values.forest ?? null,
    dataset: values.dataset ?? null,
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
  /** Sessions, supervision and fidelity recorded on the calendar (scripts/demo/delivery.ts); null without one. */
  delivery: DeliveryDemo | null;
  outcomes: DemoOutcomes;
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
    progress?: ProgressStream;
    svg?: string | null;
    forest?: string | null;
    dataset?: string | null;
    /** The in-process service's clock: randomize FOLLOW_UP_DAYS ago and record the 6- and 12-month visits since. */
    calendar?: DemoCalendar;
  },
): Promise<DemoResult> {
  const today = options.calendar ? randomizationDay(FOLLOW_UP_DAYS) : utcToday();
  const cohort = generateCohort({ seed: options.seed, participants: options.participants, today });
  // Trial codes are unique per service; the suffix lets a running service host many demo runs.
  const trialCode = `SMCM-DEMO-${options.seed.replace(/[^A-Za-z0-9]/g, '').slice(0, 20) || 'seed'}-${Date.now().toString(36)}`;
  const run = await runDemo(client, {
    cohort,
    trialCode,
    ...(options.calendar ? { calendar: options.calendar } : {}),
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
  const delivery = options.calendar ? await runDeliveryDemo(client, { cohort, run, ...progressOf(options) }) : null;
  const outcomes = await demoOutcomes(client, run.trial);
  const files = {
    forest: outcomes.forestSvg === null ? null : (options.forest ?? null),
    dataset: outcomes.datasetCsv === null ? null : (options.dataset ?? null),
  };
  if (files.forest) fs.writeFileSync(files.forest, outcomes.forestSvg!);
  if (files.dataset) fs.writeFileSync(files.dataset, outcomes.datasetCsv!);
  const notWritten = [options.forest, options.dataset].filter(
    (file): file is string => typeof file === 'string' && file !== files.forest && file !== files.dataset,
  );
  const output = [
    formatReport({ cohort, run }) + formatOutcomes(outcomes, files),
    ...notWritten.map((file) => `${file} was not written: the primary visit has no outcome data yet.`),
    ...(delivery ? ['', formatDeliveryDemo(delivery)] : []),
  ].join('\n');
  return { cohort, run, delivery, outcomes, output, baseUrl: options.baseUrl };
}

/** Quotes a path for a POSIX shell when it needs it. */
const shellQuote = (text: string) => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`);

export async function main(argv: readonly string[], io: DemoIo): Promise<DemoResult> {
  const args = parseDemoArguments(argv, io.env);
  const common = {
    participants: args.participants,
    seed: args.seed,
    progress: io.stderr,
    svg: args.svg,
    forest: args.forest,
    dataset: args.dataset,
  };
  const svgWritten = args.svg === null ? [] : [`The CONSORT diagram is in ${args.svg}.`];
  if (args.url !== null) {
    const client = createTrialdeskClient({
      baseUrl: args.url,
      apiKey: args.key!,
      ...(io.fetch ? { fetch: io.fetch } : {}),
    });
    const result = await demoWithClient(client, { ...common, baseUrl: args.url });
    // Not the key itself: it is the user's own, and may sit in their shell history already.
    const keyText = args.key === io.env.TRIALDESK_KEY ? '$TRIALDESK_KEY' : '<your key>';
    io.stdout.write(
      [
        result.output,
        '',
        ...svgWritten,
        'The CONSORT diagram needs the API key, so a browser cannot open it directly; fetch it with:',
        `  ${curlDiagram(args.url, keyText, result.run.trial.id)}`,
        '',
      ].join('\n'),
    );
    return result;
  }
  const calendar = createDemoCalendar();
  const service = await startService(
    { kind: 'embedded', dataDir: args.dataDir, poolMax: 1, ...DEFAULT_DATABASE_LIMITS },
    { now: calendar.now },
  );
  let result: DemoResult;
  try {
    io.stderr.write(
      `Started trialdesk in this process at ${service.baseUrl} ` +
        `(${args.dataDir === null ? 'in-memory database' : `embedded database in ${args.dataDir}`})\n`,
    );
    // The key of the demo's own new service: printing it is what makes the curl lines usable.
    const client = createTrialdeskClient({
      baseUrl: service.baseUrl,
      apiKey: service.adminKey,
      ...(io.fetch ? { fetch: io.fetch } : {}),
    });
    result = await demoWithClient(client, { ...common, baseUrl: service.baseUrl, calendar });
    io.stdout.write(`${result.output}\n\n${svgWritten.map((line) => `${line}\n`).join('')}`);
    if (args.keep && io.untilInterrupted) {
      io.stdout.write(
        [
          `Serving ${service.baseUrl} until Ctrl-C (admin key ${service.adminKey}).`,
          'In another terminal, fetch the CONSORT diagram (it needs the key, so a browser cannot open it) with:',
          `  ${curlDiagram(service.baseUrl, service.adminKey, result.run.trial.id)}`,
          '',
        ].join('\n'),
      );
      await io.untilInterrupted();
    }
  } finally {
    await service.close();
  }
  io.stdout.write(
    args.dataDir !== null
      ? [
          `The demo's service has stopped; its data stays in ${args.dataDir}. To go on with it (the admin key works`,
          'there too; the README walkthrough runs on it with TD and KEY set as below):',
          `  DATA_DIR=${shellQuote(args.dataDir)} npm start     # serves http://localhost:3000 (PORT=... for another)`,
          `  export TD=http://localhost:3000 KEY=${service.adminKey}     # in a second terminal`,
          `  ${curlDiagram('$TD', '$KEY', result.run.trial.id)}`,
          '',
        ].join('\n')
      : args.keep || args.svg !== null
        ? "The demo's service has stopped; its in-memory data is gone.\n"
        : [
            "The demo's service has stopped; its in-memory data is gone. To see the CONSORT diagram, run the demo",
            'again with --svg consort.svg (writes the file), --keep (serves until Ctrl-C) or --data-dir DIR (keeps',
            'the data for `DATA_DIR=DIR npm start`).',
            '',
          ].join('\n'),
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
