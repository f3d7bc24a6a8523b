import type { NextFunction, Request, Response } from 'express';
import { AppError, BadRequestError, NotFoundError, PayloadTooLargeError, ServiceUnavailableError, UnsupportedMediaTypeError, ValidationError } from './errors';
import { locals } from './operations';

export const BODY_LIMIT = '1mb';

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

/** Connection failures from pg and the pool: the database is away, not the request at fault. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006']);

function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; name?: string; message?: string };
  return UNAVAILABLE_CODES.has(e?.code ?? '') || e?.name === 'KnexTimeoutError';
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  next(new NotFoundError(`No resource at ${req.method} ${req.path}.`));
}

/** Renders every error as RFC 9457 problem+json; 5xx bodies reveal nothing internal. */
export function problemHandler(error: unknown, _req: Request, res: Response, _next: NextFunction): void {
  const state = locals(res);
  let problem: AppError | undefined = error instanceof AppError ? error : fromBodyParser(error as { type?: string });
  if (!problem && isDatabaseUnavailable(error)) {
    problem = new ServiceUnavailableError('The database is not reachable; try again shortly.', 5);
    state.log?.warn({ err: error }, 'database unavailable');
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
