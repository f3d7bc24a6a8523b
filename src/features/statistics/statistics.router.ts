import type { HandlerMap } from '../../http/operations';
import { baselineTableCsv, baselineTableHtml } from './baseline-render';
import {
  exportDictionary,
  exportParticipants,
  getBaselineTable,
  runAgreement,
  runContingencyTests,
  runMannWhitney,
  runTTest,
} from './statistics.service';
import { poolImputations, runAncova, runBinaryAnalysis, runMixedModel } from './outcome-analysis.service';

export function statisticsHandlers(): HandlerMap {
  return {
    tTest: async ({ body }) => ({ status: 200, body: runTTest(body) }),
    contingencyTest: async ({ body }) => ({ status: 200, body: runContingencyTests(body) }),
    runAncova: async ({ body }) => ({ status: 200, body: runAncova(body) }),
    runMixedModel: async ({ body }) => ({ status: 200, body: runMixedModel(body) }),
    runBinaryAnalysis: async ({ body }) => ({ status: 200, body: runBinaryAnalysis(body) }),
    poolImputations: async ({ body }) => ({ status: 200, body: poolImputations(body) }),
    mannWhitneyTest: async ({ body }) => ({ status: 200, body: runMannWhitney(body) }),
    runAgreement: async ({ body }) => ({ status: 200, body: runAgreement(body) }),
    getBaselineTable: async ({ params, query, accepts, ctx }) => {
      // The table comes labelled for the caller; every format is rendered from it.
      const { table, title } = await getBaselineTable(ctx, { ...query, trialId: params.trialId });
      const format = accepts(['application/json', 'text/csv', 'text/html']);
      if (format === 'text/csv' || format === 'text/html') {
        return format === 'text/csv'
          ? { status: 200, body: baselineTableCsv(table), contentType: 'text/csv; charset=utf-8' }
          : { status: 200, body: baselineTableHtml(table, title), contentType: 'text/html; charset=utf-8' };
      }
      return { status: 200, body: table };
    },
    exportParticipants: async ({ params, ctx }) => ({
      status: 200,
      body: await exportParticipants(ctx, params),
      contentType: 'text/csv; charset=utf-8',
      headers: { 'Content-Disposition': `attachment; filename="participants-${params.trialId}.csv"` },
    }),
    exportDictionary: async ({ params, ctx }) => ({
      status: 200,
      body: await exportDictionary(ctx, params),
      contentType: 'text/csv; charset=utf-8',
      headers: { 'Content-Disposition': `attachment; filename="dictionary-${params.trialId}.csv"` },
    }),
  };
}
