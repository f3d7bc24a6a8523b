import type { DatasetRow } from '../follow-up/analysis-dataset';
import { analysisPopulation, methodsSentence } from './outcome-populations';

const row = (
  participantId: string,
  arm: string,
  visit: string,
  score: number | null,
  baseline: number | null,
  status = 'completed',
  perProtocolExclusions: DatasetRow['perProtocolExclusions'] = [],
): DatasetRow => ({
  participantId,
  label: participantId,
  siteCode: participantId.startsWith('b') ? 'B' : 'A',
  stratum: 'A',
  arm,
  randomizedOn: '2018-03-05',
  visit,
  targetDate: '2019-03-05',
  assessedOn: null,
  daysFromRandomization: null,
  inWindow: null,
  status,
  scores: { hope: { score } } as DatasetRow['scores'],
  baselineScores: { hope: { score: baseline } } as DatasetRow['baselineScores'],
  values: null,
  perProtocolExclusions,
});

// a1: both visits; a2: m12 only; a3: no baseline; a4: not due yet; b1: due but missing; b2: both visits.
const rows: DatasetRow[] = [
  row('a1', 'TAU', 'm6', 30, 28),
  row('a1', 'TAU', 'm12', 31, 28),
  row('a2', 'TAU', 'm6', null, 25, 'missed'),
  row('a2', 'TAU', 'm12', 27, 25),
  row('a3', 'SMCM', 'm6', 33, null),
  row('a3', 'SMCM', 'm12', 34, null),
  row('a4', 'SMCM', 'm6', null, 26, 'not_due'),
  row('a4', 'SMCM', 'm12', null, 26, 'not_due'),
  row('b1', 'SMCM', 'm6', null, 30, 'overdue'),
  row('b1', 'SMCM', 'm12', null, 30, 'overdue'),
  row('b2', 'SMCM', 'm6', 35, 29),
  row('b2', 'SMCM', 'm12', 36, 29),
];

describe('analysis populations', () => {
  it('ITT at one visit: everyone randomized counted in their arm; analysed with outcome and baseline', () => {
    const s = analysisPopulation(rows, { measure: 'hope', visits: ['m12'], population: 'itt', withBaseline: true });
    expect(s.analysed.map((r) => `${r.participantId}:${r.outcome}:${r.baseline}`)).toEqual([
      'a1:31:28',
      'a2:27:25',
      'b2:36:29',
    ]);
    expect(Object.fromEntries(s.randomized)).toEqual({ TAU: 2, SMCM: 4 });
    expect(Object.fromEntries(s.missingBaseline)).toEqual({ SMCM: 1 });
    expect(Object.fromEntries(s.missingOutcome)).toEqual({ SMCM: 1 });
    expect(Object.fromEntries(s.notYetDue)).toEqual({ SMCM: 1 });
  });

  it('ITT over visits keeps every recorded visit; complete cases keep only participants with all of them', () => {
    const visits = ['m6', 'm12'];
    const itt = analysisPopulation(rows, { measure: 'hope', visits, population: 'itt', withBaseline: true });
    expect(itt.analysed.map((r) => `${r.participantId}@${r.visit}`)).toEqual([
      'a1@m6',
      'a1@m12',
      'a2@m12',
      'b2@m6',
      'b2@m12',
    ]);
    const cc = analysisPopulation(rows, { measure: 'hope', visits, population: 'complete_case', withBaseline: true });
    expect(cc.analysed.map((r) => `${r.participantId}@${r.visit}`)).toEqual(['a1@m6', 'a1@m12', 'b2@m6', 'b2@m12']);
    expect(Object.fromEntries(cc.missingOutcome)).toEqual({ TAU: 1, SMCM: 1 });
    expect(cc.definition).toMatch(/^Complete cases/);
  });

  it('without a baseline measurement nobody is excluded for a missing baseline', () => {
    const s = analysisPopulation(rows, { measure: 'hope', visits: ['m12'], population: 'itt', withBaseline: false });
    expect(s.analysed.map((r) => r.participantId)).toEqual(['a1', 'a2', 'a3', 'b2']);
    expect(s.analysed.every((r) => r.baseline === null)).toBe(true);
  });

  it('per protocol leaves out the excluded before any other tally and counts their reasons whatever the population', () => {
    // a1 (TAU) had a major deviation; b2 (SMCM) was excluded from analysis and below the minimum dose; b1 (SMCM,
    // missing outcome) had a major deviation; a4 (not yet due) none.
    const flagged = rows.map((r) =>
      r.participantId === 'a1'
        ? { ...r, perProtocolExclusions: ['major_deviation' as const] }
        : r.participantId === 'b2'
          ? { ...r, perProtocolExclusions: ['excluded_from_analysis' as const, 'below_minimum_sessions' as const] }
          : r.participantId === 'b1'
            ? { ...r, perProtocolExclusions: ['major_deviation' as const] }
            : r,
    );
    const options = { measure: 'hope', visits: ['m12'], withBaseline: true };
    const pp = analysisPopulation(flagged, { ...options, population: 'per_protocol' });
    expect(pp.analysed.map((r) => r.participantId)).toEqual(['a2']);
    expect(Object.fromEntries(pp.randomized)).toEqual({ TAU: 2, SMCM: 4 });
    expect(Object.fromEntries(pp.missingOutcome)).toEqual({});
    expect(Object.fromEntries(pp.missingBaseline)).toEqual({ SMCM: 1 });
    expect(Object.fromEntries(pp.notYetDue)).toEqual({ SMCM: 1 });
    const tallies = {
      TAU: { excluded: 1, reasons: { excluded_from_analysis: 0, major_deviation: 1, below_minimum_sessions: 0 } },
      SMCM: { excluded: 2, reasons: { excluded_from_analysis: 1, major_deviation: 1, below_minimum_sessions: 1 } },
    };
    expect(Object.fromEntries(pp.perProtocolExcluded)).toEqual(tallies);
    expect(pp.definition).toMatch(/^Per protocol: .*excluded_from_analysis.*major protocol deviation.*minimumSessions/);
    // Every randomized participant is in exactly one tally of the per-protocol population.
    for (const arm of ['TAU', 'SMCM']) {
      const analysed = new Set(pp.analysed.filter((r) => r.arm === arm).map((r) => r.participantId)).size;
      const tallied =
        analysed +
        (pp.missingOutcome.get(arm) ?? 0) +
        (pp.missingBaseline.get(arm) ?? 0) +
        (pp.notYetDue.get(arm) ?? 0) +
        (pp.perProtocolExcluded.get(arm)?.excluded ?? 0);
      expect(tallied).toBe(pp.randomized.get(arm));
    }
    const itt = analysisPopulation(flagged, { ...options, population: 'itt' });
    expect(itt.analysed.map((r) => r.participantId)).toEqual(['a1', 'a2', 'b2']);
    expect(Object.fromEntries(itt.perProtocolExcluded)).toEqual(tallies);
  });

  it('writes the methods sentence from what was adjusted for', () => {
    expect(
      methodsSentence({
        measure: 'Herth Hope Index',
        visit: 'm12',
        model: 'ancova',
        withBaseline: true,
        adjustForSite: true,
        population: 'itt',
      }),
    ).toMatch(/^Adjusted mean differences in the Herth Hope Index at visit m12 .* on arm, baseline score and centre/);
    expect(
      methodsSentence({
        measure: 'admissions',
        visit: null,
        model: 'mmrm',
        withBaseline: false,
        adjustForSite: false,
        population: 'complete_case',
      }),
    ).toMatch(/mixed model for repeated measures \(fixed effects arm, visit .* in complete cases/);
    expect(
      methodsSentence({
        measure: 'Herth Hope Index',
        visit: 'm12',
        model: 'ancova',
        withBaseline: true,
        adjustForSite: false,
        population: 'per_protocol',
      }),
    ).toMatch(/on arm and baseline score, in the per-protocol population \(participants not excluded/);
  });
});
