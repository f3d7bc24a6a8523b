import type { HandlerMap } from '../../http/operations';
import * as adverseEvents from './adverse-events.service';

export function safetyHandlers(): HandlerMap {
  return {
    getSafetySettings: async ({ params, ctx }) => ({
      status: 200,
      body: await adverseEvents.getSafetySettings(ctx, params),
    }),
    putSafetySettings: async ({ params, body, ctx }) => ({
      status: 200,
      body: await adverseEvents.putSafetySettings(ctx, { trialId: params.trialId, settings: body }),
    }),
    recordAdverseEvent: async ({ params, body, ctx }) => ({
      status: 201,
      body: await adverseEvents.recordAdverseEvent(ctx, { ...params, input: body }),
    }),
    listAdverseEvents: async ({ params, query, ctx }) => ({
      status: 200,
      body: await adverseEvents.listAdverseEvents(ctx, { ...query, trialId: params.trialId }),
    }),
    getAdverseEvent: async ({ params, ctx }) => ({
      status: 200,
      body: await adverseEvents.getAdverseEvent(ctx, params),
    }),
    correctAdverseEvent: async ({ params, body, ctx }) => ({
      status: 200,
      body: await adverseEvents.correctAdverseEvent(ctx, { ...params, input: body }),
    }),
    addAdverseEventFollowUp: async ({ params, body, ctx }) => ({
      status: 201,
      body: await adverseEvents.addFollowUp(ctx, { ...params, input: body }),
    }),
    recordAdverseEventReport: async ({ params, body, ctx }) => ({
      status: 201,
      body: await adverseEvents.recordReport(ctx, { ...params, input: body }),
    }),
    getSafetyDue: async ({ params, ctx }) => ({
      status: 200,
      body: await adverseEvents.getSafetyDue(ctx, params),
    }),
  };
}
