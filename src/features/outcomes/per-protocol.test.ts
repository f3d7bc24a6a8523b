import { PER_PROTOCOL_REASONS, perProtocolExclusions, PerProtocolFacts } from './per-protocol';

const inProtocol: PerProtocolFacts = {
  excludedFromAnalysis: false,
  majorDeviations: 0,
  dose: { reachedMinimum: true, periodEnded: true },
};

describe('per-protocol rule', () => {
  it('keeps a participant with no exclusion event, no major deviation and the minimum dose', () => {
    expect(perProtocolExclusions(inProtocol)).toEqual([]);
  });

  it('keeps a participant without a delivery plan for their arm whatever the sessions', () => {
    expect(perProtocolExclusions({ ...inProtocol, dose: null })).toEqual([]);
  });

  it('excludes for each reason on its own', () => {
    expect(perProtocolExclusions({ ...inProtocol, excludedFromAnalysis: true })).toEqual(['excluded_from_analysis']);
    expect(perProtocolExclusions({ ...inProtocol, majorDeviations: 1 })).toEqual(['major_deviation']);
    expect(perProtocolExclusions({ ...inProtocol, majorDeviations: 3 })).toEqual(['major_deviation']);
    expect(perProtocolExclusions({ ...inProtocol, dose: { reachedMinimum: false, periodEnded: true } })).toEqual([
      'below_minimum_sessions',
    ]);
  });

  it('does not judge the dose while the period runs: the minimum can still be reached', () => {
    expect(perProtocolExclusions({ ...inProtocol, dose: { reachedMinimum: false, periodEnded: false } })).toEqual([]);
    expect(perProtocolExclusions({ ...inProtocol, dose: { reachedMinimum: true, periodEnded: false } })).toEqual([]);
  });

  it('gives every reason that applies, in the reporting order, for all 20 combinations', () => {
    for (const excludedFromAnalysis of [false, true])
      for (const majorDeviations of [0, 2])
        for (const dose of [
          null,
          ...[false, true].flatMap((r) => [false, true].map((e) => ({ reachedMinimum: r, periodEnded: e }))),
        ]) {
          const reasons = perProtocolExclusions({ excludedFromAnalysis, majorDeviations, dose });
          const expected = PER_PROTOCOL_REASONS.filter(
            (reason) =>
              (reason === 'excluded_from_analysis' && excludedFromAnalysis) ||
              (reason === 'major_deviation' && majorDeviations > 0) ||
              (reason === 'below_minimum_sessions' && dose !== null && dose.periodEnded && !dose.reachedMinimum),
          );
          expect(reasons).toEqual(expected);
        }
  });
});
