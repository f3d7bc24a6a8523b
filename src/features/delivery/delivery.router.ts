import type { HandlerMap } from '../../http/operations';
import * as service from './delivery.service';

const CSV = 'text/csv; charset=utf-8';

export function deliveryHandlers(): HandlerMap {
  return {
    recordSession: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordSession(ctx, { trialId: params.trialId, session: body }),
    }),
    correctSession: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.correctSession(ctx, { ...params, correction: body }),
    }),
    retractSession: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.retractSession(ctx, { ...params, reason: body.reason }),
    }),
    listSessions: async ({ params, query, ctx }) => ({
      status: 200,
      body: await service.listSessions(ctx, { trialId: params.trialId, ...query }),
    }),
    getDelivery: async ({ params, accepts, ctx }) => {
      const report = await service.getDelivery(ctx, { trialId: params.trialId });
      if (accepts(['application/json', 'text/csv']) === 'text/csv')
        return { status: 200, body: service.deliveryCsv(report), contentType: CSV };
      return { status: 200, body: report };
    },
    recordFidelityReview: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordFidelityReview(ctx, { trialId: params.trialId, review: body }),
    }),
    getFidelity: async ({ params, query, ctx }) => {
      const { sites } = await service.getFidelity(ctx, { trialId: params.trialId, ...query });
      return { status: 200, body: { sites } };
    },
    getFidelityChart: async ({ params, query, ctx }) => ({
      status: 200,
      body: await service.fidelityChartSvg(ctx, { trialId: params.trialId, ...query }),
      contentType: 'image/svg+xml; charset=utf-8',
    }),
    recordSupervision: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordSupervision(ctx, { trialId: params.trialId, supervision: body }),
    }),
    getSupervisionSummary: async ({ params, query, ctx }) => ({
      status: 200,
      body: await service.getSupervisionSummary(ctx, { trialId: params.trialId, ...query }),
    }),
    recordDeviation: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordDeviation(ctx, { trialId: params.trialId, deviation: body }),
    }),
    listDeviations: async ({ params, query, ctx }) => ({
      status: 200,
      body: await service.listDeviations(ctx, { trialId: params.trialId, ...query }),
    }),
  };
}
