import type { Knex } from 'knex';
import { HandlerMap, principalOf } from '../../http/operations';
import { getTrial } from '../trials/trials.service';
import { readAuditTrail } from './audit.service';

export function auditHandlers(db: Knex): HandlerMap {
  return {
    listTrialAuditEvents: async ({ params, query, context }) => {
      await getTrial(db, principalOf(context), params.trialId);
      return { status: 200, body: await readAuditTrail(db, params.trialId, query) };
    },
    listSystemAuditEvents: async ({ query }) => ({ status: 200, body: await readAuditTrail(db, null, query) }),
  };
}
