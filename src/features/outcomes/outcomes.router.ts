import type { HandlerMap } from '../../http/operations';
import * as service from './outcomes.service';

export function outcomesHandlers(): HandlerMap {
  return {
    getOutcomeAnalysis: async ({ params, query, ctx }) => ({
      status: 200,
      body: await service.analyseOutcome(ctx, { trialId: params.trialId, measure: params.measure, ...query }),
    }),
  };
}
