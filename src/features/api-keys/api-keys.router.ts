import type { Knex } from 'knex';
import { actorOf, HandlerMap } from '../../http/operations';
import * as service from './api-keys.service';

export function apiKeyHandlers(db: Knex): HandlerMap {
  return {
    createApiKey: async ({ body, context }) => ({
      status: 201,
      body: await service.createApiKey(db, actorOf(context), body),
    }),
    listApiKeys: async ({ query }) => ({ status: 200, body: await service.listApiKeys(db, query) }),
    revokeApiKey: async ({ params, context }) => ({
      status: 200,
      body: await service.revokeApiKey(db, actorOf(context), params.keyId),
    }),
  };
}
