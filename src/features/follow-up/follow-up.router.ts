import { csvLine } from '../../core/csv';
import type { HandlerMap } from '../../http/operations';
import { amendFollowUp } from '../trials/trials.service';
import { DICTIONARY_FIELDS } from './analysis-dataset';
import * as service from './follow-up.service';

const CSV = 'text/csv; charset=utf-8';

const csvOf = <Row extends Record<string, unknown>>(columns: readonly (keyof Row & string)[], rows: Row[]) =>
  csvLine(columns) + rows.map((row) => csvLine(columns.map((c) => row[c]))).join('');

const reasonsText = (reasons: Record<string, number>) =>
  Object.entries(reasons)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${reason}: ${n}`)
    .join('; ');

export function followUpHandlers(): HandlerMap {
  return {
    amendFollowUp: async ({ params, body, ctx }) => ({
      status: 200,
      body: await amendFollowUp(ctx, { trialId: params.trialId, amendment: body }),
    }),
    recordAssessment: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordAssessment(ctx, { ...params, assessment: body }),
    }),
    correctAssessment: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.correctAssessment(ctx, { ...params, correction: body }),
    }),
    recordMissedVisit: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordMissedVisit(ctx, { ...params, ...body }),
    }),
    retractMissedVisit: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.retractMissedVisit(ctx, { ...params, reason: body.reason }),
    }),
    getParticipantSchedule: async ({ params, ctx }) => ({
      status: 200,
      body: await service.getSchedule(ctx, params),
    }),
    listVisits: async ({ params, query, accepts, ctx }) => {
      const input = { trialId: params.trialId, ...query };
      if (accepts(['application/json', 'text/csv']) === 'text/csv') {
        const rows = await service.workListRows(ctx, input);
        return { status: 200, body: csvOf(service.WORK_LIST_COLUMNS, rows), contentType: CSV };
      }
      return { status: 200, body: await service.listWorkList(ctx, input) };
    },
    getFollowUpCompleteness: async ({ params, accepts, ctx }) => {
      const report = await service.getCompleteness(ctx, { trialId: params.trialId });
      if (accepts(['application/json', 'text/csv']) === 'text/csv') {
        const rows = report.visits.map((row) => ({ ...row, missedByReason: reasonsText(row.missedByReason) }));
        return { status: 200, body: csvOf(service.COMPLETENESS_COLUMNS, rows), contentType: CSV };
      }
      return { status: 200, body: report };
    },
    getAnalysisDataset: async ({ params, query, accepts, ctx }) => {
      const input = { trialId: params.trialId, ...query };
      if (accepts(['application/json', 'text/csv']) === 'text/csv')
        return {
          status: 200,
          body: await service.analysisDatasetCsv(ctx, input),
          contentType: CSV,
          headers: { 'Content-Disposition': `attachment; filename="analysis-dataset-${params.trialId}.csv"` },
        };
      return { status: 200, body: await service.analysisDatasetPage(ctx, input) };
    },
    getAnalysisDatasetDictionary: async ({ params, query, accepts, ctx }) => {
      const dictionary = await service.analysisDictionary(ctx, { trialId: params.trialId, ...query });
      if (accepts(['application/json', 'text/csv']) === 'text/csv')
        return { status: 200, body: csvOf(DICTIONARY_FIELDS, dictionary.columns), contentType: CSV };
      return { status: 200, body: dictionary };
    },
  };
}
