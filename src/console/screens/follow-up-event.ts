import { api, EventType, Participant } from '../api';
import { h } from '../dom';
import { t } from '../i18n';
import { actionForm, field, today } from './forms';
import type { ParticipantContext } from './participant-context';

export function eventTypeLabel(type: EventType): string {
  switch (type) {
    case 'declined':
      return t('event.declined');
    case 'not_randomized':
      return t('event.notRandomized');
    case 'intervention_not_received':
      return t('event.interventionNotReceived');
    case 'discontinued_intervention':
      return t('event.discontinuedIntervention');
    case 'lost_to_follow_up':
      return t('event.lostToFollowUp');
    case 'follow_up_completed':
      return t('event.followUpCompleted');
    case 'excluded_from_analysis':
      return t('event.excludedFromAnalysis');
    case 'included_in_analysis':
      return t('event.includedInAnalysis');
  }
}

/** The event types the participant's state allows (the API checks again: 409 `event-not-allowed`). */
function allowedTypes(p: Participant): EventType[] {
  if (p.allocation)
    return [
      'lost_to_follow_up',
      'discontinued_intervention',
      'intervention_not_received',
      'follow_up_completed',
      'excluded_from_analysis',
      'included_in_analysis',
    ];
  if (p.status === 'eligible') return ['declined'];
  if (p.status === 'consented') return ['not_randomized', 'declined'];
  return [];
}

/** Record a follow-up event (lost to follow-up, discontinued, …) with its date and reason. */
export function eventForm({ trial, p, canAct, reload }: ParticipantContext): HTMLElement | '' {
  const types = canAct && p.role === 'service_user' ? allowedTypes(p) : [];
  if (types.length === 0) return '';
  const type = h(
    'select',
    { id: 'event-type' },
    types.map((e) => h('option', { value: e }, eventTypeLabel(e))),
  );
  const occurredOn = h('input', { id: 'event-on', type: 'date', value: today(), required: true });
  const reason = h('input', { id: 'event-reason', type: 'text', maxlength: 500 });
  const form = actionForm({
    submitLabel: t('event.submit'),
    fields: [
      field('event-type', t('event.type'), type),
      field('event-on', t('event.on'), occurredOn),
      field('event-reason', t('event.reason'), reason),
    ],
    send: () =>
      api.POST('/v1/trials/{trialId}/participants/{participantId}/events', {
        params: { path: { trialId: trial.id, participantId: p.id } },
        body: { type: type.value as EventType, occurredOn: occurredOn.value, reason: reason.value || undefined },
      }),
    done: reload,
  });
  return h('details', { class: 'action' }, h('summary', {}, t('event.title')), form);
}
