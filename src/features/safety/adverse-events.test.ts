import { checkAdverseEvent, checkFollowUp, checkReportTime, isResolved } from './adverse-events';

const now = new Date('2026-11-29T12:00:00Z');
const context = { screenedOn: '2026-10-01', now, timeZone: 'Asia/Hong_Kong' };

describe('adverse event checks', () => {
  it('accept a non-serious event without awareness time, and a serious one with it', () => {
    expect(checkAdverseEvent({ onsetOn: '2026-11-01', serious: null, awareAt: null }, context)).toEqual([]);
    expect(
      checkAdverseEvent(
        { onsetOn: '2026-11-01', serious: { criteria: ['hospitalization'] }, awareAt: '2026-11-02T01:00:00Z' },
        context,
      ),
    ).toEqual([]);
  });

  it('need an awareness time for a serious event', () => {
    expect(
      checkAdverseEvent({ onsetOn: '2026-11-01', serious: { criteria: ['death'] }, awareAt: null }, context),
    ).toEqual([{ pointer: '/awareAt', detail: 'is required for a serious event: the reporting clocks start there' }]);
  });

  it('refuse an onset in the future or before screening', () => {
    const future = checkAdverseEvent({ onsetOn: '2026-12-05', serious: null, awareAt: null }, context);
    expect(future).toEqual([{ pointer: '/onsetOn', detail: 'is in the future' }]);
    const early = checkAdverseEvent({ onsetOn: '2026-09-30', serious: null, awareAt: null }, context);
    expect(early[0]!.detail).toMatch(/before the participant was screened on 2026-10-01/);
  });

  it('judge awareness before onset on the trial’s calendar', () => {
    // 2026-10-31T20:00Z is already 1 November in Hong Kong: aware on the day of onset, accepted.
    const onTheDay = { onsetOn: '2026-11-01', serious: null, awareAt: '2026-10-31T20:00:00Z' };
    expect(checkAdverseEvent(onTheDay, context)).toEqual([]);
    expect(checkAdverseEvent(onTheDay, { ...context, timeZone: 'UTC' })).toEqual([
      { pointer: '/awareAt', detail: 'is before the onset on 2026-11-01' },
    ]);
    expect(checkAdverseEvent({ ...onTheDay, awareAt: '2026-11-29T12:00:01Z' }, context)).toEqual([
      { pointer: '/awareAt', detail: 'is in the future' },
    ]);
  });
});

describe('follow-up checks', () => {
  const ctx = { onsetOn: '2026-11-01', now };
  it.each([
    [{}, []],
    [{ outcome: 'recovering' as const }, []],
    [{ outcome: 'recovered' as const, resolvedOn: '2026-11-20' }, []],
    [{ outcome: 'fatal' as const, resolvedOn: '2026-11-01' }, []],
    [{ outcome: 'recovered' as const }, ['/resolvedOn: is required with the final outcome recovered']],
    [
      { outcome: 'unknown' as const, resolvedOn: '2026-11-20' },
      ['/resolvedOn: goes with a final outcome (recovered, recovered_with_sequelae, fatal), not unknown'],
    ],
    [
      { resolvedOn: '2026-11-20' },
      ['/resolvedOn: goes with a final outcome (recovered, recovered_with_sequelae, fatal), not no outcome'],
    ],
    [{ outcome: 'recovered_with_sequelae' as const, resolvedOn: '2026-12-01' }, ['/resolvedOn: is in the future']],
    [{ outcome: 'recovered' as const, resolvedOn: '2026-10-31' }, ['/resolvedOn: is before the onset on 2026-11-01']],
  ])('%j', (followUp, expected) => {
    expect(checkFollowUp(followUp, ctx).map((e) => `${e.pointer}: ${e.detail}`)).toEqual(expected);
  });

  it('count only final outcomes as resolved', () => {
    expect(
      ['recovered', 'recovering', 'not_recovered', 'recovered_with_sequelae', 'fatal', 'unknown', null].map((o) =>
        isResolved({ outcome: o as never }),
      ),
    ).toEqual([true, false, false, true, true, false, false]);
  });
});

describe('report time checks', () => {
  it('refuse a report in the future or before awareness', () => {
    const awareAt = '2026-11-27T15:30:00Z';
    expect(checkReportTime('2026-11-28T00:00:00Z', { awareAt, now })).toEqual([]);
    expect(checkReportTime('2026-11-27T15:30:00Z', { awareAt, now })).toEqual([]);
    expect(checkReportTime('2026-11-27T15:29:59Z', { awareAt, now })[0]!.detail).toMatch(
      /before the site became aware/,
    );
    expect(checkReportTime('2026-11-29T12:00:01Z', { awareAt, now })).toEqual([
      { pointer: '/reportedAt', detail: 'is in the future' },
    ]);
  });
});
