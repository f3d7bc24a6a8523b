import type { components } from '../../generated/openapi';
import { quantile } from '../../lib/statistics';
import { addDays, daysBetween } from '../follow-up/calendar';

export type ParticipantDose = components['schemas']['ParticipantDose'];
export type ArmSiteDose = components['schemas']['ArmSiteDose'];
type DoseDistribution = components['schemas']['DoseDistribution'];

/** What the dose of one randomized service user is computed from. */
export interface DoseFacts {
  participantId: string;
  label: string;
  siteCode: string;
  arm: string;
  randomizedOn: string;
  /** The earliest intervention withdrawal (discontinued_intervention event, consent withdrawal); null when none. */
  withdrawnOn: string | null;
  /** Dates and minutes of the sessions that are not retracted, in any order. */
  sessions: { date: string; minutes: number }[];
}

export interface ArmDosePlan {
  plannedIntervalDays: number;
  minimumSessions: number;
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

/**
 * The end of the period over which sessions are planned: the last day of the intervention period (randomization
 * day + period - 1), the day before an intervention withdrawal, or today, whichever comes first. A withdrawal ends
 * the period even on the randomization day itself (then nothing is planned).
 */
export function dosePeriodEnd(
  randomizedOn: string,
  interventionPeriodDays: number,
  withdrawnOn: string | null,
  today: string,
): { end: string; reason: ParticipantDose['periodEndReason'] } {
  let end = addDays(randomizedOn, interventionPeriodDays - 1);
  let reason: ParticipantDose['periodEndReason'] = 'intervention_period';
  if (withdrawnOn !== null && addDays(withdrawnOn, -1) < end) {
    end = addDays(withdrawnOn, -1);
    reason = 'withdrawal';
  }
  if (today < end) {
    end = today;
    reason = 'today';
  }
  return { end, reason };
}

/**
 * Sessions planned in a period of `days` days: one per whole planned interval. A fortnightly plan over the
 * 182 days of six months plans 13; over 13 days it plans none yet.
 */
export function plannedSessions(days: number, plannedIntervalDays: number): number {
  return days <= 0 ? 0 : Math.floor(days / plannedIntervalDays);
}

/** The median of the gaps in days between consecutive sessions (sessions on one day give a gap of 0). */
export function medianInterval(dates: readonly string[]): number | null {
  if (dates.length < 2) return null;
  const sorted = [...dates].sort();
  const gaps = sorted.slice(1).map((date, i) => daysBetween(sorted[i]!, date));
  return quantile(gaps, 0.5);
}

/**
 * One service user's dose. Sessions count from the randomization day to the end of the period, both included
 * (sessions after it, e.g. flagged as after the intervention period, are not part of the planned dose).
 * `majorDeviations` (recorded and derived, counted by the caller) decide with the minimum whether the participant is
 * per-protocol eligible in delivery's view.
 */
export function participantDose(
  facts: DoseFacts,
  plan: ArmDosePlan,
  interventionPeriodDays: number,
  today: string,
  majorDeviations: number,
): ParticipantDose {
  const { end, reason } = dosePeriodEnd(facts.randomizedOn, interventionPeriodDays, facts.withdrawnOn, today);
  const counted = facts.sessions
    .filter((s) => s.date >= facts.randomizedOn && s.date <= end)
    .sort((a, b) => a.date.localeCompare(b.date));
  const planned = plannedSessions(daysBetween(facts.randomizedOn, end) + 1, plan.plannedIntervalDays);
  return {
    participantId: facts.participantId,
    label: facts.label,
    siteCode: facts.siteCode,
    arm: facts.arm,
    randomizedOn: facts.randomizedOn,
    periodEnd: end < facts.randomizedOn ? facts.randomizedOn : end,
    periodEndReason: reason,
    sessions: counted.length,
    minutes: counted.reduce((sum, s) => sum + s.minutes, 0),
    firstSession: counted[0]?.date ?? null,
    lastSession: counted.at(-1)?.date ?? null,
    medianIntervalDays: medianInterval(counted.map((s) => s.date)),
    plannedSessions: planned,
    adherence: planned === 0 ? null : round4(counted.length / planned),
    reachedMinimum: counted.length >= plan.minimumSessions,
    majorDeviations,
    perProtocolEligible: counted.length >= plan.minimumSessions && majorDeviations === 0,
  };
}

/** Median and quartiles by R's type 7 (`quantile(x)`); all null for an empty group. */
export function distribution(values: readonly number[]): DoseDistribution {
  if (values.length === 0) return { n: 0, median: null, q1: null, q3: null };
  return {
    n: values.length,
    median: quantile(values, 0.5),
    q1: quantile(values, 0.25),
    q3: quantile(values, 0.75),
  };
}

/**
 * The doses grouped by arm and site (in the order given), with the share that reached the arm's minimum, how many
 * had a major deviation and how many are per-protocol eligible (minimum reached, no major deviation).
 */
export function doseByArmAndSite(
  doses: readonly ParticipantDose[],
  minimumSessionsOf: (arm: string) => number,
): ArmSiteDose[] {
  const groups = new Map<string, ParticipantDose[]>();
  for (const dose of doses) {
    const key = JSON.stringify([dose.arm, dose.siteCode]);
    const group = groups.get(key);
    if (group) group.push(dose);
    else groups.set(key, [dose]);
  }
  return [...groups.values()].map((group) => {
    const reached = group.filter((d) => d.reachedMinimum).length;
    return {
      arm: group[0]!.arm,
      siteCode: group[0]!.siteCode,
      participants: group.length,
      minimumSessions: minimumSessionsOf(group[0]!.arm),
      sessions: distribution(group.map((d) => d.sessions)),
      minutes: distribution(group.map((d) => d.minutes)),
      adherence: distribution(group.flatMap((d) => (d.adherence === null ? [] : [d.adherence]))),
      reachedMinimum: reached,
      shareReachedMinimum: round4(reached / group.length),
      withMajorDeviation: group.filter((d) => d.majorDeviations > 0).length,
      perProtocolEligible: group.filter((d) => d.perProtocolEligible).length,
    };
  });
}

/** The earliest date among intervention withdrawals, or null. */
export function earliestWithdrawal(dates: readonly (string | null)[]): string | null {
  const present = dates.filter((d): d is string => d !== null).sort();
  return present[0] ?? null;
}
