import type { HandlerMap } from '../../http/operations';
import * as adverseEvents from './adverse-events.service';
import * as queries from './data-queries.service';
import { getClosedReport, getOpenReport } from './dmc.service';
import { renderClosedReport, renderOpenReport } from './dmc-render';
import * as sdv from './sdv.service';

const HTML = 'text/html; charset=utf-8';

export function safetyHandlers(): HandlerMap {
  return {
    getSafetySettings: async ({ params, ctx }) => ({
      status: 200,
      body: await adverseEvents.getSafetySettings(ctx, params),
    }),
    putSafetySettings: async ({ params, body, ctx }) => ({
      status: 200,
      body: await adverseEvents.putSafetySettings(ctx, { trialId: params.trialId, settings: body }),
    }),
    recordAdverseEvent: async ({ params, body, ctx }) => ({
      status: 201,
      body: await adverseEvents.recordAdverseEvent(ctx, { ...params, input: body }),
    }),
    listAdverseEvents: async ({ params, query, ctx }) => ({
      status: 200,
      body: await adverseEvents.listAdverseEvents(ctx, { ...query, trialId: params.trialId }),
    }),
    getAdverseEvent: async ({ params, ctx }) => ({
      status: 200,
      body: await adverseEvents.getAdverseEvent(ctx, params),
    }),
    correctAdverseEvent: async ({ params, body, ctx }) => ({
      status: 200,
      body: await adverseEvents.correctAdverseEvent(ctx, { ...params, input: body }),
    }),
    addAdverseEventFollowUp: async ({ params, body, ctx }) => ({
      status: 201,
      body: await adverseEvents.addFollowUp(ctx, { ...params, input: body }),
    }),
    recordAdverseEventReport: async ({ params, body, ctx }) => ({
      status: 201,
      body: await adverseEvents.recordReport(ctx, { ...params, input: body }),
    }),
    getSafetyDue: async ({ params, ctx }) => ({
      status: 200,
      body: await adverseEvents.getSafetyDue(ctx, params),
    }),
    raiseQuery: async ({ params, body, ctx }) => ({
      status: 201,
      body: await queries.raiseQuery(ctx, { trialId: params.trialId, input: body }),
    }),
    listQueries: async ({ params, query, ctx }) => ({
      status: 200,
      body: await queries.listQueries(ctx, { ...query, trialId: params.trialId }),
    }),
    runAutomaticQueryChecks: async ({ params, ctx }) => ({
      status: 201,
      body: await queries.runAutomaticChecks(ctx, params),
    }),
    getQuery: async ({ params, ctx }) => ({ status: 200, body: await queries.getQuery(ctx, params) }),
    answerQuery: async ({ params, body, ctx }) => ({
      status: 201,
      body: await queries.actOnQuery(ctx, { ...params, action: 'answer', text: body.text }),
    }),
    closeQuery: async ({ params, body, ctx }) => ({
      status: 201,
      body: await queries.actOnQuery(ctx, { ...params, action: 'close', text: body.text }),
    }),
    reopenQuery: async ({ params, body, ctx }) => ({
      status: 201,
      body: await queries.actOnQuery(ctx, { ...params, action: 'reopen', text: body.text }),
    }),
    markSourceDataVerified: async ({ params, body, ctx }) => ({
      status: 201,
      body: await sdv.markVerified(ctx, { trialId: params.trialId, input: body }),
    }),
    listSourceDataVerifications: async ({ params, query, ctx }) => ({
      status: 200,
      body: await sdv.listVerifications(ctx, { ...query, trialId: params.trialId }),
    }),
    getSdvCoverage: async ({ params, ctx }) => ({ status: 200, body: await sdv.getCoverage(ctx, params) }),
    putSdvKeyItems: async ({ params, body, ctx }) => ({
      status: 200,
      body: await sdv.putKeyItems(ctx, { trialId: params.trialId, input: body }),
    }),
    getDmcOpenReport: async ({ params, accepts, ctx }) => {
      const report = await getOpenReport(ctx, params);
      if (accepts(['application/json', 'text/html']) === 'text/html')
        return { status: 200, body: renderOpenReport(report), contentType: HTML };
      return { status: 200, body: report };
    },
    getDmcClosedReport: async ({ params, accepts, ctx }) => {
      const report = await getClosedReport(ctx, params);
      if (accepts(['application/json', 'text/html']) === 'text/html')
        return { status: 200, body: renderClosedReport(report), contentType: HTML };
      return { status: 200, body: report };
    },
  };
}
