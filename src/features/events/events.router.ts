import type { Knex } from 'knex';
import { actorOf, HandlerMap, principalOf } from '../../http/operations';
import * as service from './events.service';

export function eventHandlers(db: Knex): HandlerMap {
  return {
    recordEvent: async ({ params, body, context }) => ({
      status: 201,
      body: await service.recordEvent(
        db,
        principalOf(context),
        actorOf(context),
        params.trialId,
        params.participantId,
        body,
      ),
    }),
    retractEvent: async ({ params, body, context }) => ({
      status: 201,
      body: await service.retractEvent(
        db,
        principalOf(context),
        actorOf(context),
        params.trialId,
        params.participantId,
        params.eventId,
        body.reason,
      ),
    }),
  };
}
