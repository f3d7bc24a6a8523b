import type { TrialdeskClient } from '../../src/client';
import type { components } from '../../src/generated/openapi';
import { Cohort, INTERVIEWERS } from './cohort';
import { mapWithConcurrency } from './progress';
import { ArmCode, SiteCode } from './trial';

type Schemas = components['schemas'];
export type SamplingTable = Schemas['SamplingTable'];
export type CodingRound = Schemas['CodingRound'];

const SUBSTUDY = 'process-evaluation';
const SUBSTUDY_PATH = '/v1/trials/{trialId}/substudies';

/** The seed paper's Table 3: interviews per centre, arm and role. */
export const TABLE_3: readonly {
  siteCode: SiteCode;
  arm: ArmCode;
  role: 'service_user' | 'case_worker';
  target: number;
}[] = [
  { siteCode: 'A', arm: 'SMCM', role: 'case_worker', target: 3 },
  { siteCode: 'A', arm: 'TAU', role: 'case_worker', target: 2 },
  { siteCode: 'A', arm: 'SMCM', role: 'service_user', target: 6 },
  { siteCode: 'A', arm: 'TAU', role: 'service_user', target: 6 },
  { siteCode: 'B', arm: 'SMCM', role: 'case_worker', target: 2 },
  { siteCode: 'B', arm: 'TAU', role: 'case_worker', target: 2 },
  { siteCode: 'B', arm: 'SMCM', role: 'service_user', target: 3 },
  { siteCode: 'B', arm: 'TAU', role: 'service_user', target: 3 },
  { siteCode: 'C', arm: 'SMCM', role: 'case_worker', target: 3 },
  { siteCode: 'C', arm: 'TAU', role: 'case_worker', target: 2 },
  { siteCode: 'C', arm: 'SMCM', role: 'service_user', target: 3 },
  { siteCode: 'C', arm: 'TAU', role: 'service_user', target: 3 },
];

export interface InterviewCoupon {
  label: string;
  arm: string;
  reference: string;
  issuedOn: string;
}

export interface ProcessEvaluation {
  sampling: SamplingTable;
  coupons: InterviewCoupon[];
  round: CodingRound;
  /** Requests sent, for the timing line. */
  requests: number;
}

export interface ProcessEvaluationInput {
  trialId: string;
  cohort: Cohort;
  participantIds: Record<string, string>;
  /** Arm by service-user label, as the service allocated it. */
  allocations: Record<string, string>;
  /** The date of the interviews (everyone in the demo was randomized today). */
  today: string;
  concurrency: number;
  tick: () => void;
}

/** Whether the service's own contract has sub-studies (older versions do not). */
export async function serviceRunsSubstudies(client: TrialdeskClient): Promise<boolean> {
  const contract = (await client.get('/openapi.json')) as { paths?: Record<string, { post?: unknown } | undefined> };
  return contract.paths?.[SUBSTUDY_PATH]?.post !== undefined;
}

/** A duration of 30–90 minutes that depends only on the label (the paper's interviews took 30–90 minutes). */
const durationOf = (label: string) => 30 + ([...label].reduce((sum, ch) => sum * 31 + ch.charCodeAt(0), 7) % 61);

/**
 * The paper's process evaluation inside the trial, through the API only: the sub-study with Table 3's quotas;
 * invitations per cell in label order until the quota is met (service users who refused audio recording, and
 * every fourth one invited for want of time, decline); audio-recorded interviews; a HK$50 coupon per service-user
 * interview; one coding round of 17 units. (Transcript stages are left out: three requests per interview.)
 */
export async function runProcessEvaluation(
  client: TrialdeskClient,
  input: ProcessEvaluationInput,
): Promise<ProcessEvaluation> {
  const { trialId, cohort, participantIds, allocations, today } = input;
  let requests = 0;
  const post = async <T>(send: () => Promise<T>): Promise<T> => {
    requests += 1;
    return send();
  };
  const path = { trialId, substudyCode: SUBSTUDY };
  await post(() =>
    client.post(SUBSTUDY_PATH, {
      params: { path: { trialId } },
      body: {
        code: SUBSTUDY,
        title: 'Process evaluation: experiences of SMCM and usual case management',
        audioConsentForm: 'audio',
        incentive: 'interview_coupon',
        quotas: TABLE_3.map((cell) => ({ ...cell })),
      },
    }),
  );

  const candidatesFor = (cell: (typeof TABLE_3)[number]) =>
    cell.role === 'case_worker'
      ? cohort.caseWorkers
          .filter((w) => w.siteCode === cell.siteCode && w.arm === cell.arm)
          .map((w) => ({ label: w.label, audio: true, caseWorker: true }))
      : cohort.serviceUsers
          .filter(
            (p) =>
              p.siteCode === cell.siteCode &&
              allocations[p.label] === cell.arm &&
              p.pathway.kind === 'randomized' &&
              p.pathway.followUp.some((e) => e.type === 'follow_up_completed') &&
              !p.pathway.followUp.some((e) => e.type === 'excluded_from_analysis'),
          )
          .map((p) => ({
            label: p.label,
            audio: 'audio' in p.pathway && p.pathway.audio.decision === 'granted',
            caseWorker: false,
          }));

  const coupons = await mapWithConcurrency(TABLE_3, input.concurrency, async (cell) => {
    const issued: InterviewCoupon[] = [];
    let accepted = 0;
    let invited = 0;
    for (const candidate of candidatesFor(cell).sort((a, b) => a.label.localeCompare(b.label))) {
      if (accepted >= cell.target) break;
      const participantId = participantIds[candidate.label]!;
      invited += 1;
      const invitation = await post(() =>
        client.post(`${SUBSTUDY_PATH}/{substudyCode}/invitations`, {
          params: { path },
          body: { participantId, invitedOn: today, invitedBy: INTERVIEWERS[cell.siteCode] },
        }),
      );
      const declineReason = !candidate.audio
        ? 'prefers not to be recorded'
        : !candidate.caseWorker && invited % 4 === 0
          ? 'no time for an interview'
          : null;
      await post(() =>
        client.post(`${SUBSTUDY_PATH}/{substudyCode}/invitations/{invitationId}/answer`, {
          params: { path: { ...path, invitationId: invitation.id } },
          body: declineReason
            ? { answer: 'declined', answeredOn: today, reason: declineReason }
            : { answer: 'accepted', answeredOn: today },
        }),
      );
      if (declineReason) continue;
      accepted += 1;
      if (candidate.caseWorker)
        await post(() =>
          client.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
            params: { path: { trialId, participantId } },
            body: {
              form: 'audio',
              version: '1.0',
              decision: 'granted',
              signedOn: today,
              obtainedBy: INTERVIEWERS[cell.siteCode],
              method: 'written',
            },
          }),
        );
      const interview = await post(() =>
        client.post(`${SUBSTUDY_PATH}/{substudyCode}/interviews`, {
          params: { path },
          body: {
            participantId,
            conductedOn: today,
            interviewer: INTERVIEWERS[cell.siteCode],
            durationMinutes: durationOf(candidate.label),
            location: `ICCMW centre ${cell.siteCode}`,
            audioRecorded: true,
          },
        }),
      );
      if (!candidate.caseWorker) {
        const reference = `interview coupon ${candidate.label}`;
        await post(() =>
          client.post(`${SUBSTUDY_PATH}/{substudyCode}/interviews/{interviewId}/coupon`, {
            params: { path: { ...path, interviewId: interview.id } },
            body: { issuedOn: today, reference },
          }),
        );
        issued.push({ label: candidate.label, arm: cell.arm, reference, issuedOn: today });
      }
    }
    input.tick();
    return issued;
  });

  const round = await post(() =>
    client.post(`${SUBSTUDY_PATH}/{substudyCode}/coding-rounds`, {
      params: { path },
      body: { coders: ['ST', 'IWKL'], codings: paperCodings(), note: 'first round, transcripts 1–6' },
    }),
  );
  const sampling = await post(() => client.get(`${SUBSTUDY_PATH}/{substudyCode}/sampling`, { params: { path } }));
  input.tick();
  return {
    sampling,
    coupons: coupons.flat().sort((a, b) => a.label.localeCompare(b.label)),
    round,
    requests,
  };
}

const THEMES = ['goal_attainment', 'strengths_focus', 'working_relationship', 'community_resources', 'hope'];

/** Two coders' codes for 17 transcript segments; they disagree on two (the paper's 15 of 17 = 88.2%). */
export function paperCodings(): { unit: string; coder: string; code: string }[] {
  return Array.from({ length: 17 }, (_, i) => {
    const unit = `t${String(1 + Math.floor(i / 3)).padStart(2, '0')}-s${String(1 + (i % 3)).padStart(2, '0')}`;
    const code = THEMES[i % THEMES.length]!;
    const other = i === 5 || i === 13 ? THEMES[(i + 1) % THEMES.length]! : code;
    return [
      { unit, coder: 'ST', code },
      { unit, coder: 'IWKL', code: other },
    ];
  }).flat();
}

const ROLE_NAMES = { service_user: 'Service users', case_worker: 'Case workers' } as const;

/** Table 3 as the service counted it, and the coders' agreement. */
export function formatProcessEvaluation(evaluation: ProcessEvaluation): string {
  const { sampling, round } = evaluation;
  const arms = [...new Set(sampling.rows.map((row) => row.arm))];
  const lines = [
    `Process evaluation (sub-study ${sampling.substudy}): interviews per centre, arm and role (Table 3)`,
    `  ${'Centre'.padEnd(8)}${'Role'.padEnd(15)}${arms.map((arm) => `${arm} (target/invited/declined/interviewed)`.padEnd(44)).join('')}`,
  ];
  const sites = [...new Set(sampling.rows.map((row) => row.siteCode))];
  for (const site of sites)
    for (const role of ['case_worker', 'service_user'] as const) {
      const cells = arms.map((arm) => {
        const row = sampling.rows.find((r) => r.siteCode === site && r.arm === arm && r.role === role);
        return (row ? `${row.target}/${row.invited}/${row.declined}/${row.interviewed}` : '–').padEnd(44);
      });
      lines.push(`  ${site.padEnd(8)}${ROLE_NAMES[role].padEnd(15)}${cells.join('')}`);
    }
  for (const total of sampling.totals.filter((t) => t.role !== 'all'))
    lines.push(
      `  Total ${ROLE_NAMES[total.role as keyof typeof ROLE_NAMES].toLowerCase()}: ${total.interviewed} interviewed of ${total.target} (gap ${total.gap}; ${total.declined} declined)`,
    );
  const kappa = round.agreement.cohensKappa?.unweighted;
  const pa = round.agreement.percentAgreement;
  lines.push(
    `Coding agreement, round ${round.round} (${round.coders.join(' and ')}): ${pa.agreeing} of ${pa.units} = ${pa.percent?.toFixed(1)}%` +
      (kappa === undefined || kappa.value === null
        ? ''
        : `; Cohen's kappa ${kappa.value.toFixed(3)} (SE ${kappa.standardError?.toFixed(3)}, 95% CI ${kappa.confidenceInterval?.lower.toFixed(3)} to ${kappa.confidenceInterval?.upper.toFixed(3)})`) +
      `; Krippendorff's alpha ${round.agreement.krippendorffAlpha.value?.toFixed(3) ?? 'undefined'}`,
  );
  return lines.join('\n');
}
