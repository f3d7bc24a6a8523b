import type { HandlerMap } from '../../http/operations';
import * as service from './incentives.service';

const CSV = 'text/csv; charset=utf-8';

export function incentiveHandlers(): HandlerMap {
  return {
    addIncentiveType: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.addIncentiveType(ctx, { trialId: params.trialId, type: body }),
    }),
    issueIncentive: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.issueIncentive(ctx, { ...params, input: body }),
    }),
    voidIncentive: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.voidIncentive(ctx, { ...params, reason: body.reason }),
    }),
    listIncentives: async ({ params, query, accepts, ctx }) => {
      const request = { ...query, trialId: params.trialId };
      if (accepts(['application/json', 'text/csv']) === 'text/csv')
        return { status: 200, body: await service.incentivesCsv(ctx, request), contentType: CSV };
      return { status: 200, body: await service.listIncentives(ctx, request) };
    },
    summarizeIncentives: async ({ params, accepts, ctx }) => {
      const summary = await service.summarizeIncentives(ctx, params);
      if (accepts(['application/json', 'text/csv']) === 'text/csv')
        return { status: 200, body: service.summaryCsv(summary), contentType: CSV };
      return { status: 200, body: summary };
    },
  };
}
