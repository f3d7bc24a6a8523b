import { byTermAndSeverity, countHarms, harmsByArm, HarmsEvent, Severity } from './harms';

const ev = (
  participantId: string,
  group: string | null,
  term: string,
  severity: Severity = 'mild',
  serious = false,
): HarmsEvent => ({
  participantId,
  group,
  term,
  severity,
  serious,
});

const EVENTS = [
  ev('p1', 'SMCM', 'Headache'),
  ev('p1', 'SMCM', 'Headache', 'moderate'),
  ev('p2', 'SMCM', 'Self-harm', 'severe', true),
  ev('p3', 'TAU', 'Psychiatric hospitalisation', 'severe', true),
  ev('p3', 'TAU', 'Headache'),
  ev('p4', 'TAU', 'Psychiatric hospitalisation', 'severe', true),
  ev('p9', null, 'Headache'),
];

describe('harms tables', () => {
  it('count participants once however many events they had', () => {
    expect(countHarms(EVENTS)).toEqual({
      participantsWithEvent: 5,
      participantsWithSeriousEvent: 3,
      events: 7,
      seriousEvents: 3,
    });
  });

  it('count by term, then by term and severity', () => {
    expect(byTermAndSeverity(EVENTS)).toEqual([
      { term: 'Headache', severity: null, participants: 3, events: 4 },
      { term: 'Headache', severity: 'mild', participants: 3, events: 3 },
      { term: 'Headache', severity: 'moderate', participants: 1, events: 1 },
      { term: 'Psychiatric hospitalisation', severity: null, participants: 2, events: 2 },
      { term: 'Psychiatric hospitalisation', severity: 'severe', participants: 2, events: 2 },
      { term: 'Self-harm', severity: null, participants: 1, events: 1 },
      { term: 'Self-harm', severity: 'severe', participants: 1, events: 1 },
    ]);
  });

  it('give each arm its participants at risk, and risk differences with exact intervals for two arms', () => {
    const { arms, riskDifferences } = harmsByArm(
      [
        { arm: 'SMCM', atRisk: 5 },
        { arm: 'TAU', atRisk: 5 },
      ],
      EVENTS,
    );
    expect(arms.map(({ terms: _terms, ...a }) => a)).toEqual([
      {
        arm: 'SMCM',
        atRisk: 5,
        participantsWithEvent: 2,
        participantsWithSeriousEvent: 1,
        events: 3,
        seriousEvents: 1,
      },
      { arm: 'TAU', atRisk: 5, participantsWithEvent: 2, participantsWithSeriousEvent: 2, events: 3, seriousEvents: 2 },
    ]);
    expect(riskDifferences.map((r) => [r.outcome, r.first.participants, r.second.participants, r.estimate])).toEqual([
      ['any adverse event', 2, 2, 0],
      ['any serious adverse event', 1, 2, -0.2],
      ['Headache', 1, 1, 0],
      ['Psychiatric hospitalisation', 0, 2, -0.4],
      ['Self-harm', 1, 0, 0.2],
    ]);
    for (const r of riskDifferences) expect(r.lower <= r.estimate && r.estimate <= r.upper).toBe(true);
  });

  it('give no risk difference unless there are exactly two arms with people at risk', () => {
    expect(harmsByArm([{ arm: 'A', atRisk: 3 }], EVENTS).riskDifferences).toEqual([]);
    expect(
      harmsByArm(
        [
          { arm: 'SMCM', atRisk: 0 },
          { arm: 'TAU', atRisk: 4 },
        ],
        EVENTS,
      ).riskDifferences,
    ).toEqual([]);
  });
});
