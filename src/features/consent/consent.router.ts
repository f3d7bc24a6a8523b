import type { HandlerMap } from '../../http/operations';
import * as service from './consent.service';

export function consentHandlers(): HandlerMap {
  return {
    recordConsent: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordConsent(ctx, { ...params, input: body }),
    }),
    withdrawConsent: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.withdrawConsent(ctx, { ...params, input: body }),
    }),
    addConsentFormVersion: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.addConsentFormVersion(ctx, { trialId: params.trialId, form: body }),
    }),
    listConsentForms: async ({ params, ctx }) => ({
      status: 200,
      body: { items: await service.listConsentForms(ctx, params) },
    }),
  };
}
