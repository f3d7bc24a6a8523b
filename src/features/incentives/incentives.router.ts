import type { Knex } from 'knex';
import { actorOf, HandlerMap, principalOf } from '../../http/operations';
import { blindForTrial } from '../randomization/seed.service';
import * as service from './incentives.service';

export function incentiveHandlers(db: Knex): HandlerMap {
  return {
    addIncentiveType: async ({ params, body, context }) => ({
      status: 201,
      body: await service.addIncentiveType(db, principalOf(context), actorOf(context), params.trialId, body),
    }),
    issueIncentive: async ({ params, body, headers, context }) => {
      const { status, body: entry } = await service.issueIncentive(db, principalOf(context), actorOf(context), {
        trialId: params.trialId,
        participantId: params.participantId,
        input: body,
        idempotencyKey: headers['idempotency-key'],
      });
      return { status: status as 201, body: entry };
    },
    voidIncentive: async ({ params, body, context }) => ({
      status: 201,
      body: await service.voidIncentive(
        db,
        principalOf(context),
        actorOf(context),
        params.trialId,
        params.participantId,
        params.incentiveId,
        body.reason,
      ),
    }),
    listIncentives: async ({ params, query, accepts, context }) => {
      if (accepts(['application/json', 'text/csv']) === 'text/csv') {
        return {
          status: 200,
          body: await service.incentivesCsv(db, principalOf(context), params.trialId, query),
          contentType: 'text/csv; charset=utf-8',
        };
      }
      return { status: 200, body: await service.listIncentives(db, principalOf(context), params.trialId, query) };
    },
    summarizeIncentives: async ({ params, accepts, context }) => {
      const principal = principalOf(context);
      const summary = await service.summarizeIncentives(db, principal, params.trialId);
      if (accepts(['application/json', 'text/csv']) === 'text/csv') {
        // JSON is masked by the operation layer; the CSV is written from the masked summary.
        const shown = principal.blinded ? await blindForTrial(db, params.trialId, summary) : summary;
        return { status: 200, body: service.summaryCsv(shown), contentType: 'text/csv; charset=utf-8' };
      }
      return { status: 200, body: summary };
    },
  };
}
