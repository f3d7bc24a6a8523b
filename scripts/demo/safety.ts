import type { TrialdeskClient } from '../../src/client';
import type { components } from '../../src/generated/openapi';
import type { Cohort } from './cohort';

type OpenReport = components['schemas']['DmcOpenReport'];
type SdvCoverage = components['schemas']['SdvCoverage'];

export interface SafetyDemo {
  adverseEvents: number;
  queries: number;
  answers: number;
  /** Requests this part of the demo sent (for the demo's request count). */
  requests: number;
  openReport: OpenReport;
  /** Source-data verification coverage after the monitor verified every adverse event. */
  sdv: SdvCoverage;
}

/**
 * Safety and data monitoring in the demo (#21): a handful of adverse events on randomized service users — two
 * serious ones, a psychiatric admission and a self-harm episode, each reported to the sponsor — a few data
 * queries raised by the monitor, answered by the site, one closed; then the DMC open report.
 */
export async function runSafetyDemo(
  client: TrialdeskClient,
  input: {
    trialId: string;
    cohort: Cohort;
    participantIds: Record<string, string>;
    allocations: Record<string, string>;
  },
): Promise<SafetyDemo> {
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
  const openReport = await client.get('/v1/trials/{trialId}/dmc/open-report', { params: { path: { trialId } } });
  requests += 2;
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
  return { adverseEvents: events.length, queries: raised.length, answers: 2, requests, openReport, sdv };
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
    `  queries by site: ${r.queries.bySite.map((s) => `${s.siteCode} open ${s.open} / answered ${s.answered} / closed ${s.closed}`).join('; ')}`,
    `  recruitment: ${r.recruitment.map((s) => `${s.siteCode} ${s.screened} screened, ${s.randomized} randomized`).join('; ')}`,
    `  SDV (GET …/sdv/coverage), adverse events verified: ${demo.sdv.rows
      .filter((row) => row.kind === 'adverse_event')
      .map((row) => `${row.siteCode} ${row.recordsVerified}/${row.records}`)
      .join('; ')}`,
  ];
  return lines.join('\n');
}
