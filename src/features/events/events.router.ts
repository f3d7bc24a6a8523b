import type { HandlerMap } from '../../http/operations';
import * as service from './events.service';

export function eventHandlers(): HandlerMap {
  return {
    recordEvent: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.recordEvent(ctx, { ...params, input: body }),
    }),
    retractEvent: async ({ params, body, ctx }) => ({
      status: 201,
      body: await service.retractEvent(ctx, { ...params, reason: body.reason }),
    }),
  };
}
