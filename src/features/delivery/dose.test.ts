import {
  distribution,
  doseByArmAndSite,
  dosePeriodEnd,
  DoseFacts,
  earliestWithdrawal,
  medianInterval,
  participantDose,
  plannedSessions,
} from './dose';

const plan = { plannedIntervalDays: 14, minimumSessions: 6 };

const facts = (overrides: Partial<DoseFacts> = {}): DoseFacts => ({
  participantId: 'p1',
  label: 'SU-1',
  siteCode: 'A',
  arm: 'SMCM',
  randomizedOn: '2018-01-01',
  withdrawnOn: null,
  sessions: [],
  ...overrides,
});

describe('dosePeriodEnd', () => {
  it('ends on the last day of the intervention period (randomization day + period - 1)', () => {
    expect(dosePeriodEnd('2018-01-01', 182, null, '2019-01-01')).toEqual({
      end: '2018-07-01',
      reason: 'intervention_period',
    });
    expect(dosePeriodEnd('2018-01-01', 1, null, '2019-01-01')).toEqual({
      end: '2018-01-01',
      reason: 'intervention_period',
    });
  });

  it('ends the day before a withdrawal inside the period, and ignores one after it', () => {
    expect(dosePeriodEnd('2018-01-01', 182, '2018-02-12', '2019-01-01')).toEqual({
      end: '2018-02-11',
      reason: 'withdrawal',
    });
    expect(dosePeriodEnd('2018-01-01', 182, '2018-07-02', '2019-01-01').reason).toBe('intervention_period');
    // Withdrawal on the day after the last day: the period ends as planned, not one day earlier.
    expect(dosePeriodEnd('2018-01-01', 182, '2018-07-02', '2019-01-01').end).toBe('2018-07-01');
    expect(dosePeriodEnd('2018-01-01', 182, '2018-07-01', '2019-01-01')).toEqual({
      end: '2018-06-30',
      reason: 'withdrawal',
    });
  });

  it('ends today while the period runs, and today wins a tie with the withdrawal day', () => {
    expect(dosePeriodEnd('2018-01-01', 182, null, '2018-01-20')).toEqual({ end: '2018-01-20', reason: 'today' });
    expect(dosePeriodEnd('2018-01-01', 182, null, '2018-07-01')).toEqual({
      end: '2018-07-01',
      reason: 'intervention_period',
    });
    expect(dosePeriodEnd('2018-01-01', 182, '2018-01-21', '2018-01-20')).toEqual({
      end: '2018-01-20',
      reason: 'withdrawal',
    });
  });

  it('crosses 29 February in a leap year', () => {
    expect(dosePeriodEnd('2020-02-28', 3, null, '2021-01-01').end).toBe('2020-03-01');
    expect(dosePeriodEnd('2019-02-28', 3, null, '2021-01-01').end).toBe('2019-03-02');
  });
});

describe('plannedSessions', () => {
  it('counts whole planned intervals', () => {
    expect(plannedSessions(182, 14)).toBe(13);
    expect(plannedSessions(14, 14)).toBe(1);
    expect(plannedSessions(13, 14)).toBe(0);
    expect(plannedSessions(0, 14)).toBe(0);
    expect(plannedSessions(-3, 14)).toBe(0);
    expect(plannedSessions(30, 7)).toBe(4);
  });
});

describe('medianInterval', () => {
  it('is null below two sessions and the median gap otherwise, whatever the order', () => {
    expect(medianInterval([])).toBeNull();
    expect(medianInterval(['2018-01-01'])).toBeNull();
    expect(medianInterval(['2018-01-15', '2018-01-01'])).toBe(14);
    expect(medianInterval(['2018-01-01', '2018-01-15', '2018-01-29', '2018-02-26'])).toBe(14);
    expect(medianInterval(['2018-01-01', '2018-01-11', '2018-01-22'])).toBe(10.5);
    expect(medianInterval(['2018-01-01', '2018-01-01'])).toBe(0);
    expect(medianInterval(['2020-02-27', '2020-03-01'])).toBe(3);
  });
});

describe('participantDose', () => {
  it('has nothing yet on the randomization day', () => {
    const dose = participantDose(facts(), plan, 182, '2018-01-01', 0);
    expect(dose).toMatchObject({
      sessions: 0,
      minutes: 0,
      firstSession: null,
      lastSession: null,
      medianIntervalDays: null,
      plannedSessions: 0,
      adherence: null,
      reachedMinimum: false,
      periodEnd: '2018-01-01',
      periodEndReason: 'today',
    });
  });

  it('plans one session per completed fortnight so far', () => {
    expect(participantDose(facts(), plan, 182, '2018-01-13', 0).plannedSessions).toBe(0);
    expect(participantDose(facts(), plan, 182, '2018-01-14', 0).plannedSessions).toBe(1);
    const dose = participantDose(
      facts({ sessions: [{ date: '2018-01-03', minutes: 30 }] }),
      plan,
      182,
      '2018-01-14',
      0,
    );
    expect(dose.adherence).toBe(1);
  });

  it('counts fortnightly sessions with a gap over the whole period', () => {
    const sessions = [0, 14, 28, 56, 70, 84, 98].map((day) => ({
      date: new Date(Date.UTC(2018, 0, 1 + day)).toISOString().slice(0, 10),
      minutes: 30,
    }));
    const dose = participantDose(facts({ sessions }), plan, 182, '2019-01-01', 0);
    expect(dose).toMatchObject({
      sessions: 7,
      minutes: 210,
      firstSession: '2018-01-01',
      lastSession: '2018-04-09',
      medianIntervalDays: 14,
      plannedSessions: 13,
      adherence: 0.5385,
      reachedMinimum: true,
    });
  });

  it('stops counting at a withdrawal mid-period and plans only up to it', () => {
    const sessions = [
      { date: '2018-01-04', minutes: 30 },
      { date: '2018-01-11', minutes: 40 },
      { date: '2018-01-25', minutes: 50 },
    ];
    const dose = participantDose(facts({ sessions, withdrawnOn: '2018-02-12' }), plan, 182, '2019-01-01', 0);
    expect(dose).toMatchObject({
      sessions: 3,
      minutes: 120,
      plannedSessions: 3,
      adherence: 1,
      periodEnd: '2018-02-11',
    });
    const early = participantDose(facts({ sessions, withdrawnOn: '2018-01-11' }), plan, 182, '2019-01-01', 0);
    expect(early).toMatchObject({ sessions: 1, plannedSessions: 0, adherence: null, periodEndReason: 'withdrawal' });
  });

  it('leaves out sessions after the period and before randomization', () => {
    const sessions = [
      { date: '2017-12-31', minutes: 30 },
      { date: '2018-07-01', minutes: 30 },
      { date: '2018-07-02', minutes: 30 },
    ];
    const dose = participantDose(facts({ sessions }), plan, 182, '2019-01-01', 0);
    expect(dose).toMatchObject({ sessions: 1, firstSession: '2018-07-01', lastSession: '2018-07-01' });
  });

  it('reaches the minimum at exactly minimumSessions', () => {
    const sessions = Array.from({ length: 6 }, (_, i) => ({
      date: `2018-01-${String(i + 1).padStart(2, '0')}`,
      minutes: 30,
    }));
    expect(participantDose(facts({ sessions }), plan, 182, '2019-01-01', 0).reachedMinimum).toBe(true);
    expect(participantDose(facts({ sessions: sessions.slice(1) }), plan, 182, '2019-01-01', 0).reachedMinimum).toBe(
      false,
    );
    expect(participantDose(facts(), { ...plan, minimumSessions: 0 }, 182, '2019-01-01', 0).reachedMinimum).toBe(true);
    // Per-protocol eligible in delivery's view: the minimum reached and no major deviation.
    expect(participantDose(facts({ sessions }), plan, 182, '2019-01-01', 0)).toMatchObject({
      majorDeviations: 0,
      perProtocolEligible: true,
    });
    expect(participantDose(facts({ sessions }), plan, 182, '2019-01-01', 1)).toMatchObject({
      majorDeviations: 1,
      perProtocolEligible: false,
    });
    expect(
      participantDose(facts({ sessions: sessions.slice(1) }), plan, 182, '2019-01-01', 0).perProtocolEligible,
    ).toBe(false);
  });
});

describe('distribution', () => {
  it("gives R's type 7 median and quartiles (quantile(c(0, 3, 5, 7, 13)) = 0 3 5 7 13)", () => {
    expect(distribution([13, 0, 7, 5, 3])).toEqual({ n: 5, median: 5, q1: 3, q3: 7 });
    // quantile(c(3, 5)) -> 25%: 3.5, 50%: 4, 75%: 4.5
    expect(distribution([5, 3])).toEqual({ n: 2, median: 4, q1: 3.5, q3: 4.5 });
    expect(distribution([7])).toEqual({ n: 1, median: 7, q1: 7, q3: 7 });
    expect(distribution([])).toEqual({ n: 0, median: null, q1: null, q3: null });
  });
});

describe('doseByArmAndSite', () => {
  it('groups by arm and site and counts who reached the minimum', () => {
    const dose = (arm: string, siteCode: string, sessions: number, majorDeviations = 0) =>
      participantDose(
        facts({
          arm,
          siteCode,
          sessions: Array.from({ length: sessions }, (_, i) => ({ date: addDay(i), minutes: 30 })),
        }),
        plan,
        182,
        '2019-01-01',
        majorDeviations,
      );
    const rows = doseByArmAndSite(
      [
        dose('SMCM', 'A', 8),
        dose('SMCM', 'A', 2, 1),
        dose('SMCM', 'A', 6, 2),
        dose('TAU', 'A', 0),
        dose('SMCM', 'B', 13),
      ],
      () => 6,
    );
    expect(
      rows.map((r) => [
        r.arm,
        r.siteCode,
        r.participants,
        r.reachedMinimum,
        r.shareReachedMinimum,
        r.withMajorDeviation,
        r.perProtocolEligible,
      ]),
    ).toEqual([
      // SMCM at A: 8 sessions (eligible), 2 with a major deviation, 6 with two: one eligible, two with deviations.
      ['SMCM', 'A', 3, 2, 0.6667, 2, 1],
      ['TAU', 'A', 1, 0, 0, 0, 0],
      ['SMCM', 'B', 1, 1, 1, 0, 1],
    ]);
    expect(rows[0]!.sessions).toEqual({ n: 3, median: 6, q1: 4, q3: 7 });
    expect(rows[0]!.minutes).toEqual({ n: 3, median: 180, q1: 120, q3: 210 });
    expect(rows[1]!.adherence).toEqual({ n: 1, median: 0, q1: 0, q3: 0 });
  });
});

const addDay = (i: number) => new Date(Date.UTC(2018, 0, 1 + i)).toISOString().slice(0, 10);

describe('earliestWithdrawal', () => {
  it('takes the earliest date and ignores missing ones', () => {
    expect(earliestWithdrawal([])).toBeNull();
    expect(earliestWithdrawal([null, null])).toBeNull();
    expect(earliestWithdrawal(['2018-05-01', null, '2018-03-01'])).toBe('2018-03-01');
  });
});
