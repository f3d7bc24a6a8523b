import type { HandlerMap } from '../../http/operations';
import { etagOf } from './trials';
import * as service from './trials.service';

export function trialHandlers(): HandlerMap {
  return {
    createTrial: async ({ body, ctx }) => {
      const trial = await service.createTrial(ctx, body);
      return { status: 201, body: trial, headers: { ETag: etagOf(trial.version), Location: `/v1/trials/${trial.id}` } };
    },
    listTrials: async ({ query, ctx }) => ({ status: 200, body: await service.listTrials(ctx, query) }),
    getTrial: async ({ params, ctx }) => {
      const trial = await service.getTrial(ctx, params);
      return { status: 200, body: trial, headers: { ETag: etagOf(trial.version) } };
    },
    updateTrial: async ({ params, body, headers, ctx }) => {
      const trial = await service.updateTrial(ctx, {
        trialId: params.trialId,
        patch: body,
        ifMatch: headers['if-match'],
      });
      return { status: 200, body: trial, headers: { ETag: etagOf(trial.version) } };
    },
    activateTrial: async ({ params, ctx }) => {
      const trial = await service.activateTrial(ctx, params);
      return { status: 200, body: trial, headers: { ETag: etagOf(trial.version) } };
    },
    closeTrial: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.closeTrial(ctx, { trialId: params.trialId, reason: body.reason }),
    }),
    createSite: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.createSite(ctx, { trialId: params.trialId, site: body }),
    }),
    amendDelivery: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.amendDelivery(ctx, { trialId: params.trialId, amendment: body }),
    }),
    listSites: async ({ params, ctx }) => ({ status: 200, body: { items: await service.listSites(ctx, params) } }),
  };
}
