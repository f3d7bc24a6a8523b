import type { Knex } from 'knex';
import type { HandlerMap } from '../../http/operations';
import { principalOf } from '../../http/operations';
import { blindForTrial } from '../randomization/seed.service';
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

export function statisticsHandlers(db: Knex): HandlerMap {
  return {
    tTest: async ({ body }) => ({ status: 200, body: runTTest(body) }),
    contingencyTest: async ({ body }) => ({ status: 200, body: runContingencyTests(body) }),
    mannWhitneyTest: async ({ body }) => ({ status: 200, body: runMannWhitney(body) }),
    runAgreement: async ({ body }) => ({ status: 200, body: runAgreement(body) }),
    getBaselineTable: async ({ params, query, accepts, context }) => {
      const principal = principalOf(context);
      const { table, title } = await getBaselineTable(db, principal, params.trialId, query);
      const format = accepts(['application/json', 'text/csv', 'text/html']);
      if (format === 'text/csv' || format === 'text/html') {
        // JSON is masked by the operation layer; text formats are rendered from the masked table.
        const shown = principal.blinded ? await blindForTrial(db, params.trialId, table) : table;
        return format === 'text/csv'
          ? { status: 200, body: baselineTableCsv(shown), contentType: 'text/csv; charset=utf-8' }
          : { status: 200, body: baselineTableHtml(shown, title), contentType: 'text/html; charset=utf-8' };
      }
      return { status: 200, body: table };
    },
    exportParticipants: async ({ params, context }) => ({
      status: 200,
      body: await exportParticipants(db, principalOf(context), params.trialId),
      contentType: 'text/csv; charset=utf-8',
      headers: { 'Content-Disposition': `attachment; filename="participants-${params.trialId}.csv"` },
    }),
    exportDictionary: async ({ params, context }) => ({
      status: 200,
      body: await exportDictionary(db, principalOf(context), params.trialId),
      contentType: 'text/csv; charset=utf-8',
      headers: { 'Content-Disposition': `attachment; filename="dictionary-${params.trialId}.csv"` },
    }),
  };
}
