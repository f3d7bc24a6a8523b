import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express, { NextFunction, Request, Response, Router } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { UseCaseContext, withExecutor } from '../core/use-case-context';
import type { operations } from '../generated/openapi';
import { authenticateRequest, Authenticator, authorizeRole, authorizeTrial, bearerToken } from './auth';
import type { Principal } from '../core/principal';
import {
  BadRequestError,
  ForbiddenError,
  MethodNotAllowedError,
  TooManyRequestsError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../core/errors';
import type { LoadedSpec } from './openapi';
import type { RateLimiter } from './rate-limit';
import { CSRF_HEADER, sessionIdFromCookies } from './session-cookie';
import { coerceParameters, CompiledOperation, validateOrThrow } from './validation';

export type OperationId = keyof operations;
type Op<K extends OperationId> = operations[K];

type JsonContent<T> = T extends { content: { 'application/json': infer B } } ? B : never;
export type RequestBody<K extends OperationId> = Op<K> extends { requestBody: infer R } ? JsonContent<R> : undefined;
export type PathParams<K extends OperationId> = Op<K>['parameters'] extends { path: infer P }
  ? P
  : Record<string, never>;
export type QueryParams<K extends OperationId> = Op<K>['parameters'] extends { query?: infer Q }
  ? NonNullable<Q>
  : Record<string, never>;

type Responses<K extends OperationId> = Op<K>['responses'];
type SuccessStatus<K extends OperationId> = Extract<keyof Responses<K>, 200 | 201 | 202 | 204>;
type ContentOf<R> = R extends { content: infer C } ? C : never;

type JsonBody<C> = C extends { 'application/json': infer B } ? { body: B; contentType?: undefined } : never;
/** Text media types may be sent whole or streamed (a large CSV export, row by row). */
type TextBody<C> =
  Exclude<keyof C, 'application/json'> extends never ? never : { body: string | Readable; contentType: string };

/** A handler's answer: a status the contract declares and a body of one of the media types it declares. */
export type HandlerResult<K extends OperationId> = {
  [S in SuccessStatus<K>]: { status: S; headers?: Record<string, string> } & (
    JsonBody<ContentOf<Responses<K>[S]>> | TextBody<ContentOf<Responses<K>[S]>>
  );
}[SuccessStatus<K>];

/**
 * Runs an operation's work once per Idempotency-Key: inside one transaction with the stored answer, replaying
 * the stored answer for a repeated key (see features/idempotency). The work receives the transaction to use.
 */
export type IdempotentRunner = (
  request: { trialId: string; apiKeyId: string; key: string; fingerprint: string },
  work: (trx: Knex.Transaction) => Promise<{ status: number; body: unknown }>,
) => Promise<{ status: number; body: unknown }>;

export interface HandlerInput<K extends OperationId> {
  body: RequestBody<K>;
  /** The body as text when it was sent in a non-JSON media type the operation accepts (text/csv). */
  text: string | undefined;
  /** Content negotiation: the best of `types` for the request's Accept header, or false. */
  accepts: (types: string[]) => string | false;
  params: PathParams<K>;
  query: QueryParams<K>;
  headers: Record<string, string | undefined>;
  /** The client's address (the socket's), for throttling sign-in. */
  clientAddress: string;
  /** The use case's context: who calls, the database, the arm labeller. Public operations must not use it. */
  ctx: UseCaseContext;
}

export type Handler<K extends OperationId> = (input: HandlerInput<K>) => Promise<HandlerResult<K>>;
export type HandlerMap = { [K in OperationId]?: Handler<K> };

/** Handed to public operations, which have no caller to act for; touching it is a programming error. */
const PUBLIC_OPERATION_CONTEXT = new Proxy({} as UseCaseContext, {
  get() {
    throw new UnauthorizedError();
  },
});

/** What identifies "the same request" for an Idempotency-Key: the operation, its path parameters and its body. */
export function requestFingerprint(operationId: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([operationId, path, withoutSignaturePassword(body) ?? null]))
    .digest('hex');
}

/**
 * The body without an electronic signature's password: a fast hash of it would be stored with the idempotency
 * key and could be guessed offline. A retry with the same key replays the first (verified) answer.
 */
function withoutSignaturePassword(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('signature' in body)) return body;
  const { signature, ...rest } = body as { signature: unknown };
  if (typeof signature !== 'object' || signature === null) return body;
  const { password: _password, ...kept } = signature as Record<string, unknown>;
  return { ...rest, signature: kept };
}

export interface RequestLocals {
  requestId: string;
  log: Logger;
  principal?: Principal;
  operationId?: string;
}

export function locals(res: Response): RequestLocals {
  return res.locals as RequestLocals;
}

export interface OperationGuards {
  authenticate: Authenticator;
  /** The principal of a live console session, given the cookie's session id, or null. */
  authenticateSession?: (sessionId: string) => Promise<Principal | null>;
  /** The use-case context of an authenticated request. */
  contextFor: (request: { principal: Principal; requestId: string; log: Logger }) => UseCaseContext;
  idempotent: IdempotentRunner;
  /** Requests per API key; failed authentications count against the client address. null: no limit. */
  limiter: RateLimiter | null;
}

/** Half of a UTF-16 surrogate pair with no other half: valid in a JavaScript string, not in UTF-8 or jsonb. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What PostgreSQL cannot store: U+0000 (text and jsonb), or an unpaired surrogate (jsonb refuses `\ud800`). */
export function unstorableText(text: string): 'nul' | 'unpaired-surrogate' | null {
  if (text.includes('\u0000')) return 'nul';
  return UNPAIRED_SURROGATE.test(text) ? 'unpaired-surrogate' : null;
}

/**
 * A NUL or an unpaired surrogate anywhere in a request's strings (values or keys) is refused here with its
 * pointer rather than reaching the database (where a NUL fails any text column and `\ud800` any jsonb one, such as
 * the audit trail's payloads). Returns the first pointer.
 */
export function findNul(root: unknown, rootPointer = ''): string | null {
  return findUnstorable(root, rootPointer)?.pointer ?? null;
}

/** The first string or key (document order) PostgreSQL cannot store, with its pointer and why. */
export function findUnstorable(
  root: unknown,
  rootPointer = '',
): { pointer: string; reason: 'nul' | 'unpaired-surrogate' } | null {
  if (!containsNul(root)) return null;
  // Iterative, depth first in document order: a body nested thousands of levels deep must not overflow the stack.
  const stack: [unknown, string][] = [[root, rootPointer]];
  while (stack.length) {
    const [value, pointer] = stack.pop()!;
    if (typeof value === 'string') {
      const reason = unstorableText(value);
      if (reason !== null) return { pointer, reason };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${pointer}/${i}`]);
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!;
        const child = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        const reason = unstorableText(key);
        if (reason !== null) return { pointer: child, reason };
        stack.push([item, child]);
      }
    }
  }
  return null;
}

/**
 * Whether any string or key holds a NUL, without building a pointer per value: building them cost
 * 0.3 s of CPU for a t-test body of 200,000 numbers, blocking the process.
 */
function containsNul(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (unstorableText(value) !== null) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' || typeof item === 'string') stack.push(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const key in value) {
        if (unstorableText(key) !== null) return true;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * Resolves once the whole request has arrived. Operations without a request body would otherwise
 * run as soon as the head arrives; if the client then breaks the body it announced (fewer bytes
 * than Content-Length, a bad chunk), Node refuses the request — and a change must not have been
 * made by a request that was refused. Unread bytes are drained; a broken request never resolves
 * into the handler.
 */
function requestReceived(req: Request): Promise<void> {
  if (req.complete || req.readableEnded) return Promise.resolve();
  return new Promise((resolve, reject) => {
    req.once('end', () => resolve());
    const broken = () => reject(new BadRequestError('The request was not received completely.'));
    req.once('error', broken);
    req.once('aborted', broken);
    req.resume();
  });
}

function refuseNul(value: unknown, pointer: string): void {
  const found = findUnstorable(value, pointer);
  if (found !== null)
    throw new ValidationError([
      {
        pointer: found.pointer,
        detail:
          found.reason === 'nul'
            ? 'must not contain the NUL character (U+0000)'
            : 'must not contain an unpaired UTF-16 surrogate (such as \\ud800 alone): PostgreSQL cannot store it',
      },
    ]);
}

/** Tokens that authenticated recently, by SHA-256, most recent last; bounded. */
class RecentTokens {
  private readonly seen = new Map<string, true>();
  constructor(private readonly max = 10_000) {}
  private static digest(token: string): string {
    return createHash('sha256').update(token).digest('base64');
  }
  has(token: string): boolean {
    return this.seen.has(RecentTokens.digest(token));
  }
  add(token: string): void {
    const digest = RecentTokens.digest(token);
    this.seen.delete(digest);
    this.seen.set(digest, true);
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!);
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A console session from its cookie. A request that may change something must also carry the CSRF header, which
 * a page of another site cannot add to a form post or a simple request (SameSite=Strict is the first defence).
 */
async function authenticateSession(
  req: Request,
  sessionId: string,
  authenticate: (sessionId: string) => Promise<Principal | null>,
): Promise<Principal> {
  const principal = await authenticate(sessionId);
  if (!principal) throw new UnauthorizedError('The session has ended or expired; sign in again.');
  if (!SAFE_METHODS.has(req.method) && req.get(CSRF_HEADER) !== '1')
    throw new ForbiddenError(`A request signed in with the session cookie must send the header ${CSRF_HEADER}: 1.`);
  return principal;
}

/**
 * Rate limiting around authentication. Failed authentications take tokens from the client address's
 * bucket; once it is empty, requests from that address are refused before their key is looked up
 * (no database work for a flood of bad keys) — except requests bearing a token that authenticated
 * recently, so that clients sharing an address (behind one proxy) are not locked out by a
 * neighbour sending bad keys; their key is still looked up, so revocation takes effect at once.
 * An authenticated request takes a token from its key's bucket.
 */
async function authenticateWithinLimits(
  req: Request,
  res: Response,
  guards: OperationGuards,
  recent: RecentTokens,
): Promise<Principal> {
  const { limiter } = guards;
  const authorization = req.get('authorization');
  const addressKey = `address:${req.socket.remoteAddress ?? 'unknown'}`;
  const sessionId = authorization ? null : sessionIdFromCookies(req.get('cookie'));
  const token = sessionId ?? bearerToken(authorization);
  if (limiter?.isExhausted(addressKey) && !(token && recent.has(token))) {
    const refused = limiter.take(addressKey);
    throw new TooManyRequestsError(
      'Too many requests with a missing or invalid API key from this address.',
      refused.retryAfterSeconds,
    );
  }
  let principal: Principal;
  try {
    principal =
      sessionId && guards.authenticateSession
        ? await authenticateSession(req, sessionId, guards.authenticateSession)
        : await authenticateRequest(authorization, guards.authenticate);
  } catch (error) {
    if (error instanceof UnauthorizedError) limiter?.take(addressKey);
    throw error;
  }
  if (limiter) {
    recent.add(token!);
    const decision = limiter.take(`key:${principal.keyId}`);
    res.setHeader('RateLimit-Limit', String(limiter.limit));
    res.setHeader('RateLimit-Remaining', String(decision.remaining));
    res.setHeader('RateLimit-Reset', String(decision.resetSeconds));
    if (!decision.allowed) {
      throw new TooManyRequestsError(
        `This API key sent more requests than its limit allows; retry in ${decision.retryAfterSeconds} s.`,
        decision.retryAfterSeconds,
      );
    }
  }
  return principal;
}

/**
 * Mounts every operation of the contract: authentication and the role check from `x-roles`,
 * validation of path, query, headers and body by operationId, then the handler. Fails at start-up
 * when the contract and the handlers disagree, so no route can exist outside the contract.
 */
export function mountOperations(
  spec: LoadedSpec,
  compiled: Map<string, CompiledOperation>,
  handlers: HandlerMap,
  guards: OperationGuards,
): Router {
  const recent = new RecentTokens();
  const known = new Set(spec.operations.map((op) => op.operationId));
  const missing = [...known].filter((id) => !(id in handlers));
  const extra = Object.keys(handlers).filter((id) => !known.has(id));
  if (missing.length || extra.length) {
    throw new Error(
      `handlers and contract disagree; without handler: [${missing.join(', ')}], not in contract: [${extra.join(', ')}]`,
    );
  }

  const router = express.Router({ strict: true });
  const methodsByPath = new Map<string, string[]>();
  for (const op of spec.operations) {
    methodsByPath.set(op.expressPath, [...(methodsByPath.get(op.expressPath) ?? []), op.method.toUpperCase()]);
    const validators = compiled.get(op.operationId)!;
    const handler = handlers[op.operationId as OperationId] as unknown as Handler<OperationId>;

    router[op.method](op.expressPath, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const state = locals(res);
        state.operationId = op.operationId;
        await requestReceived(req);
        let principal: Principal | null = null;
        if (!op.roles.includes('public')) {
          principal = await authenticateWithinLimits(req, res, guards, recent);
          state.principal = principal;
          authorizeRole(principal, op);
        }

        const params = coerceParameters({ ...req.params }, op.parameters, 'path');
        validateOrThrow(validators.path, params, '/path');
        refuseNul(params, '/path');
        if (principal && typeof params.trialId === 'string') authorizeTrial(principal, params.trialId);
        const query = coerceParameters({ ...(req.query as Record<string, unknown>) }, op.parameters, 'query');
        validateOrThrow(validators.query, query, '/query');
        refuseNul(query, '/query');
        const headers = Object.fromEntries(
          op.parameters.filter((p) => p.in === 'header').map((p) => [p.name.toLowerCase(), req.get(p.name)]),
        );
        validateOrThrow(
          validators.headers,
          Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)),
          '/header',
        );

        let body: unknown = undefined;
        let text: string | undefined;
        if (op.requestMediaTypes.length) {
          const hasBody =
            req.headers['content-length'] !== undefined
              ? req.headers['content-length'] !== '0'
              : req.headers['transfer-encoding'] !== undefined;
          const mediaType = hasBody ? req.is(op.requestMediaTypes) : false;
          if (hasBody && !mediaType) {
            throw new UnsupportedMediaTypeError(
              `Send the body as ${op.requestMediaTypes.join(' or ')}, not ${req.get('content-type') ?? 'an unlabelled body'}.`,
            );
          }
          if (mediaType && mediaType !== 'application/json') text = typeof req.body === 'string' ? req.body : '';
          else body = req.body;
          refuseNul(text ?? body, '');
          if (body === undefined && text === undefined) {
            if (op.bodyRequired) throw new ValidationError([{ pointer: '', detail: 'a request body is required' }]);
          } else if (body !== undefined && validators.body) {
            validateOrThrow(validators.body, body, '');
          }
        }

        const input = {
          body: body as never,
          text,
          accepts: (types: string[]) => req.accepts(types),
          params: params as never,
          query: query as never,
          headers,
          clientAddress: req.socket.remoteAddress ?? 'unknown',
          ctx: principal
            ? guards.contextFor({ principal, requestId: state.requestId, log: state.log })
            : PUBLIC_OPERATION_CONTEXT,
        };
        const idempotencyKey = op.idempotent && principal ? headers['idempotency-key'] : undefined;
        const result = (
          idempotencyKey !== undefined
            ? await guards.idempotent(
                {
                  trialId: String(params.trialId),
                  apiKeyId: principal!.keyId,
                  key: idempotencyKey,
                  fingerprint: requestFingerprint(op.operationId, Object.values(params).join('/'), body ?? null),
                },
                (trx) => handler({ ...input, ctx: withExecutor(input.ctx, trx) }) as never,
              )
            : await handler(input)
        ) as { status: number; body: unknown; headers?: Record<string, string>; contentType?: string };
        if (result.body instanceof Readable) {
          for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
          res.status(result.status).type(result.contentType!);
          await pipeline(result.body, res);
          return;
        }
        for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
        res.status(result.status);
        if (result.status === 204) res.end();
        else if (result.contentType) res.type(result.contentType).send(result.body);
        else res.json(result.body);
      } catch (error) {
        next(error);
      }
    });
  }
  for (const [expressPath, methods] of methodsByPath) {
    router.all(expressPath, (req, _res, next) => next(new MethodNotAllowedError(req.method, methods)));
  }
  return router;
}
