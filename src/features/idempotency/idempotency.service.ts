import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { ConflictError, ValidationError } from '../../http/errors';
import * as repo from './idempotency.repo';

export const IDEMPOTENCY_RETENTION_HOURS = 24;

/** What identifies "the same request": the operation, its path and its body. */
export function requestFingerprint(operationId: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([operationId, path, body ?? null]))
    .digest('hex');
}

export interface IdempotentRequest {
  trialId: string;
  apiKeyId: string;
  /** The Idempotency-Key header; undefined runs the work once without a record. */
  key: string | undefined;
  fingerprint: string;
}

/**
 * IETF httpapi-idempotency-key semantics inside the caller's transaction: the first response to a
 * key is stored in the same transaction as the work, so it exists exactly when the work committed.
 * The same key and request replay it; the same key on another request is a 422; a key whose first
 * request is still in flight is a 409.
 */
export async function runIdempotently<B>(
  trx: Knex.Transaction,
  request: IdempotentRequest,
  work: () => Promise<{ status: number; body: B }>,
): Promise<{ status: number; body: B; replayed: boolean }> {
  if (request.key === undefined) return { ...(await work()), replayed: false };
  const scope = { trialId: request.trialId, apiKeyId: request.apiKeyId, key: request.key };
  if (!(await repo.tryLockKey(trx, scope))) {
    throw new ConflictError(
      'idempotency-key-in-use',
      `A request with Idempotency-Key ${request.key} is still being processed; retry when it has finished.`,
    );
  }
  const stored = await repo.findLiveResponse(trx, scope, IDEMPOTENCY_RETENTION_HOURS);
  if (stored) {
    if (stored.fingerprint !== request.fingerprint) {
      throw new ValidationError([
        { pointer: '/header/idempotency-key', detail: 'was already used for a different request' },
      ]);
    }
    return { status: stored.status, body: stored.body as B, replayed: true };
  }
  const result = await work();
  await repo.storeResponse(
    trx,
    scope,
    { fingerprint: request.fingerprint, status: result.status, body: result.body },
    IDEMPOTENCY_RETENTION_HOURS,
  );
  return { ...result, replayed: false };
}
