import type { Executor } from '../../db/database';
import type { components } from '../../generated/openapi';
import type { TimeOrderedCursor } from '../../core/pagination';

export type UserView = components['schemas']['User'];
type Role = components['schemas']['Role'];

export interface UserRow {
  id: string;
  name: string;
  email: string;
  role: Role;
  trial_ids: string[] | null;
  site_codes: string[] | null;
  blinded: boolean;
  password_hash: string | null;
  password_set_at: Date | null;
  set_password_token_digest: string | null;
  set_password_expires_at: Date | null;
  created_at: Date;
  deactivated_at: Date | null;
}

export interface SessionRow {
  id_digest: string;
  user_id: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ended_at: Date | null;
}

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    trialIds: row.trial_ids,
    siteCodes: row.site_codes,
    blinded: row.blinded,
    passwordSet: row.password_hash !== null,
    createdAt: row.created_at.toISOString(),
    deactivatedAt: row.deactivated_at ? row.deactivated_at.toISOString() : null,
  };
}

export async function insertUser(
  db: Executor,
  row: Omit<UserRow, 'deactivated_at' | 'password_hash' | 'password_set_at'>,
): Promise<UserRow> {
  const [inserted] = await db('users').insert(row).returning<UserRow[]>('*');
  return inserted!;
}

export async function findUser(db: Executor, id: string): Promise<UserRow | undefined> {
  return db('users').where({ id }).first<UserRow | undefined>();
}

export async function findActiveUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  return db('users')
    .whereRaw('lower(email) = lower(?)', [email.trim()])
    .whereNull('deactivated_at')
    .first<UserRow | undefined>();
}

/** Sets the password with a token that is current, in one guarded statement; undefined when the token is not. */
export async function setPasswordWithToken(
  db: Executor,
  tokenDigest: string,
  passwordHash: string,
  now: Date,
): Promise<UserRow | undefined> {
  const [row] = await db('users')
    .where({ set_password_token_digest: tokenDigest })
    .whereNull('deactivated_at')
    .where('set_password_expires_at', '>', now)
    .update({
      password_hash: passwordHash,
      password_set_at: now,
      set_password_token_digest: null,
      set_password_expires_at: null,
    })
    .returning<UserRow[]>('*');
  return row;
}

export async function findUserByCurrentToken(db: Executor, tokenDigest: string, now: Date): Promise<boolean> {
  const row = await db('users')
    .where({ set_password_token_digest: tokenDigest })
    .whereNull('deactivated_at')
    .where('set_password_expires_at', '>', now)
    .first('id');
  return row !== undefined;
}

export async function deactivateUser(db: Executor, id: string, now: Date): Promise<UserRow | undefined> {
  const [row] = await db('users')
    .where({ id })
    .whereNull('deactivated_at')
    .update({ deactivated_at: now, set_password_token_digest: null, set_password_expires_at: null })
    .returning<UserRow[]>('*');
  return row;
}

export interface UserListQuery {
  limit: number;
  after?: TimeOrderedCursor;
  includeDeactivated: boolean;
}

export async function listUsers(
  db: Executor,
  query: UserListQuery,
): Promise<(UserRow & { created_at_text: string })[]> {
  const builder = db('users');
  if (!query.includeDeactivated) builder.whereNull('deactivated_at');
  if (query.after) builder.whereRaw('(created_at, id) > (?::timestamptz, ?::uuid)', [query.after.at, query.after.id]);
  return builder
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .limit(query.limit + 1)
    .select<(UserRow & { created_at_text: string })[]>('*', db.raw('created_at::text AS created_at_text'));
}

export async function insertSession(db: Executor, row: Omit<SessionRow, 'ended_at'>): Promise<void> {
  await db('sessions').insert(row);
}

/**
 * Finds a live session and records this request as its last activity, in one statement: a session that ended,
 * passed its absolute end, sat idle longer than `idleMs`, or whose user was deactivated is not returned.
 */
export async function touchSession(
  db: Executor,
  idDigest: string,
  now: Date,
  idleMs: number,
): Promise<(SessionRow & { user: UserRow }) | undefined> {
  const idleSince = new Date(now.getTime() - idleMs);
  const result = await db.raw<{ rows: (SessionRow & { user: UserRow })[] }>(
    `UPDATE sessions s SET last_seen_at = ?
       FROM users u
      WHERE s.id_digest = ? AND u.id = s.user_id AND u.deactivated_at IS NULL
        AND s.ended_at IS NULL AND s.expires_at > ? AND s.last_seen_at > ?
     RETURNING s.*, row_to_json(u) AS user`,
    [now, idDigest, now, idleSince],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  const user = row.user as unknown as Record<string, unknown>;
  for (const key of ['created_at', 'deactivated_at', 'password_set_at', 'set_password_expires_at'])
    if (typeof user[key] === 'string') user[key] = new Date(user[key]);
  return row;
}

export async function endSession(db: Executor, idDigest: string, now: Date): Promise<boolean> {
  const count = await db('sessions').where({ id_digest: idDigest }).whereNull('ended_at').update({ ended_at: now });
  return count > 0;
}

export async function endSessionsOfUser(db: Executor, userId: string, now: Date): Promise<void> {
  await db('sessions').where({ user_id: userId }).whereNull('ended_at').update({ ended_at: now });
}

export type Language = components['schemas']['Language'];

/** The language a caller (user or API key) chose, or null. */
export async function findLanguage(db: Executor, principalId: string): Promise<Language | null> {
  const row = await db('principal_preferences')
    .where({ principal_id: principalId })
    .first<{ language: Language } | undefined>('language');
  return row?.language ?? null;
}

export async function saveLanguage(db: Executor, principalId: string, language: Language, now: Date): Promise<void> {
  await db('principal_preferences')
    .insert({ principal_id: principalId, language, updated_at: now })
    .onConflict('principal_id')
    .merge(['language', 'updated_at']);
}
