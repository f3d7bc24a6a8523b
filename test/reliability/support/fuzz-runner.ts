import type { LoadedSpec } from '../../../src/http/openapi';
import { FuzzCase, render } from './fuzz-cases';
import { differences, Fingerprint, Fingerprinter } from './fuzz-fingerprint';
import type { RunningServer, WireResponse } from './fuzz-http';
import { describeRequest, describeResponse, isProblemViolation, judge, KnownBug, ServiceErrorLog } from './fuzz-oracle';
import type { World } from './fuzz-world';

/*
 * Runs fuzz cases one at a time against a server and applies the oracle: the response (judge), and
 * the database before and after (fingerprints) for every refused request and every read. A
 * violation throws, with everything needed to replay the request by hand; fast-check adds its seed
 * and path. Known bugs are counted instead of thrown; a change to the database is excused only by a
 * known bug that is about exactly that.
 */

export interface RunnerOptions {
  /** Fingerprint the database around every k-th case (1: every case). */
  dbCheckEvery: number;
  /** Put back what the fuzzer used up every n cases (0: never). */
  replenishEvery: number;
  knownBugs: KnownBug[];
  /** The service's error log, to match a 500 with its cause. */
  errorLog: ServiceErrorLog;
}

interface OperationFigures {
  cases: number;
  onRoute: number;
  status2xx: number;
  status4xx: number;
  ms: number;
}

export class FuzzRunner {
  readonly figures = {
    cases: 0,
    status2xx: 0,
    status4xx: 0,
    /** Every 5xx seen, including those of known bugs; each one not explained by a known bug fails the run. */
    status5xx: 0,
    problemJsonViolations: 0,
    noResponse: 0,
    unexplainedViolations: 0,
    dbChecks: 0,
    /** Refused requests and reads that changed the database; those not explained by a known bug fail the run. */
    dbChanges: 0,
    dbChangesKnownBugs: 0,
    /** Cases whose database check was skipped: no whole response, so no status to judge by. */
    dbChecksSkipped: 0,
    rawRequests: 0,
    bodiesOver1MB: 0,
    replenishFailures: 0,
    /** Cases not sent because a known bug would take the in-process service down. */
    notSentWouldCrash: 0,
    /** Fingerprints taken while the app was still working on a request after waiting for it (should stay 0). */
    appStillBusy: 0,
  };
  readonly perOperation: Map<string, OperationFigures>;
  readonly statuses = new Map<number, number>();
  readonly knownBugHits = new Map<string, number>();
  readonly problemTypes = new Map<string, number>();
  slowest = { ms: 0, what: '' };
  fingerprintMs = 0;
  fingerprints = 0;
  private last: Fingerprint | undefined;

  constructor(
    private readonly server: RunningServer,
    private readonly world: World,
    private readonly fingerprinter: Fingerprinter,
    private readonly spec: LoadedSpec,
    private readonly options: RunnerOptions,
  ) {
    this.perOperation = new Map(
      spec.operations.map((op) => [op.operationId, { cases: 0, onRoute: 0, status2xx: 0, status4xx: 0, ms: 0 }]),
    );
  }

  /** The database as the app left it: taken once every request it received has been answered. */
  private async fingerprint(): Promise<Fingerprint> {
    if (!(await this.server.quiet())) this.figures.appStillBusy += 1;
    const started = performance.now();
    const fingerprint = await this.fingerprinter.take();
    this.fingerprintMs += performance.now() - started;
    this.fingerprints += 1;
    return fingerprint;
  }

  /** One case: send it, judge it, record it; throws on a violation no known bug explains. */
  async run(fuzzCase: FuzzCase): Promise<void> {
    const figures = this.figures;
    figures.cases += 1;
    if (
      this.options.replenishEvery &&
      (figures.cases % this.options.replenishEvery === 0 || this.world.needsReplenishing)
    ) {
      this.last = undefined;
      // Outside the oracle: failing to put the world back is the harness's problem, not the case's.
      await this.world.replenish().catch((error: Error) => {
        figures.replenishFailures += 1;
        process.stdout.write(`[fuzz] replenishing the world failed: ${error.message}\n`);
      });
    }
    const op = this.spec.byId.get(fuzzCase.operationId)!;
    const { request, labels, onRoute, ids } = render(fuzzCase, op, this.world);
    const crasher = this.options.knownBugs.find((bug) => bug.wouldCrash?.(request));
    if (crasher) {
      figures.notSentWouldCrash += 1;
      this.knownBugHits.set(crasher.id, (this.knownBugHits.get(crasher.id) ?? 0) + 1);
      return;
    }
    const checkDb = figures.cases % this.options.dbCheckEvery === 0;
    // The previous case's "after" is this case's "before": nothing runs in between.
    const before = checkDb ? (this.last ?? (await this.fingerprint())) : undefined;
    this.last = undefined;

    // Written before sending, so a request that takes the process down is the last line of the trace.
    if (process.env.FUZZ_TRACE)
      process.stderr.write(
        `[fuzz-trace] #${figures.cases} sending ${op.operationId} ${request.method} ${request.target.slice(0, 120)}\n`,
      );
    let response: WireResponse | undefined;
    let failure: Error | undefined;
    try {
      response = await this.server.send(request);
    } catch (error) {
      failure = error as Error;
    }
    const violations = judge(request, response, failure);

    // Without a whole response there is no status to judge the database by.
    const incomplete = !response || response.truncated === true || response.corrupt === true;
    if (incomplete && before) figures.dbChecksSkipped += 1;
    if (before && response && !incomplete) {
      const after = await this.fingerprint();
      this.last = after;
      const isRead = request.method === 'GET' || request.method === 'HEAD';
      if (response.status >= 400 || isRead) {
        figures.dbChecks += 1;
        const changed = differences(before, after);
        if (changed.length) {
          figures.dbChanges += 1;
          violations.push(
            `the database changed although the ${response.status < 400 ? 'read succeeded' : 'request was refused'} (${response.status}): ${changed.join(', ')}`,
          );
        }
      }
    }

    if (process.env.FUZZ_TRACE) {
      process.stderr.write(
        `[fuzz-trace] #${figures.cases} ${op.operationId} ${request.method} ${request.target.slice(0, 120)} -> ${response?.status ?? failure?.message} ${labels.join(' | ').slice(0, 160)} ${response && response.status >= 400 ? response.body.subarray(0, 300).toString('utf8') : ''}\n`,
      );
    }
    const counts = this.perOperation.get(op.operationId)!;
    counts.cases += 1;
    if (onRoute) counts.onRoute += 1;
    if (response) {
      counts.ms += response.ms;
      if (response.ms > this.slowest.ms)
        this.slowest = {
          ms: response.ms,
          what: `${op.operationId} ${request.method} ${request.target.slice(0, 80)} (${labels.join(' | ').slice(0, 120)})`,
        };
      this.statuses.set(response.status, (this.statuses.get(response.status) ?? 0) + 1);
      if (response.transport === 'raw') figures.rawRequests += 1;
      if (response.status < 300) figures.status2xx += 1;
      else if (response.status < 500) figures.status4xx += 1;
      else figures.status5xx += 1;
      if (onRoute && response.status < 300) counts.status2xx += 1;
      if (onRoute && response.status >= 400 && response.status < 500) counts.status4xx += 1;
      if (onRoute && response.status < 300 && (response.headers['content-type'] ?? '').includes('json')) {
        try {
          this.world.harvest(op.operationId, response.status, JSON.parse(response.body.toString('utf8')), ids);
        } catch {
          // not JSON after all: nothing to harvest
        }
      }
    } else {
      figures.noResponse += 1;
    }
    if (response && response.status >= 400 && response.status < 500) this.tallyProblemType(response);
    if ((request.body?.length ?? 0) > 1024 * 1024) figures.bodiesOver1MB += 1;
    if (violations.some(isProblemViolation)) figures.problemJsonViolations += 1;
    if (!violations.length) return;

    // A change to the database is excused only by a known bug that is about exactly that.
    const changedDb = violations.some((v) => v.startsWith('the database changed'));
    const logged = this.options.errorLog.take(response?.headers['x-request-id']);
    const known = this.options.knownBugs.find(
      (bug) => (!changedDb || bug.excusesDatabaseChange) && bug.matches(request, response, violations, logged),
    );
    if (known) {
      this.knownBugHits.set(known.id, (this.knownBugHits.get(known.id) ?? 0) + 1);
      if (changedDb) figures.dbChangesKnownBugs += 1;
      return;
    }
    figures.unexplainedViolations += 1;
    throw new Error(
      [
        `${op.operationId}: ${violations.join('; ')}`,
        `mutations: ${labels.join(' | ') || '(none: a request built from the schema)'}`,
        `request:\n${describeRequest(request)}`,
        `response: ${describeResponse(response)}`,
        ...(logged ? [`the service logged: ${logged.type ?? ''} ${logged.code ?? ''} ${logged.message ?? ''}`] : []),
      ].join('\n'),
    );
  }

  /** Which rules refused the requests (problem types), to show how deep the cases reach. */
  private tallyProblemType(response: WireResponse): void {
    try {
      const type = (JSON.parse(response.body.toString('utf8')) as { type?: unknown }).type;
      const slug = typeof type === 'string' ? type.replace(/^.*\/problems\//, '') : '(none)';
      this.problemTypes.set(slug, (this.problemTypes.get(slug) ?? 0) + 1);
    } catch {
      this.problemTypes.set('(not JSON)', (this.problemTypes.get('(not JSON)') ?? 0) + 1);
    }
  }

  /** Operations that did not get `minimum` cases on their own route. */
  thinlyCovered(minimum: number): string[] {
    return [...this.perOperation].filter(([, c]) => c.onRoute < minimum).map(([id, c]) => `${id} (${c.onRoute})`);
  }

  summary(elapsedMs: number): string {
    const rows = [...this.perOperation];
    return (
      `[fuzz] ${this.figures.cases} cases in ${(elapsedMs / 1000).toFixed(1)} s (${(elapsedMs / this.figures.cases).toFixed(1)} ms/case; ` +
      `fingerprint ${(this.fingerprintMs / Math.max(1, this.fingerprints)).toFixed(1)} ms x ${this.fingerprints})\n` +
      `[fuzz] statuses ${JSON.stringify(Object.fromEntries([...this.statuses].sort(([a], [b]) => a - b)))}\n` +
      `[fuzz] per operation (cases/2xx/4xx/avg ms): ${rows.map(([id, c]) => `${id} ${c.cases}/${c.status2xx}/${c.status4xx}/${(c.ms / Math.max(1, c.cases)).toFixed(0)}`).join(', ')}\n` +
      `[fuzz] refusals by problem type: ${[...this.problemTypes]
        .sort(([, a], [, b]) => b - a)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}\n` +
      `[fuzz] slowest response ${this.slowest.ms.toFixed(0)} ms: ${this.slowest.what}\n` +
      (this.knownBugHits.size
        ? `[fuzz] known bugs hit: ${JSON.stringify(Object.fromEntries(this.knownBugHits))}\n`
        : '')
    );
  }

  operationsWith2xx(): number {
    return [...this.perOperation.values()].filter((c) => c.status2xx > 0).length;
  }
}
