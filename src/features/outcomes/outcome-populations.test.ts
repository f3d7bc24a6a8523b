import type { DatasetRow } from '../follow-up/analysis-dataset';
import { analysisPopulation, methodsSentence } from './outcome-populations';

const row = (
  participantId: string,
  arm: string,
  visit: string,
  score: number | null,
  baseline: number | null,
  status = 'completed',
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
  });
});
