import { chance, clamp, mulberry32, normal, Random, seedFromText, weighted } from '../seeded-random';
import { addDays, ServiceUser } from './cohort';
import type { ArmCode } from './trial';

/**
 * The demo's follow-up visits (baseline, 6 and 12 months; see `smcmFollowUp()`). The demo randomizes
 * everyone on one day. Baseline interviews happen in the weeks around consent: most within the window
 * (30 days before randomization), some before it opened (out of window), and some are missed with a reason.
 * A few people are marked missed for the later visits in advance (moved away, refuse further contact).
 *
 * When the demo runs its own service it runs it on a study calendar (`calendar.ts`): randomization happens
 * `FOLLOW_UP_DAYS` days before today, past the 12-month window, and then the 6- and 12-month visits are recorded
 * as they would have been (`laterVisitPlan`): mostly within the window, some late, some missed with a reason, and
 * some left overdue (never entered, the people lost to follow-up among them). Against a
 * running service (`--url`) the demo cannot move the service's clock, everyone is randomized today, and
 * the 6- and 12-month visits stay `not_due`.
 */
export type MeasureValues = Record<string, { items: (number | null)[] } | number | boolean | null>;

export interface BaselineAssessment {
  kind: 'assessed';
  assessedOn: string;
  assessor: string;
  values: MeasureValues;
}

export interface VisitPlan {
  baseline: BaselineAssessment | { kind: 'missed'; reason: string } | { kind: 'none' };
  /** Later visits marked missed today, with the reason. */
  missedLater: { visit: 'm6' | 'm12'; reason: string }[];
}

const BASELINE_MISSED_REASONS = [
  ['could not be contacted before randomization', 4],
  ['declined the baseline interview', 3],
  ['admitted to hospital at the time of the interview', 2],
] as const;
const LATER_MISSED_REASONS = [
  ['moved out of Hong Kong', 2],
  ['asked not to be contacted again for interviews', 3],
] as const;
const ASSESSORS = ['RA1', 'RA2', 'RA3'] as const;

/** Item answers 1–4 around a person's level, each unanswered with the given probability. */
function scaleItems(random: Random, items: number, level: number, missing: number): (number | null)[] {
  return Array.from({ length: items }, () =>
    chance(random, missing) ? null : Math.round(clamp(normal(random, level, 0.7), 1, 4)),
  );
}

/** The follow-up plan of a randomized service user: the same seed and label give the same plan. */
export function visitPlan(seed: string, person: ServiceUser, today: string): VisitPlan {
  const pathway = person.pathway;
  if (pathway.kind !== 'randomized') return { baseline: { kind: 'none' }, missedLater: [] };
  const random = mulberry32(seedFromText(`demo visits\n${seed}\n${person.label}`));
  const missedLater: VisitPlan['missedLater'] = [];
  if (chance(random, 0.04)) {
    const reason = weighted(random, LATER_MISSED_REASONS);
    missedLater.push({ visit: 'm6', reason }, { visit: 'm12', reason });
  }
  if (chance(random, 0.08))
    return { baseline: { kind: 'missed', reason: weighted(random, BASELINE_MISSED_REASONS) }, missedLater };
  if (chance(random, 0.04)) return { baseline: { kind: 'none' }, missedLater };
  // Most are interviewed within the 30-day window before randomization (today); people who consented
  // earlier than that were sometimes interviewed at consent, before the window opened.
  const windowOpens = addDays(today, -30);
  const atConsent = pathway.consentOn < windowOpens && chance(random, 0.3);
  const earliest = pathway.consentOn > windowOpens ? pathway.consentOn : windowOpens;
  const span = Math.round((Date.parse(today) - Date.parse(earliest)) / 86_400_000);
  const assessedOn = atConsent ? pathway.consentOn : addDays(earliest, Math.floor(random() * (span + 1)));
  const hope = 2.3 + random() * 1.2;
  const efficacy = 2 + random() * 1.4;
  return {
    baseline: {
      kind: 'assessed',
      assessedOn,
      assessor: ASSESSORS[Math.floor(random() * ASSESSORS.length)]!,
      values: {
        hope: { items: scaleItems(random, 12, hope, 0.03) },
        gse: { items: scaleItems(random, 10, efficacy, 0.04) },
        employed: chance(random, 0.03) ? null : chance(random, 0.22),
      },
    },
    missedLater,
  };
}

/** Requests the visits phase makes for a person (assessment or missed baseline, later visits missed). */
export function visitRequests(plan: VisitPlan): number {
  return (plan.baseline.kind === 'none' ? 0 : 1) + plan.missedLater.length;
}

/**
 * How long before today the demo's own service randomizes: past the 12-month window (day 335–395), so the
 * primary visit has been done, done late, missed or is overdue, as it is at a trial's final analysis.
 */
export const FOLLOW_UP_DAYS = 420;

export type LaterVisitCode = 'm6' | 'm12';

/** A later visit as it went, seen from `FOLLOW_UP_DAYS` after randomization. */
export type LaterVisit =
  | {
      kind: 'assessed';
      visit: LaterVisitCode;
      assessedOn: string;
      assessor: string;
      values: MeasureValues;
      late: boolean;
    }
  | { kind: 'missed'; visit: LaterVisitCode; reason: string; recordedOn: string }
  | { kind: 'overdue'; visit: LaterVisitCode }
  | { kind: 'none' };

/**
 * Each later visit: its window (the trial's, `smcmFollowUp()`), how long after the window closes a late interview
 * still happens, the shares of interviews within the window, late and missed (the rest stays overdue: never
 * entered), the reasons for missing it, and the mean change per item (scale 1–4) from baseline: a modest benefit
 * of SMCM on hope and efficacy that grows from 6 to 12 months.
 */
const LATER_VISITS: Record<
  LaterVisitCode,
  {
    seedLabel: string;
    opens: number;
    closes: number;
    lateDays: number;
    inWindow: number;
    late: number;
    missed: number;
    missedReasons: readonly (readonly [string, number])[];
    change: Record<ArmCode, { hope: number; gse: number; employed: number }>;
  }
> = {
  m6: {
    seedLabel: 'demo 6-month visit',
    opens: 152,
    closes: 212,
    lateDays: 60,
    inWindow: 0.72,
    late: 0.08,
    missed: 0.06,
    missedReasons: [
      ['could not be contacted within the window', 5],
      ['declined the 6-month interview', 3],
      ['admitted to hospital during the window', 2],
    ],
    change: { SMCM: { hope: 0.22, gse: 0.18, employed: 0.06 }, TAU: { hope: 0.06, gse: 0.05, employed: 0.01 } },
  },
  m12: {
    seedLabel: 'demo 12-month visit',
    opens: 335,
    closes: 395,
    lateDays: 60,
    inWindow: 0.66,
    late: 0.1,
    missed: 0.1,
    missedReasons: [
      ['could not be contacted within the window', 5],
      ['declined the 12-month interview', 3],
      ['admitted to hospital during the window', 2],
    ],
    change: { SMCM: { hope: 0.3, gse: 0.24, employed: 0.08 }, TAU: { hope: 0.08, gse: 0.06, employed: 0.02 } },
  },
};

const meanOf = (items: readonly (number | null)[] | undefined): number | null => {
  const answered = (items ?? []).filter((item): item is number => item !== null);
  return answered.length === 0 ? null : answered.reduce((sum, item) => sum + item, 0) / answered.length;
};
const itemsOf = (value: MeasureValues[string] | undefined) =>
  value !== null && typeof value === 'object' && 'items' in value ? value.items : undefined;

/**
 * A later visit (6 or 12 months) of a randomized service user, seen `today`: within the window, after it closed
 * (out of window, at most `lateDays` later and before today), missed with a reason, or still overdue (never
 * entered) — in the shares of `LATER_VISITS`. People lost to follow-up stay overdue; people marked missed in
 * advance get nothing here. A visit whose window has not closed by today gets nothing. Answers sit around the
 * person's baseline level plus the change of their arm, so the outcome analysis has something to find. The same
 * seed, label and visit give the same visit.
 */
export function laterVisitPlan(
  seed: string,
  person: ServiceUser,
  arm: ArmCode,
  randomizedOn: string,
  today: string,
  visit: LaterVisitCode,
): LaterVisit {
  const pathway = person.pathway;
  if (pathway.kind !== 'randomized') return { kind: 'none' };
  const plan = LATER_VISITS[visit];
  if (addDays(randomizedOn, plan.closes) >= today) return { kind: 'none' };
  const baseline = visitPlan(seed, person, randomizedOn);
  if (baseline.missedLater.some((missed) => missed.visit === visit)) return { kind: 'none' };
  if (pathway.followUp.some((event) => event.type === 'lost_to_follow_up')) return { kind: 'overdue', visit };
  const random = mulberry32(seedFromText(`${plan.seedLabel}\n${seed}\n${person.label}`));
  const u = random();
  if (u >= plan.inWindow + plan.late + plan.missed) return { kind: 'overdue', visit };
  if (u >= plan.inWindow + plan.late)
    return {
      kind: 'missed',
      visit,
      reason: weighted(random, plan.missedReasons),
      recordedOn: addDays(randomizedOn, plan.closes + 1 + Math.floor(random() * 7)),
    };
  const late = u >= plan.inWindow;
  const daysSoFar = Math.round((Date.parse(today) - Date.parse(randomizedOn)) / 86_400_000);
  const lastLateDay = Math.min(daysSoFar, plan.closes + plan.lateDays);
  const day = late
    ? plan.closes + 1 + Math.floor(random() * Math.max(1, lastLateDay - plan.closes - 1))
    : plan.opens + Math.floor(random() * (plan.closes - plan.opens + 1));
  const before = baseline.baseline.kind === 'assessed' ? baseline.baseline.values : {};
  const change = plan.change[arm];
  const hope = (meanOf(itemsOf(before.hope)) ?? 2.3 + random() * 1.2) + change.hope;
  const efficacy = (meanOf(itemsOf(before.gse)) ?? 2 + random() * 1.4) + change.gse;
  const employedBefore = before.employed === true;
  return {
    kind: 'assessed',
    visit,
    late,
    assessedOn: addDays(randomizedOn, day),
    assessor: ASSESSORS[Math.floor(random() * ASSESSORS.length)]!,
    values: {
      hope: { items: scaleItems(random, 12, hope, 0.03) },
      gse: { items: scaleItems(random, 10, efficacy, 0.04) },
      employed: chance(random, 0.03)
        ? null
        : employedBefore
          ? chance(random, 0.85)
          : chance(random, 0.12 + change.employed),
      admissions: chance(random, 0.02)
        ? null
        : weighted(random, [
            [0, 80],
            [1, 14],
            [2, 5],
            [3, 1],
          ] as const),
    },
  };
}
