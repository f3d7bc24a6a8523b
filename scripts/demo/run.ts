import type { TrialdeskClient } from '../../src/client';
import type { components } from '../../src/generated/openapi';
import { Cohort, INTERVIEWERS, ServiceUser, utcToday as utcTodayOf } from './cohort';
import { mapWithConcurrency, Progress, silentProgress } from './progress';
import { ProcessEvaluation, runProcessEvaluation, serviceRunsSubstudies, TABLE_3 } from './substudy';
import { ARMS, ArmCode, COUPON, SITES, smcmTrialInput } from './trial';
import type { DemoCalendar } from './calendar';
import { laterVisitPlan, LaterVisit, LaterVisitCode, visitPlan } from './visits';
import { runSafetyDemo, SafetyDemo, withDemoSoftRanges } from './safety';

type Schemas = components['schemas'];
export type Trial = Schemas['Trial'];
export type ConsortReport = Schemas['ConsortReport'];
export type BaselineTable = Schemas['BaselineTable'];
export type TTestResult = Schemas['TTestResult'];
export type IncentiveSummary = Schemas['IncentiveSummary'];
export type FollowUpCompleteness = Schemas['FollowUpCompleteness'];

export const COUPONS_PER_ARM = 12;
const ISSUE_INCENTIVE_PATH = '/v1/trials/{trialId}/participants/{participantId}/incentives';

export interface Coupon {
  label: string;
  arm: string;
  reference: string;
  issuedOn: string;
}

export type CouponOutcome = { available: false } | { available: true; issued: Coupon[]; summary: IncentiveSummary };

export interface DemoRun {
  trial: Trial;
  /** Participant ids by label. */
  participantIds: Record<string, string>;
  /** The arm the service allocated, by service user label, in randomization order per site. */
  allocations: Record<string, string>;
  consort: ConsortReport;
  baseline: BaselineTable;
  workerBaseline: BaselineTable;
  workerExperience: TTestResult;
  coupons: CouponOutcome;
  /** The process evaluation (sub-study), null for a service without sub-studies. */
  evaluation: ProcessEvaluation | null;
  /** Follow-up completeness per visit, arm and site (GET …/follow-up/completeness) after the visits phase. */
  completeness: FollowUpCompleteness;
  /** The 6- and 12-month visits recorded after the calendar moved on, by label (empty without a calendar). */
  laterVisits: Record<string, Record<LaterVisitCode, LaterVisit>>;
  /** Adverse events, queries and the DMC open report (scripts/demo/safety.ts). */
  safety: SafetyDemo;
  /** Milliseconds per phase, in the order they ran. */
  timings: { phase: string; ms: number }[];
}

export interface DemoRunOptions {
  cohort: Cohort;
  trialCode: string;
  /** Requests in flight at once (default 12). Randomization runs one at a time per site regardless. */
  concurrency?: number;
  progress?: Progress;
  /**
   * The in-process service's clock. With it the run starts on `cohort.today` (the randomization day),
   * and after the baseline visits moves to the real today and records the 6- and 12-month visits due since.
   */
  calendar?: DemoCalendar;
}

/**
 * Builds the SMCM trial and runs the cohort through it, using nothing but the typed client: every
 * step is an HTTP request any user with an admin key could make.
 */
export async function runDemo(client: TrialdeskClient, options: DemoRunOptions): Promise<DemoRun> {
  const { cohort, calendar } = options;
  calendar?.setToday(cohort.today);
  const concurrency = options.concurrency ?? 12;
  const progress = options.progress ?? silentProgress;
  const timings: DemoRun['timings'] = [];
  const timed = async <T>(phase: string, total: number, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    progress.phase(phase, total);
    const result = await work();
    progress.done();
    timings.push({ phase, ms: performance.now() - started });
    return result;
  };
  const each = <T, R>(items: readonly T[], work: (item: T) => Promise<R>) =>
    mapWithConcurrency(items, concurrency, async (item) => {
      const result = await work(item);
      progress.tick();
      return result;
    });

  const trial = await timed('set up trial', SITES.length + 2, async () => {
    const created = await client.post('/v1/trials', {
      body: withDemoSoftRanges(smcmTrialInput(options.trialCode, cohort.seed)),
    });
    progress.tick();
    const trialId = created.id;
    for (const site of SITES) {
      await client.post('/v1/trials/{trialId}/sites', {
        params: { path: { trialId } },
        body: { code: site.code, name: site.name },
      });
      progress.tick();
    }
    const active = await client.post('/v1/trials/{trialId}/activation', { params: { path: { trialId } } });
    progress.tick();
    return active;
  });
  const trialId = trial.id;
  const participantIds: Record<string, string> = {};
  const idOf = (label: string) => participantIds[label]!;

  await timed('screening', cohort.serviceUsers.length + cohort.caseWorkers.length, async () => {
    await each(cohort.serviceUsers, async (person) => {
      const participant = await client.post('/v1/trials/{trialId}/participants', {
        params: { path: { trialId } },
        body: {
          siteCode: person.siteCode,
          role: 'service_user',
          label: person.label,
          screenedOn: person.screenedOn,
          eligibility: person.eligibility,
          ...(person.baseline ? { baseline: { ...person.baseline } } : {}),
        },
      });
      participantIds[person.label] = participant.id;
    });
    await each(cohort.caseWorkers, async (worker) => {
      const participant = await client.post('/v1/trials/{trialId}/participants', {
        params: { path: { trialId } },
        body: {
          siteCode: worker.siteCode,
          role: 'case_worker',
          label: worker.label,
          screenedOn: worker.screenedOn,
          eligibility: {},
          baseline: { experienceYears: worker.experienceYears, profession: worker.profession },
        },
      });
      participantIds[worker.label] = participant.id;
    });
  });

  const consenting = cohort.serviceUsers.filter((person) => 'consentOn' in person.pathway);
  await timed('consent', consenting.length, () =>
    each(consenting, (person) => recordConsents(client, trialId, idOf(person.label), person)),
  );

  const leaving = cohort.serviceUsers.filter(
    (person) => person.pathway.kind === 'declined_event' || person.pathway.kind === 'not_randomized',
  );
  await timed('declined, not randomized', leaving.length, () =>
    each(leaving, async (person) => {
      const pathway = person.pathway;
      if (pathway.kind !== 'declined_event' && pathway.kind !== 'not_randomized') return;
      await client.post('/v1/trials/{trialId}/participants/{participantId}/events', {
        params: { path: { trialId, participantId: idOf(person.label) } },
        body: {
          type: pathway.kind === 'declined_event' ? 'declined' : 'not_randomized',
          occurredOn: pathway.occurredOn,
          reason: pathway.reason,
        },
      });
    }),
  );

  const randomizing = cohort.serviceUsers.filter((person) => person.pathway.kind === 'randomized');
  const allocations: Record<string, string> = {};
  const randomizedOn: Record<string, string> = {};
  await timed('randomization', randomizing.length, async () => {
    // Permuted blocks hand out slots in request order within a stratum (the site), so each site goes
    // in label order, one at a time: the same seed then allocates everyone identically. Sites are
    // independent strata and run side by side.
    await Promise.all(
      SITES.map(async (site) => {
        for (const person of randomizing.filter((candidate) => candidate.siteCode === site.code)) {
          const allocation = await client.randomize(trialId, idOf(person.label), {
            idempotencyKey: `demo-${trialId}-${person.label}`,
            retries: 2,
          });
          allocations[person.label] = allocation.arm;
          randomizedOn[person.label] = allocation.randomizedAt.slice(0, 10);
          progress.tick();
        }
      }),
    );
  });

  await timed('follow-up events', randomizing.length, () =>
    each(randomizing, async (person) => {
      if (person.pathway.kind !== 'randomized') return;
      for (const event of person.pathway.followUp) {
        await client.post('/v1/trials/{trialId}/participants/{participantId}/events', {
          params: { path: { trialId, participantId: idOf(person.label) } },
          // Randomization happened just now, so follow-up is dated the (UTC) day of the allocation.
          body: {
            type: event.type,
            occurredOn: randomizedOn[person.label]!,
            ...(event.reason ? { reason: event.reason } : {}),
          },
        });
      }
    }),
  );

  await timed('case worker assignment', cohort.caseWorkers.length, () =>
    each(cohort.caseWorkers, (worker) =>
      client.post('/v1/trials/{trialId}/participants/{participantId}/assignment', {
        params: { path: { trialId, participantId: idOf(worker.label) } },
        body: {
          arm: worker.arm,
          reason:
            worker.arm === 'SMCM' ? 'trained in the strengths model' : "delivers the centre's usual case management",
        },
      }),
    ),
  );

  await timed('visits', randomizing.length, () =>
    each(randomizing, async (person) => {
      const plan = visitPlan(cohort.seed, person, randomizedOn[person.label]!);
      const path = { trialId, participantId: idOf(person.label) };
      const recordedOn = randomizedOn[person.label]!;
      if (plan.baseline.kind === 'assessed') {
        const { assessedOn, assessor, values } = plan.baseline;
        await client.post('/v1/trials/{trialId}/participants/{participantId}/assessments', {
          params: { path },
          body: { visit: 'baseline', assessedOn, assessor, values },
        });
      } else if (plan.baseline.kind === 'missed') {
        await client.post('/v1/trials/{trialId}/participants/{participantId}/visits/{visit}/missed', {
          params: { path: { ...path, visit: 'baseline' } },
          body: { reason: plan.baseline.reason, recordedOn },
        });
      }
      for (const missed of plan.missedLater) {
        await client.post('/v1/trials/{trialId}/participants/{participantId}/visits/{visit}/missed', {
          params: { path: { ...path, visit: missed.visit } },
          body: { reason: missed.reason, recordedOn },
        });
      }
    }),
  );

  const laterVisits: DemoRun['laterVisits'] = {};
  if (calendar) {
    calendar.setToday(utcTodayOf(new Date()));
    const today = calendar.today();
    for (const person of randomizing) {
      const arm = allocations[person.label] as ArmCode;
      const plan = (visit: LaterVisitCode) =>
        laterVisitPlan(cohort.seed, person, arm, randomizedOn[person.label]!, today, visit);
      laterVisits[person.label] = { m6: plan('m6'), m12: plan('m12') };
    }
    await timed('6- and 12-month visits', randomizing.length, () =>
      each(randomizing, async (person) => {
        const path = { trialId, participantId: idOf(person.label) };
        for (const visit of Object.values(laterVisits[person.label]!)) {
          if (visit.kind === 'assessed') {
            await client.post('/v1/trials/{trialId}/participants/{participantId}/assessments', {
              params: { path },
              body: {
                visit: visit.visit,
                assessedOn: visit.assessedOn,
                assessor: visit.assessor,
                values: visit.values,
              },
            });
          } else if (visit.kind === 'missed') {
            await client.post('/v1/trials/{trialId}/participants/{participantId}/visits/{visit}/missed', {
              params: { path: { ...path, visit: visit.visit } },
              body: { reason: visit.reason, recordedOn: visit.recordedOn },
            });
          }
        }
      }),
    );
  }

  // The process evaluation (issue #16) issues the coupons per interview; older services get them directly.
  const evaluation = (await serviceRunsSubstudies(client))
    ? await timed('process evaluation', TABLE_3.length + 1, () =>
        runProcessEvaluation(client, {
          trialId,
          cohort,
          participantIds,
          allocations,
          today: cohort.today,
          concurrency,
          tick: () => progress.tick(),
        }),
      )
    : null;
  const interviewees = chooseInterviewees(randomizing, allocations);
  const coupons = evaluation
    ? ({
        available: true,
        issued: evaluation.coupons,
        summary: await client.get('/v1/trials/{trialId}/incentives/summary', { params: { path: { trialId } } }),
      } as const)
    : (await serviceIssuesIncentives(client))
      ? await timed('interview coupons', interviewees.length, async (): Promise<CouponOutcome> => {
          const issued = await each(interviewees, async (coupon) => {
            await client.post(ISSUE_INCENTIVE_PATH, {
              params: {
                path: { trialId, participantId: idOf(coupon.label) },
                header: { 'Idempotency-Key': `demo-${trialId}-coupon-${coupon.label}` },
              },
              body: { incentive: COUPON.code, issuedOn: randomizedOn[coupon.label]!, reference: coupon.reference },
            });
            return { ...coupon, issuedOn: randomizedOn[coupon.label]! };
          });
          const summary = await client.get('/v1/trials/{trialId}/incentives/summary', {
            params: { path: { trialId } },
          });
          return { available: true, issued, summary };
        })
      : ({ available: false } as const);

  const reports = await timed('reports', 5, async () => {
    const tick = <T>(value: T) => {
      progress.tick();
      return value;
    };
    const experience = (arm: ArmCode) =>
      cohort.caseWorkers.filter((worker) => worker.arm === arm).map((worker) => worker.experienceYears);
    const [consort, baseline, workerBaseline, workerExperience, completeness] = await Promise.all([
      client.get('/v1/trials/{trialId}/consort', { params: { path: { trialId } } }).then(tick),
      client
        .get('/v1/trials/{trialId}/baseline', {
          params: { path: { trialId }, query: { role: 'service_user', tests: 'welch' } },
        })
        .then(tick),
      client
        .get('/v1/trials/{trialId}/baseline', {
          params: { path: { trialId }, query: { role: 'case_worker', tests: 'welch' } },
        })
        .then(tick),
      client
        .post('/v1/stats/t-test', {
          body: { method: 'welch', groups: ARMS.map((arm) => ({ label: arm, values: experience(arm) })) },
        })
        .then(tick),
      client.get('/v1/trials/{trialId}/follow-up/completeness', { params: { path: { trialId } } }).then(tick),
    ]);
    return { consort, baseline, workerBaseline, workerExperience, completeness };
  });

  const safety = await timed('safety', 1, () =>
    runSafetyDemo(client, { trialId, cohort, participantIds, allocations }),
  );
  return { trial, participantIds, allocations, coupons, evaluation, laterVisits, timings, safety, ...reports };
}

async function recordConsents(
  client: TrialdeskClient,
  trialId: string,
  participantId: string,
  person: ServiceUser,
): Promise<void> {
  const pathway = person.pathway;
  if (!('consentOn' in pathway)) return;
  const common = { signedOn: pathway.consentOn, obtainedBy: INTERVIEWERS[person.siteCode], method: 'written' as const };
  const path = { trialId, participantId };
  if (pathway.kind === 'declined_consent') {
    await client.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
      params: { path },
      body: { form: 'trial', version: '1.0', decision: 'declined', reason: pathway.reason, ...common },
    });
    return;
  }
  await client.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
    params: { path },
    body: { form: 'trial', version: '1.0', decision: 'granted', ...common },
  });
  await client.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
    params: { path },
    body: { form: 'audio', version: '1.0', ...pathway.audio, ...common },
  });
}

/**
 * The service users interviewed at follow-up: those who completed it and stay in the analysis,
 * the first twelve of each arm in label order (topped up from the other arm in a small cohort).
 */
export function chooseInterviewees(
  randomized: readonly ServiceUser[],
  allocations: Record<string, string>,
): Omit<Coupon, 'issuedOn'>[] {
  const completed = randomized.filter(
    (person) =>
      person.pathway.kind === 'randomized' &&
      person.pathway.followUp.some((e) => e.type === 'follow_up_completed') &&
      !person.pathway.followUp.some((e) => e.type === 'excluded_from_analysis'),
  );
  const byArm = ARMS.map((arm) => completed.filter((person) => allocations[person.label] === arm));
  const chosen = byArm.flatMap((people) => people.slice(0, COUPONS_PER_ARM));
  const spare = byArm.flatMap((people) => people.slice(COUPONS_PER_ARM));
  chosen.push(...spare.slice(0, Math.max(0, COUPONS_PER_ARM * ARMS.length - chosen.length)));
  chosen.sort((a, b) => a.label.localeCompare(b.label));
  return chosen.map((person, index) => ({
    label: person.label,
    arm: allocations[person.label]!,
    reference: `coupon serial ${String(1001 + index).padStart(6, '0')}`,
  }));
}

/** Whether the service's own contract has the incentive ledger (older versions do not). */
async function serviceIssuesIncentives(client: TrialdeskClient): Promise<boolean> {
  const contract = (await client.get('/openapi.json')) as { paths?: Record<string, { post?: unknown } | undefined> };
  return contract.paths?.[ISSUE_INCENTIVE_PATH]?.post !== undefined;
}
