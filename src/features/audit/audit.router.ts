import type { HandlerMap } from '../../http/operations';
import { readAuditTrail, verifyAuditChain } from './audit-trail.service';

export function auditHandlers(): HandlerMap {
  return {
    listTrialAuditEvents: async ({ params, query, ctx }) => ({
      status: 200,
      body: await readAuditTrail(ctx, { trialId: params.trialId, filter: query }),
    }),
    listSystemAuditEvents: async ({ query, ctx }) => ({
      status: 200,
      body: await readAuditTrail(ctx, { trialId: null, filter: query }),
    }),
    verifyTrialAuditChain: async ({ params, ctx }) => ({
      status: 200,
      body: await verifyAuditChain(ctx, { trialId: params.trialId }),
    }),
    verifySystemAuditChain: async ({ ctx }) => ({ status: 200, body: await verifyAuditChain(ctx, { trialId: null }) }),
  };
}
