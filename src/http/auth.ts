import { ForbiddenError, UnauthorizedError } from '../core/errors';
import { canSeeTrial, Principal, trialNotFound } from '../core/principal';
import type { OperationSpec } from './openapi';

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
