import { derivedDeviations, deviationList } from './deviations';
import { monthsBetween, supervisionPlanOf, supervisionRows } from './supervision';

describe('monthsBetween', () => {
  it('lists calendar months across a year end, both ends included', () => {
    expect(monthsBetween('2018-11', '2019-02')).toEqual(['2018-11', '2018-12', '2019-01', '2019-02']);
    expect(monthsBetween('2018-03', '2018-03')).toEqual(['2018-03']);
    expect(monthsBetween('2018-04', '2018-03')).toEqual([]);
    expect(monthsBetween('2000-01', '2030-12')).toHaveLength(120);
  });
});

describe('supervisionRows', () => {
  const workers = [
    { caseWorkerId: 'w1', label: 'CW-1', siteCode: 'A', arm: 'SMCM' },
    { caseWorkerId: 'w2', label: 'CW-2', siteCode: 'A', arm: 'SMCM' },
  ];
  const plan = [
    { kind: 'individual' as const, perMonth: 2 },
    { kind: 'group' as const, perMonth: 1 },
  ];
  it('counts each worker at each session attended, per month, against the plan', () => {
    const rows = supervisionRows(
      workers,
      [
        { date: '2018-03-01', kind: 'group', caseWorkerIds: ['w1', 'w2'], durationMinutes: 90 },
        { date: '2018-03-08', kind: 'individual', caseWorkerIds: ['w1'], durationMinutes: 30 },
        { date: '2018-03-29', kind: 'individual', caseWorkerIds: ['w1'], durationMinutes: 30 },
        { date: '2018-03-31', kind: 'field_mentoring', caseWorkerIds: ['w2'], durationMinutes: 120 },
        { date: '2018-04-01', kind: 'individual', caseWorkerIds: ['w1'], durationMinutes: 30 },
      ],
      ['2018-03', '2018-04'],
      () => plan,
    );
    expect(
      rows.map((r) => [r.caseWorkerId, r.month, r.individual, r.group, r.field_mentoring, r.minutes, r.met]),
    ).toEqual([
      ['w1', '2018-03', 2, 1, 0, 150, true],
      ['w1', '2018-04', 1, 0, 0, 30, false],
      ['w2', '2018-03', 0, 1, 1, 210, false],
      ['w2', '2018-04', 0, 0, 0, 0, false],
    ]);
  });
  it('meets an empty plan every month', () => {
    expect(supervisionRows(workers.slice(0, 1), [], ['2018-03'], () => [])[0]!.met).toBe(true);
  });
  it("judges each worker against the plan of the worker's arm", () => {
    const tau = { caseWorkerId: 'w3', label: 'CW-3', siteCode: 'A', arm: 'TAU' };
    const rows = supervisionRows(
      [workers[0]!, tau],
      [{ date: '2018-03-01', kind: 'group', caseWorkerIds: ['w1', 'w3'], durationMinutes: 90 }],
      ['2018-03'],
      (arm) => (arm === 'SMCM' ? [{ kind: 'group', perMonth: 1 }] : [{ kind: 'individual', perMonth: 1 }]),
    );
    expect(rows.map((r) => [r.caseWorkerId, r.arm, r.group, r.met])).toEqual([
      ['w1', 'SMCM', 1, true],
      ['w3', 'TAU', 1, false],
    ]);
  });
});

describe('supervisionPlanOf', () => {
  const base = {
    interventionPeriodDays: 182,
    tools: [],
    arms: [
      {
        arm: 'SMCM',
        sessionKinds: [{ code: 'smcm_session', label: 'SMCM' }],
        plannedIntervalDays: 14,
        plannedMinutes: 30,
        minimumSessions: 6,
        supervisionPlan: [
          { kind: 'individual' as const, perMonth: 4 },
          { kind: 'group' as const, perMonth: 1 },
        ],
      },
      {
        arm: 'TAU',
        sessionKinds: [{ code: 'tau_contact', label: 'TAU' }],
        plannedIntervalDays: 14,
        plannedMinutes: 30,
        minimumSessions: 6,
        supervisionPlan: [],
      },
      {
        arm: 'WAIT',
        sessionKinds: [{ code: 'call', label: 'call' }],
        plannedIntervalDays: 28,
        plannedMinutes: 10,
        minimumSessions: 1,
      },
    ],
    supervisionPlan: [{ kind: 'field_mentoring' as const, perMonth: 1 }],
  };
  it("takes the arm's own plan, an empty one included, else the trial-wide one", () => {
    expect(supervisionPlanOf(base, 'SMCM')).toEqual(base.arms[0]!.supervisionPlan);
    expect(supervisionPlanOf(base, 'TAU')).toEqual([]);
    expect(supervisionPlanOf(base, 'WAIT')).toEqual(base.supervisionPlan);
    expect(supervisionPlanOf(base, null)).toEqual(base.supervisionPlan);
    expect(supervisionPlanOf(base, 'OTHER')).toEqual(base.supervisionPlan);
  });
  it('is empty without any plan (the trial-wide form of existing trials stays valid)', () => {
    const { supervisionPlan: _trialWide, ...withoutTrialWide } = base;
    expect(supervisionPlanOf(withoutTrialWide, 'WAIT')).toEqual([]);
    expect(supervisionPlanOf(null, 'SMCM')).toEqual([]);
  });
});

describe('derivedDeviations and deviationList', () => {
  const session = {
    sessionId: '00000000-0000-4000-8000-000000000001',
    participantId: 'p1',
    siteCode: 'A',
    date: '2018-03-05',
    flags: ['worker_other_arm', 'after_intervention_period'] as const,
    recordedAt: '2018-03-05T10:00:00.000Z',
  };
  it('gives one deviation per flag, contamination major and off-period minor', () => {
    const derived = derivedDeviations({ ...session, flags: [...session.flags] });
    expect(
      derived.map((d) => [
        d.id.endsWith(':worker_other_arm') || d.id.endsWith(':after_intervention_period'),
        d.category,
        d.severity,
      ]),
    ).toEqual([
      [true, 'worker_other_arm', 'major'],
      [true, 'after_intervention_period', 'minor'],
    ]);
    expect(derivedDeviations({ ...session, flags: [] })).toEqual([]);
  });
  it('filters and orders recorded and derived deviations together', () => {
    const derived = derivedDeviations({ ...session, flags: [...session.flags] });
    const recorded = {
      ...derived[0]!,
      id: 'r1',
      source: 'recorded' as const,
      category: 'consent_late',
      occurredOn: '2018-03-01',
      sessionId: null,
    };
    expect(deviationList([recorded], derived, {}).map((d) => d.id)).toEqual(['r1', derived[0]!.id, derived[1]!.id]);
    expect(deviationList([recorded], derived, { source: 'derived', severity: 'major' })).toEqual([derived[0]]);
    expect(deviationList([recorded], derived, { category: 'consent_late' })).toEqual([recorded]);
    expect(deviationList([recorded], derived, { siteCode: 'B' })).toEqual([]);
    expect(deviationList([recorded], derived, { participantId: 'p1' })).toHaveLength(3);
  });
});
