import type { Knex } from 'knex';

export interface IdempotencyScope {
  trialId: string;
  apiKeyId: string;
  key: string;
}

/** Taken for the rest of the transaction; false when another transaction holds it (a request in flight). */
export async function tryLockKey(trx: Knex.Transaction, scope: IdempotencyScope): Promise<boolean> {
  const result = await trx.raw('SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0)) AS locked', [
    `idempotency/${scope.trialId}/${scope.apiKeyId}/${scope.key}`,
  ]);
  return result.rows[0].locked === true;
}

export interface StoredResponse {
  fingerprint: string;
  status: number;
  body: unknown;
}

export async function findLiveResponse(
  trx: Knex.Transaction,
  scope: IdempotencyScope,
  retentionHours: number,
): Promise<StoredResponse | undefined> {
  const row = await trx('idempotency_keys')
    .where({ trial_id: scope.trialId, api_key_id: scope.apiKeyId, idempotency_key: scope.key })
    .where('created_at', '>', trx.raw(`now() - make_interval(hours => ?)`, [retentionHours]))
    .first<{ request_fingerprint: string; response_status: number; response_body: string } | undefined>();
  return (
    row && { fingerprint: row.request_fingerprint, status: row.response_status, body: JSON.parse(row.response_body) }
  );
}

/** Stores the first response, dropping this trial's expired keys on the way (including an expired copy of this one). */
export async function storeResponse(
  trx: Knex.Transaction,
  scope: IdempotencyScope,
  response: StoredResponse,
  retentionHours: number,
): Promise<void> {
  await trx('idempotency_keys')
    .where({ trial_id: scope.trialId })
    .where('created_at', '<=', trx.raw(`now() - make_interval(hours => ?)`, [retentionHours]))
    .delete();
  await trx('idempotency_keys').insert({
    trial_id: scope.trialId,
    api_key_id: scope.apiKeyId,
    idempotency_key: scope.key,
    request_fingerprint: response.fingerprint,
    response_status: response.status,
    response_body: JSON.stringify(response.body),
  });
}
