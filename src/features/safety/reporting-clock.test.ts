import {
  ClockedEvent,
  DEFAULT_CLOCK_SETTINGS,
  dateInTimeZone,
  ethicsCategory,
  formatInTimeZone,
  hoursRemaining,
  isRelated,
  isValidTimeZone,
  reportingClocks,
} from './reporting-clock';

const HK = { ...DEFAULT_CLOCK_SETTINGS, timeZone: 'Asia/Hong_Kong' };

function serious(overrides: Partial<ClockedEvent> = {}): ClockedEvent {
  return {
    serious: { criteria: ['hospitalization'] },
    relatedness: 'not_related',
    expected: false,
    outcome: null,
    awareAt: new Date('2026-11-27T15:30:00Z'),
    reportedToSponsorAt: null,
    reportedToEthicsAt: null,
    ...overrides,
  };
}

const iso = (d: Date) => d.toISOString();

describe('reporting clocks', () => {
  it('run through the weekend: aware late on a Friday in Hong Kong, the 24-hour report is due on Saturday night', () => {
    // Friday 27 November 2026, 23:30 in Hong Kong.
    const aware = new Date('2026-11-27T15:30:00Z');
    expect(formatInTimeZone(aware, 'Asia/Hong_Kong')).toBe('2026-11-27T23:30:00+08:00');
    const [sponsor, ethics] = reportingClocks(serious({ awareAt: aware }), HK, aware);
    expect(iso(sponsor!.dueAt)).toBe('2026-11-28T15:30:00.000Z');
    expect(formatInTimeZone(sponsor!.dueAt, HK.timeZone)).toBe('2026-11-28T23:30:00+08:00');
    expect(new Date(sponsor!.dueAt).getUTCDay()).toBe(6);
    expect(ethics).toMatchObject({ clock: 'ethics', category: 'other_serious' });
    expect(iso(ethics!.dueAt)).toBe('2026-12-12T15:30:00.000Z');
    expect(formatInTimeZone(ethics!.dueAt, HK.timeZone)).toBe('2026-12-12T23:30:00+08:00');
  });

  it('are elapsed time in UTC: across the end of British summer time the London wall clock moves, Hong Kong’s does not', () => {
    // British summer time ends on Sunday 25 October 2026 at 01:00 UTC; Hong Kong has no daylight saving.
    const aware = new Date('2026-10-20T10:00:00Z');
    const event = serious({ awareAt: aware, outcome: 'fatal', relatedness: 'probable' });
    const london = reportingClocks(event, { ...DEFAULT_CLOCK_SETTINGS, timeZone: 'Europe/London' }, aware);
    const hongKong = reportingClocks(event, HK, aware);
    expect(london[1]!.category).toBe('fatal_or_life_threatening_unexpected_related');
    expect(iso(london[1]!.dueAt)).toBe('2026-10-27T10:00:00.000Z');
    expect(iso(hongKong[1]!.dueAt)).toBe(iso(london[1]!.dueAt));
    expect(london[1]!.dueAt.getTime() - aware.getTime()).toBe(7 * 24 * 3_600_000);
    expect(formatInTimeZone(aware, 'Europe/London')).toBe('2026-10-20T11:00:00+01:00');
    expect(formatInTimeZone(london[1]!.dueAt, 'Europe/London')).toBe('2026-10-27T10:00:00+00:00');
    expect(formatInTimeZone(aware, 'Asia/Hong_Kong')).toBe('2026-10-20T18:00:00+08:00');
    expect(formatInTimeZone(hongKong[1]!.dueAt, 'Asia/Hong_Kong')).toBe('2026-10-27T18:00:00+08:00');
  });

  it('cross the start of summer time as 24 elapsed hours (local 23:30 becomes 00:30 two days later)', () => {
    const aware = new Date('2026-03-28T23:30:00Z');
    const [sponsor] = reportingClocks(serious({ awareAt: aware }), DEFAULT_CLOCK_SETTINGS, aware);
    expect(iso(sponsor!.dueAt)).toBe('2026-03-29T23:30:00.000Z');
    expect(formatInTimeZone(sponsor!.dueAt, 'Europe/London')).toBe('2026-03-30T00:30:00+01:00');
  });

  it('count 29 February like any other day', () => {
    const aware = new Date('2028-02-28T12:00:00Z');
    const [sponsor, ethics] = reportingClocks(serious({ awareAt: aware }), HK, aware);
    expect(iso(sponsor!.dueAt)).toBe('2028-02-29T12:00:00.000Z');
    expect(iso(ethics!.dueAt)).toBe('2028-03-14T12:00:00.000Z');
  });

  it('use the trial’s own durations', () => {
    const aware = new Date('2026-01-01T00:00:00Z');
    const settings = { timeZone: 'UTC', initialReportHours: 48, fatalOrLifeThreateningDays: 10, otherSeriousDays: 30 };
    const fatal = reportingClocks(
      serious({ awareAt: aware, serious: { criteria: ['death'] }, relatedness: 'definite' }),
      settings,
      aware,
    );
    expect(fatal.map((c) => iso(c.dueAt))).toEqual(['2026-01-03T00:00:00.000Z', '2026-01-11T00:00:00.000Z']);
    const other = reportingClocks(serious({ awareAt: aware }), settings, aware);
    expect(iso(other[1]!.dueAt)).toBe('2026-01-31T00:00:00.000Z');
  });

  it('start only for serious events whose awareness time is known', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    expect(reportingClocks(serious({ serious: null }), HK, now)).toEqual([]);
    expect(reportingClocks(serious({ awareAt: null }), HK, now)).toEqual([]);
  });

  it('are due until the deadline, late after it, and judged by the recorded report time once reported', () => {
    const aware = new Date('2026-11-27T15:30:00Z');
    const due = new Date('2026-11-28T15:30:00Z');
    const at = (ms: number) => new Date(due.getTime() + ms);
    const sponsorStatus = (now: Date, reportedToSponsorAt: Date | null = null) =>
      reportingClocks(serious({ awareAt: aware, reportedToSponsorAt }), HK, now)[0]!.status;
    expect(sponsorStatus(aware)).toBe('due');
    expect(sponsorStatus(due)).toBe('due');
    expect(sponsorStatus(at(1))).toBe('late');
    expect(sponsorStatus(at(1_000_000), due)).toBe('reported_on_time');
    expect(sponsorStatus(at(1_000_000), at(1))).toBe('reported_late');
    expect(sponsorStatus(aware, at(-3_600_000))).toBe('reported_on_time');
  });
});

describe('ethics category', () => {
  const base = {
    serious: { criteria: ['life_threatening' as const] },
    relatedness: 'possible' as const,
    expected: false,
  };
  it.each([
    [{}, 'fatal_or_life_threatening_unexpected_related'],
    [{ expected: true }, 'other_serious'],
    [{ relatedness: 'unlikely' as const }, 'other_serious'],
    [{ relatedness: 'not_related' as const }, 'other_serious'],
    [{ serious: { criteria: ['hospitalization' as const] } }, 'other_serious'],
    [
      { serious: { criteria: ['hospitalization' as const] }, outcome: 'fatal' as const },
      'fatal_or_life_threatening_unexpected_related',
    ],
    [{ serious: { criteria: ['death' as const] } }, 'fatal_or_life_threatening_unexpected_related'],
    [{ serious: null }, null],
  ])('%j → %s', (overrides, category) => {
    expect(ethicsCategory({ outcome: null, ...base, ...overrides })).toBe(category);
  });

  it('counts possible, probable and definite as related', () => {
    expect(['not_related', 'unlikely', 'possible', 'probable', 'definite'].map((r) => isRelated(r as never))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });
});

describe('time zone helpers', () => {
  it('format with the zone’s offset, negative and half-hour ones included', () => {
    const instant = new Date('2026-07-01T12:34:56.789Z');
    expect(formatInTimeZone(instant, 'UTC')).toBe('2026-07-01T12:34:56+00:00');
    expect(formatInTimeZone(instant, 'America/New_York')).toBe('2026-07-01T08:34:56-04:00');
    expect(formatInTimeZone(instant, 'Asia/Kolkata')).toBe('2026-07-01T18:04:56+05:30');
    expect(formatInTimeZone(new Date('2026-12-31T20:00:00Z'), 'Asia/Hong_Kong')).toBe('2027-01-01T04:00:00+08:00');
    expect(dateInTimeZone(new Date('2026-12-31T20:00:00Z'), 'Asia/Hong_Kong')).toBe('2027-01-01');
  });

  it('know IANA names and refuse others', () => {
    expect(isValidTimeZone('Asia/Hong_Kong')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  it('count hours remaining towards the deadline side', () => {
    const due = new Date('2026-11-28T15:30:00Z');
    expect(hoursRemaining(due, new Date('2026-11-27T15:30:00Z'))).toBe(24);
    expect(hoursRemaining(due, new Date('2026-11-28T15:00:00Z'))).toBe(0);
    expect(hoursRemaining(due, new Date('2026-11-28T16:00:00Z'))).toBe(-1);
    expect(hoursRemaining(due, new Date('2026-11-29T15:30:00Z'))).toBe(-24);
  });
});
