import type { Knex } from 'knex';
import { HandlerMap, principalOf } from '../../http/operations';
import { blindForTrial } from '../randomization/seed.service';
import { renderConsortDot, renderConsortSvg } from './consort-diagram';
import { getConsortReport } from './consort.service';

export function consortHandlers(db: Knex): HandlerMap {
  return {
    getConsortCounts: async ({ params, query, context }) => ({
      status: 200,
      body: (await getConsortReport(db, principalOf(context), params.trialId, query)).report,
    }),
    getConsortDiagram: async ({ params, query, context }) => {
      const principal = principalOf(context);
      const { report, trialCode } = await getConsortReport(db, principal, params.trialId, query);
      // JSON is masked by the operation layer; the diagram is drawn from the masked report.
      const shown = principal.blinded ? await blindForTrial(db, params.trialId, report) : report;
      if (query.format === 'dot')
        return { status: 200, body: renderConsortDot(shown), contentType: 'text/vnd.graphviz; charset=utf-8' };
      const title = `CONSORT flow diagram — ${trialCode}, as of ${report.asOf}${report.siteCode ? `, site ${report.siteCode}` : ''}`;
      return { status: 200, body: renderConsortSvg(shown, { title }), contentType: 'image/svg+xml; charset=utf-8' };
    },
  };
}
