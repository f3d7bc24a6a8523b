import {
  buildConsortReport,
  checkConsortInvariants,
  ConsortInputError,
  groupReasons,
  numericLeaves,
  REASON_NOT_GIVEN,
  type ConsortReport,
} from './consort';
import {
  mulberry32,
  randomConsistentAggregation,
  SMCM_CRITERIA,
  SMCM_META,
  smcmAggregation,
} from '../../../test/support/consort-cases';

function smcmReport(): ConsortReport {
  return buildConsortReport(smcmAggregation(), SMCM_CRITERIA, SMCM_META);
}

/** Sets the number at a JSON pointer in place. */
function setNumber(report: ConsortReport, pointer: string, value: number): void {
  const tokens = pointer.split('/').slice(1);
  const last = tokens.pop();
  let target: unknown = report;
  for (const token of tokens) target = (target as Record<string, unknown>)[token];
  (target as Record<string, unknown>)[last as string] = value;
}

describe('buildConsortReport', () => {
  it('shapes the SMCM counts into the API report', () => {
    expect(smcmReport()).toEqual({
      trialId: SMCM_META.trialId,
      asOf: '2019-12-31',
      enrollment: {
        assessedForEligibility: 1000,
        excluded: {
          total: 466,
          notMeetingInclusionCriteria: {
            total: 286,
            reasons: [
              { reason: 'age18', text: 'Aged 18 or above', count: 30 },
              { reason: 'chinese', text: 'Ethnically Chinese', count: 82 },
              { reason: 'cantonese', text: 'Cantonese speaking', count: 90 },
              { reason: 'written_consent', text: 'Able to give written informed consent', count: 60 },
              {
                reason: 'immediate_risk',
                text: 'Likely to engage in immediate risk behaviour (suicide and/or violence)',
                count: 40,
              },
              {
                reason: 'overt_symptoms',
                text: 'Overt symptoms; cannot sustain a meaningful conversation for more than 10 minutes',
                count: 0,
              },
            ],
          },
          declinedToParticipate: {
            total: 80,
            reasons: [
              { reason: 'Not interested', count: 50 },
              { reason: 'Too busy', count: 20 },
              { reason: 'not given', count: 10 },
            ],
          },
          otherReasons: {
            total: 100,
            reasons: [{ reason: 'Could not be reached before randomization closed', count: 100 }],
          },
        },
        pendingRandomization: 0,
        randomized: 534,
      },
      arms: [
        {
          arm: 'SMCM',
          allocated: 268,
          receivedAllocatedIntervention: 265,
          didNotReceiveAllocatedIntervention: {
            total: 3,
            reasons: [
              { reason: 'Moved out of the catchment area', count: 2 },
              { reason: 'not given', count: 1 },
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
          analysed: 262,
          excludedFromAnalysis: { total: 6, reasons: [{ reason: 'Withdrew consent', count: 6 }] },
        },
        {
          arm: 'TAU',
          allocated: 266,
          receivedAllocatedIntervention: 266,
          didNotReceiveAllocatedIntervention: { total: 0, reasons: [] },
          lostToFollowUp: { total: 25, reasons: [{ reason: 'Could not be contacted', count: 25 }] },
          discontinuedIntervention: { total: 0, reasons: [] },
          analysed: 258,
          excludedFromAnalysis: { total: 8, reasons: [{ reason: 'Died', count: 8 }] },
        },
      ],
    });
  });

  it('lists every criterion service users are screened against, in trial order, zeros included', () => {
    const criteria = smcmReport().enrollment.excluded.notMeetingInclusionCriteria.reasons;
    expect(criteria.map((criterion) => criterion.reason)).toEqual([
      'age18',
      'chinese',
      'cantonese',
      'written_consent',
      'immediate_risk',
      'overt_symptoms',
    ]);
  });

  it('counts a participant failing two criteria once in the total but under both criteria', () => {
    const aggregation = {
      ...smcmAggregation(),
      assessedForEligibility: 1,
      excludedTotal: 1,
      ineligibleTotal: 1,
      unmetCriteria: [
        { code: 'chinese', count: 1 },
        { code: 'cantonese', count: 1 },
      ],
      declinedToParticipate: { total: 0, reasons: [] },
      notRandomized: { total: 0, reasons: [] },
      randomized: 0,
      arms: smcmAggregation().arms.map((arm) => ({ ...arm, ...emptyArmCounts(), allocated: 0 })),
    };
    const report = buildConsortReport(aggregation, SMCM_CRITERIA, SMCM_META);
    const notMeeting = report.enrollment.excluded.notMeetingInclusionCriteria;
    expect(notMeeting.total).toBe(1);
    expect(notMeeting.reasons.reduce((sum, criterion) => sum + criterion.count, 0)).toBe(2);
    expect(checkConsortInvariants(report)).toEqual([]);
  });

  it('carries the arm labels the caller chose, in the caller’s order', () => {
    const aggregation = smcmAggregation();
    const blinded = {
      ...aggregation,
      arms: aggregation.arms.map((arm, index) => ({ ...arm, label: `Group ${2 - index}` })),
    };
    expect(buildConsortReport(blinded, SMCM_CRITERIA, SMCM_META).arms.map((arm) => arm.arm)).toEqual([
      'Group 2',
      'Group 1',
    ]);
  });

  it.each([
    ['a count PostgreSQL returned as a string', { randomized: '534' }, '/randomized'],
    ['a negative count', { pendingRandomization: -1 }, '/pendingRandomization'],
    ['a fractional count', { excludedTotal: 466.5 }, '/excludedTotal'],
    ['a criterion the trial does not have', { unmetCriteria: [{ code: 'age65', count: 1 }] }, '/unmetCriteria/0/code'],
    [
      'a criterion service users are not screened against',
      { unmetCriteria: [{ code: 'caseload', count: 1 }] },
      '/unmetCriteria/0/code',
    ],
    [
      'a criterion listed twice',
      {
        unmetCriteria: [
          { code: 'age18', count: 1 },
          { code: 'age18', count: 2 },
        ],
      },
      '/unmetCriteria/1/code',
    ],
    [
      'a reason count that is not a number',
      { declinedToParticipate: { total: 1, reasons: [{ reason: 'x', count: null }] } },
      '/declinedToParticipate/reasons/0/count',
    ],
  ])('rejects %s, naming where it is', (_, override, pointer) => {
    const aggregation = { ...smcmAggregation(), ...override } as unknown as ReturnType<typeof smcmAggregation>;
    expect(() => buildConsortReport(aggregation, SMCM_CRITERIA, SMCM_META)).toThrow(
      expect.objectContaining({ name: 'ConsortInputError', pointer }),
    );
  });

  it('rejects a bad count inside an arm with the arm’s pointer', () => {
    const aggregation = smcmAggregation();
    const [first, second] = aggregation.arms;
    const broken = {
      ...aggregation,
      arms: [first!, { ...second!, lostToFollowUp: { total: Number.NaN, reasons: [] } }],
    };
    expect(() => buildConsortReport(broken, SMCM_CRITERIA, SMCM_META)).toThrow(ConsortInputError);
    expect(() => buildConsortReport(broken, SMCM_CRITERIA, SMCM_META)).toThrow('/arms/1/lostToFollowUp/total');
  });
});

function emptyArmCounts() {
  const none = { total: 0, reasons: [] };
  return {
    didNotReceiveAllocatedIntervention: none,
    lostToFollowUp: none,
    discontinuedIntervention: none,
    excludedFromAnalysis: none,
  };
}

describe('groupReasons', () => {
  it('merges reasons that differ only in surrounding whitespace', () => {
    expect(
      groupReasons(
        [
          { reason: 'Moved away', count: 2 },
          { reason: '  Moved away\n', count: 3 },
        ],
        '',
      ),
    ).toEqual([{ reason: 'Moved away', count: 5 }]);
  });

  it(`counts missing, empty and blank reasons as "${REASON_NOT_GIVEN}"`, () => {
    expect(
      groupReasons(
        [
          { reason: null, count: 1 },
          { reason: '', count: 2 },
          { reason: ' \t', count: 4 },
        ],
        '',
      ),
    ).toEqual([{ reason: REASON_NOT_GIVEN, count: 7 }]);
  });

  it('keeps case: free text is grouped as typed', () => {
    expect(
      groupReasons(
        [
          { reason: 'moved away', count: 1 },
          { reason: 'Moved away', count: 1 },
        ],
        '',
      ).map((row) => row.reason),
    ).toEqual(['Moved away', 'moved away']);
  });

  it('sorts by count descending, then by reason in code-unit order whatever the locale', () => {
    expect(
      groupReasons(
        [
          { reason: 'b', count: 1 },
          { reason: 'a', count: 1 },
          { reason: 'Z', count: 1 },
          { reason: 'rare', count: 1 },
          { reason: 'common', count: 9 },
          { reason: 'Ä', count: 1 },
        ],
        '',
      ),
    ).toEqual([
      { reason: 'common', count: 9 },
      { reason: 'Z', count: 1 },
      { reason: 'a', count: 1 },
      { reason: 'b', count: 1 },
      { reason: 'rare', count: 1 },
      { reason: 'Ä', count: 1 },
    ]);
  });

  it('drops reasons nobody gave', () => {
    expect(groupReasons([{ reason: 'none', count: 0 }], '')).toEqual([]);
  });
});

describe('checkConsortInvariants', () => {
  it('finds nothing wrong with the SMCM report', () => {
    expect(checkConsortInvariants(smcmReport())).toEqual([]);
  });

  it('property: every box of a report built from a consistent aggregation adds up', () => {
    const random = mulberry32(20101);
    for (let trial = 0; trial < 500; trial += 1) {
      const report = buildConsortReport(randomConsistentAggregation(random), SMCM_CRITERIA, SMCM_META);
      expect(checkConsortInvariants(report)).toEqual([]);
    }
  });

  it('property: changing any one count outside the criterion breakdown by one is reported', () => {
    const random = mulberry32(2025);
    const unreported: string[] = [];
    let perturbed = 0;
    for (let trial = 0; trial < 40; trial += 1) {
      const report = buildConsortReport(randomConsistentAggregation(random), SMCM_CRITERIA, SMCM_META);
      for (const { pointer, value } of numericLeaves(report)) {
        // A criterion count may move freely between its bounds: one participant can fail several criteria.
        if (pointer.startsWith('/enrollment/excluded/notMeetingInclusionCriteria/reasons/')) continue;
        for (const delta of [1, -1]) {
          const copy = structuredClone(report);
          setNumber(copy, pointer, value + delta);
          if (checkConsortInvariants(copy).length === 0) unreported.push(`${pointer} ${delta > 0 ? '+' : ''}${delta}`);
          perturbed += 1;
        }
      }
    }
    expect(unreported).toEqual([]);
    expect(perturbed).toBeGreaterThan(2_000);
  });

  it('reports an assessed count that does not match the boxes below it', () => {
    const report = smcmReport();
    report.enrollment.assessedForEligibility = 1001;
    expect(checkConsortInvariants(report)).toEqual([
      '/enrollment/assessedForEligibility: 1001 ≠ excluded 466 + pending randomization 0 + randomized 534 = 1000',
    ]);
  });

  it('reports an excluded total that is not the sum of its three groups', () => {
    const report = smcmReport();
    report.enrollment.excluded.total = 467;
    report.enrollment.assessedForEligibility = 1001;
    expect(checkConsortInvariants(report)).toEqual([
      '/enrollment/excluded/total: 467 ≠ not meeting inclusion criteria 286 + declined 80 + other reasons 100 = 466',
    ]);
  });

  it('reports arms that do not add up to the number randomized', () => {
    const report = smcmReport();
    report.enrollment.randomized = 535;
    report.enrollment.assessedForEligibility = 1001;
    expect(checkConsortInvariants(report)).toEqual(['/enrollment/randomized: 535 ≠ sum of allocated 534']);
  });

  it('reports received and analysed counts that do not add up to the arm', () => {
    const report = smcmReport();
    const arm = report.arms[1]!;
    arm.receivedAllocatedIntervention = 260;
    arm.analysed = 259;
    expect(checkConsortInvariants(report)).toEqual([
      '/arms/1/allocated: 266 ≠ received 260 + did not receive 0 = 260',
      '/arms/1/allocated: 266 ≠ analysed 259 + excluded from analysis 8 = 267',
    ]);
  });

  it('reports more participants lost or discontinued than allocated', () => {
    const report = smcmReport();
    const arm = report.arms[0]!;
    arm.lostToFollowUp = { total: 269, reasons: [{ reason: 'Could not be contacted', count: 269 }] };
    arm.discontinuedIntervention = { total: 270, reasons: [{ reason: 'Withdrew consent', count: 270 }] };
    expect(checkConsortInvariants(report)).toEqual([
      '/arms/0/lostToFollowUp/total: 269 > allocated 268',
      '/arms/0/discontinuedIntervention/total: 270 > allocated 268',
    ]);
  });

  it('reports free-text reasons that are out of order, repeat, are blank or zero, or miss their total', () => {
    const report = smcmReport();
    report.enrollment.excluded.declinedToParticipate.reasons = [
      { reason: 'Too busy', count: 20 },
      { reason: 'Not interested', count: 50 },
      { reason: 'Not interested', count: 9 },
      { reason: ' ', count: 1 },
      { reason: 'Moved', count: 0 },
    ];
    const pointer = '/enrollment/excluded/declinedToParticipate';
    expect(checkConsortInvariants(report)).toEqual([
      `${pointer}/reasons/1: not sorted by count descending, then reason ascending`,
      `${pointer}/reasons/2/reason: "Not interested" is listed twice`,
      `${pointer}/reasons/3/reason: is blank`,
      `${pointer}/reasons/4/count: a listed reason has count 0`,
    ]);
    report.enrollment.excluded.declinedToParticipate.reasons = [{ reason: 'Not interested', count: 79 }];
    expect(checkConsortInvariants(report)).toEqual([`${pointer}/total: 80 ≠ sum of reason counts 79`]);
  });

  it('reports criterion counts above the ineligible total, or too few to account for it', () => {
    const report = smcmReport();
    const notMeeting = report.enrollment.excluded.notMeetingInclusionCriteria;
    notMeeting.reasons[2]!.count = 300;
    const pointer = '/enrollment/excluded/notMeetingInclusionCriteria';
    expect(checkConsortInvariants(report)).toEqual([`${pointer}/reasons/2/count: 300 > total 286`]);
    notMeeting.reasons.forEach((criterion) => {
      criterion.count = 0;
    });
    expect(checkConsortInvariants(report)).toEqual([`${pointer}/total: 286 > sum of criterion counts 0`]);
  });

  it('reports negative and fractional counts with their pointers', () => {
    const report = smcmReport();
    report.arms[0]!.didNotReceiveAllocatedIntervention = { total: 269, reasons: [{ reason: 'Moved', count: 269 }] };
    report.arms[0]!.receivedAllocatedIntervention = -1;
    report.enrollment.pendingRandomization = 0.5;
    report.enrollment.assessedForEligibility = 1000.5;
    expect(checkConsortInvariants(report)).toEqual([
      '/enrollment/assessedForEligibility: 1000.5 is not a non-negative integer',
      '/enrollment/pendingRandomization: 0.5 is not a non-negative integer',
      '/arms/0/receivedAllocatedIntervention: -1 is not a non-negative integer',
    ]);
  });
});
