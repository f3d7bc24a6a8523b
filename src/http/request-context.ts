import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { locals } from './operations';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Gives every request an id (the client's X-Request-Id when it is sane), a child logger carrying
 * it, and one structured log line when the response is finished. Headers are never logged, so keys
 * cannot leak into logs.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && CLIENT_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const state = locals(res);
    state.requestId = requestId;
    state.log = logger.child({ requestId });
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      state.log.info(
        {
          method: req.method,
          path: req.path,
          operationId: state.operationId,
          status: res.statusCode,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          keyId: state.principal?.keyId,
        },
        'request',
      );
    });
    next();
  };
}
