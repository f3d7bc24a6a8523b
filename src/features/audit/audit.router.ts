import type { Knex } from 'knex';
import { HandlerMap, principalOf } from '../../http/operations';
import { getTrial } from '../trials/trials.service';
import { readAuditTrail, verifyAuditChain } from './audit.service';

export function auditHandlers(db: Knex): HandlerMap {
  return {
    listTrialAuditEvents: async ({ params, query, context }) => {
      await getTrial(db, principalOf(context), params.trialId);
      return { status: 200, body: await readAuditTrail(db, params.trialId, query) };
    },
    listSystemAuditEvents: async ({ query }) => ({ status: 200, body: await readAuditTrail(db, null, query) }),
    verifyTrialAuditChain: async ({ params, context }) => {
      await getTrial(db, principalOf(context), params.trialId);
      return { status: 200, body: await verifyAuditChain(db, params.trialId) };
    },
    verifySystemAuditChain: async () => ({ status: 200, body: await verifyAuditChain(db, null) }),
  };
}
