import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { isUniqueViolation, withTransaction } from '../../db/database';
import type { Actor, Principal } from '../../core/principal';
import type { UseCaseContext } from '../../core/use-case-context';
import {
  ConflictError,
  NotFoundError,
  TooManyRequestsError,
  UnauthorizedError,
  ValidationError,
} from '../../core/errors';
import { decodeCursor, isTimeOrderedCursor, Page, toPage } from '../../core/pagination';
import type { components } from '../../generated/openapi';
import type { SessionConfig } from '../../config';
import { recordAudit } from '../audit/audit.service';
import { checkScope } from '../api-keys/api-keys.service';
import {
  decoyHash,
  digestSecret,
  hashPassword,
  newSecret,
  passwordProblem,
  passwordProblemText,
  verifyPassword,
} from './passwords';
import type { SignInThrottle } from './sign-in-throttle';
import * as repo from './users.repo';
import { toUserView, UserRow, UserView } from './users.repo';

type UserInput = components['schemas']['UserInput'];
type CreatedUser = components['schemas']['CreatedUser'];
type Me = components['schemas']['Me'];

/** How long a console session lasts; parsed from SESSION_IDLE_MINUTES and SESSION_ABSOLUTE_HOURS (src/config.ts). */
export type { SessionConfig };

export const SET_PASSWORD_TOKEN_DAYS = 7;

/** What the public operations (sign-in, set-password) need, having no caller's context. */
export interface SessionDeps {
  db: Knex;
  now: () => Date;
  sessions: SessionConfig;
  throttle: SignInThrottle;
}

const userActor = (user: Pick<UserRow, 'id' | 'role'>): Actor => ({ keyId: user.id, role: user.role, requestId: null });

export async function createUser(ctx: UseCaseContext, input: UserInput): Promise<CreatedUser> {
  const { db, actor } = ctx;
  try {
    return await withTransaction(db, async (trx) => {
      await checkScope(trx, input);
      const { secret, digest } = newSecret();
      const expires = new Date(ctx.now().getTime() + SET_PASSWORD_TOKEN_DAYS * 86_400_000);
      const row = await repo.insertUser(trx, {
        id: randomUUID(),
        name: input.name,
        email: input.email.trim(),
        role: input.role,
        trial_ids: input.trialIds ?? null,
        site_codes: input.siteCodes ?? null,
        blinded: input.blinded ?? false,
        set_password_token_digest: digest,
        set_password_expires_at: expires,
        created_at: ctx.now(),
      });
      const view = toUserView(row);
      await recordAudit(trx, actor, {
        trialId: null,
        action: 'user.created',
        entityType: 'user',
        entityId: row.id,
        before: null,
        after: view,
      });
      return { ...view, setPasswordToken: secret, setPasswordTokenExpiresAt: expires.toISOString() };
    });
  } catch (error) {
    if (isUniqueViolation(error, 'users_email'))
      throw new ConflictError('user-email-taken', `A user with the e-mail ${input.email} already exists.`);
    throw error;
  }
}

export async function listUsers(
  { db }: UseCaseContext,
  query: { limit?: number; cursor?: string; includeDeactivated?: boolean },
): Promise<Page<UserView>> {
  const limit = query.limit ?? 50;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isTimeOrderedCursor);
  const rows = await repo.listUsers(db, { limit, after, includeDeactivated: query.includeDeactivated ?? false });
  return toPage(rows, limit, toUserView, (row) => ({ at: row.created_at_text, id: row.id }));
}

export async function deactivateUser(ctx: UseCaseContext, input: { userId: string }): Promise<UserView> {
  const { db, actor } = ctx;
  return withTransaction(db, async (trx) => {
    const before = await repo.findUser(trx, input.userId);
    if (!before) throw new NotFoundError(`User ${input.userId} was not found.`);
    const after = await repo.deactivateUser(trx, input.userId, ctx.now());
    if (!after)
      throw new ConflictError(
        'user-already-deactivated',
        `User ${input.userId} was already deactivated at ${before.deactivated_at?.toISOString()}.`,
      );
    await repo.endSessionsOfUser(trx, input.userId, ctx.now());
    const view = toUserView(after);
    await recordAudit(trx, actor, {
      trialId: null,
      action: 'user.deactivated',
      entityType: 'user',
      entityId: input.userId,
      before: toUserView(before),
      after: view,
    });
    return view;
  });
}

export async function setPassword(deps: SessionDeps, input: { token: string; password: string }): Promise<void> {
  const now = deps.now();
  const digest = digestSecret(input.token);
  const problem = passwordProblem(input.password);
  const tokenValid = await repo.findUserByCurrentToken(deps.db, digest, now);
  const errors = [];
  if (!tokenValid)
    errors.push({
      pointer: '/token',
      detail: 'the link is unknown, already used or expired; ask an admin for a new one',
    });
  if (problem) errors.push({ pointer: '/password', detail: passwordProblemText(problem) });
  if (errors.length) throw new ValidationError(errors);
  const hash = await hashPassword(input.password);
  await withTransaction(deps.db, async (trx) => {
    const user = await repo.setPasswordWithToken(trx, digest, hash, now);
    if (!user) throw new ValidationError([{ pointer: '/token', detail: 'the link was used or expired meanwhile' }]);
    await recordAudit(trx, userActor(user), {
      trialId: null,
      action: 'user.password_set',
      entityType: 'user',
      entityId: user.id,
      before: null,
      after: { userId: user.id, name: user.name },
    });
  });
}

export function meOf(principal: Principal, language: Me['language']): Me {
  const { session } = principal;
  return {
    language,
    kind: session ? 'user' : 'key',
    id: principal.keyId,
    name: principal.name,
    role: principal.role,
    trialIds: principal.trialIds,
    siteCodes: principal.siteCodes,
    blinded: principal.blinded,
    session: session
      ? {
          createdAt: session.createdAt.toISOString(),
          expiresAt: session.expiresAt.toISOString(),
          idleExpiresAt: session.idleExpiresAt.toISOString(),
        }
      : null,
  };
}

function principalOf(user: UserRow, session: repo.SessionRow, config: SessionConfig): Principal {
  const idleEnd = session.last_seen_at.getTime() + config.idleMinutes * 60_000;
  return {
    keyId: user.id,
    name: user.name,
    role: user.role,
    trialIds: user.trial_ids,
    siteCodes: user.site_codes,
    blinded: user.blinded,
    session: {
      idDigest: session.id_digest,
      createdAt: session.created_at,
      expiresAt: session.expires_at,
      idleExpiresAt: new Date(Math.min(idleEnd, session.expires_at.getTime())),
    },
  };
}

/** Signs in: the new session's principal, the cookie value (the session id itself) and its lifetime in seconds. */
export async function signIn(
  deps: SessionDeps,
  input: { email: string; password: string },
  address: string,
): Promise<{ me: Me; sessionId: string; maxAgeSeconds: number }> {
  const nowMs = deps.now().getTime();
  const wait = deps.throttle.retryAfterSeconds(input.email, address, nowMs);
  if (wait > 0)
    throw new TooManyRequestsError(`Too many failed sign-ins; try again in ${Math.ceil(wait / 60)} min.`, wait);
  const user = await repo.findActiveUserByEmail(deps.db, input.email);
  // Verify against a decoy when there is no such user (or no password yet): the same work, the same answer.
  const ok = await verifyPassword(input.password, user?.password_hash ?? (await decoyHash()));
  if (!user || !user.password_hash || !ok) {
    deps.throttle.recordFailure(input.email, address, nowMs);
    throw new UnauthorizedError('The e-mail or the password is wrong.');
  }
  deps.throttle.recordSuccess(input.email);
  const { secret, digest } = newSecret();
  const now = deps.now();
  const session: repo.SessionRow = {
    id_digest: digest,
    user_id: user.id,
    created_at: now,
    last_seen_at: now,
    expires_at: new Date(now.getTime() + deps.sessions.absoluteHours * 3_600_000),
    ended_at: null,
  };
  await withTransaction(deps.db, async (trx) => {
    await repo.insertSession(trx, session);
    await recordAudit(trx, userActor(user), {
      trialId: null,
      action: 'session.started',
      entityType: 'user',
      entityId: user.id,
      before: null,
      after: { userId: user.id, name: user.name, role: user.role, expiresAt: session.expires_at.toISOString() },
    });
  });
  return {
    me: meOf(principalOf(user, session, deps.sessions), await repo.findLanguage(deps.db, user.id)),
    sessionId: secret,
    maxAgeSeconds: deps.sessions.absoluteHours * 3600,
  };
}

/** The principal of a live session (and the request counts as activity), or null. */
export async function authenticateSession(deps: SessionDeps, sessionId: string): Promise<Principal | null> {
  const found = await repo.touchSession(
    deps.db,
    digestSecret(sessionId),
    deps.now(),
    deps.sessions.idleMinutes * 60_000,
  );
  return found ? principalOf(found.user, found, deps.sessions) : null;
}

/** Ends the session the request was made with; nothing to do for an API key. */
export async function signOut(ctx: UseCaseContext): Promise<void> {
  const { session } = ctx.principal;
  if (!session) return;
  await withTransaction(ctx.db, async (trx) => {
    if (!(await repo.endSession(trx, session.idDigest, ctx.now()))) return;
    await recordAudit(trx, ctx.actor, {
      trialId: null,
      action: 'session.ended',
      entityType: 'user',
      entityId: ctx.principal.keyId,
      before: null,
      after: { userId: ctx.principal.keyId, name: ctx.principal.name },
    });
  });
}

/** The caller, with the language they chose. */
export async function getSession(ctx: UseCaseContext): Promise<Me> {
  return meOf(ctx.principal, await repo.findLanguage(ctx.db, ctx.principal.keyId));
}

/** Remembers the caller's language on the server (per user; per key for an API key). */
export async function setPreferences(ctx: UseCaseContext, input: { language: repo.Language }): Promise<Me> {
  await repo.saveLanguage(ctx.db, ctx.principal.keyId, input.language, ctx.now());
  return meOf(ctx.principal, input.language);
}
