import type { Knex } from 'knex';
import { csvLine } from '../../http/csv';
import { actorOf, HandlerMap, principalOf, RequestContext } from '../../http/operations';
import { armMaskFor } from '../randomization/seed.service';
import { amendFollowUp } from '../trials/trials.service';
import { DICTIONARY_FIELDS } from './analysis-dataset';
import * as service from './follow-up.service';
import type { UseCaseContext } from './use-case-context';

export type Clock = () => Date;

/** The per-request context of the follow-up use cases; arms are labelled as this caller may see them. */
function useCaseContext(db: Knex, clock: Clock, context: RequestContext): UseCaseContext {
  const principal = principalOf(context);
  return {
    db,
    principal,
    actor: actorOf(context),
    now: clock(),
    armLabeller: async (trial) => {
      if (!principal.blinded) return (code) => code;
      const mask = await armMaskFor(db, trial);
      return (code) => mask.get(code) ?? code;
    },
  };
}

const CSV = 'text/csv; charset=utf-8';

const csvOf = <Row extends Record<string, unknown>>(columns: readonly (keyof Row & string)[], rows: Row[]) =>
  csvLine(columns) + rows.map((row) => csvLine(columns.map((c) => row[c]))).join('');

const reasonsText = (reasons: Record<string, number>) =>
  Object.entries(reasons)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${reason}: ${n}`)
    .join('; ');

export function followUpHandlers(db: Knex, clock: Clock): HandlerMap {
  const ctx = (context: RequestContext) => useCaseContext(db, clock, context);
  return {
    amendFollowUp: async ({ params, body, context }) => ({
      status: 200,
      body: await amendFollowUp(ctx(context), { trialId: params.trialId, amendment: body }),
    }),
    recordAssessment: async ({ params, body, context }) => ({
      status: 201,
      body: await service.recordAssessment(ctx(context), { ...params, assessment: body }),
    }),
    correctAssessment: async ({ params, body, context }) => ({
      status: 200,
      body: await service.correctAssessment(ctx(context), { ...params, correction: body }),
    }),
    recordMissedVisit: async ({ params, body, context }) => ({
      status: 201,
      body: await service.recordMissedVisit(ctx(context), { ...params, ...body }),
    }),
    retractMissedVisit: async ({ params, body, context }) => ({
      status: 201,
      body: await service.retractMissedVisit(ctx(context), { ...params, reason: body.reason }),
    }),
    getParticipantSchedule: async ({ params, context }) => ({
      status: 200,
      body: await service.getSchedule(ctx(context), params),
    }),
    listVisits: async ({ params, query, accepts, context }) => {
      const input = { trialId: params.trialId, ...query };
      if (accepts(['application/json', 'text/csv']) === 'text/csv') {
        const rows = await service.workListRows(ctx(context), input);
        return { status: 200, body: csvOf(service.WORK_LIST_COLUMNS, rows), contentType: CSV };
      }
      return { status: 200, body: await service.listWorkList(ctx(context), input) };
    },
    getFollowUpCompleteness: async ({ params, accepts, context }) => {
      const report = await service.getCompleteness(ctx(context), { trialId: params.trialId });
      if (accepts(['application/json', 'text/csv']) === 'text/csv') {
        const rows = report.visits.map((row) => ({ ...row, missedByReason: reasonsText(row.missedByReason) }));
        return { status: 200, body: csvOf(service.COMPLETENESS_COLUMNS, rows), contentType: CSV };
      }
      return { status: 200, body: report };
    },
    getAnalysisDataset: async ({ params, query, accepts, context }) => {
      const input = { trialId: params.trialId, ...query };
      if (accepts(['application/json', 'text/csv']) === 'text/csv')
        return {
          status: 200,
          body: await service.analysisDatasetCsv(ctx(context), input),
          contentType: CSV,
          headers: { 'Content-Disposition': `attachment; filename="analysis-dataset-${params.trialId}.csv"` },
        };
      return { status: 200, body: await service.analysisDatasetPage(ctx(context), input) };
    },
    getAnalysisDatasetDictionary: async ({ params, query, accepts, context }) => {
      const dictionary = await service.analysisDictionary(ctx(context), { trialId: params.trialId, ...query });
      if (accepts(['application/json', 'text/csv']) === 'text/csv')
        return { status: 200, body: csvOf(DICTIONARY_FIELDS, dictionary.columns), contentType: CSV };
      return { status: 200, body: dictionary };
    },
  };
}
