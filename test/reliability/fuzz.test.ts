import express, { Express } from 'express';
import fc from 'fast-check';
import pino from 'pino';
import { createApp } from '../../src/app';
import { ensureBootstrapAdminKey } from '../../src/features/api-keys/api-keys.service';
import { loadSpec } from '../../src/http/openapi';
import { createTestDatabase, TestDatabase } from '../support/database';
import { recordFigures } from './support/figures';
import { caseFactory, FuzzCase } from './support/fuzz-cases';
import { createFingerprinter, Fingerprinter } from './support/fuzz-fingerprint';
import { listen, RunningServer } from './support/fuzz-http';
import { KNOWN_BUGS, ServiceErrorLog } from './support/fuzz-oracle';
import { FuzzRunner } from './support/fuzz-runner';
import { World } from './support/fuzz-world';

/*
 * Property-based fuzzing of the whole HTTP surface. Requests are built from the contract's schemas
 * at run time, mutated (wrong types, missing and extra fields, huge and negative numbers, NaN-like
 * strings, impossible dates, 10 MB bodies, deep nesting, __proto__ keys, NUL bytes, lone
 * surrogates, RTL overrides, normalization twins, hostile headers, lying framing) and sent over real
 * HTTP to the app listening on 127.0.0.1. The oracle: no 5xx, every 4xx a problem+json, and the
 * database unchanged by every refused request and every successful read.
 *
 * FUZZ_CASES (default 1500, the CI slice) and FUZZ_SEED (default fixed) choose the run; a failure
 * prints fast-check's seed and path, and FUZZ_SEED=<seed> FUZZ_PATH=<path> replays the failing case
 * (against a freshly seeded world: state built by earlier cases is not replayed, so the failure
 * message also carries the request's bytes). FUZZ_DB_CHECK_EVERY=k fingerprints the database
 * around every k-th case only (default 1: every case). FUZZ_LOG=1 shows the service's error log;
 * FUZZ_TRACE=1 prints one line per case.
 */

const CASES = Number(process.env.FUZZ_CASES ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const REPLAY_PATH = process.env.FUZZ_PATH || undefined;
const DB_CHECK_EVERY = Math.max(1, Number(process.env.FUZZ_DB_CHECK_EVERY ?? 1));

const spec = loadSpec();
const factory = caseFactory(spec);

describe('fuzzing every operation of the contract', () => {
  let db: TestDatabase;
  let server: RunningServer;
  let world: World;
  let fingerprinter: Fingerprinter;
  const errorLog = new ServiceErrorLog(Boolean(process.env.FUZZ_LOG));

  beforeAll(async () => {
    db = await createTestDatabase();
    const bootstrap = await ensureBootstrapAdminKey(db.knex, null);
    if (bootstrap.kind !== 'generated') throw new Error('expected an empty database');
    server = await listen(createApp({ db, logger: pino({ level: 'error' }, errorLog.stream) }));
    world = new World(server, bootstrap.key, SEED);
    await world.seed();
    fingerprinter = await createFingerprinter(db.knex);
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  test(
    `${CASES} cases: no 5xx, every refusal a problem+json, refused requests and reads change nothing`,
    async () => {
      process.stdout.write(
        `[fuzz] ${CASES} cases, seed ${SEED}${REPLAY_PATH ? `, path ${REPLAY_PATH}` : ''}, database ${db.kind}, db check every ${DB_CHECK_EVERY}\n`,
      );
      const runner = new FuzzRunner(server, world, fingerprinter, spec, {
        dbCheckEvery: DB_CHECK_EVERY,
        replenishEvery: 150,
        knownBugs: KNOWN_BUGS,
        errorLog,
      });
      const started = performance.now();
      await fc.assert(
        fc.asyncProperty(factory.arbitrary, (fuzzCase: FuzzCase) => runner.run(fuzzCase)),
        // The failing request is part of the message (not only its cause), whatever prints it.
        {
          numRuns: CASES,
          seed: SEED,
          path: REPLAY_PATH,
          endOnFailure: REPLAY_PATH !== undefined,
          includeErrorInReport: true,
        },
      );
      const elapsed = performance.now() - started;
      process.stdout.write(runner.summary(elapsed));

      // Operations are drawn uniformly, so each should get about CASES / operations cases; a quarter of that is the
      // floor.
      const minimum = Math.max(1, Math.floor(CASES / factory.operations.length / 4));
      const thin = runner.thinlyCovered(minimum);
      recordFigures('fuzz', {
        ...runner.figures,
        seed: SEED,
        database: db.kind,
        operations: factory.operations.length,
        operationsCovered: factory.operations.length - thin.length,
        minimumCasesPerOperation: minimum,
        operationsWith2xx: runner.operationsWith2xx(),
        dbCheckEvery: DB_CHECK_EVERY,
        knownBugs: KNOWN_BUGS.length,
        knownBugHits: [...runner.knownBugHits.values()].reduce((a, b) => a + b, 0),
        replenishments: world.replenishments,
        problemTypes: runner.problemTypes.size,
        seconds: Math.round(elapsed / 100) / 10,
        msPerCase: Math.round((elapsed / runner.figures.cases) * 10) / 10,
        fingerprintMs: Math.round((runner.fingerprintMs / Math.max(1, runner.fingerprints)) * 10) / 10,
        slowestResponseMs: Math.round(runner.slowest.ms),
      });
      expect(thin).toEqual([]);
      // Each unexplained violation has already failed the property; this states the oracle once more.
      expect(runner.figures.unexplainedViolations).toBe(0);
      expect(runner.figures.dbChanges).toBe(runner.figures.dbChangesKnownBugs);
    },
    Math.max(600_000, CASES * 250),
  );

  /*
   * The oracle must be able to fail. The same cases go to the real app behind a saboteur that
   * breaks one promise at a time; every case must then be reported, and a failing fc.assert must
   * name its seed, path and the request's bytes.
   */
  describe('the oracle catches a sabotaged service', () => {
    type Sabotage =
      | 'refuse-after-insert'
      | 'refuse-after-rewrite'
      | 'read-writes'
      | 'text-refusal'
      | 'status-mismatch'
      | 'internal-error';

    const problem = (status: number, bodyStatus = status) =>
      JSON.stringify({
        type: 'https://trialdesk.dev/problems/sabotage',
        title: 'Sabotage',
        status: bodyStatus,
        detail: 'sabotaged',
        instance: 'urn:sabotage',
      });

    function saboteur(inner: Express, mode: Sabotage): Express {
      const outer = express();
      outer.use(async (req, res, next) => {
        try {
          switch (mode) {
            case 'refuse-after-insert':
              await db.knex.raw(
                `INSERT INTO trial_sites (trial_id, code, name) SELECT trial_id, 'SAB' || floor(random() * 1e12)::text, 'sabotage' FROM trials LIMIT 1`,
              );
              res.status(422).type('application/problem+json').send(problem(422));
              return;
            case 'refuse-after-rewrite':
              // Same values, new row versions: a committed no-op UPDATE still counts as a change.
              await db.knex.raw('UPDATE trials SET title = title');
              res.status(409).type('application/problem+json').send(problem(409));
              return;
            case 'read-writes':
              await db.knex.raw('UPDATE trials SET title = title');
              next();
              return;
            case 'text-refusal':
              res.status(400).type('text/plain').send('bad request');
              return;
            case 'status-mismatch':
              res.status(404).type('application/problem+json').send(problem(404, 400));
              return;
            case 'internal-error':
              res.status(500).type('application/problem+json').send(problem(500));
              return;
          }
        } catch (error) {
          next(error);
        }
      });
      outer.use(inner);
      return outer;
    }

    const expected: Record<Sabotage, RegExp> = {
      'refuse-after-insert': /the database changed although the request was refused \(422\): trial_sites/,
      'refuse-after-rewrite': /the database changed although the request was refused \(409\): trials/,
      'read-writes': /the database changed although the (read succeeded|request was refused)/,
      'text-refusal': /served as "text\/plain; charset=utf-8", not application\/problem\+json/,
      'status-mismatch': /problem\.status 400 differs from HTTP 404/,
      'internal-error': /status 500/,
    };

    // Cases the saboteur sees whole: no framing tricks that Node's parser refuses before any app runs.
    const reachesTheApp = (c: FuzzCase) => c.mutations.every((m) => m.on !== 'wire' && m.on !== 'bytes');
    const isRead = (c: FuzzCase) =>
      spec.byId.get(c.operationId)!.method === 'get' && c.mutations.every((m) => m.on !== 'route');

    async function withSaboteur<T>(mode: Sabotage, work: (runner: FuzzRunner) => Promise<T>): Promise<T> {
      const log = new ServiceErrorLog(false);
      const sabotaged = await listen(saboteur(createApp({ db, logger: pino({ level: 'error' }, log.stream) }), mode));
      try {
        // Known bugs stay in force: they must not excuse any of this.
        return await work(
          new FuzzRunner(sabotaged, world, fingerprinter, spec, {
            dbCheckEvery: 1,
            replenishEvery: 0,
            knownBugs: KNOWN_BUGS,
            errorLog: log,
          }),
        );
      } finally {
        await sabotaged.close();
      }
    }

    test.each(Object.keys(expected) as Sabotage[])('%s: every case is reported', async (mode) => {
      const cases = fc.sample(
        factory.arbitrary.filter(mode === 'read-writes' ? (c) => reachesTheApp(c) && isRead(c) : reachesTheApp),
        { seed: SEED, numRuns: 12 },
      );
      await withSaboteur(mode, async (runner) => {
        for (const fuzzCase of cases) await expect(runner.run(fuzzCase)).rejects.toThrow(expected[mode]);
        expect(runner.figures.unexplainedViolations).toBe(cases.length);
      });
    });

    test('a failing run names its seed, its path and the bytes of the request', async () => {
      const error = await withSaboteur('refuse-after-insert', async (runner) =>
        fc
          .assert(
            fc.asyncProperty(factory.arbitrary.filter(reachesTheApp), (c) => runner.run(c)),
            { numRuns: 5, seed: 42, endOnFailure: true, includeErrorInReport: true },
          )
          .then(
            () => undefined,
            (e: Error) => e,
          ),
      );
      expect(error?.message).toMatch(/seed: 42, path: "\d+(:\d+)*"/);
      expect(error?.message).toMatch(/Counterexample/);
      expect(error?.message).toMatch(/the database changed although the request was refused/);
      expect(error?.message).toMatch(/request:\n(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \//);
    });
  });
});
