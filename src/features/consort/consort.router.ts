import type { HandlerMap } from '../../http/operations';
import { renderConsortDot, renderConsortSvg } from './consort-diagram';
import { getConsortReport } from './consort.service';

export function consortHandlers(): HandlerMap {
  return {
    getConsortCounts: async ({ params, query, ctx }) => ({
      status: 200,
      body: (await getConsortReport(ctx, { ...query, trialId: params.trialId })).report,
    }),
    getConsortDiagram: async ({ params, query, ctx }) => {
      // Drawn from the report as the caller may see it (arms already labelled for a blinded key).
      const { report, trialCode } = await getConsortReport(ctx, {
        asOf: query.asOf,
        siteCode: query.siteCode,
        trialId: params.trialId,
      });
      if (query.format === 'dot')
        return { status: 200, body: renderConsortDot(report), contentType: 'text/vnd.graphviz; charset=utf-8' };
      const title = `CONSORT flow diagram — ${trialCode}, as of ${report.asOf}${report.siteCode ? `, site ${report.siteCode}` : ''}`;
      return { status: 200, body: renderConsortSvg(report, { title }), contentType: 'image/svg+xml; charset=utf-8' };
    },
  };
}
