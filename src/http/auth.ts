import { ForbiddenError, NotFoundError, UnauthorizedError } from './errors';
import type { OperationSpec } from './openapi';
import type { components } from '../generated/openapi';

export type Role = components['schemas']['Role'];

/** Who is calling: the API key's identity, role and scope. */
export interface Principal {
  keyId: string;
  name: string;
  role: Role;
  /** null: every trial. */
  trialIds: string[] | null;
  /** null: every site (always null for roles other than coordinator). */
  siteCodes: string[] | null;
  /** Sees arms only as Group 1, Group 2, ... */
  blinded: boolean;
}

/** Who made a change, as the audit trail records it. */
export interface Actor {
  /** null when the service itself acts (bootstrap). */
  keyId: string | null;
  role: string;
  requestId: string | null;
}

export type Authenticator = (token: string) => Promise<Principal | null>;

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/=-]{16,512})[ ]*$/;

/** The key of a well-formed `Authorization: Bearer <key>` header, or null. */
export function bearerToken(authorization: string | undefined): string | null {
  return authorization ? (BEARER.exec(authorization)?.[1] ?? null) : null;
}

export async function authenticateRequest(
  authorization: string | undefined,
  authenticate: Authenticator,
): Promise<Principal> {
  if (!authorization) throw new UnauthorizedError();
  const token = bearerToken(authorization);
  if (!token) throw new UnauthorizedError('The Authorization header must be "Bearer <key>".');
  const principal = await authenticate(token);
  if (!principal) throw new UnauthorizedError('The API key is unknown or revoked.');
  return principal;
}

/** Enforces what the contract declares for the operation: the roles in `x-roles` and `x-requires-unscoped-key`. */
export function authorizeRole(principal: Principal, operation: OperationSpec): void {
  if (!operation.roles.includes(principal.role)) {
    throw new ForbiddenError(
      `The ${principal.role} role may not call ${operation.operationId}; allowed: ${operation.roles.join(', ')}.`,
    );
  }
  if (operation.requiresUnscopedKey && principal.trialIds !== null) {
    throw new ForbiddenError('This operation needs a key that is not limited to particular trials.');
  }
  if (operation.requiresUnblindedKey && principal.blinded) {
    throw new ForbiddenError('Blinded keys may not call this operation: it would reveal allocations.');
  }
}

/** A key limited to other trials gets 404, exactly as for a trial that does not exist, so ids do not leak. */
export function authorizeTrial(principal: Principal, trialId: string): void {
  if (!canSeeTrial(principal, trialId)) throw trialNotFound(trialId);
}

export function trialNotFound(trialId: string): NotFoundError {
  return new NotFoundError(`Trial ${trialId} was not found.`);
}

export function canSeeTrial(principal: Principal, trialId: string): boolean {
  return principal.trialIds === null || principal.trialIds.includes(trialId);
}
