/** Rules of adverse-event records (pure): what a recording, a follow-up or a report must satisfy. */
import type { FieldError } from '../../core/errors';
import { isFutureDate } from '../participants/participants';
import { dateInTimeZone, Outcome } from './reporting-clock';

/** Outcomes that end the follow-up of an event; each needs a resolution date. */
export const FINAL_OUTCOMES: readonly Outcome[] = ['recovered', 'recovered_with_sequelae', 'fatal'];

export interface AdverseEventFacts {
  onsetOn: string;
  serious: { criteria: readonly string[] } | null;
  awareAt: string | null;
}

/** Checks the facts of an event (as recorded, or as a correction would leave them). */
export function checkAdverseEvent(
  event: AdverseEventFacts,
  context: { screenedOn: string; now: Date; timeZone: string },
): FieldError[] {
  const errors: FieldError[] = [];
  if (isFutureDate(event.onsetOn, context.now)) errors.push({ pointer: '/onsetOn', detail: 'is in the future' });
  else if (event.onsetOn < context.screenedOn)
    errors.push({ pointer: '/onsetOn', detail: `is before the participant was screened on ${context.screenedOn}` });
  if (event.serious && !event.awareAt)
    errors.push({ pointer: '/awareAt', detail: 'is required for a serious event: the reporting clocks start there' });
  if (event.awareAt) {
    const aware = new Date(event.awareAt);
    if (aware.getTime() > context.now.getTime()) errors.push({ pointer: '/awareAt', detail: 'is in the future' });
    else if (dateInTimeZone(aware, context.timeZone) < event.onsetOn)
      errors.push({ pointer: '/awareAt', detail: `is before the onset on ${event.onsetOn}` });
  }
  return errors;
}

/** Checks a follow-up: final outcomes carry a resolution date no earlier than onset; others carry none. */
export function checkFollowUp(
  followUp: { outcome?: Outcome; resolvedOn?: string },
  context: { onsetOn: string; now: Date },
): FieldError[] {
  const { outcome, resolvedOn } = followUp;
  const final = outcome !== undefined && FINAL_OUTCOMES.includes(outcome);
  if (final && resolvedOn === undefined)
    return [{ pointer: '/resolvedOn', detail: `is required with the final outcome ${outcome}` }];
  if (!final && resolvedOn !== undefined)
    return [
      {
        pointer: '/resolvedOn',
        detail: `goes with a final outcome (${FINAL_OUTCOMES.join(', ')}), not ${outcome ?? 'no outcome'}`,
      },
    ];
  if (resolvedOn !== undefined && isFutureDate(resolvedOn, context.now))
    return [{ pointer: '/resolvedOn', detail: 'is in the future' }];
  if (resolvedOn !== undefined && resolvedOn < context.onsetOn)
    return [{ pointer: '/resolvedOn', detail: `is before the onset on ${context.onsetOn}` }];
  return [];
}

/** True once the event has a final outcome: no more follow-ups. */
export function isResolved(event: { outcome: Outcome | null }): boolean {
  return event.outcome !== null && FINAL_OUTCOMES.includes(event.outcome);
}

/** Checks the time of a report to the sponsor or the ethics committee. */
export function checkReportTime(reportedAt: string, context: { awareAt: string | null; now: Date }): FieldError[] {
  const at = new Date(reportedAt).getTime();
  if (at > context.now.getTime()) return [{ pointer: '/reportedAt', detail: 'is in the future' }];
  if (context.awareAt && at < new Date(context.awareAt).getTime())
    return [{ pointer: '/reportedAt', detail: `is before the site became aware at ${context.awareAt}` }];
  return [];
}
