import type { Knex } from 'knex';
import { withTransaction } from '../../db/database';
import { ConflictError, ValidationError } from '../../core/errors';
import * as repo from './idempotency.repo';

export const IDEMPOTENCY_RETENTION_HOURS = 24;

export interface IdempotentRequest {
  trialId: string;
  apiKeyId: string;
  /** The Idempotency-Key header. */
  key: string;
  fingerprint: string;
}

/**
 * IETF httpapi-idempotency-key semantics, as an operation-level wrapper around a use case: the first response to a
 * key is stored in the same transaction as the work, so it exists exactly when the work committed.
 * The same key and request replay it; the same key on another request is a 422; a key whose first
 * request is still in flight is a 409.
 */
export async function runIdempotently<B>(
  db: Knex,
  request: IdempotentRequest,
  work: (trx: Knex.Transaction) => Promise<{ status: number; body: B }>,
): Promise<{ status: number; body: B; replayed: boolean }> {
  return withTransaction(db, (trx) => runInTransaction(trx, request, work));
}

async function runInTransaction<B>(
  trx: Knex.Transaction,
  request: IdempotentRequest,
  work: (trx: Knex.Transaction) => Promise<{ status: number; body: B }>,
): Promise<{ status: number; body: B; replayed: boolean }> {
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
  const result = await work(trx);
  await repo.storeResponse(
    trx,
    scope,
    { fingerprint: request.fingerprint, status: result.status, body: result.body },
    IDEMPOTENCY_RETENTION_HOURS,
  );
  return { ...result, replayed: false };
}
