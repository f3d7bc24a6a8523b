import type { Express } from 'express';
import supertest from 'supertest';
import { createApp } from '../../src/app';
import { ensureBootstrapAdminKey } from '../../src/features/api-keys/api-keys.service';
import type { components } from '../../src/generated/openapi';
import { assertMatchesContract } from './contract';
import { createTestDatabase, TestDatabase } from './database';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Role = components['schemas']['Role'];

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  /** A raw body sent as is (with its content type) instead of JSON. */
  raw?: { contentType: string; data: string | Buffer };
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | undefined>;
  // Bodies are whatever JSON the service sent; the contract check has already validated them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  body: any;
  text: string;
}

export interface TestApp {
  db: TestDatabase;
  app: Express;
  adminKey: string;
  /** Sends a request and checks the response against the contract before returning it. */
  call(method: Method, path: string, options?: CallOptions): Promise<TestResponse>;
  createKey(role: Role, scope?: { trialIds?: string[]; siteCodes?: string[] }): Promise<{ id: string; key: string }>;
  close(): Promise<void>;
}

export async function startTestApp(options: { clock?: () => Date } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const bootstrap = await ensureBootstrapAdminKey(db.knex, null);
  if (bootstrap.kind !== 'generated') throw new Error('expected an empty database');
  const app = createApp({ db, now: options.clock });
  const agent = supertest(app);

  const call: TestApp['call'] = async (method, path, options = {}) => {
    let request = agent[method](path);
    const key = options.key === undefined ? bootstrap.key : options.key;
    if (key !== null) request = request.set('Authorization', `Bearer ${key}`);
    for (const [name, value] of Object.entries(options.headers ?? {})) request = request.set(name, value);
    if (options.raw) request = request.set('Content-Type', options.raw.contentType).send(options.raw.data);
    else if (options.body !== undefined) request = request.send(options.body as object);
    const res = await request;
    // superagent buffers image types (SVG) into a Buffer body and leaves text unset.
    const text = res.text ?? (Buffer.isBuffer(res.body) ? res.body.toString('utf8') : '');
    const response: TestResponse = {
      status: res.status,
      headers: res.headers as Record<string, string | undefined>,
      body: res.body,
      text,
    };
    assertMatchesContract(method, path, response);
    return response;
  };

  return {
    db,
    app,
    adminKey: bootstrap.key,
    call,
    async createKey(role, scope = {}) {
      const res = await call('post', '/v1/api-keys', { body: { name: `${role} test key`, role, ...scope } });
      if (res.status !== 201) throw new Error(`creating a ${role} key failed: ${res.text}`);
      return { id: res.body.id, key: res.body.key };
    },
    close: () => db.close(),
  };
}
