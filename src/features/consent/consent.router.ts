import type { HandlerMap } from '../../http/operations';
import type { Signer } from '../users/signatures.service';
import * as service from './consent.service';

export function consentHandlers(sign: Signer): HandlerMap {
  return {
    recordConsent: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordConsent(ctx, { ...params, input: body }),
    }),
    withdrawConsent: async ({ params, body, ctx, clientAddress }) => {
      const { signature: sent, ...input } = body;
      const signature = await sign(ctx, { sent, meaning: 'recorded withdrawal', clientAddress });
      return { status: 201, body: await service.withdrawConsent(ctx, { ...params, input, signature }) };
    },
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
