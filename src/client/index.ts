import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from '../generated/openapi';
import { ConflictProblem, problemFromResponse, ServerProblem, TrialdeskProblem } from './problems';

export * from './problems';

export interface TrialdeskClientOptions {
  /** Where the service listens, e.g. `http://localhost:3000` (no trailing `/v1`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` on every request; a request's own `Authorization` header wins. */
  apiKey: string;
  /** A fetch to use instead of `globalThis.fetch` (tests, custom agents, instrumentation). */
  fetch?: (input: Request) => Promise<Response>;
}

type Outcome = { data?: unknown; error?: unknown; response: Response };

/** The success body of an openapi-fetch outcome: the `data` member of its success variant. */
export type SuccessBody<R> = R extends { data: infer D } ? D : never;

/**
 * The success body, or the typed problem thrown. openapi-fetch gives `error` as the parsed body of
 * any non-2xx answer; it is `undefined` only for an empty body, which still becomes a problem.
 */
async function settle<R extends Outcome>(pending: Promise<R>): Promise<SuccessBody<R>> {
  const outcome = await pending;
  if (outcome.response.ok) return outcome.data as SuccessBody<R>;
  throw problemFromResponse(outcome.response, outcome.error);
}

/**
 * Turns one openapi-fetch method into one that resolves to the success body or throws. TypeScript's
 * higher-order inference keeps the method's generics, so paths, params, bodies and results stay
 * exactly those of the generated `paths`.
 */
function settling<A extends unknown[], R extends Outcome>(
  method: (...args: A) => Promise<R>,
): (...args: A) => Promise<SuccessBody<R>> {
  return (...args) => settle(method(...args));
}

export type Allocation = components['schemas']['Allocation'];

export interface RandomizeOptions {
  /**
   * Sent as `Idempotency-Key`: the same key returns the first response again instead of a second
   * randomization. Generated (a UUID) when `retries` is above 0 and no key is given.
   */
  idempotencyKey?: string;
  /**
   * How many times to resend after a network failure, a 5xx, or a 409 `idempotency-key-in-use`
   * (the first attempt is still in flight). Safe only because every attempt carries the same key.
   */
  retries?: number;
  /** First backoff in milliseconds, doubled on each retry (default 100). */
  backoffMs?: number;
}

function isRetryable(error: unknown): boolean {
  if (error instanceof ServerProblem) return true;
  if (error instanceof ConflictProblem) return error.slug === 'idempotency-key-in-use';
  // fetch rejects with a TypeError when the connection fails or is reset.
  return error instanceof TypeError;
}

export function createTrialdeskClient(options: TrialdeskClientOptions) {
  // Bodies are parsed as JSON, so success types come from each operation's application/json content
  // (an operation that also offers text/csv is typed by its JSON form; ask for CSV through `api` with parseAs: 'text').
  const api: Client<paths, 'application/json'> = createClient<paths, 'application/json'>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { Authorization: `Bearer ${options.apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  const post = settling(api.POST);

  return {
    /**
     * The underlying openapi-fetch client: `{data, error, response}` without throwing, and the response headers (ETag,
     * Location).
     */
    api,
    /** Each resolves to the typed success body of the operation, or throws a `TrialdeskProblem` subclass. */
    get: settling(api.GET),
    post,
    put: settling(api.PUT),
    patch: settling(api.PATCH),
    delete: settling(api.DELETE),

    /** `POST .../randomization` with an `Idempotency-Key`, resent on transient failures when `retries` > 0. */
    async randomize(
      trialId: string,
      participantId: string,
      randomizeOptions: RandomizeOptions = {},
    ): Promise<Allocation> {
      const retries = randomizeOptions.retries ?? 0;
      const idempotencyKey = randomizeOptions.idempotencyKey ?? (retries > 0 ? randomUUID() : undefined);
      const header = idempotencyKey === undefined ? undefined : { 'Idempotency-Key': idempotencyKey };
      for (let attempt = 0; ; attempt++) {
        try {
          return await post('/v1/trials/{trialId}/participants/{participantId}/randomization', {
            params: { path: { trialId, participantId }, ...(header ? { header } : {}) },
          });
        } catch (error) {
          if (attempt >= retries || !isRetryable(error)) throw error;
          await new Promise((resolve) => setTimeout(resolve, (randomizeOptions.backoffMs ?? 100) * 2 ** attempt));
        }
      }
    },
  };
}

export type TrialdeskClient = ReturnType<typeof createTrialdeskClient>;

/** True when `error` is a problem with this status and, if given, this slug. */
export function isProblem(error: unknown, status: number, slug?: string): error is TrialdeskProblem {
  return error instanceof TrialdeskProblem && error.status === status && (slug === undefined || error.slug === slug);
}
