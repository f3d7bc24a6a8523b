import type { HandlerMap } from '../../http/operations';
import { forestPlotSvg } from './forest-plot';
import { outcomeSummaryCsv, outcomeSummaryHtml } from './outcome-summary-render';
import * as service from './outcomes.service';

export function outcomesHandlers(): HandlerMap {
  return {
    getOutcomeAnalysis: async ({ params, query, ctx }) => ({
      status: 200,
      body: await service.analyseOutcome(ctx, { trialId: params.trialId, measure: params.measure, ...query }),
    }),
    getOutcomeSummary: async ({ params, query, accepts, ctx }) => {
      // The table comes labelled for the caller; every format is rendered from it.
      const { summary, title } = await service.outcomeSummary(ctx, { trialId: params.trialId, ...query });
      const format = accepts(['application/json', 'text/csv', 'text/html']);
      if (format === 'text/csv') {
        return { status: 200, body: outcomeSummaryCsv(summary), contentType: 'text/csv; charset=utf-8' };
      }
      if (format === 'text/html') {
        return { status: 200, body: outcomeSummaryHtml(summary, title), contentType: 'text/html; charset=utf-8' };
      }
      return { status: 200, body: summary };
    },
    getOutcomeTrajectory: async ({ params, query, ctx }) => ({
      status: 200,
      body: await service.outcomeTrajectorySvg(ctx, { trialId: params.trialId, measure: params.measure, ...query }),
      contentType: 'image/svg+xml; charset=utf-8',
    }),
    getOutcomeForestPlot: async ({ params, query, ctx }) => {
      const { summary, title } = await service.outcomeSummary(ctx, { trialId: params.trialId, ...query });
      return { status: 200, body: forestPlotSvg(summary, title), contentType: 'image/svg+xml; charset=utf-8' };
    },
  };
}
