import type { Knex } from 'knex';
import { actorOf, HandlerMap, principalOf } from '../../http/operations';
import { blindForTrial } from '../randomization/seed.service';
import { etagOf } from './trials';
import * as service from './trials.service';

export function trialHandlers(db: Knex): HandlerMap {
  return {
    createTrial: async ({ body, context }) => {
      const trial = await service.createTrial(db, actorOf(context), body);
      return { status: 201, body: trial, headers: { ETag: etagOf(trial.version), Location: `/v1/trials/${trial.id}` } };
    },
    listTrials: async ({ query, context }) => {
      const principal = principalOf(context);
      const page = await service.listTrials(db, principal, query);
      // Trial operations under /v1/trials/{trialId} are masked by the operation layer; this list spans trials.
      if (principal.blinded)
        page.items = await Promise.all(page.items.map((trial) => blindForTrial(db, trial.id, trial)));
      return { status: 200, body: page };
    },
    getTrial: async ({ params, context }) => {
      const trial = await service.getTrial(db, principalOf(context), params.trialId);
      return { status: 200, body: trial, headers: { ETag: etagOf(trial.version) } };
    },
    updateTrial: async ({ params, body, headers, context }) => {
      const trial = await service.updateTrial(db, actorOf(context), params.trialId, body, headers['if-match']);
      return { status: 200, body: trial, headers: { ETag: etagOf(trial.version) } };
    },
    activateTrial: async ({ params, context }) => {
      const trial = await service.activateTrial(db, actorOf(context), params.trialId);
      return { status: 200, body: trial, headers: { ETag: etagOf(trial.version) } };
    },
    closeTrial: async ({ params, body, context }) => ({
      status: 200,
      body: await service.closeTrial(db, actorOf(context), params.trialId, body.reason),
    }),
    createSite: async ({ params, body, context }) => ({
      status: 201,
      body: await service.createSite(db, actorOf(context), params.trialId, body),
    }),
    listSites: async ({ params, context }) => ({
      status: 200,
      body: { items: await service.listSites(db, principalOf(context), params.trialId) },
    }),
  };
}
