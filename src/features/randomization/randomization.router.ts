import type { HandlerMap } from '../../http/operations';
import * as service from './randomization.service';

export function randomizationHandlers(): HandlerMap {
  return {
    randomizeParticipant: async ({ params, ctx }) => ({
      status: 201,
      body: await service.randomizeParticipant(ctx, params),
    }),
    flagRandomizationError: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.flagRandomizationError(ctx, { ...params, reason: body.reason }),
    }),
    revealSeed: async ({ params, body, ctx }) => ({
      status: 200,
      body: await service.revealSeed(ctx, { trialId: params.trialId, reason: body.reason }),
    }),
    putAllocationTable: async ({ params, body, text, ctx }) => ({
      status: 200,
      body: await service.putAllocationTable(
        ctx,
        text !== undefined ? { trialId: params.trialId, csv: text } : { trialId: params.trialId, rows: body.rows },
      ),
    }),
    listAllocations: async ({ params, query, accepts, ctx }) => {
      if (accepts(['application/json', 'text/csv']) === 'text/csv') {
        return {
          status: 200,
          body: await service.allocationsCsv(ctx, params),
          contentType: 'text/csv; charset=utf-8',
          headers: { 'Content-Disposition': `attachment; filename="allocations-${params.trialId}.csv"` },
        };
      }
      return { status: 200, body: await service.listAllocations(ctx, { ...query, trialId: params.trialId }) };
    },
  };
}
