import express from 'express';
import supertest from 'supertest';
import { problemHandler } from '../src/http/problem';
import { requestContext } from '../src/http/request-context';
import pino from 'pino';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('service endpoints', () => {
  it('reports health and which database it runs on', async () => {
    const res = await t.call('get', '/healthz', { key: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: t.db.kind, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('serves the contract it validates against', async () => {
    const res = await t.call('get', '/openapi.json', { key: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toContain('/v1/trials/{trialId}/activation');
  });

  it('serves a readable reference page listing every operation', async () => {
    const res = await t.call('get', '/docs', { key: null });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    for (const id of ['createTrial', 'activateTrial', 'createApiKey', 'listTrialAuditEvents'])
      expect(res.text).toContain(`id="op-${id}"`);
    expect(res.text).toContain('id="schema-TrialInput"');
  });

  it('echoes a sane X-Request-Id and uses it as the problem instance', async () => {
    const res = await t.call('get', '/v1/trials', { key: null, headers: { 'X-Request-Id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(res.body.instance).toBe('urn:trialdesk:request:abc-123');
    const odd = await t.call('get', '/v1/trials', { key: null, headers: { 'X-Request-Id': 'has spaces and <tags>' } });
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('problem+json for every failure', () => {
  it('404 for unknown routes', async () => {
    const res = await t.call('get', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: 'https://trialdesk.dev/problems/not-found',
      status: 404,
      title: 'Not found',
    });
  });

  it('405 with Allow for a known path and an unknown method', async () => {
    const res = await t.call('put', '/v1/trials');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
  });

  it('400 for malformed JSON', async () => {
    const res = await t.call('post', '/v1/trials', { raw: { contentType: 'application/json', data: '{"code": "X",' } });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('https://trialdesk.dev/problems/malformed-request');
  });

  it('413 for bodies over 1 MB, and nothing is written', async () => {
    const big = JSON.stringify({ code: 'BIG', title: 'x'.repeat(1_100_000) });
    const res = await t.call('post', '/v1/trials', { raw: { contentType: 'application/json', data: big } });
    expect(res.status).toBe(413);
    expect(await t.db.knex('trials').count('* as n').first()).toEqual({ n: 0 });
  });

  it('415 for bodies that are not JSON', async () => {
    const res = await t.call('post', '/v1/trials', { raw: { contentType: 'text/plain', data: 'code=X' } });
    expect(res.status).toBe(415);
  });

  it('422 with one pointer per failing field, including unknown properties and query parameters', async () => {
    const res = await t.call('post', '/v1/trials', {
      body: { code: 'bad code!', arms: [{ code: 'A', name: 'A', ratio: 0 }], extra: true },
    });
    expect(res.status).toBe(422);
    const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toEqual(
      expect.arrayContaining(['/code', '/title', '/randomization', '/arms', '/arms/0/ratio', '/extra']),
    );
    const query = await t.call('get', '/v1/trials?limit=0&bogus=1');
    expect(query.status).toBe(422);
    expect(query.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
      '/query/bogus',
      '/query/limit',
    ]);
    const path = await t.call('get', '/v1/trials/not-a-uuid');
    expect(path.status).toBe(422);
    expect(path.body.errors).toEqual([{ pointer: '/path/trialId', detail: 'must match format "uuid"' }]);
  });

  it('422 when a required body is missing', async () => {
    const res = await t.call('post', '/v1/trials');
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ pointer: '', detail: 'a request body is required' }]);
  });
});

describe('unexpected failures', () => {
  it('answer 500 problem+json that reveals nothing internal and logs the error with the request id', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const app = express();
    app.use(requestContext(logger));
    app.get('/boom', () => {
      throw new Error('secret: password=hunter2 at /srv/internal.ts');
    });
    app.use(problemHandler);
    const res = await supertest(app).get('/boom');
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.text).not.toMatch(/hunter2|internal\.ts|stack/);
    expect(res.body.instance).toBe(`urn:trialdesk:request:${res.headers['x-request-id']}`);
    expect(lines.join('\n')).toContain('hunter2');
    expect(lines.some((l) => l.includes(res.headers['x-request-id']!))).toBe(true);
  });
});
