import type { TrialdeskClient } from '../../src/client';
import type { components } from '../../src/generated/openapi';
import { outsideSoftRange, SoftRange } from '../../src/features/safety/soft-ranges';
import type { Cohort, ServiceUser, ServiceUserBaseline } from './cohort';
import type { TrialInput } from './trial';

type OpenReport = components['schemas']['DmcOpenReport'];
type SdvCoverage = components['schemas']['SdvCoverage'];
type DataQuery = components['schemas']['DataQuery'];

/**
 * The plausible ranges the demo trial declares (automatic checks, #21): the cohort's ages run to 90 (a few above
 * 80 raise queries at screening), its onsets to 32 years, so an onset above 40 is a typing error to query.
 */
export const DEMO_SOFT_RANGES: Readonly<Partial<Record<keyof ServiceUserBaseline, SoftRange>>> = {
  age: { max: 80 },
  onsetYears: { max: 40 },
};

/** The SMCM trial input with the demo's soft ranges on its baseline variables. */
export function withDemoSoftRanges(input: TrialInput): TrialInput {
  return {
    ...input,
    baselineVariables: input.baselineVariables?.map((v) => {
      const range = DEMO_SOFT_RANGES[v.name as keyof ServiceUserBaseline];
      return range ? { ...v, softRange: { ...range } } : v;
    }),
  };
}

/** The baseline items of a cohort member outside the demo's soft ranges (what screening flags). */
export function outOfRangeItems(baseline: ServiceUserBaseline | null): (keyof ServiceUserBaseline)[] {
  if (!baseline) return [];
  return (Object.keys(DEMO_SOFT_RANGES) as (keyof ServiceUserBaseline)[]).filter(
    (name) => outsideSoftRange(baseline[name], DEMO_SOFT_RANGES[name]!) !== null,
  );
}

/**
 * One out-of-range baseline value the demo writes (a correction with a reason), and what the site then does with
 * the automatic query it raises: corrects the value back (the query is resolved by the correction), answers it
 * (the value stands), or leaves it open for the next monitoring visit.
 */
export interface OutOfRangeWrite {
  label: string;
  variable: 'age' | 'onsetYears';
  value: number;
  then: 'correct_back' | 'answer' | 'leave_open';
}

/**
 * The demo's out-of-range writes: on the first randomized service users (by label) whose recorded baseline is
 * inside the soft ranges, so each raises a query of its own.
 */
export function outOfRangePlan(cohort: Cohort, allocations: Record<string, string>): OutOfRangeWrite[] {
  const plan: Omit<OutOfRangeWrite, 'label'>[] = [
    { variable: 'onsetYears', value: 45, then: 'correct_back' },
    { variable: 'age', value: 87, then: 'answer' },
    { variable: 'onsetYears', value: 52, then: 'leave_open' },
  ];
  const candidates = cohort.serviceUsers
    .filter((p) => p.label in allocations && p.baseline && outOfRangeItems(p.baseline).length === 0)
    .map((p) => p.label)
    .sort();
  return plan.slice(0, candidates.length).map((write, i) => ({ label: candidates[i]!, ...write }));
}

/** The queries one automatic check raised, as the demo read them back at the end, by status. */
export interface AutomaticQueryCounts {
  raised: number;
  open: number;
  answered: number;
  closed: number;
  /** Closed by the correction that put the item back in range (message action `resolve`). */
  resolvedByCorrection: number;
}

export interface SafetyDemo {
  adverseEvents: number;
  queries: number;
  answers: number;
  /** Requests this part of the demo sent (for the demo's request count). */
  requests: number;
  openReport: OpenReport;
  /** Source-data verification coverage after the monitor verified every adverse event. */
  sdv: SdvCoverage;
  /** The out-of-range values written and what became of their automatic queries. */
  automatic: {
    plan: OutOfRangeWrite[];
    counts: { softRange: AutomaticQueryCounts; missingItem: AutomaticQueryCounts };
  };
}

/** What the safety demo works on: the trial, its cohort, and the service's ids and arms by cohort label. */
interface SafetyDemoInput {
  trialId: string;
  cohort: Cohort;
  participantIds: Record<string, string>;
  allocations: Record<string, string>;
}

/**
 * Safety and data monitoring in the demo (#21): a handful of adverse events on randomized service users — two
 * serious ones, a psychiatric admission and a self-harm episode, each reported to the sponsor — a few data
 * queries raised by the monitor, answered by the site, one closed; then the DMC open report.
 */
export async function runSafetyDemo(client: TrialdeskClient, input: SafetyDemoInput): Promise<SafetyDemo> {
  const { trialId } = input;
  const aware = new Date(Date.now() - 60_000);
  const awareOn = aware.toISOString().slice(0, 10);
  const people = input.cohort.serviceUsers
    .filter((p) => p.label in input.allocations && p.screenedOn <= awareOn)
    .slice(0, 5)
    .map((p) => input.participantIds[p.label]!);
  // Small cohorts (the demo's tests) have few randomized people: the events then fall on the same ones.
  if (people.length === 0) throw new Error('the safety demo needs a randomized service user');
  const person = (i: number) => people[i % people.length]!;
  const events = [
    {
      term: 'Psychiatric hospitalisation',
      severity: 'severe',
      serious: { criteria: ['hospitalization'] },
      relatedness: 'unlikely',
      expected: true,
      action: 'Admitted to the acute ward',
    },
    {
      term: 'Intentional self-harm',
      severity: 'severe',
      serious: { criteria: ['other_important'] },
      relatedness: 'not_related',
      expected: true,
      action: 'Seen in emergency; safety plan revised',
    },
    { term: 'Headache', severity: 'mild', serious: null, relatedness: 'not_related', expected: false, action: 'None' },
    {
      term: 'Insomnia',
      severity: 'moderate',
      serious: null,
      relatedness: 'unlikely',
      expected: true,
      action: 'Sleep hygiene advice',
    },
    {
      term: 'Headache',
      severity: 'moderate',
      serious: null,
      relatedness: 'not_related',
      expected: false,
      action: 'Paracetamol',
    },
  ] as const;
  let requests = 0;
  const ids: string[] = [];
  for (const [i, event] of events.entries()) {
    const created = await client.post('/v1/trials/{trialId}/participants/{participantId}/adverse-events', {
      params: { path: { trialId, participantId: person(i) } },
      body: {
        ...event,
        serious: event.serious ? { criteria: [...event.serious.criteria] } : null,
        onsetOn: awareOn,
        reportedBy: 'case worker',
        ...(event.serious ? { awareAt: aware.toISOString() } : {}),
      },
    });
    ids.push(created.id);
    requests += 1;
  }
  for (const id of ids.slice(0, 2)) {
    await client.post('/v1/trials/{trialId}/adverse-events/{adverseEventId}/reports', {
      params: { path: { trialId, adverseEventId: id } },
      body: { recipient: 'sponsor', reportedAt: new Date().toISOString() },
    });
    requests += 1;
  }
  const raised = [
    {
      kind: 'adverse_event' as const,
      id: ids[2]!,
      pointer: '/relatedness',
      text: 'Headache began after the first session: is "not related" right?',
    },
    {
      kind: 'participant' as const,
      id: person(3),
      pointer: '/baseline/onsetYears',
      text: 'Onset 40 years ago at this age?',
    },
    { kind: 'adverse_event' as const, id: ids[0]!, pointer: '/onsetOn', text: 'Admission date per the ward record?' },
  ];
  const queryIds: string[] = [];
  for (const q of raised) {
    const created = await client.post('/v1/trials/{trialId}/queries', {
      params: { path: { trialId } },
      body: { target: { kind: q.kind, id: q.id, pointer: q.pointer }, text: q.text },
    });
    queryIds.push(created.id);
    requests += 1;
  }
  for (const [i, text] of [
    'Checked with the clinician: unlikely related; will correct.',
    'Confirmed from the case notes.',
  ].entries()) {
    await client.post('/v1/trials/{trialId}/queries/{queryId}/answers', {
      params: { path: { trialId, queryId: queryIds[i]! } },
      body: { text },
    });
    requests += 1;
  }
  await client.post('/v1/trials/{trialId}/queries/{queryId}/closure', {
    params: { path: { trialId, queryId: queryIds[1]! } },
    body: { text: 'Source verified.' },
  });
  requests += 1;
  const automatic = await runOutOfRangeWrites(client, input);
  requests += automatic.requests;
  const openReport = await client.get('/v1/trials/{trialId}/dmc/open-report', { params: { path: { trialId } } });
  requests += 1;
  // The monitoring visit verifies every adverse event against the source, then reads the coverage.
  const verifiedOn = openReport.asOf.slice(0, 10);
  for (const id of ids) {
    await client.post('/v1/trials/{trialId}/sdv', {
      params: { path: { trialId } },
      body: { target: { kind: 'adverse_event', id }, verifiedOn },
    });
    requests += 1;
  }
  const sdv = await client.get('/v1/trials/{trialId}/sdv/coverage', { params: { path: { trialId } } });
  requests += 1;
  return {
    adverseEvents: events.length,
    queries: raised.length,
    answers: 2,
    requests,
    openReport,
    sdv,
    automatic: { plan: automatic.plan, counts: automatic.counts },
  };
}

/**
 * Writes the planned out-of-range baseline values (each raises an automatic query in the correction's
 * transaction), then acts on each query as planned, and reads every automatic query back.
 */
async function runOutOfRangeWrites(
  client: TrialdeskClient,
  input: SafetyDemoInput,
): Promise<{ plan: OutOfRangeWrite[]; counts: SafetyDemo['automatic']['counts']; requests: number }> {
  const { trialId } = input;
  const plan = outOfRangePlan(input.cohort, input.allocations);
  const byLabel = new Map<string, ServiceUser>(input.cohort.serviceUsers.map((p) => [p.label, p]));
  let requests = 0;
  const putBaseline = async (write: OutOfRangeWrite, baseline: ServiceUserBaseline, reason: string) => {
    const participant = await client.put('/v1/trials/{trialId}/participants/{participantId}/baseline', {
      params: { path: { trialId, participantId: input.participantIds[write.label]! } },
      body: { values: { ...baseline }, reason },
    });
    requests += 1;
    return participant;
  };
  for (const write of plan) {
    const recorded = byLabel.get(write.label)!.baseline!;
    const participant = await putBaseline(
      write,
      { ...recorded, [write.variable]: write.value },
      `${write.variable} re-entered from the referral letter`,
    );
    const queries = await client.get('/v1/trials/{trialId}/queries', {
      params: { path: { trialId }, query: { kind: 'participant', targetId: participant.id, status: 'open' } },
    });
    requests += 1;
    const query = queries.items.find(
      (q) => q.check === 'soft_range' && q.target.pointer === `/baseline/${write.variable}`,
    );
    if (!query) throw new Error(`no automatic query on ${write.label}'s ${write.variable}`);
    if (write.then === 'correct_back')
      await putBaseline(
        write,
        recorded,
        `the referral letter was misread; the case notes say ${recorded[write.variable]}`,
      );
    else if (write.then === 'answer') {
      await client.post('/v1/trials/{trialId}/queries/{queryId}/answers', {
        params: { path: { trialId, queryId: query.id } },
        body: { text: `Checked against the identity card: ${write.value} is right.` },
      });
      requests += 1;
    }
  }
  const automatic: DataQuery[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.get('/v1/trials/{trialId}/queries', {
      params: { path: { trialId }, query: { limit: 500, ...(cursor ? { cursor } : {}) } },
    });
    requests += 1;
    automatic.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const countsOf = (check: 'soft_range' | 'missing_item'): AutomaticQueryCounts => {
    const raised = automatic.filter((q) => q.check === check);
    const count = (status: DataQuery['status']) => raised.filter((q) => q.status === status).length;
    return {
      raised: raised.length,
      open: count('open'),
      answered: count('answered'),
      closed: count('closed'),
      resolvedByCorrection: raised.filter((q) => q.status === 'closed' && q.messages.at(-1)!.action === 'resolve')
        .length,
    };
  };
  return {
    plan,
    requests,
    counts: { softRange: countsOf('soft_range'), missingItem: countsOf('missing_item') },
  };
}

const countsText = (c: AutomaticQueryCounts) =>
  `raised ${c.raised}, open ${c.open}, answered ${c.answered}, closed ${c.closed}`;

function softRangesText(): string {
  return Object.entries(DEMO_SOFT_RANGES)
    .map(([name, range]) =>
      [range.min !== undefined ? `${name} ≥ ${range.min}` : '', range.max !== undefined ? `${name} ≤ ${range.max}` : '']
        .filter(Boolean)
        .join(', '),
    )
    .join(', ');
}

/** The open report as the demo prints it: pooled figures only. */
export function formatSafety(demo: SafetyDemo): string {
  const r = demo.openReport;
  const ae = r.adverseEvents;
  const lines = [
    `Safety and data monitoring (GET …/dmc/open-report, pooled across arms): ${demo.adverseEvents} adverse events, ` +
      `${demo.queries} queries (${demo.answers} answered)`,
    `  adverse events: ${ae.events} in ${ae.participantsWithEvent} participants; serious: ${ae.seriousEvents} in ` +
      `${ae.participantsWithSeriousEvent}`,
    ...ae.terms
      .filter((t) => t.severity === null)
      .map((t) => `    ${t.term}: ${t.participants} participants, ${t.events} events`),
    `  safety reports due ${r.safetyReports.due}, late ${r.safetyReports.late}`,
    `  automatic queries, soft ranges (${softRangesText()}; ${demo.automatic.plan.length} out-of-range values ` +
      `written): ${countsText(demo.automatic.counts.softRange)} (${demo.automatic.counts.softRange.resolvedByCorrection} ` +
      `resolved by a correction back into range)`,
    `  automatic queries, missing items at completed visits: ${countsText(demo.automatic.counts.missingItem)}`,
    `  queries by site: ${r.queries.bySite.map((s) => `${s.siteCode} open ${s.open} / answered ${s.answered} / closed ${s.closed}`).join('; ')}`,
    `  recruitment: ${r.recruitment.map((s) => `${s.siteCode} ${s.screened} screened, ${s.randomized} randomized`).join('; ')}`,
    `  SDV (GET …/sdv/coverage), adverse events verified: ${demo.sdv.rows
      .filter((row) => row.kind === 'adverse_event')
      .map((row) => `${row.siteCode} ${row.recordsVerified}/${row.records}`)
      .join('; ')}`,
  ];
  return lines.join('\n');
}
