import type { TrialdeskClient } from '../../src/client';
import type { components } from '../../src/generated/openapi';
import { chance, mulberry32, seedFromText } from '../seeded-random';
import { smcmDelivery, smcmFidelityScale } from '../smcm-trial';
import { addDays, Cohort } from './cohort';
import { createProgress, mapWithConcurrency, Progress, ProgressStream, silentProgress } from './progress';
import type { DemoRun } from './run';
import { ArmCode, SITES } from './trial';

/*
 * The delivery part of the demo (issue #15), on the demo's calendar: everyone was randomized on `cohort.today`,
 * `FOLLOW_UP_DAYS` (420) days before the real today, so the 182-day intervention period is over. The demo adds the
 * seed trial's delivery plan and fidelity scale (an amendment effective on the randomization day), then records
 * what was delivered: fortnightly sessions with realistic gaps (SMCM sessions with the strengths tools, TAU contacts
 * in person or by phone), one control contact with an SMCM tool, supervision of the SMCM workers (weekly
 * individual, monthly group; TAU per usual practice, nothing planned) and three fidelity reviews per centre, the
 * second reproducing the paper's 36 of 45. Every record is planned by `deliveryPlan` from the seed, so the test
 * recomputes the figures from what was recorded.
 */

type DeliveryReport = components['schemas']['DeliveryReport'];
type FidelityReport = components['schemas']['FidelityReport'];
type SupervisionSummary = components['schemas']['SupervisionSummary'];
type Deviation = components['schemas']['Deviation'];
type SessionInput = components['schemas']['SessionInput'];
type SupervisionInput = components['schemas']['SupervisionInput'];
type FidelityReviewInput = components['schemas']['FidelityReviewInput'];

/** The intervention period of the seed configuration (days from the randomization day). */
const PERIOD_DAYS = smcmDelivery().interventionPeriodDays;
const FORTNIGHT = 14;

/** The paper's review: 36 of 45, about 4 in each area (structure 12, supervision 12, clinical 12). */
export const SEED_REVIEW_SCORES: Record<string, number> = {
  caseload: 4,
  team_structure: 4,
  supervisor_ratio: 4,
  group_supervision: 5,
  field_mentoring: 4,
  tool_review: 3,
  strengths_assessment: 4,
  personal_recovery_plan: 4,
  community_contact: 4,
};

/** A planned session with the service user's label and arm, for the test's recomputation. */
export interface PlannedSession {
  label: string;
  arm: ArmCode;
  siteCode: string;
  body: SessionInput;
  /** The worker belongs to the other arm or a tool is not the arm's: a derived major deviation. */
  contamination: boolean;
}

export interface DeliveryPlan {
  sessions: PlannedSession[];
  supervision: SupervisionInput[];
  reviews: FidelityReviewInput[];
}

export interface DeliveryDemo {
  plan: DeliveryPlan;
  /** The randomization day of everyone (the calendar's first day). */
  randomizedOn: string;
  dose: DeliveryReport;
  fidelity: FidelityReport;
  supervision: SupervisionSummary;
  deviations: Deviation[];
  /** HTTP requests the delivery demo sent, and the milliseconds they took. */
  requests: number;
  ms: number;
}

/**
 * What the demo records, from the seed alone: the same cohort and allocations give the same sessions. Service users
 * who left the intervention on the randomization day (`discontinued_intervention`) or never started it
 * (`intervention_not_received`) get no session; everyone else is seen fortnightly, each fortnight missed with
 * probability 0.15 (0.5 for one in six, the poorly engaged), one in ten stops attending after a random fortnight,
 * and each session falls 0 to 3 days after its fortnight starts (never past the period's last day).
 */
export function deliveryPlan(options: {
  cohort: Cohort;
  participantIds: Record<string, string>;
  allocations: Record<string, string>;
}): DeliveryPlan {
  const { cohort, participantIds, allocations } = options;
  const randomizedOn = cohort.today;
  // The centre's workers of the arm; a roster without one there lends the arm's workers of other centres.
  const workersOf = (arm: string, siteCode: string) => {
    const ofArm = cohort.caseWorkers.filter((w) => w.arm === arm);
    const here = ofArm.filter((w) => w.siteCode === siteCode);
    return (here.length ? here : ofArm).map((w) => participantIds[w.label]!);
  };
  const sessions: PlannedSession[] = [];
  const people = cohort.serviceUsers.filter((p) => p.pathway.kind === 'randomized' && allocations[p.label]);
  for (const [index, person] of people.entries()) {
    if (person.pathway.kind !== 'randomized') continue;
    const left = person.pathway.followUp.some(
      (e) => e.type === 'discontinued_intervention' || e.type === 'intervention_not_received',
    );
    if (left) continue;
    const arm = allocations[person.label] as ArmCode;
    const random = mulberry32(seedFromText(`${cohort.seed}:delivery:${person.label}`));
    const missRate = chance(random, 1 / 6) ? 0.5 : 0.15;
    const stopsAfter = chance(random, 0.1) ? Math.floor(random() * 10) + 1 : Infinity;
    const workers = workersOf(arm, person.siteCode);
    if (workers.length === 0) continue;
    const caseWorkerId = workers[index % workers.length]!;
    for (let fortnight = 0; fortnight * FORTNIGHT < PERIOD_DAYS && fortnight < stopsAfter; fortnight += 1) {
      const missed = chance(random, missRate);
      const day = Math.min(fortnight * FORTNIGHT + Math.floor(random() * 4), PERIOD_DAYS - 1);
      const minutes = arm === 'SMCM' ? 25 + Math.floor(random() * 16) : 15 + Math.floor(random() * 21);
      const phone = arm === 'TAU' && chance(random, 0.5);
      if (missed) continue;
      sessions.push({
        label: person.label,
        arm,
        siteCode: person.siteCode,
        contamination: false,
        body: {
          participantId: participantIds[person.label]!,
          caseWorkerId,
          date: addDays(randomizedOn, day),
          durationMinutes: minutes,
          mode: phone ? 'phone' : 'in_person',
          kind: arm === 'SMCM' ? 'smcm_session' : 'tau_contact',
          toolsUsed: arm === 'SMCM' ? ['strengths_assessment', 'personal_recovery_plan'] : [],
        },
      });
    }
  }
  // One control contact with an SMCM tool: recorded, flagged, a derived major deviation.
  const control = sessions.find((s) => s.arm === 'TAU');
  if (control)
    sessions.push({
      ...control,
      contamination: true,
      body: {
        ...control.body,
        date: addDays(control.body.date, 3),
        toolsUsed: ['strengths_assessment'],
        notes: 'worker borrowed the strengths assessment form',
      },
    });
  return { sessions, supervision: supervisionPlan(cohort, participantIds), reviews: reviewPlan(randomizedOn) };
}

/**
 * Supervision of the SMCM workers in each month of the intervention period at each centre: a group session on the
 * 6th and an individual session for each worker on the 3rd, 10th, 17th and 24th (each missed with probability 0.1,
 * so some months fall short of the plan; so do the period's first and last, partial, months). Only days from the
 * randomization day to the period's last day are used. TAU workers' supervision is usual practice: the trial plans
 * none and the demo records none (their months are met by the empty plan).
 */
function supervisionPlan(cohort: Cohort, participantIds: Record<string, string>): SupervisionInput[] {
  const first = cohort.today;
  const last = addDays(first, PERIOD_DAYS - 1);
  const random = mulberry32(seedFromText(`${cohort.seed}:supervision`));
  const entries: SupervisionInput[] = [];
  const inPeriod = (date: string) => date >= first && date <= last;
  for (let month = first.slice(0, 7); month <= last.slice(0, 7); month = addDays(`${month}-28`, 7).slice(0, 7)) {
    for (const site of SITES) {
      const workers = (arm: ArmCode) =>
        cohort.caseWorkers
          .filter((w) => w.arm === arm && w.siteCode === site.code)
          .map((w) => participantIds[w.label]!);
      const supervisor = `Supervisor ${site.code}`;
      const group = `${month}-06`;
      if (inPeriod(group))
        entries.push({
          date: group,
          kind: 'group',
          siteCode: site.code,
          caseWorkerIds: workers('SMCM'),
          supervisor,
          durationMinutes: 90,
        });
      for (const day of ['03', '10', '17', '24']) {
        const date = `${month}-${day}`;
        for (const worker of workers('SMCM')) {
          if (chance(random, 0.1) || !inPeriod(date)) continue;
          entries.push({
            date,
            kind: 'individual',
            siteCode: site.code,
            caseWorkerIds: [worker],
            supervisor,
            durationMinutes: 45,
          });
        }
      }
    }
  }
  return entries;
}

/** Three reviews per centre (days 30, 120 and 210); the second is the paper's 36 of 45 everywhere. */
function reviewPlan(randomizedOn: string): FidelityReviewInput[] {
  const first: Record<string, Record<string, number>> = {
    A: { ...SEED_REVIEW_SCORES, group_supervision: 3, tool_review: 2, community_contact: 3 },
    B: { ...SEED_REVIEW_SCORES, caseload: 3, tool_review: 2 },
    C: { ...SEED_REVIEW_SCORES, field_mentoring: 3, community_contact: 3 },
  };
  const third: Record<string, Record<string, number>> = {
    A: { ...SEED_REVIEW_SCORES, tool_review: 4, caseload: 5 },
    B: { ...SEED_REVIEW_SCORES, tool_review: 4 },
    C: { ...SEED_REVIEW_SCORES, supervisor_ratio: 3 },
  };
  return SITES.flatMap((site) =>
    (
      [
        [30, first[site.code]!],
        [120, SEED_REVIEW_SCORES],
        [210, third[site.code]!],
      ] as const
    ).map(([day, scores]) => ({
      siteCode: site.code,
      reviewedOn: addDays(randomizedOn, day),
      reviewers: ['external reviewer', 'SMCM supervisor'],
      sources: ['staff_interview', 'service_user_interview', 'observation', 'chart_review'] as const,
      scores,
    })),
  );
}

/**
 * Records the plan through the API and reads the reports back. Run after `runDemo` on the demo's calendar (today is
 * the real today, so every date recorded is in the past).
 */
export async function runDeliveryDemo(
  client: TrialdeskClient,
  options: { cohort: Cohort; run: DemoRun; concurrency?: number; progress?: Progress },
): Promise<DeliveryDemo> {
  const { cohort, run } = options;
  const trialId = run.trial.id;
  const path = { trialId };
  const plan = deliveryPlan({ cohort, participantIds: run.participantIds, allocations: run.allocations });
  const progress = options.progress ?? silentProgress;
  const started = performance.now();
  const each = <T>(items: readonly T[], work: (item: T) => Promise<unknown>) =>
    mapWithConcurrency(items, options.concurrency ?? 12, async (item) => {
      await work(item);
      progress.tick();
    });
  progress.phase('delivery', 1 + plan.sessions.length + plan.supervision.length + plan.reviews.length + 4);
  await client.put('/v1/trials/{trialId}/delivery-configuration', {
    params: { path },
    body: {
      delivery: smcmDelivery(),
      fidelityScale: smcmFidelityScale(),
      reason: 'Delivery plan and fidelity scale of the protocol, recorded for the process evaluation',
      effectiveOn: cohort.today,
    },
  });
  progress.tick();
  await each(plan.sessions, (s) => client.post('/v1/trials/{trialId}/sessions', { params: { path }, body: s.body }));
  await each(plan.supervision, (body) => client.post('/v1/trials/{trialId}/supervision', { params: { path }, body }));
  await each(plan.reviews, (body) => client.post('/v1/trials/{trialId}/fidelity-reviews', { params: { path }, body }));
  const last = addDays(cohort.today, PERIOD_DAYS - 1);
  const [dose, fidelity, supervision, deviations] = await Promise.all([
    client.get('/v1/trials/{trialId}/delivery', { params: { path } }),
    client.get('/v1/trials/{trialId}/fidelity', { params: { path } }),
    client.get('/v1/trials/{trialId}/supervision/summary', {
      params: { path, query: { from: cohort.today.slice(0, 7), to: last.slice(0, 7) } },
    }),
    client.get('/v1/trials/{trialId}/deviations', { params: { path } }),
  ]);
  progress.tick(4);
  progress.done();
  return {
    plan,
    randomizedOn: cohort.today,
    dose,
    fidelity,
    supervision,
    deviations: deviations.items,
    requests: 1 + plan.sessions.length + plan.supervision.length + plan.reviews.length + 4,
    ms: performance.now() - started,
  };
}

/** The delivery phase's progress on the demo's stream, when it has one. */
export const progressOf = (options: { progress?: ProgressStream }): { progress?: Progress } =>
  options.progress ? { progress: createProgress(options.progress) } : {};

const fmt = (value: number | null) => (value === null ? '—' : String(Number(value.toFixed(2))));

/** The dose table (per arm × site), supervision against plan, deviations by category and the fidelity table. */
export function formatDeliveryDemo(demo: DeliveryDemo): string {
  const lines = [
    `Intervention delivery (randomized ${demo.randomizedOn}, ${PERIOD_DAYS}-day period; GET …/delivery on ${demo.dose.today})`,
    '  Arm   Site  n    Sessions, median [Q1, Q3]  Minutes, median [Q1, Q3]  Adherence, median [Q1, Q3]  Reached min.  Major dev.  Per-protocol',
  ];
  const d = (x: DeliveryReport['byArmAndSite'][number]['sessions']) =>
    `${fmt(x.median)} [${fmt(x.q1)}, ${fmt(x.q3)}]`.padEnd(27);
  for (const row of demo.dose.byArmAndSite)
    lines.push(
      `  ${row.arm.padEnd(5)} ${row.siteCode.padEnd(5)} ${String(row.participants).padEnd(4)} ${d(row.sessions)}` +
        `${d(row.minutes)}${d(row.adherence)} ${`${row.reachedMinimum} (≥ ${row.minimumSessions})`.padEnd(13)}` +
        `${String(row.withMajorDeviation).padEnd(11)} ${row.perProtocolEligible}`,
    );
  const sessions = demo.dose.participants.reduce((sum, p) => sum + p.sessions, 0);
  lines.push(
    `  ${sessions} sessions recorded for ${demo.dose.participants.length} randomized service users; per-protocol is ` +
      "delivery's view (minimum reached, no major deviation); the analysis population is defined in docs/outcomes.md",
    '',
    'Supervision against plan (GET …/supervision/summary), case-worker months',
  );
  for (const { arm, plan } of demo.supervision.armPlans) {
    const rows = demo.supervision.rows.filter((row) => row.arm === arm);
    const planText = plan.length ? plan.map((p) => `${p.kind} ${p.perMonth}/month`).join(', ') : 'usual practice';
    lines.push(
      `  ${arm.padEnd(5)} plan: ${planText}; met in ${rows.filter((r) => r.met).length} of ${rows.length} worker-months;` +
        ` ${rows.reduce((sum, r) => sum + r.individual, 0)} individual and ${rows.reduce((sum, r) => sum + r.group, 0)} group attendances`,
    );
  }
  const byCategory = new Map<string, number>();
  for (const deviation of demo.deviations)
    byCategory.set(
      `${deviation.category} (${deviation.severity})`,
      (byCategory.get(`${deviation.category} (${deviation.severity})`) ?? 0) + 1,
    );
  lines.push(
    '',
    `Protocol deviations (GET …/deviations): ${demo.deviations.length}, ` +
      [...byCategory].map(([category, n]) => `${category} ${n}`).join(', '),
    '',
    'Fidelity reviews (GET …/fidelity)',
    '  Site  Reviewed    Total  Area means                                High  Change',
  );
  for (const site of demo.fidelity.sites) {
    for (const r of site.reviews)
      lines.push(
        `  ${site.siteCode.padEnd(5)} ${r.reviewedOn}  ${`${r.total}/${r.maximum}`.padEnd(6)} ` +
          `${r.areas
            .map((a) => `${a.area} ${fmt(a.mean)}`)
            .join(', ')
            .padEnd(41)} ${r.highFidelity ? 'yes ' : 'no  '} ` +
          `${r.changeFromPrevious === null ? '—' : r.changeFromPrevious}`,
      );
    lines.push(`  trend at ${site.siteCode}: ${site.trend ?? '—'}`);
  }
  lines.push(
    '',
    `Delivery timings: ${(demo.ms / 1000).toFixed(1)} s for ${demo.requests} requests ` +
      `(${demo.plan.sessions.length} sessions, ${demo.plan.supervision.length} supervision, ` +
      `${demo.plan.reviews.length} reviews, the amendment and 4 reports)`,
  );
  return lines.join('\n');
}
