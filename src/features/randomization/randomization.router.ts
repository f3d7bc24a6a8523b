import type { components } from '../../generated/openapi';
import type { HandlerMap } from '../../http/operations';
import type { Signer } from '../users/signatures.service';
import * as service from './randomization.service';

type RandomizationInput = components['schemas']['RandomizationInput'];

export function randomizationHandlers(sign: Signer): HandlerMap {
  return {
    randomizeParticipant: async ({ params, body, ctx, clientAddress }) => {
      // The body is optional (API keys send none), which the operation layer's body type does not express.
      const sent = (body as RandomizationInput | undefined)?.signature;
      const signature = await sign(ctx, { sent, meaning: 'randomized', clientAddress });
      return { status: 201, body: await service.randomizeParticipant(ctx, { ...params, signature }) };
    },
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
