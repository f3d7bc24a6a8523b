import type { components } from '../../generated/openapi';

export type EventType = components['schemas']['EventType'];

/** Every event type, in the contract's order (CSV and ODM interchange check and list them from here). */
export const EVENT_TYPES = [
  'declined',
  'not_randomized',
  'intervention_not_received',
  'discontinued_intervention',
  'lost_to_follow_up',
  'follow_up_completed',
  'excluded_from_analysis',
  'included_in_analysis',
] as const satisfies readonly EventType[];

export interface ParticipantState {
  role: 'service_user' | 'case_worker';
  eligible: boolean;
  consentComplete: boolean;
  screenedOn: string;
  /** UTC date of randomization; null when not randomized. */
  randomizedOn: string | null;
}

export type EventRefusal = { kind: 'not-allowed' | 'before-screening'; detail: string } | null;

/**
 * Whether an event fits what was recorded about the participant. Before randomization only
 * `declined` (eligible people) and `not_randomized` (eligible, consented) make sense; everything else
 * describes what happened to an allocated participant, on or after the day of allocation.
 */
export function eventRefusal(type: EventType, occurredOn: string, state: ParticipantState): EventRefusal {
  if (occurredOn < state.screenedOn)
    return {
      kind: 'before-screening',
      detail: `occurredOn ${occurredOn} is before the participant was screened on ${state.screenedOn}.`,
    };
  const refuse = (detail: string): EventRefusal => ({ kind: 'not-allowed', detail });
  switch (type) {
    case 'declined':
      if (!state.eligible)
        return refuse('declined applies to eligible participants; this one did not meet the criteria.');
      if (state.randomizedOn) return refuse('declined applies before randomization; this participant is randomized.');
      return null;
    case 'not_randomized':
      if (!state.eligible)
        return refuse('not_randomized applies to eligible participants; this one did not meet the criteria.');
      if (!state.consentComplete)
        return refuse(
          'not_randomized applies to consented participants; record the consent (or a declined event) instead.',
        );
      if (state.randomizedOn) return refuse('this participant is randomized.');
      return null;
    default:
      if (!state.randomizedOn)
        return refuse(`${type} applies only after randomization; this participant is not randomized.`);
      if (occurredOn < state.randomizedOn)
        return refuse(`occurredOn ${occurredOn} is before the randomization on ${state.randomizedOn}.`);
      return null;
  }
}
