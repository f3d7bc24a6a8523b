import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Actor, Principal } from './principal';

/**
 * How one caller sees one trial's arms. Every view that can name an arm is built through it, so a
 * blinded caller's data never contain a real arm in the first place (issue #18: blinding by construction).
 */
export interface ArmLabeller {
  /** True when the caller sees masked labels (`Group 1`, …) instead of arm codes and names. */
  readonly blinded: boolean;
  /** The label this caller sees for an arm, given its code or its name. */
  label(arm: string): string;
  /**
   * The trial's arms as this caller may see them: code and name replaced by the label, listed in label order
   * (trial order would give the arms away). Unchanged for an unblinded caller.
   */
  arms<A extends { code: string; name: string }>(arms: readonly A[]): A[];
  /** An object keyed by arm code, re-keyed by label and ordered by label. */
  byArm<V>(values: Readonly<Record<string, V>>): Record<string, V>;
  /**
   * A free-form record that may name arms anywhere (an audit row's before/after), with every arm under the keys
   * the contract uses for arms (`arm`, `arms`, `byArm`) replaced. Structured views use the functions above.
   */
  payload<T>(value: T): T;
}

/** Builds the labeller of a trial for a caller, reading the trial through the executor given. */
export type ArmLabellerFactory = (executor: Knex, principal: Principal, trialId: string) => Promise<ArmLabeller>;

/** One use case's view of the world: who acts, through which database, and how arms are shown to them. */
export interface UseCaseContext {
  /** The database, or the transaction an operation-level wrapper (idempotency) opened around the use case. */
  readonly db: Knex;
  readonly principal: Principal;
  readonly actor: Actor;
  readonly log: Logger;
  /** "Now", injectable so that time-dependent rules are tested without waiting. */
  now(): Date;
  /** How this caller sees the trial's arms; read through `executor` (a transaction sees its own locks). */
  armLabeller(trialId: string, executor?: Knex): Promise<ArmLabeller>;
}

export interface UseCaseContextDeps {
  db: Knex;
  armLabellerFactory: ArmLabellerFactory;
  now?: () => Date;
}

export function createUseCaseContext(
  deps: UseCaseContextDeps,
  request: { principal: Principal; requestId: string | null; log: Logger },
): UseCaseContext {
  const { principal } = request;
  const now = deps.now ?? (() => new Date());
  return {
    db: deps.db,
    principal,
    actor: { keyId: principal.keyId, role: principal.role, requestId: request.requestId },
    log: request.log,
    now,
    armLabeller: (trialId, executor) => deps.armLabellerFactory(executor ?? deps.db, principal, trialId),
  };
}

/**
 * The same use case run inside a transaction (the wrapper's, or a report's snapshot), everything else equal. The
 * arm labeller reads through that transaction too unless told otherwise: on the embedded database (one
 * connection) a read on another connection would wait for the transaction forever, and on PostgreSQL it would
 * see another snapshot.
 */
export function withExecutor(ctx: UseCaseContext, db: Knex): UseCaseContext {
  return { ...ctx, db, armLabeller: (trialId, executor) => ctx.armLabeller(trialId, executor ?? db) };
}
