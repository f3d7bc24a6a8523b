import type { Knex } from 'knex';
import { actorOf, HandlerMap, principalOf } from '../../http/operations';
import * as service from './consent.service';

export function consentHandlers(db: Knex): HandlerMap {
  return {
    recordConsent: async ({ params, body, context }) => ({
      status: 201,
      body: await service.recordConsent(
        db,
        principalOf(context),
        actorOf(context),
        params.trialId,
        params.participantId,
        body,
      ),
    }),
    withdrawConsent: async ({ params, body, context }) => ({
      status: 201,
      body: await service.withdrawConsent(
        db,
        principalOf(context),
        actorOf(context),
        params.trialId,
        params.participantId,
        params.consentId,
        body,
      ),
    }),
    addConsentFormVersion: async ({ params, body, context }) => ({
      status: 201,
      body: await service.addConsentFormVersion(db, principalOf(context), actorOf(context), params.trialId, body),
    }),
    listConsentForms: async ({ params, context }) => ({
      status: 200,
      body: { items: await service.listConsentForms(db, principalOf(context), params.trialId) },
    }),
  };
}
