import type {
  ConsortAggregation,
  ConsortArmAggregation,
  ConsortCriterion,
  ReasonedCountInput,
} from '../../src/features/consort/consort';

/** mulberry32: a tiny seeded generator, so that every property test draws the same cases on every run. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomInteger(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new RangeError('cannot pick from an empty list');
  return item;
}

/** The SMCM trial's criteria (README walkthrough) plus one that service users are not screened against. */
export const SMCM_CRITERIA: ConsortCriterion[] = [
  { code: 'age18', text: 'Aged 18 or above' },
  { code: 'chinese', text: 'Ethnically Chinese' },
  { code: 'cantonese', text: 'Cantonese speaking' },
  { code: 'written_consent', text: 'Able to give written informed consent' },
  { code: 'immediate_risk', text: 'Likely to engage in immediate risk behaviour (suicide and/or violence)' },
  { code: 'overt_symptoms', text: 'Overt symptoms; cannot sustain a meaningful conversation for more than 10 minutes' },
  { code: 'caseload', text: 'Holds a caseload at the centre', roles: ['case_worker'] },
];

/** Free text as coordinators type it, markup, entities and all. */
export const HOSTILE_REASONS: readonly (string | null)[] = [
  null,
  '',
  '   ',
  'Moved away',
  '  Moved away ',
  'moved away',
  '<script>alert("consort")</script>',
  'R&D staff said "no"',
  "Partner's decision > patient's",
  'C:\\Users\\coordinator wrote this',
  '住院治療中，無法聯絡',
  'Hospitalised\nafter\tbaseline',
  'Withdrew consent and asked for every record about them to be deleted from the study database',
  'Averyveryverylongwordwithoutanyspacesthatcannotbewrappedatawordboundary',
  '&amp; already escaped &lt;',
  'not given',
];

/** `total` participants spread over random reasons, one reason each. */
function randomReasoned(random: () => number, total: number): ReasonedCountInput {
  const counts = new Map<string | null, number>();
  for (let participant = 0; participant < total; participant += 1) {
    const reason = pick(random, HOSTILE_REASONS);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return { total, reasons: [...counts].map(([reason, count]) => ({ reason, count })) };
}

function randomArm(random: () => number, label: string): ConsortArmAggregation {
  const allocated = randomInteger(random, 0, 120);
  const upTo = (share: number): number => randomInteger(random, 0, Math.floor(allocated * share));
  return {
    label,
    allocated,
    didNotReceiveAllocatedIntervention: randomReasoned(random, upTo(0.2)),
    lostToFollowUp: randomReasoned(random, upTo(0.3)),
    discontinuedIntervention: randomReasoned(random, upTo(0.2)),
    excludedFromAnalysis: randomReasoned(random, upTo(0.1)),
  };
}

const ARM_LABELS = ['SMCM', 'TAU', 'Group 1', 'Group 2', 'Waiting list', 'A & <B>', '"Quoted" arm'] as const;

/** An aggregation that adds up: what a correct SQL query returns for some trial. */
export function randomConsistentAggregation(random: () => number): ConsortAggregation {
  const screened = SMCM_CRITERIA.filter((criterion) => criterion.roles === undefined);
  const ineligibleTotal = randomInteger(random, 0, 150);
  const failures = new Map<string, number>();
  for (let participant = 0; participant < ineligibleTotal; participant += 1) {
    const failed = new Set([pick(random, screened).code]);
    if (random() < 0.3) failed.add(pick(random, screened).code);
    for (const code of failed) failures.set(code, (failures.get(code) ?? 0) + 1);
  }
  const declined = randomReasoned(random, randomInteger(random, 0, 60));
  const notRandomized = randomReasoned(random, randomInteger(random, 0, 40));
  const pendingRandomization = random() < 0.5 ? 0 : randomInteger(random, 1, 30);
  const arms = Array.from({ length: randomInteger(random, 2, 4) }, (_, index) =>
    randomArm(random, random() < 0.3 ? pick(random, ARM_LABELS) : `Group ${index + 1}`),
  );
  const randomized = arms.reduce((total, arm) => total + arm.allocated, 0);
  const excludedTotal = ineligibleTotal + declined.total + notRandomized.total;
  return {
    assessedForEligibility: excludedTotal + pendingRandomization + randomized,
    excludedTotal,
    ineligibleTotal,
    unmetCriteria: [...failures].map(([code, count]) => ({ code, count })),
    declinedToParticipate: declined,
    notRandomized,
    pendingRandomization,
    randomized,
    arms,
  };
}

/** Counts shaped like the SMCM trial's published flow (two arms, 1000 screened, 534 randomized). */
export function smcmAggregation(): ConsortAggregation {
  return {
    assessedForEligibility: 1000,
    excludedTotal: 466,
    ineligibleTotal: 286,
    unmetCriteria: [
      { code: 'chinese', count: 82 },
      { code: 'age18', count: 30 },
      { code: 'cantonese', count: 90 },
      { code: 'written_consent', count: 60 },
      { code: 'immediate_risk', count: 40 },
    ],
    declinedToParticipate: {
      total: 80,
      reasons: [
        { reason: 'Not interested', count: 50 },
        { reason: 'Too busy', count: 20 },
        { reason: null, count: 10 },
      ],
    },
    notRandomized: {
      total: 100,
      reasons: [{ reason: 'Could not be reached before randomization closed', count: 100 }],
    },
    pendingRandomization: 0,
    randomized: 534,
    arms: [
      {
        label: 'SMCM',
        allocated: 268,
        didNotReceiveAllocatedIntervention: {
          total: 3,
          reasons: [
            { reason: 'Moved out of the catchment area', count: 2 },
            { reason: '', count: 1 },
          ],
        },
        lostToFollowUp: {
          total: 20,
          reasons: [
            { reason: 'Could not be contacted', count: 12 },
            { reason: 'Refused interview', count: 8 },
          ],
        },
        discontinuedIntervention: { total: 4, reasons: [{ reason: 'Withdrew consent', count: 4 }] },
        excludedFromAnalysis: { total: 6, reasons: [{ reason: 'Withdrew consent', count: 6 }] },
      },
      {
        label: 'TAU',
        allocated: 266,
        didNotReceiveAllocatedIntervention: { total: 0, reasons: [] },
        lostToFollowUp: { total: 25, reasons: [{ reason: 'Could not be contacted', count: 25 }] },
        discontinuedIntervention: { total: 0, reasons: [] },
        excludedFromAnalysis: { total: 8, reasons: [{ reason: 'Died', count: 8 }] },
      },
    ],
  };
}

export const SMCM_META = { trialId: '0f8e9c1e-3d7a-4c43-9a55-1f6b2b0c7d11', asOf: '2019-12-31' };
