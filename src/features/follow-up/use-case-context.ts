import type { Knex } from 'knex';
import type { Actor, Principal } from '../../http/auth';
import type { TrialView } from '../trials/trials';

/**
 * What a follow-up use case needs from the request, built once per request by the router. A local
 * stand-in for the application-wide use-case context of issue #18, shaped like it.
 */
export interface UseCaseContext {
  db: Knex;
  principal: Principal;
  actor: Actor;
  /** The current instant, from the application's clock (tests set it); "today" is its UTC date. */
  now: Date;
  /** How this caller sees the arms of a trial: the code, or the masked label for a blinded key. */
  armLabeller(trial: Pick<TrialView, 'id' | 'arms'>): Promise<(armCode: string) => string>;
}

export const todayOf = (ctx: Pick<UseCaseContext, 'now'>): string => ctx.now.toISOString().slice(0, 10);
