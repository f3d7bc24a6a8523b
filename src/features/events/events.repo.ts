import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { components } from '../../generated/openapi';
import { eventJsonSql, toEventView } from './event-json';

type ParticipantEvent = components['schemas']['ParticipantEvent'];

/** Events as JSON, built in SQL; shared by the participant view and the events service. */
export async function insertEvent(
  trx: Knex.Transaction,
  e: {
    trialId: string;
    eventId: string;
    participantId: string;
    type: string;
    occurredOn: string;
    reason: string | null;
    recordedBy: string;
  },
): Promise<void> {
  await trx('participant_events').insert({
    trial_id: e.trialId,
    event_id: e.eventId,
    participant_id: e.participantId,
    type: e.type,
    occurred_on: e.occurredOn,
    reason: e.reason,
    recorded_by: e.recordedBy,
  });
}

export async function findEvent(
  db: Executor,
  trialId: string,
  participantId: string,
  eventId: string,
): Promise<ParticipantEvent | undefined> {
  const row = await db('participant_events as e')
    .where({ 'e.trial_id': trialId, 'e.participant_id': participantId, 'e.event_id': eventId })
    .first(db.raw(`${eventJsonSql()} AS event`));
  return row && toEventView(row.event);
}

export async function insertRetraction(
  trx: Knex.Transaction,
  trialId: string,
  eventId: string,
  reason: string,
): Promise<void> {
  await trx('event_retractions').insert({ trial_id: trialId, event_id: eventId, reason });
}
