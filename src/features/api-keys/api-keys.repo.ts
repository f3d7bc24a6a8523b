import type { Executor } from '../../db/database';
import type { components } from '../../generated/openapi';
import type { TimeOrderedCursor } from '../../core/pagination';

export type ApiKeyView = components['schemas']['ApiKey'];
type Role = components['schemas']['Role'];

export interface ApiKeyRow {
  id: string;
  name: string;
  role: Role;
  key_digest: string;
  prefix: string;
  trial_ids: string[] | null;
  site_codes: string[] | null;
  blinded: boolean;
  is_bootstrap: boolean;
  created_at: Date;
  revoked_at: Date | null;
}

export function toApiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    trialIds: row.trial_ids,
    siteCodes: row.site_codes,
    blinded: row.blinded,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
  };
}

export async function insertApiKey(
  db: Executor,
  row: Omit<ApiKeyRow, 'created_at' | 'revoked_at'>,
): Promise<ApiKeyRow> {
  const [inserted] = await db('api_keys').insert(row).returning<ApiKeyRow[]>('*');
  return inserted!;
}

export async function findActiveApiKeyByDigest(db: Executor, digest: string): Promise<ApiKeyRow | undefined> {
  return db('api_keys').where({ key_digest: digest }).whereNull('revoked_at').first<ApiKeyRow | undefined>();
}

export async function findApiKeyByDigest(db: Executor, digest: string): Promise<ApiKeyRow | undefined> {
  return db('api_keys').where({ key_digest: digest }).first<ApiKeyRow | undefined>();
}

export async function findApiKey(db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  return db('api_keys').where({ id }).first<ApiKeyRow | undefined>();
}

export async function countApiKeys(db: Executor): Promise<number> {
  const row = await db('api_keys').count<{ count: number }[]>('* as count').first();
  return Number(row?.count ?? 0);
}

/** Revokes in one guarded statement: a key already revoked is left as it was (undefined returned). */
export async function revokeApiKey(db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db('api_keys')
    .where({ id })
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now() })
    .returning<ApiKeyRow[]>('*');
  return row;
}

export interface ApiKeyListQuery {
  limit: number;
  after?: TimeOrderedCursor;
  includeRevoked: boolean;
}

export async function listApiKeys(
  db: Executor,
  query: ApiKeyListQuery,
): Promise<(ApiKeyRow & { created_at_text: string })[]> {
  const builder = db('api_keys');
  if (!query.includeRevoked) builder.whereNull('revoked_at');
  if (query.after) builder.whereRaw('(created_at, id) > (?::timestamptz, ?::uuid)', [query.after.at, query.after.id]);
  // created_at as text keeps PostgreSQL's microseconds, which a JavaScript Date would cut to milliseconds.
  return builder
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .limit(query.limit + 1)
    .select<(ApiKeyRow & { created_at_text: string })[]>('*', db.raw('created_at::text AS created_at_text'));
}

/** Serialises the first-start check across processes sharing one database. */
export async function lockBootstrap(db: Executor): Promise<void> {
  await db.raw("SELECT pg_advisory_xact_lock(hashtext('trialdesk.bootstrap-admin-key'))");
}
