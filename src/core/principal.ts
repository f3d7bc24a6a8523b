import { NotFoundError } from './errors';
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
  /**
   * Set when a person signed in to the console (then keyId is the user's id, so the audit trail names the user):
   * the session the request was authenticated with.
   */
  session?: PrincipalSession;
}

export interface PrincipalSession {
  /** SHA-256 of the cookie value, the session's key in the database. */
  idDigest: string;
  createdAt: Date;
  expiresAt: Date;
  idleExpiresAt: Date;
}

/** Who made a change, as the audit trail records it. */
export interface Actor {
  /** null when the service itself acts (bootstrap). */
  keyId: string | null;
  role: string;
  requestId: string | null;
}

export function trialNotFound(trialId: string): NotFoundError {
  return new NotFoundError(`Trial ${trialId} was not found.`);
}

export function canSeeTrial(principal: Principal, trialId: string): boolean {
  return principal.trialIds === null || principal.trialIds.includes(trialId);
}
