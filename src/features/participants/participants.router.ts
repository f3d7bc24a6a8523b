import type { Knex } from 'knex';
import { actorOf, HandlerMap, principalOf } from '../../http/operations';
import * as service from './participants.service';

export function participantHandlers(db: Knex): HandlerMap {
  return {
    screenParticipant: async ({ params, body, context }) => {
      const participant = await service.screenParticipant(
        db,
        principalOf(context),
        actorOf(context),
        params.trialId,
        body,
      );
      return {
        status: 201,
        body: participant,
        headers: { Location: `/v1/trials/${params.trialId}/participants/${participant.id}` },
      };
    },
    listParticipants: async ({ params, query, context }) => ({
      status: 200,
      body: await service.listParticipants(db, principalOf(context), params.trialId, query),
    }),
    getParticipant: async ({ params, context }) => ({
      status: 200,
      body: await service.getParticipant(db, principalOf(context), params.trialId, params.participantId),
    }),
    setBaseline: async ({ params, body, context }) => ({
      status: 200,
      body: await service.setBaseline(
        db,
        principalOf(context),
        actorOf(context),
        params.trialId,
        params.participantId,
        body,
      ),
    }),
    assignCaseWorker: async ({ params, body, context }) => ({
      status: 201,
      body: await service.assignCaseWorker(
        db,
        principalOf(context),
        actorOf(context),
        params.trialId,
        params.participantId,
        body,
      ),
    }),
  };
}
