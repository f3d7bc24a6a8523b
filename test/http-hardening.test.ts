import pino from 'pino';
import { Writable } from 'node:stream';
import supertest from 'supertest';
import { createApp } from '../src/app';
import { knexForPostgres } from '../src/db/database';
import { ensureBootstrapAdminKey } from '../src/features/api-keys/api-keys.service';
import { SECURITY_HEADERS } from '../src/http/security';
import { createTestDatabase, TestDatabase } from './support/database';
import { smcmTrialInput } from './support/factories';

let db: TestDatabase;
let adminKey: string;
let logLines: string[];
let logger: pino.Logger;

beforeAll(async () => {
  db = await createTestDatabase();
  const bootstrap = await ensureBootstrapAdminKey(db.knex, null);
  if (bootstrap.kind !== 'generated') throw new Error('expected an empty database');
  adminKey = bootstrap.key;
  logLines = [];
  logger = pino(
    { level: 'trace' },
    new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }),
  );
});
afterAll(() => db.close());

const auth = (key: string) => ({ Authorization: `Bearer ${key}` });

describe('rate limiting per API key', () => {
  // A stopped clock: no token refills while the requests run, however slowly the machine answers them.
  const stopped = () => new Date('2026-01-01T00:00:00Z');
  it('answers 429 problem+json with Retry-After once a key has used its burst, and keeps other keys apart', async () => {
    const app = createApp({
      db,
      logger,
      now: stopped,
      http: { rateLimit: { perMinute: 60, burst: 5 }, corsOrigins: [] },
    });
    const agent = supertest(app);
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await agent.get('/v1/trials').set(auth(adminKey));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(last!.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(last!.headers['retry-after']).toBe('1');
    expect(last!.body).toMatchObject({
      type: 'https://trialdesk.dev/problems/rate-limited',
      status: 429,
      retryAfterSeconds: 1,
    });
    expect(last!.headers['ratelimit-limit']).toBe('5');
    expect(last!.headers['ratelimit-remaining']).toBe('0');

    const other = await agent.post('/v1/api-keys').set(auth(adminKey)).send({ name: 'second', role: 'monitor' });
    expect(other.status).toBe(429); // the admin key is still exhausted
    const fresh = createApp({ db, now: stopped, http: { rateLimit: { perMinute: 60, burst: 5 }, corsOrigins: [] } });
    const created = await supertest(fresh)
      .post('/v1/api-keys')
      .set(auth(adminKey))
      .send({ name: 'second', role: 'monitor' });
    expect(created.status).toBe(201);
    const monitor = await agent.get('/v1/trials').set(auth(created.body.key));
    expect(monitor.status).toBe(200);
    expect(monitor.headers['ratelimit-remaining']).toBe('4');
  });

  it('refuses a flood of invalid keys from one address before looking them up', async () => {
    const app = createApp({ db, now: stopped, http: { rateLimit: { perMinute: 60, burst: 3 }, corsOrigins: [] } });
    const agent = supertest(app);
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await agent.get('/v1/trials').set(auth(`not-a-real-key-${'x'.repeat(40)}`))).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // A key never seen before from the blocked address is refused unchecked, even a valid one...
    expect((await agent.get('/v1/trials').set(auth(adminKey))).status).toBe(429);
    // ...but a key that authenticated recently keeps working (clients sharing a proxy are not locked out by a
    // neighbour).
    const shared = createApp({ db, http: { rateLimit: { perMinute: 60, burst: 3 }, corsOrigins: [] } });
    const proxy = supertest(shared);
    expect((await proxy.get('/v1/trials').set(auth(adminKey))).status).toBe(200);
    for (let i = 0; i < 4; i++) await proxy.get('/v1/trials').set(auth(`not-a-real-key-${'y'.repeat(40)}`));
    expect((await proxy.get('/v1/trials').set(auth(`not-a-real-key-${'y'.repeat(40)}`))).status).toBe(429);
    expect((await proxy.get('/v1/trials').set(auth(adminKey))).status).toBe(200);
  });

  it('is off when configured so (RATE_LIMIT_PER_MINUTE=0)', async () => {
    const agent = supertest(createApp({ db, http: { rateLimit: null, corsOrigins: [] } }));
    for (let i = 0; i < 30; i++) expect((await agent.get('/healthz')).status).toBe(200);
    const res = await agent.get('/v1/trials').set(auth(adminKey));
    expect(res.status).toBe(200);
    expect(res.headers['ratelimit-limit']).toBeUndefined();
  });
});

describe('security headers and CORS', () => {
  it('sends the security headers on every answer: JSON, problem, HTML, 404', async () => {
    const agent = supertest(createApp({ db }));
    for (const res of [
      await agent.get('/healthz'),
      await agent.get('/v1/trials'),
      await agent.get('/docs'),
      await agent.get('/nowhere'),
    ]) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS))
        expect([res.status, name, res.headers[name.toLowerCase()]]).toEqual([res.status, name, value]);
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('is closed by default: no Access-Control header for any origin, and a preflight is not approved', async () => {
    const agent = supertest(createApp({ db }));
    const res = await agent.get('/v1/trials').set(auth(adminKey)).set('Origin', 'https://evil.example');
    expect(res.status).toBe(200);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const preflight = await agent
      .options('/v1/trials')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.status).toBe(405);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers configured origins exactly, preflight included, and no others', async () => {
    const agent = supertest(createApp({ db, http: { rateLimit: null, corsOrigins: ['https://monitor.example.org'] } }));
    const preflight = await agent
      .options('/v1/trials')
      .set('Origin', 'https://monitor.example.org')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, content-type');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://monitor.example.org');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
    const res = await agent.get('/v1/trials').set(auth(adminKey)).set('Origin', 'https://monitor.example.org');
    expect(res.headers['access-control-allow-origin']).toBe('https://monitor.example.org');
    expect(res.headers['access-control-expose-headers']).toMatch(/X-Request-Id/);
    expect(res.headers.vary).toMatch(/Origin/);
    const other = await agent
      .get('/v1/trials')
      .set(auth(adminKey))
      .set('Origin', 'https://monitor.example.org.evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('keys never reach the logs', () => {
  it('logs requests, failures and key creation without the key or its digest', async () => {
    logLines.length = 0;
    const agent = supertest(createApp({ db, logger }));
    const created = await agent.post('/v1/api-keys').set(auth(adminKey)).send({ name: 'logged', role: 'coordinator' });
    expect(created.status).toBe(201);
    const newKey: string = created.body.key;
    await agent.get('/v1/trials').set(auth(newKey));
    await agent.post('/v1/trials').set(auth(newKey)).send(smcmTrialInput()); // 403
    await agent.get('/v1/trials').set(auth(`${newKey}x`)); // 401
    await agent.get('/v1/trials').set('Authorization', `Basic ${newKey}`); // 401, malformed header
    await agent.get(`/v1/trials?key=${newKey}`).set(auth(adminKey)); // 422: a key pasted into the URL
    await agent
      .post('/v1/trials')
      .set(auth(adminKey))
      .set('Content-Type', 'application/json')
      .send(`{"title": "${newKey}`); // 400 malformed JSON
    const { digestApiKey } = await import('../src/features/api-keys/api-keys');
    const log = logLines.join('');
    expect(logLines.length).toBeGreaterThanOrEqual(7);
    for (const secret of [adminKey, newKey, digestApiKey(newKey), digestApiKey(adminKey)]) {
      expect(log.includes(secret)).toBe(false);
      expect(log.includes(secret.slice(8, 40))).toBe(false);
    }
    expect(log).toMatch(/"status":401/);
  });
});

// PGlite has no statement timeout (it runs in this thread, without timer signals) and one connection, so these run on
// PostgreSQL.
const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

onPostgres('database limits (PostgreSQL)', () => {
  it('cancels a statement past STATEMENT_TIMEOUT_MS and refuses a request that waits too long for a connection: 503 with Retry-After, nothing hangs', async () => {
    // The acquire timeout is well below the statement timeout, so the request that waits for the pool gives up first.
    const limited = knexForPostgres(db.url!, 1, { statementTimeoutMs: 1000, acquireTimeoutMs: 300 });
    const agent = supertest(createApp({ db: { knex: limited, kind: 'postgresql', close: () => limited.destroy() } }));
    const lock = await db.knex.transaction();
    try {
      await lock.raw('LOCK TABLE trials IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      // Authentication reads api_keys (not locked); listing trials then blocks on the lock.
      const [first, second] = await Promise.all([
        agent.get('/v1/trials').set(auth(adminKey)),
        agent.get('/v1/trials').set(auth(adminKey)),
      ]);
      const elapsed = Date.now() - started;
      for (const res of [first, second]) {
        expect(res.status).toBe(503);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.headers['retry-after']).toBe('2');
      }
      expect([first.body.detail, second.body.detail].sort().join(' | ')).toMatch(
        /statement timeout.*no database connection|no database connection.*statement timeout/,
      );
      expect(elapsed).toBeLessThan(5_000);
    } finally {
      await lock.rollback();
    }
    expect((await agent.get('/v1/trials').set(auth(adminKey))).status).toBe(200);
    const { rows } = await limited.raw('SHOW statement_timeout');
    expect(rows[0].statement_timeout).toBe('1s');
    await limited.destroy();
  });
});

describe('hostile requests found by fuzzing are refused as problem+json', () => {
  it('NUL in a body string or a query value: 422 with the pointer, nothing written', async () => {
    const agent = supertest(createApp({ db }));
    const before = (await db.knex('trials').count<{ n: number }[]>('* as n').first())!.n;
    const inTitle = await agent
      .post('/v1/trials')
      .set(auth(adminKey))
      .send(smcmTrialInput({ title: 'SMCM\u0000trial' }));
    expect(inTitle.status).toBe(422);
    expect(inTitle.body.errors).toEqual([{ pointer: '/title', detail: 'must not contain the NUL character (U+0000)' }]);
    const inQuery = await agent.get('/v1/trials?cursor=abc%00def').set(auth(adminKey));
    expect(inQuery.status).toBe(422);
    expect(inQuery.body.errors[0].pointer).toBe('/query/cursor');
    expect((await db.knex('trials').count<{ n: number }[]>('* as n').first())!.n).toBe(before);
  });

  it('an unpaired surrogate in a body string: 422 with the pointer, nothing written (jsonb refuses \\ud800)', async () => {
    // Found by the fuzzer: `occasion: "\ud800"` passed the contract and failed the audit row's jsonb → 500.
    const agent = supertest(createApp({ db }));
    const trial = await agent.post('/v1/trials').set(auth(adminKey)).send(smcmTrialInput());
    expect(trial.status).toBe(201);
    const types = async () => (await db.knex('incentive_types').where({ trial_id: trial.body.id })).length;
    const before = await types();
    const body = {
      code: 'c1',
      description: 'coupon',
      amount: 1,
      currency: 'HKD',
      roles: ['service_user'],
      maxPerParticipant: 1,
    };
    const raw = JSON.stringify({ ...body, occasion: 'x' }).replace('"occasion":"x"', '"occasion":"\\ud800"');
    const refused = await agent
      .post(`/v1/trials/${trial.body.id}/incentive-types`)
      .set(auth(adminKey))
      .set('Content-Type', 'application/json')
      .send(raw);
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      {
        pointer: '/occasion',
        detail: 'must not contain an unpaired UTF-16 surrogate (such as \\ud800 alone): PostgreSQL cannot store it',
      },
    ]);
    expect(await types()).toBe(before);
    const paired = await agent
      .post(`/v1/trials/${trial.body.id}/incentive-types`)
      .set(auth(adminKey))
      .send({ ...body, occasion: 'interview \ud83d\ude00' });
    expect(paired.status).toBe(201);
    expect(await types()).toBe(before + 1);
  });

  it('a path segment that is not percent-encoded UTF-8: 400', async () => {
    const res = await supertest(createApp({ db })).get('/v1/trials/%ED%A0%80').set(auth(adminKey));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe('https://trialdesk.dev/problems/malformed-request');
  });

  it('a body labelled gzip that does not decompress: 400', async () => {
    const res = await supertest(createApp({ db }))
      .post('/v1/trials')
      .set(auth(adminKey))
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send('{"not": "gzip"}');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it("requests Node's HTTP parser refuses: problem+json with a request id, then the connection closes", async () => {
    const net = await import('node:net');
    const { answerClientErrors } = await import('../src/http/client-errors');
    const server = createApp({ db }).listen(0, '127.0.0.1');
    answerClientErrors(server);
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.end(request));
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
    try {
      const conflicting = await raw(
        'POST /v1/trials HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      );
      expect(conflicting).toMatch(/^HTTP\/1\.1 400 /);
      expect(conflicting).toMatch(/content-type: application\/problem\+json/i);
      expect(conflicting).toMatch(/x-request-id: [0-9a-f-]{36}/i);
      expect(JSON.parse(conflicting.split('\r\n\r\n')[1]!)).toMatchObject({
        status: 400,
        type: 'https://trialdesk.dev/problems/malformed-request',
      });
      const huge = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(huge).toMatch(/^HTTP\/1\.1 431 /);
      expect(JSON.parse(huge.split('\r\n\r\n')[1]!)).toMatchObject({ status: 431 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the largest bodies the contract allows do not hold the process', () => {
  /**
   * Runs `work` while a 5 ms timer probes the event loop. Returns the longest stall (wall time between
   * two ticks) and the most CPU the process spent within one stall: on this shared 2-core machine a
   * stall's wall time also counts other processes' turns, its CPU time only this process's work.
   */
  async function stallsDuring(work: () => Promise<void>): Promise<{ wallMs: number; cpuMs: number }> {
    let last = { wall: performance.now(), cpu: process.cpuUsage() };
    const longest = { wallMs: 0, cpuMs: 0 };
    const probe = setInterval(() => {
      const now = { wall: performance.now(), cpu: process.cpuUsage() };
      const cpu = process.cpuUsage(last.cpu);
      longest.wallMs = Math.max(longest.wallMs, now.wall - last.wall);
      longest.cpuMs = Math.max(longest.cpuMs, (cpu.user + cpu.system) / 1000);
      last = now;
    }, 5);
    try {
      await work();
    } finally {
      clearInterval(probe);
    }
    return longest;
  }

  it('validates a trial at every list limit, 50,000 items over a limit and 2 × 100,000 t-test values with no stall over 1 s of CPU', async () => {
    const agent = supertest(createApp({ db }));
    const base = smcmTrialInput();
    const padded = (text: string, length: number) => text.padEnd(length, '.');
    const largest = {
      ...base,
      title: padded('Largest allowed trial', 500),
      eligibility: [
        ...base.eligibility!,
        ...Array.from({ length: 100 - base.eligibility!.length }, (_, i) => ({
          code: `X${i}`,
          kind: 'inclusion' as const,
          text: padded(`criterion ${i}`, 1000),
          roles: ['service_user' as const, 'case_worker' as const],
        })),
      ],
      baselineVariables: [
        ...base.baselineVariables!,
        ...Array.from({ length: 200 - base.baselineVariables!.length }, (_, i) => ({
          name: `extra${i}`,
          label: padded(`extra ${i}`, 200),
          type: 'category' as const,
          levels: Array.from({ length: 100 }, (_, j) => padded(`level ${j}`, 28)),
        })),
      ],
    };
    const largestBytes = Buffer.byteLength(JSON.stringify(largest));
    expect(largestBytes).toBeGreaterThan(700_000);
    expect(largestBytes).toBeLessThan(1_000_000);
    const overLimit = { ...smcmTrialInput(), arms: Array.from({ length: 50_000 }, () => ({})) };
    const tTestValues = (offset: number) => Array.from({ length: 100_000 }, (_, i) => ((i * 7919) % 97) + offset);

    // The largest trial is valid as a whole (created outside the measured window: with the embedded
    // database, its own writes run on this thread too)...
    expect((await agent.post('/v1/trials').set(auth(adminKey)).send(largest)).status).toBe(201);
    // ...and validated again, in full, before an unknown trial id turns the change into a 404.
    const unknownTrial = '00000000-0000-4000-8000-000000000000';
    const { code: _code, ...largestConfiguration } = largest;
    const statuses: number[] = [];
    let errors: unknown;
    const stalls = await stallsDuring(async () => {
      const patch = await agent.patch(`/v1/trials/${unknownTrial}`).set(auth(adminKey)).send(largestConfiguration);
      statuses.push(patch.status);
      const refused = await agent.post('/v1/trials').set(auth(adminKey)).send(overLimit);
      statuses.push(refused.status);
      errors = refused.body.errors;
      const tTest = await agent
        .post('/v1/stats/t-test')
        .set(auth(adminKey))
        .send({
          groups: [
            { label: 'a', values: tTestValues(0) },
            { label: 'b', values: tTestValues(1) },
          ],
        });
      statuses.push(tTest.status);
    });
    expect(statuses).toEqual([404, 422, 200]);
    expect(errors).toEqual([{ pointer: '/arms', detail: 'must NOT have more than 10 items' }]);
    // A bound on blocking, not a benchmark: before the limits, 16,000 empty arms alone held the process
    // for 17 s of CPU, and building a pointer for every t-test value took 0.3 s.
    process.stdout.write(
      `[largest bodies] longest event-loop stall: ${Math.round(stalls.wallMs)} ms wall, ${Math.round(stalls.cpuMs)} ms CPU\n`,
    );
    // process.cpuUsage counts every thread of the process (parallel GC included): 639–954 ms measured for the
    // largest bodies, so the bound is 2 s — still far below the 17 s one request could take before the limits.
    expect(stalls.cpuMs).toBeLessThan(2000);
  });
});

describe('bytes that are not a request, after one that is, on the same connection', () => {
  it('answer the request first, then refuse the bytes with problem+json and close', async () => {
    const net = await import('node:net');
    const { answerClientErrors } = await import('../src/http/client-errors');
    const app = createApp({ db });
    const created = await supertest(app).post('/v1/trials').set(auth(adminKey)).send(smcmTrialInput());
    const trialId = created.body.id;
    await supertest(app).post(`/v1/trials/${trialId}/sites`).set(auth(adminKey)).send({ code: 'A', name: 'Centre A' });
    const server = app.listen(0, '127.0.0.1');
    answerClientErrors(server);
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      // Content-Length 3 with 7 bytes sent: the request ends after "{} ", and "zzzz" cannot start another.
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () =>
          socket.write(
            `POST /v1/trials/${trialId}/activation HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminKey}\r\n` +
              'Content-Type: application/json\r\nContent-Length: 3\r\n\r\n{} zzzz',
          ),
        );
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      const responses = answer.split(/(?=HTTP\/1\.1 \d{3} )/);
      expect(responses.map((r) => r.slice(0, 12))).toEqual(['HTTP/1.1 200', 'HTTP/1.1 400']);
      const [activated, refused] = responses.map((r) => JSON.parse(r.slice(r.indexOf('\r\n\r\n') + 4)));
      expect(activated).toMatchObject({ id: trialId, status: 'active' });
      expect(refused).toMatchObject({ status: 400, type: 'https://trialdesk.dev/problems/malformed-request' });
      expect(responses[1]).toMatch(/content-type: application\/problem\+json/i);
      expect(responses[1]).toMatch(/connection: close/i);
      expect((await supertest(app).get(`/v1/trials/${trialId}`).set(auth(adminKey))).body.status).toBe('active');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('an operation without a body waits for the whole request', () => {
  it('does not activate a trial when the client breaks off the body it announced', async () => {
    const net = await import('node:net');
    const { answerClientErrors } = await import('../src/http/client-errors');
    const app = createApp({ db });
    const created = await supertest(app).post('/v1/trials').set(auth(adminKey)).send(smcmTrialInput());
    const trialId = created.body.id;
    await supertest(app).post(`/v1/trials/${trialId}/sites`).set(auth(adminKey)).send({ code: 'A', name: 'Centre A' });
    const server = app.listen(0, '127.0.0.1');
    answerClientErrors(server);
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write(
            `POST /v1/trials/${trialId}/activation HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminKey}\r\nContent-Length: 100\r\n\r\n{"half":`,
          );
          setTimeout(() => socket.end(), 300);
        });
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).not.toMatch(/^HTTP\/1\.1 20/);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await supertest(app).get(`/v1/trials/${trialId}`).set(auth(adminKey))).body.status).toBe('setup');
      // The same request sent whole activates it.
      expect((await supertest(app).post(`/v1/trials/${trialId}/activation`).set(auth(adminKey))).status).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
