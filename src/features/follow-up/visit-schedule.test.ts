import { addDays, daysBetween } from './calendar';
import type { Visit } from './follow-up-configuration';
import { ParticipantFollowUp, scheduleFor, scheduleVisit, windowOf } from './visit-schedule';

const baseline: Visit = { code: 'baseline', label: 'Baseline', day: 0, windowBefore: 30, windowAfter: 14 };
const m6: Visit = { code: 'm6', label: '6-month follow-up', day: 182, windowBefore: 30, windowAfter: 30 };
const m12: Visit = { code: 'm12', label: '12-month follow-up', day: 365, windowBefore: 30, windowAfter: 30 };

const randomized = (overrides: Partial<ParticipantFollowUp> = {}): ParticipantFollowUp => ({
  screenedOn: '2018-02-20',
  randomizedOn: '2018-03-05',
  followUpStopped: null,
  assessments: new Map(),
  missed: new Map(),
  ...overrides,
});

describe('calendar', () => {
  it('adds days across month, year and leap-day boundaries', () => {
    expect(addDays('2018-03-05', 182)).toBe('2018-09-03');
    expect(addDays('2024-02-29', 1)).toBe('2024-03-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2023-02-28', 1)).toBe('2023-03-01');
    expect(addDays('2024-02-29', 365)).toBe('2025-02-28');
    expect(addDays('2018-12-31', 1)).toBe('2019-01-01');
    expect(addDays('2018-01-01', -1)).toBe('2017-12-31');
  });

  it('counts days in both directions, inverse to addDays', () => {
    for (const start of ['2024-02-29', '2018-03-05', '2019-12-31'])
      for (const n of [-400, -1, 0, 1, 30, 182, 365, 366, 1000]) expect(daysBetween(start, addDays(start, n))).toBe(n);
  });
});

describe('windowOf', () => {
  it('puts the target at randomization + day and opens and closes around it', () => {
    expect(windowOf(m6, '2018-03-05')).toEqual({
      targetDate: '2018-09-03',
      windowOpens: '2018-08-04',
      windowCloses: '2018-10-03',
    });
  });

  it('handles a participant randomized on 29 February', () => {
    expect(windowOf(m6, '2024-02-29')).toEqual({
      targetDate: '2024-08-29',
      windowOpens: '2024-07-30',
      windowCloses: '2024-09-28',
    });
    expect(windowOf(m12, '2024-02-29').targetDate).toBe('2025-02-28');
    expect(windowOf(baseline, '2024-02-29')).toEqual({
      targetDate: '2024-02-29',
      windowOpens: '2024-01-30',
      windowCloses: '2024-03-14',
    });
  });
});

describe('scheduleVisit', () => {
  const today = '2018-09-10';

  it('counts an assessment on the first and on the last day of the window in it, the day after out', () => {
    const at = (date: string) => scheduleVisit(m6, randomized({ assessments: new Map([['m6', date]]) }), today);
    expect(at('2018-08-04')).toMatchObject({ status: 'completed', inWindow: true, daysFromRandomization: 152 });
    expect(at('2018-10-03')).toMatchObject({ status: 'completed', inWindow: true, daysFromRandomization: 212 });
    expect(at('2018-10-04')).toMatchObject({ status: 'completed', inWindow: false, daysFromRandomization: 213 });
    expect(at('2018-08-03')).toMatchObject({ status: 'completed', inWindow: false, daysFromRandomization: 151 });
  });

  it('is not due before the window, open from its first day through its last, overdue the day after', () => {
    const status = (day: string) => scheduleVisit(m6, randomized(), day).status;
    expect(status('2018-08-03')).toBe('not_due');
    expect(status('2018-08-04')).toBe('open');
    expect(status('2018-09-03')).toBe('open');
    expect(status('2018-10-03')).toBe('open');
    expect(status('2018-10-04')).toBe('overdue');
  });

  it('gives a 29 February participant windows by calendar days', () => {
    const leap = randomized({ screenedOn: '2024-02-20', randomizedOn: '2024-02-29' });
    expect(scheduleVisit(m6, leap, '2024-07-29').status).toBe('not_due');
    expect(scheduleVisit(m6, leap, '2024-07-30').status).toBe('open');
    expect(scheduleVisit(m6, leap, '2024-09-28').status).toBe('open');
    expect(scheduleVisit(m6, leap, '2024-09-29').status).toBe('overdue');
    const completed = scheduleVisit(m12, { ...leap, assessments: new Map([['m12', '2025-02-28']]) }, '2025-03-01');
    expect(completed).toMatchObject({ inWindow: true, daysFromRandomization: 365, targetDate: '2025-02-28' });
  });

  it('reports a missed visit with its reason, and an assessment outranks it', () => {
    const missed = new Map([['m6', { reason: 'could not be contacted', recordedOn: '2018-10-05' }]]);
    expect(scheduleVisit(m6, randomized({ missed }), today)).toMatchObject({
      status: 'missed',
      reason: 'could not be contacted',
    });
    const both = randomized({ missed, assessments: new Map([['m6', '2018-10-20']]) });
    expect(scheduleVisit(m6, both, today)).toMatchObject({ status: 'completed', inWindow: false });
  });

  it('stops expecting visits whose window has not closed when follow-up is withdrawn mid-window', () => {
    const stopped = randomized({ followUpStopped: { on: '2018-09-01', reason: 'withdrew from follow-up' } });
    expect(scheduleVisit(m6, stopped, '2018-09-02')).toMatchObject({
      status: 'not_expected',
      reason: 'withdrew from follow-up',
    });
    expect(scheduleVisit(m12, stopped, '2019-06-01').status).toBe('not_expected');
    // Withdrawn on the window's last day: nothing more can be expected either.
    const onLastDay = randomized({ followUpStopped: { on: '2018-10-03', reason: 'withdrew' } });
    expect(scheduleVisit(m6, onLastDay, '2018-10-10').status).toBe('not_expected');
    // Withdrawn after a window closed with nothing recorded: that visit was already overdue.
    const after = randomized({ followUpStopped: { on: '2018-10-04', reason: 'withdrew' } });
    expect(scheduleVisit(m6, after, '2018-10-10').status).toBe('overdue');
    expect(scheduleVisit(m12, after, '2018-10-10').status).toBe('not_expected');
    // What was recorded before the withdrawal stays recorded.
    const done = randomized({
      followUpStopped: { on: '2018-09-01', reason: 'withdrew' },
      assessments: new Map([['m6', '2018-08-20']]),
    });
    expect(scheduleVisit(m6, done, '2018-09-02')).toMatchObject({ status: 'completed', inWindow: true });
  });

  it('does not expect a visit added by amendment from participants already past its window', () => {
    const m3: Visit = { code: 'm3', label: '3-month call', day: 91, windowBefore: 14, windowAfter: 14 };
    // Window 2018-05-21 .. 2018-06-18 for a participant randomized 2018-03-05.
    expect(scheduleVisit(m3, randomized(), '2018-09-10', '2018-06-19')).toMatchObject({
      status: 'not_expected',
      reason: expect.stringContaining('2018-06-19'),
    });
    // Effective on the window's last day: still expected, and overdue now.
    expect(scheduleVisit(m3, randomized(), '2018-09-10', '2018-06-18').status).toBe('overdue');
    // A later participant is expected at it.
    const later = randomized({ randomizedOn: '2018-06-01' });
    expect(scheduleVisit(m3, later, '2018-08-20', '2018-06-19').status).toBe('open');
  });

  it('leaves an unrandomized participant without dates: baseline open, the rest not due', () => {
    const screened = randomized({ randomizedOn: null });
    expect(scheduleVisit(baseline, screened, today)).toMatchObject({
      status: 'open',
      targetDate: null,
      windowOpens: null,
      inWindow: null,
    });
    expect(scheduleVisit(m6, screened, today).status).toBe('not_due');
    const assessed = randomized({ randomizedOn: null, assessments: new Map([['baseline', '2018-02-21']]) });
    expect(scheduleVisit(baseline, assessed, today)).toMatchObject({
      status: 'completed',
      inWindow: null,
      daysFromRandomization: null,
    });
    const withdrawn = randomized({ randomizedOn: null, followUpStopped: { on: '2018-02-25', reason: 'withdrew' } });
    expect(scheduleVisit(baseline, withdrawn, today).status).toBe('not_expected');
  });

  it('puts a baseline assessment before randomization in the window when within windowBefore', () => {
    const at = (date: string) =>
      scheduleVisit(baseline, randomized({ assessments: new Map([['baseline', date]]) }), today);
    expect(at('2018-02-03')).toMatchObject({ inWindow: true, daysFromRandomization: -30 });
    expect(at('2018-02-02')).toMatchObject({ inWindow: false, daysFromRandomization: -31 });
  });
});

describe('scheduleFor', () => {
  it('lists every visit by day, each with exactly one status', () => {
    const schedule = scheduleFor(
      [m12, baseline, m6],
      randomized({ assessments: new Map([['baseline', '2018-03-01']]) }),
      '2018-09-10',
    );
    expect(schedule.map((v) => [v.visit, v.status])).toEqual([
      ['baseline', 'completed'],
      ['m6', 'open'],
      ['m12', 'not_due'],
    ]);
  });

  it('moves every visit through not_due -> open -> overdue as the days pass, never back', () => {
    const order = ['not_due', 'open', 'overdue'];
    for (const visit of [m6, m12]) {
      let previous = 0;
      for (let day = 0; day <= 500; day += 1) {
        const status = scheduleVisit(visit, randomized(), addDays('2018-03-05', day)).status;
        const rank = order.indexOf(status);
        expect(rank).toBeGreaterThanOrEqual(previous);
        previous = rank;
      }
      expect(previous).toBe(2);
    }
  });
});
