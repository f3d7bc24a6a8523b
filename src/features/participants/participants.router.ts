import type { HandlerMap } from '../../http/operations';
import * as service from './participants.service';

export function participantHandlers(): HandlerMap {
  return {
    screenParticipant: async ({ params, body, ctx }) => {
      const participant = await service.screenParticipant(ctx, { ...body, trialId: params.trialId });
      return {
        status: 201,
        body: participant,
        headers: { Location: `/v1/trials/${params.trialId}/participants/${participant.id}` },
      };
    },
    listParticipants: async ({ params, query, ctx }) => ({
      status: 200,
      body: await service.listParticipants(ctx, { ...query, trialId: params.trialId }),
    }),
    getParticipant: async ({ params, ctx }) => ({ status: 200, body: await service.getParticipant(ctx, params) }),
    setBaseline: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.setBaseline(ctx, { ...params, update: body }),
    }),
    assignCaseWorker: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.assignCaseWorker(ctx, { ...params, input: body }),
    }),
  };
}
