import { addDays } from '../follow-up/calendar';
import { longGapDeviation, majorDeviationCounts } from './deviations';
import type { DoseFacts } from './dose';
import { LONG_GAP_FACTOR, longGaps } from './long-gaps';

const R = '2018-01-01';
const LATER = '2019-06-01';

const facts = (sessionDays: number[], overrides: Partial<DoseFacts> = {}): DoseFacts => ({
  participantId: 'p1',
  label: 'SU-1',
  siteCode: 'A',
  arm: 'SMCM',
  randomizedOn: R,
  withdrawnOn: null,
  sessions: sessionDays.map((day) => ({ date: addDays(overrides.randomizedOn ?? R, day), minutes: 30 })),
  ...overrides,
});

/** Fortnightly from day 0 to day 168: every gap 14 days, the last session 13 days before the period's last day. */
const onPlan = [0, 14, 28, 42, 56, 70, 84, 98, 112, 126, 140, 154, 168];

describe('longGaps', () => {
  it('finds none in a fortnightly plan kept', () => {
    expect(LONG_GAP_FACTOR).toBe(2);
    expect(longGaps(facts(onPlan), 14, 182, LATER)).toEqual([]);
  });

  it('allows exactly twice the interval between sessions, and flags one day more', () => {
    expect(longGaps(facts([0, 28, 56, 84, 112, 140, 168]), 14, 182, LATER)).toEqual([]);
    expect(longGaps(facts([0, 29, 57, 85, 113, 141, 169]), 14, 182, LATER)).toEqual([
      {
        participantId: 'p1',
        siteCode: 'A',
        from: R,
        fromRandomization: false,
        to: addDays(R, 29),
        days: 29,
        breachedOn: addDays(R, 29),
      },
    ]);
  });

  it('measures the first gap from the randomization day', () => {
    expect(longGaps(facts([28, 42, 56, 70, 84, 98, 112, 126, 140, 154, 168]), 14, 182, LATER)).toEqual([]);
    const [gap] = longGaps(facts([29, 43, 57, 71, 85, 99, 113, 127, 141, 155, 169]), 14, 182, LATER);
    expect(gap).toMatchObject({ from: R, fromRandomization: true, to: addDays(R, 29), days: 29 });
  });

  it('counts a gap left open at the end of the period once its limit passed inside the period', () => {
    // The period's last day is day 181: a last session on day 153 leaves 28 days (on plan), on day 152 it leaves 29.
    expect(longGaps(facts([...onPlan.slice(0, 11), 153]), 14, 182, LATER)).toEqual([]);
    expect(longGaps(facts([...onPlan.slice(0, 11), 152]), 14, 182, LATER)).toEqual([
      expect.objectContaining({ from: addDays(R, 152), to: null, days: 29, breachedOn: addDays(R, 181) }),
    ]);
    // No session at all: one gap, from the randomization day to the period's last day.
    expect(longGaps(facts([]), 14, 182, LATER)).toEqual([
      expect.objectContaining({ from: R, fromRandomization: true, to: null, days: 181, breachedOn: addDays(R, 29) }),
    ]);
  });

  it('stops at an intervention withdrawal mid-period', () => {
    // Sessions on days 0 and 14, withdrawal on day 43: the period ends on day 42, 28 days after the last session.
    expect(longGaps(facts([0, 14], { withdrawnOn: addDays(R, 43) }), 14, 182, LATER)).toEqual([]);
    // Withdrawal on day 44: the period ends on day 43, and day 43 is past the limit.
    expect(longGaps(facts([0, 14], { withdrawnOn: addDays(R, 44) }), 14, 182, LATER)).toEqual([
      expect.objectContaining({ from: addDays(R, 14), to: null, days: 29, breachedOn: addDays(R, 43) }),
    ]);
    // Withdrawal on the randomization day: nothing was planned, nothing is a gap.
    expect(longGaps(facts([], { withdrawnOn: R }), 14, 182, LATER)).toEqual([]);
  });

  it('ignores sessions after the withdrawal or the period, and counts nothing after today', () => {
    const gaps = longGaps(facts([0, 14, 60], { withdrawnOn: addDays(R, 30) }), 14, 182, LATER);
    expect(gaps).toEqual([]);
    expect(longGaps(facts([0, 14, 200]), 14, 182, LATER)).toEqual([
      expect.objectContaining({ from: addDays(R, 14), to: null, days: 167 }),
    ]);
    // Today is day 40: the gap after day 14 has not passed its limit (day 43) yet.
    expect(longGaps(facts([0, 14]), 14, 182, addDays(R, 40))).toEqual([]);
    expect(longGaps(facts([0, 14]), 14, 182, addDays(R, 43))).toEqual([
      expect.objectContaining({ from: addDays(R, 14), to: null, days: 29 }),
    ]);
  });

  it('counts days across 29 February in a leap year', () => {
    // 2024-02-15 to 2024-03-15 is 29 days (a long gap); 2023-02-15 to 2023-03-15 is 28 (on plan).
    const leap = facts([], {
      randomizedOn: '2024-02-01',
      sessions: [
        { date: '2024-02-15', minutes: 30 },
        { date: '2024-03-15', minutes: 30 },
      ],
    });
    expect(longGaps(leap, 14, 60, '2024-03-20')).toEqual([
      expect.objectContaining({ from: '2024-02-15', to: '2024-03-15', days: 29, breachedOn: '2024-03-15' }),
    ]);
    const common = facts([], {
      randomizedOn: '2023-02-01',
      sessions: [
        { date: '2023-02-15', minutes: 30 },
        { date: '2023-03-15', minutes: 30 },
      ],
    });
    expect(longGaps(common, 14, 60, '2023-03-20')).toEqual([]);
    // The limit day itself, counted across the leap day: from 2024-02-20, the limit passes on 2024-03-20.
    expect(longGaps(facts([], { randomizedOn: '2024-02-20' }), 14, 60, '2024-03-19')).toEqual([]);
    expect(longGaps(facts([], { randomizedOn: '2024-02-20' }), 14, 60, '2024-03-20')).toEqual([
      expect.objectContaining({ breachedOn: '2024-03-20', days: 29 }),
    ]);
  });

  it('sorts sessions given in any order and treats two sessions on one day as no gap', () => {
    const shuffled = facts([...onPlan].reverse());
    expect(longGaps(shuffled, 14, 182, LATER)).toEqual([]);
    expect(longGaps(facts([0, 0, 14, 14, 28]), 14, 42, LATER)).toEqual([]);
  });

  it('scales with the planned interval', () => {
    // Weekly: 14 days between sessions is on plan, 15 is not; at a fortnightly plan 15 is on plan.
    expect(longGaps(facts([0, 14, 27]), 7, 28, LATER)).toEqual([]);
    expect(longGaps(facts([0, 15, 27]), 7, 28, LATER)).toEqual([
      expect.objectContaining({ from: R, to: addDays(R, 15), days: 15, breachedOn: addDays(R, 15) }),
    ]);
    expect(longGaps(facts([0, 15, 27]), 14, 28, LATER)).toEqual([]);
  });
});

describe('longGapDeviation and majorDeviationCounts', () => {
  it('makes a minor derived deviation dated on the first day past the limit, the same whenever computed', () => {
    const [closed] = longGaps(facts([0, 14, 28, 57]), 14, 182, LATER);
    expect(longGapDeviation(closed!, 14)).toEqual({
      id: `p1:long_gap:${addDays(R, 28)}`,
      source: 'derived',
      participantId: 'p1',
      siteCode: 'A',
      category: 'long_gap',
      severity: 'minor',
      occurredOn: addDays(R, 57),
      description: `29 days without a session after the session on ${addDays(R, 28)} (next session on ${addDays(R, 57)}); the plan allows 2 × 14 days`,
      correctiveAction: null,
      sessionId: null,
      recordedAt: `${addDays(R, 57)}T00:00:00.000Z`,
    });
    const [open] = longGaps(facts([]), 14, 182, LATER);
    expect(longGapDeviation(open!, 14).description).toBe(
      `181 days without a session after randomization on ${R} (no session since); the plan allows 2 × 14 days`,
    );
    expect(longGapDeviation(open!, 14).id).toBe(`p1:long_gap:${R}`);
  });

  it('counts major deviations per participant, recorded and derived, and ignores minor and site-level ones', () => {
    const deviation = (participantId: string | null, severity: 'minor' | 'major') => ({
      ...longGapDeviation(longGaps(facts([]), 14, 182, LATER)[0]!, 14),
      participantId,
      severity,
    });
    const counts = majorDeviationCounts([
      deviation('p1', 'major'),
      deviation('p1', 'major'),
      deviation('p1', 'minor'),
      deviation('p2', 'minor'),
      deviation(null, 'major'),
      deviation('p3', 'major'),
    ]);
    expect([...counts]).toEqual([
      ['p1', 2],
      ['p3', 1],
    ]);
  });
});
