import type { HandlerMap } from '../../http/operations';
import { samplingCsv, samplingHtml } from './sampling-table';
import * as service from './substudies.service';

export function substudyHandlers(): HandlerMap {
  return {
    createSubstudy: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.createSubstudy(ctx, { trialId: params.trialId, input: body }),
    }),
    listSubstudies: async ({ params, ctx }) => ({ status: 200, body: await service.listSubstudies(ctx, params) }),
    changeSubstudyQuotas: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.changeSubstudyQuotas(ctx, { ...params, input: body }),
    }),
    inviteToSubstudy: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.inviteToSubstudy(ctx, { ...params, input: body }),
    }),
    answerInvitation: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.answerInvitation(ctx, { ...params, input: body }),
    }),
    withdrawInvitation: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.withdrawInvitation(ctx, { ...params, input: body }),
    }),
    getSubstudySampling: async ({ params, accepts, ctx }) => {
      // The table comes labelled for the caller; every format is rendered from it.
      const table = await service.getSubstudySampling(ctx, params);
      const format = accepts(['application/json', 'text/csv', 'text/html']);
      if (format === 'text/csv')
        return { status: 200, body: samplingCsv(table), contentType: 'text/csv; charset=utf-8' };
      if (format === 'text/html')
        return { status: 200, body: samplingHtml(table), contentType: 'text/html; charset=utf-8' };
      return { status: 200, body: table };
    },
    recordInterview: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordInterview(ctx, { ...params, input: body }),
    }),
    listInterviews: async ({ params, ctx }) => ({ status: 200, body: await service.listInterviews(ctx, params) }),
    correctInterview: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.correctInterview(ctx, { ...params, input: body }),
    }),
    recordRecordingDeletion: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.recordRecordingDeletion(ctx, { ...params, input: body }),
    }),
    recordTranscriptStage: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.recordTranscriptStage(ctx, { ...params, input: body }),
    }),
    issueInterviewCoupon: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.issueInterviewCoupon(ctx, { ...params, input: body }),
    }),
    recordCodingRound: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordCodingRound(ctx, { ...params, input: body }),
    }),
    listCodingRounds: async ({ params, ctx }) => ({ status: 200, body: await service.listCodingRounds(ctx, params) }),
  };
}
