import { chance, clamp, mulberry32, normal, Random, seedFromText, weighted } from '../seeded-random';
import { addDays, ServiceUser } from './cohort';

/**
 * The demo's follow-up visits (baseline, 6 and 12 months; see `smcmFollowUp()`). The demo randomizes
 * everyone today and the service refuses dates after today, so only the baseline can be assessed: the
 * 6- and 12-month visits stay `not_due`, except for the few marked missed in advance (moved away, refuses
 * further contact). Baseline interviews happen in the weeks around consent: most within the window
 * (30 days before randomization), some before it opened (out of window), and some are missed with a reason.
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
