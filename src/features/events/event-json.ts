import type { components } from '../../generated/openapi';

type ParticipantEvent = components['schemas']['ParticipantEvent'];

/*
 * How an event reads as JSON, built in SQL: published for read models that embed events (the participant
 * view). Writing events stays with events.repo.ts.
 */

export function eventJsonSql(alias = 'e'): string {
  return `json_build_object('id', ${alias}.event_id, 'participantId', ${alias}.participant_id, 'type', ${alias}.type, 'occurredOn', ${alias}.occurred_on,
      'reason', ${alias}.reason, 'recordedAt', ${alias}.recorded_at,
      'retraction', (SELECT json_build_object('reason', r.reason, 'retractedAt', r.retracted_at) FROM event_retractions r
                      WHERE r.trial_id = ${alias}.trial_id AND r.event_id = ${alias}.event_id))`;
}

type EventJson = Omit<ParticipantEvent, 'retraction'> & { retraction: { reason: string; retractedAt: string } | null };

export function toEventView(json: EventJson): ParticipantEvent {
  return {
    ...json,
    recordedAt: new Date(json.recordedAt).toISOString(),
    retraction: json.retraction && {
      ...json.retraction,
      retractedAt: new Date(json.retraction.retractedAt).toISOString(),
    },
  };
}
