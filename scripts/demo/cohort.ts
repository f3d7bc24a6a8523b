import {
  chance,
  clamp,
  logNormal,
  mulberry32,
  normal,
  Random,
  seedFromText,
  shuffle,
  weighted,
} from '../seeded-random';
import { ArmCode, CRITERIA, CriterionCode, Profession, SiteCode } from './trial';

export interface ServiceUserBaseline {
  age: number;
  sex: 'female' | 'male';
  diagnosis: 'schizophrenia' | 'depression' | 'bipolar' | 'adjustment';
  onsetYears: number;
}

export type ConsentDecision = { decision: 'granted' } | { decision: 'declined'; reason: string };

export type FollowUpEventType =
  | 'intervention_not_received'
  | 'discontinued_intervention'
  | 'lost_to_follow_up'
  | 'excluded_from_analysis'
  | 'follow_up_completed';

/** What happens to a service user after screening; the service decides the arm, never the cohort. */
export type Pathway =
  | { kind: 'ineligible'; unmet: CriterionCode[] }
  /** Declined the required trial consent form. */
  | { kind: 'declined_consent'; consentOn: string; reason: string }
  /** Eligible, never signed, said no before the consent appointment: a `declined` event. */
  | { kind: 'declined_event'; occurredOn: string; reason: string }
  /** Consented, then a `not_randomized` event (e.g. admitted to hospital). */
  | { kind: 'not_randomized'; consentOn: string; audio: ConsentDecision; occurredOn: string; reason: string }
  /** Consented recently, waiting to be randomized. */
  | { kind: 'pending'; consentOn: string; audio: ConsentDecision }
  | {
      kind: 'randomized';
      consentOn: string;
      audio: ConsentDecision;
      followUp: { type: FollowUpEventType; reason?: string }[];
    };

export interface ServiceUser {
  label: string;
  siteCode: SiteCode;
  screenedOn: string;
  eligibility: Record<CriterionCode, boolean>;
  /** Recorded for everyone who passed screening; not collected from people who were excluded. */
  baseline: ServiceUserBaseline | null;
  pathway: Pathway;
}

export interface CaseWorker {
  label: string;
  siteCode: SiteCode;
  screenedOn: string;
  arm: ArmCode;
  profession: Profession;
  experienceYears: number;
}

export interface Cohort {
  seed: string;
  today: string;
  serviceUsers: ServiceUser[];
  caseWorkers: CaseWorker[];
}

/** Who obtains consent at each centre (initials, as on the paper forms). */
export const INTERVIEWERS: Record<SiteCode, string> = { A: 'KW', B: 'LC', C: 'MH' };

const DAY_MS = 86_400_000;

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

export function utcToday(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

// Screening failures: the paper's excluded service users were mostly too unwell to talk or at risk.
const FAILED_CRITERION: readonly (readonly [CriterionCode, number])[] = [
  ['overt_symptoms', 34],
  ['written_consent', 20],
  ['immediate_risk', 18],
  ['cantonese', 12],
  ['chinese', 10],
  ['age18', 6],
];
const DECLINE_REASONS = [
  ['not interested', 45],
  ['no time', 30],
  ['already receiving enough support', 15],
  ['family objected', 10],
] as const;
const DECLINED_EVENT_REASONS = [
  ['changed mind before the consent appointment', 60],
  ['family objected', 40],
] as const;
const NOT_RANDOMIZED_REASONS = [
  ['admitted to hospital', 75],
  ['moved out of the district', 25],
] as const;
const NOT_RECEIVED_REASONS = [
  ['did not attend any session', 60],
  ['could not be reached after allocation', 40],
] as const;
const DISCONTINUED_REASONS = [
  ['no longer wanted case management', 50],
  ['dissatisfied with the case worker', 25],
  ['started full-time work', 25],
] as const;
const LOST_REASONS = [
  ['could not be contacted', 55],
  ['moved away', 25],
  ['admitted to hospital long term', 20],
] as const;
const EXCLUDED_REASONS = [['baseline assessment incomplete', 100]] as const;

const DIAGNOSIS_MIX = [
  ['schizophrenia', 50],
  ['depression', 37.5],
  ['bipolar', 8.3],
  ['adjustment', 4.2],
] as const;
const SITE_MIX = [
  ['A', 36],
  ['B', 33],
  ['C', 31],
] as const;

function allMet(): Record<CriterionCode, boolean> {
  return Object.fromEntries(CRITERIA.map((c) => [c.code, c.kind === 'inclusion'])) as Record<CriterionCode, boolean>;
}

function failingAnswers(unmet: readonly CriterionCode[]): Record<CriterionCode, boolean> {
  const answers = allMet();
  for (const code of unmet) answers[code] = !answers[code];
  return answers;
}

function serviceUserBaseline(random: Random): ServiceUserBaseline {
  const age = Math.round(clamp(normal(random, 49.4, 11.2), 18, 90));
  const onset = Math.round(clamp(logNormal(random, 11, 7), 1, Math.min(32, age - 12)));
  return {
    age,
    sex: chance(random, 0.75) ? 'female' : 'male',
    diagnosis: weighted(random, DIAGNOSIS_MIX),
    onsetYears: onset,
  };
}

function audioConsent(random: Random): ConsentDecision {
  return chance(random, 0.85)
    ? { decision: 'granted' }
    : { decision: 'declined', reason: 'prefers not to be recorded' };
}

function followUpPlan(random: Random): { type: FollowUpEventType; reason?: string }[] {
  const events: { type: FollowUpEventType; reason?: string }[] = [];
  const u = random();
  if (u < 0.03) events.push({ type: 'intervention_not_received', reason: weighted(random, NOT_RECEIVED_REASONS) });
  else if (u < 0.08) events.push({ type: 'discontinued_intervention', reason: weighted(random, DISCONTINUED_REASONS) });
  if (chance(random, 0.06)) events.push({ type: 'lost_to_follow_up', reason: weighted(random, LOST_REASONS) });
  else events.push({ type: 'follow_up_completed' });
  if (chance(random, 0.015))
    events.push({ type: 'excluded_from_analysis', reason: weighted(random, EXCLUDED_REASONS) });
  return events;
}

function pathwayFor(random: Random, screenedOn: string, daysAgo: number): { pathway: Pathway; eligible: boolean } {
  if (chance(random, 0.25)) {
    const first = weighted(random, FAILED_CRITERION);
    const unmet: CriterionCode[] = [first];
    if (chance(random, 0.2))
      unmet.push(
        weighted(
          random,
          FAILED_CRITERION.filter(([code]) => code !== first),
        ),
      );
    return {
      pathway: { kind: 'ineligible', unmet: CRITERIA.map((c) => c.code).filter((code) => unmet.includes(code)) },
      eligible: false,
    };
  }
  const consentOn = addDays(screenedOn, 1);
  const u = random();
  if (u < 0.107)
    return {
      pathway: { kind: 'declined_consent', consentOn, reason: weighted(random, DECLINE_REASONS) },
      eligible: true,
    };
  if (u < 0.127)
    return {
      pathway: { kind: 'declined_event', occurredOn: consentOn, reason: weighted(random, DECLINED_EVENT_REASONS) },
      eligible: true,
    };
  const audio = audioConsent(random);
  if (u < 0.147) {
    const occurredOn = addDays(consentOn, Math.min(daysAgo - 1, 1 + Math.floor(random() * 3)));
    return {
      pathway: {
        kind: 'not_randomized',
        consentOn,
        audio,
        occurredOn,
        reason: weighted(random, NOT_RANDOMIZED_REASONS),
      },
      eligible: true,
    };
  }
  if (daysAgo <= 3 && chance(random, 0.6)) return { pathway: { kind: 'pending', consentOn, audio }, eligible: true };
  return { pathway: { kind: 'randomized', consentOn, audio, followUp: followUpPlan(random) }, eligible: true };
}

/*
 * The paper's 14 case workers (2 nurses, 8 social workers, 4 welfare workers), all interviewed in its process
 * evaluation: Table 3 counts 8 who deliver SMCM (3 at centre A, 2 at B, 3 at C) and 6 who deliver usual care (2 at
 * each centre), so that is the demo's roster (issue #16: with 7 per arm, centre C had 2 SMCM workers for a quota
 * of 3).
 */
const WORKERS: Record<ArmCode, readonly { profession: Profession; siteCode: SiteCode }[]> = {
  SMCM: [
    { profession: 'nurse', siteCode: 'A' },
    { profession: 'social_worker', siteCode: 'B' },
    { profession: 'social_worker', siteCode: 'C' },
    { profession: 'social_worker', siteCode: 'A' },
    { profession: 'social_worker', siteCode: 'B' },
    { profession: 'welfare_worker', siteCode: 'C' },
    { profession: 'welfare_worker', siteCode: 'A' },
    { profession: 'social_worker', siteCode: 'C' },
  ],
  TAU: [
    { profession: 'nurse', siteCode: 'A' },
    { profession: 'social_worker', siteCode: 'B' },
    { profession: 'social_worker', siteCode: 'C' },
    { profession: 'social_worker', siteCode: 'A' },
    { profession: 'welfare_worker', siteCode: 'B' },
    { profession: 'welfare_worker', siteCode: 'C' },
  ],
};
const EXPERIENCE: Record<ArmCode, { mean: number; sd: number }> = {
  SMCM: { mean: 4.3, sd: 1.9 },
  TAU: { mean: 8.4, sd: 7.6 },
};

function caseWorkers(random: Random, today: string): CaseWorker[] {
  const workers = (['SMCM', 'TAU'] as const).flatMap((arm) =>
    WORKERS[arm].map(({ profession, siteCode }) => ({
      arm,
      profession,
      siteCode,
      experienceYears:
        Math.round(clamp(logNormal(random, EXPERIENCE[arm].mean, EXPERIENCE[arm].sd), 0.5, 35) * 10) / 10,
    })),
  );
  return shuffle(random, workers).map((worker, index) => ({
    label: `CW-${String(index + 1).padStart(2, '0')}`,
    screenedOn: addDays(today, -70),
    ...worker,
  }));
}

/**
 * The synthetic cohort for a seed: the same seed and day give the same people, answers, consent
 * decisions and follow-up plans. Screening dates fall in the 60 days before `today`, consent the
 * day after screening; labels follow screening order.
 */
export function generateCohort(options: { seed: string; participants: number; today: string }): Cohort {
  const random = mulberry32(seedFromText(options.seed));
  const daysAgo = Array.from({ length: options.participants }, () => 1 + Math.floor(random() * 60)).sort(
    (a, b) => b - a,
  );
  const serviceUsers = daysAgo.map((ago, index): ServiceUser => {
    const screenedOn = addDays(options.today, -ago);
    const siteCode = weighted(random, SITE_MIX);
    const { pathway, eligible } = pathwayFor(random, screenedOn, ago);
    const baseline = serviceUserBaseline(random);
    return {
      label: `SU-${String(index + 1).padStart(4, '0')}`,
      siteCode,
      screenedOn,
      eligibility: pathway.kind === 'ineligible' ? failingAnswers(pathway.unmet) : allMet(),
      baseline: eligible ? baseline : null,
      pathway,
    };
  });
  return { seed: options.seed, today: options.today, serviceUsers, caseWorkers: caseWorkers(random, options.today) };
}
