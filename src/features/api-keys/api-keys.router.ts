import type { HandlerMap } from '../../http/operations';
import * as service from './api-keys.service';

export function apiKeyHandlers(): HandlerMap {
  return {
    createApiKey: async ({ body, ctx }) => ({ status: 201, body: await service.createApiKey(ctx, body) }),
    listApiKeys: async ({ query, ctx }) => ({ status: 200, body: await service.listApiKeys(ctx, query) }),
    revokeApiKey: async ({ params, ctx }) => ({ status: 200, body: await service.revokeApiKey(ctx, params) }),
  };
}
