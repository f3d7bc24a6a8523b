import type { NextFunction, Request, Response } from 'express';
import {
  AppError,
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../core/errors';
import { locals } from './operations';

export const BODY_LIMIT = '1mb';

/**
 * Client errors raised below the handlers without our hierarchy: the router's URIError for a path
 * segment that is not percent-encoded UTF-8, and http-errors from body-parser without a `type`
 * (a body labelled gzip/deflate/br that does not decompress). Only 4xx errors marked `expose`.
 */
function fromRequestLayer(error: unknown): AppError | undefined {
  if (error instanceof URIError) return new BadRequestError('The path is not valid percent-encoded UTF-8.');
  const e = error as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof e !== 'object' || e === null || e.expose !== true || typeof e.status !== 'number') return undefined;
  if (e.status === 413) return new PayloadTooLargeError(BODY_LIMIT);
  if (e.status === 415) return new UnsupportedMediaTypeError(String(e.message));
  if (e.status >= 400 && e.status < 500)
    return new BadRequestError(`The request body could not be read: ${String(e.message)}.`);
  return undefined;
}

/** Errors raised by express's JSON body parser carry a `type`; map them onto the hierarchy. */
function fromBodyParser(error: { type?: string; message?: string }): AppError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new BadRequestError(`The body is not valid JSON: ${error.message ?? 'parse error'}.`);
    case 'entity.too.large':
      return new PayloadTooLargeError(BODY_LIMIT);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError('Send JSON encoded as UTF-8.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new BadRequestError('The request body could not be read.');
    default:
      return undefined;
  }
}

/**
 * Failures of the database rather than of the request, answered 503 with Retry-After:
 * - unreachable: connection refused/reset/timed out, the server shutting down or starting up
 *   (57P01-57P03), connection exceptions (08xxx), and pg's code-less errors for a connection that
 *   died mid-query or was already broken;
 * - busy: no pool connection became free within DATABASE_ACQUIRE_TIMEOUT_MS (KnexTimeoutError), or
 *   a statement ran past STATEMENT_TIMEOUT_MS (57014, query_canceled).
 * Either way the transaction did not commit, so nothing was written, except when the connection
 * died during COMMIT: PostgreSQL may have committed, and the answer says the outcome is unknown.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
]);
/** knex's message for a failed COMMIT of knex.transaction(): "COMMIT; - <pg message>". */
const COMMIT_FAILED = /^COMMIT;? - /;
// knex prefixes the failed SQL to pg's message ("ROLLBACK - Client has encountered ..."), so the
// message is matched at its start or right after knex's " - ".
const UNREACHABLE_MESSAGES =
  /(?:^|\s-\s)(?:Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout expired)/;

export function databaseUnavailable(error: unknown): ServiceUnavailableError | undefined {
  const e = error as { code?: string; name?: string; message?: string };
  if (typeof e !== 'object' || e === null) return undefined;
  const code = e.code ?? '';
  if (
    UNREACHABLE_CODES.has(code) ||
    code.startsWith('08') ||
    (code === '' && UNREACHABLE_MESSAGES.test(e.message ?? ''))
  ) {
    // Lost during COMMIT, PostgreSQL may have committed (and made it durable) before the connection died.
    if (COMMIT_FAILED.test(e.message ?? '')) {
      return new ServiceUnavailableError(
        'The connection to the database was lost while the change was being committed, so it may or may not have been written. Retrying with the same Idempotency-Key is safe; without one, check before sending it again.',
        5,
      );
    }
    return new ServiceUnavailableError('The database is not reachable; try again shortly. Nothing was written.', 5);
  }
  if (e.name === 'KnexTimeoutError') {
    return new ServiceUnavailableError(
      'The service is busy: no database connection became free in time. Nothing was written; try again shortly.',
      2,
    );
  }
  if (code === '57014') {
    return new ServiceUnavailableError(
      'The database statement took longer than the statement timeout and was cancelled. Nothing was written.',
      2,
    );
  }
  return undefined;
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  next(new NotFoundError(`No resource at ${req.method} ${req.path}.`));
}

/** Renders every error as RFC 9457 problem+json; 5xx bodies reveal nothing internal. */
export function problemHandler(error: unknown, _req: Request, res: Response, _next: NextFunction): void {
  const state = locals(res);
  let problem: AppError | undefined =
    error instanceof AppError ? error : (fromBodyParser(error as { type?: string }) ?? fromRequestLayer(error));
  if (!problem) {
    problem = databaseUnavailable(error);
    if (problem) state.log?.warn({ err: error, operationId: state.operationId }, 'database unavailable');
  }
  const status = problem?.status ?? 500;
  if (!problem) state.log?.error({ err: error, operationId: state.operationId }, 'unexpected failure');
  if (res.headersSent) {
    res.end();
    return;
  }
  const body: Record<string, unknown> = {
    type: problem?.type ?? 'https://trialdesk.dev/problems/internal-error',
    title: problem?.title ?? 'Internal server error',
    status,
    detail: problem?.message ?? 'The request failed unexpectedly. Quote the instance when you report it.',
    instance: `urn:trialdesk:request:${state.requestId}`,
    ...(problem?.extensions ?? {}),
  };
  if (problem instanceof ValidationError) body.errors = problem.errors;
  for (const [name, value] of Object.entries(problem?.headers ?? {})) res.setHeader(name, value);
  res.status(status).type('application/problem+json').send(JSON.stringify(body));
}
