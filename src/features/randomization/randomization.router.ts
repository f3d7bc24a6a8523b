import type { Knex } from 'knex';
import { actorOf, HandlerMap, principalOf } from '../../http/operations';
import * as service from './randomization.service';

export function randomizationHandlers(db: Knex): HandlerMap {
  return {
    randomizeParticipant: async ({ params, headers, context }) => {
      const { status, body } = await service.randomizeParticipant(db, principalOf(context), actorOf(context), {
        trialId: params.trialId,
        participantId: params.participantId,
        idempotencyKey: headers['idempotency-key'],
      });
      return { status: status as 201, body };
    },
    flagRandomizationError: async ({ params, body, context }) => ({
      status: 200,
      body: await service.flagRandomizationError(
        db,
        principalOf(context),
        actorOf(context),
        params.trialId,
        params.participantId,
        body.reason,
      ),
    }),
    revealSeed: async ({ params, body, context }) => ({
      status: 200,
      body: await service.revealSeed(db, principalOf(context), actorOf(context), params.trialId, body.reason),
    }),
    putAllocationTable: async ({ params, body, text, context }) => ({
      status: 200,
      body: await service.putAllocationTable(
        db,
        principalOf(context),
        actorOf(context),
        params.trialId,
        text !== undefined ? { csv: text } : { rows: body.rows },
      ),
    }),
    listAllocations: async ({ params, query, accepts, context }) => {
      if (accepts(['application/json', 'text/csv']) === 'text/csv') {
        return {
          status: 200,
          body: await service.allocationsCsv(db, principalOf(context), params.trialId),
          contentType: 'text/csv; charset=utf-8',
          headers: { 'Content-Disposition': `attachment; filename="allocations-${params.trialId}.csv"` },
        };
      }
      return { status: 200, body: await service.listAllocations(db, principalOf(context), params.trialId, query) };
    },
  };
}
