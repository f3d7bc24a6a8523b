import { addDays, daysBetween } from './calendar';
import { BASELINE_VISIT, Visit } from './follow-up-configuration';

export type VisitStatus = 'not_due' | 'open' | 'overdue' | 'completed' | 'missed' | 'not_expected';

/** What is known about one participant that decides their schedule. */
export interface ParticipantFollowUp {
  screenedOn: string;
  /** UTC date of randomization; null when not randomized. */
  randomizedOn: string | null;
  /** The earliest withdrawal that stops follow-up (scope follow_up or all); null when none. */
  followUpStopped: { on: string; reason: string } | null;
  /** Assessment dates by visit code. */
  assessments: ReadonlyMap<string, string>;
  /** Missed visits (not retracted) by visit code. */
  missed: ReadonlyMap<string, { reason: string; recordedOn: string }>;
}

export interface ScheduledVisit {
  visit: string;
  label: string;
  day: number;
  /** Null until the participant is randomized (day 0 is the randomization date). */
  targetDate: string | null;
  windowOpens: string | null;
  windowCloses: string | null;
  status: VisitStatus;
  assessedOn: string | null;
  inWindow: boolean | null;
  daysFromRandomization: number | null;
  /** Why the visit is missed or not expected; null otherwise. */
  reason: string | null;
}

export interface VisitWindow {
  targetDate: string;
  windowOpens: string;
  windowCloses: string;
}

export function windowOf(
  visit: Pick<Visit, 'day' | 'windowBefore' | 'windowAfter'>,
  randomizedOn: string,
): VisitWindow {
  const targetDate = addDays(randomizedOn, visit.day);
  return {
    targetDate,
    windowOpens: addDays(targetDate, -visit.windowBefore),
    windowCloses: addDays(targetDate, visit.windowAfter),
  };
}

/** Both ends of the window are in it. */
export function isInWindow(window: VisitWindow, date: string): boolean {
  return window.windowOpens <= date && date <= window.windowCloses;
}

/**
 * The status of one visit. The order of the rules is the definition:
 * 1. an assessment makes it `completed` (whatever else happened);
 * 2. a missed-visit record makes it `missed`;
 * 3. a follow-up-stopping withdrawal on or before the window's last day makes it `not_expected`,
 *    and so does a visit added by an amendment that took effect after the window had closed;
 * 4. otherwise `today` decides: before the window `not_due`, inside it `open`, after it `overdue`.
 * A participant not yet randomized has no post-baseline dates: those visits are `not_due`, and
 * the baseline visit is `open` from screening on.
 */
export function scheduleVisit(
  visit: Visit,
  participant: ParticipantFollowUp,
  today: string,
  addedEffectiveOn: string | null = null,
): ScheduledVisit {
  const assessedOn = participant.assessments.get(visit.code) ?? null;
  const missed = participant.missed.get(visit.code);
  const window = participant.randomizedOn === null ? null : windowOf(visit, participant.randomizedOn);
  const base = {
    visit: visit.code,
    label: visit.label,
    day: visit.day,
    targetDate: window?.targetDate ?? null,
    windowOpens: window?.windowOpens ?? null,
    windowCloses: window?.windowCloses ?? null,
    assessedOn,
    inWindow: window && assessedOn ? isInWindow(window, assessedOn) : null,
    daysFromRandomization:
      participant.randomizedOn && assessedOn ? daysBetween(participant.randomizedOn, assessedOn) : null,
    reason: null,
  };
  if (assessedOn) return { ...base, status: 'completed' };
  if (missed) return { ...base, status: 'missed', reason: missed.reason };
  const stopped = participant.followUpStopped;
  if (!window) {
    if (stopped) return { ...base, status: 'not_expected', reason: stopped.reason };
    return { ...base, status: visit.code === BASELINE_VISIT ? 'open' : 'not_due' };
  }
  if (stopped && stopped.on <= window.windowCloses) return { ...base, status: 'not_expected', reason: stopped.reason };
  if (addedEffectiveOn !== null && window.windowCloses < addedEffectiveOn)
    return {
      ...base,
      status: 'not_expected',
      reason: `the visit was added by an amendment effective ${addedEffectiveOn}, after this window closed`,
    };
  if (today < window.windowOpens) return { ...base, status: 'not_due' };
  if (today <= window.windowCloses) return { ...base, status: 'open' };
  return { ...base, status: 'overdue' };
}

/** Every visit of the trial for one participant, in the order of the visits' days. */
export function scheduleFor(
  visits: Visit[],
  participant: ParticipantFollowUp,
  today: string,
  addedEffectiveOn: ReadonlyMap<string, string> = new Map(),
): ScheduledVisit[] {
  return [...visits]
    .sort((a, b) => a.day - b.day)
    .map((visit) => scheduleVisit(visit, participant, today, addedEffectiveOn.get(visit.code) ?? null));
}
