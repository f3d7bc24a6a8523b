import { csvLine } from '../../core/csv';
import type { Measure } from './follow-up-configuration';
import type { MeasureScore } from './measure-scoring';
import type { PerProtocolReason } from '../outcomes/per-protocol';

/** One participant × visit of the analysis dataset, as the query returns it. */
export interface DatasetRow {
  participantId: string;
  label: string;
  siteCode: string;
  stratum: string;
  arm: string;
  randomizedOn: string;
  visit: string;
  targetDate: string;
  assessedOn: string | null;
  daysFromRandomization: number | null;
  inWindow: boolean | null;
  status: string;
  scores: Record<string, MeasureScore> | null;
  baselineScores: Record<string, MeasureScore> | null;
  values: Record<string, unknown> | null;
  /** Why the participant is outside the per-protocol population (docs/outcomes.md); empty when in it. */
  perProtocolExclusions: readonly PerProtocolReason[];
}

export interface DatasetColumn {
  name: string;
  label: string;
  type: 'string' | 'date' | 'integer' | 'number' | 'boolean' | 'category';
  unit: string | null;
  range: string | null;
  scoring: string | null;
  value(row: DatasetRow): unknown;
}

const fixed = (
  name: string,
  label: string,
  type: DatasetColumn['type'],
  value: (row: DatasetRow) => unknown,
): DatasetColumn => ({ name, label, type, unit: null, range: null, scoring: null, value });

export function scoringRule(measure: Measure): string | null {
  if (measure.type !== 'scale') return null;
  const reverse = measure.reverseItems?.length ? `; items ${measure.reverseItems.join(', ')} reverse-scored` : '';
  const allowed = measure.maxMissingItems ?? 0;
  const missing =
    allowed === 0
      ? '; missing when any item is unanswered'
      : measure.score === 'sum'
        ? `; prorated (mean of answered × ${measure.items}) with up to ${allowed} unanswered, otherwise missing`
        : `; mean of answered items with up to ${allowed} unanswered, otherwise missing`;
  return `${measure.score} of ${measure.items} items scored ${measure.itemMin}-${measure.itemMax}${reverse}${missing}`;
}

function rangeOf(measure: Measure): string | null {
  switch (measure.type) {
    case 'scale': {
      const { items, itemMin, itemMax } = measure as Required<Pick<Measure, 'items' | 'itemMin' | 'itemMax'>>;
      return measure.score === 'sum' ? `${items * itemMin}-${items * itemMax}` : `${itemMin}-${itemMax}`;
    }
    case 'number':
    case 'integer':
      return measure.min === undefined && measure.max === undefined
        ? null
        : `${measure.min ?? ''}-${measure.max ?? ''}`;
    case 'count':
      return `0-${measure.max ?? ''}`;
    case 'binary':
      return 'true, false';
    case 'category':
      return measure.levels!.join(', ');
  }
}

const scoreType = (measure: Measure): DatasetColumn['type'] =>
  measure.type === 'scale' || measure.type === 'number'
    ? 'number'
    : measure.type === 'binary'
      ? 'boolean'
      : measure.type === 'category'
        ? 'category'
        : 'integer';

const scoreOf = (scores: Record<string, MeasureScore> | null, code: string) => scores?.[code]?.score ?? null;

/**
 * The dataset's columns in order: who, where and when, then each measure's score at the visit and at
 * baseline (the usual covariate), then with `items` every scale item as entered. The dictionary is
 * built from the same list, so the two cannot disagree.
 */
export function datasetColumns(measures: Measure[], items: boolean): DatasetColumn[] {
  const columns: DatasetColumn[] = [
    fixed('participantId', 'Participant id', 'string', (r) => r.participantId),
    fixed('label', 'Participant label', 'string', (r) => r.label),
    fixed('siteCode', 'Site', 'string', (r) => r.siteCode),
    fixed('stratum', 'Randomization stratum', 'string', (r) => r.stratum),
    fixed('arm', 'Allocated arm (Group n for blinded keys)', 'string', (r) => r.arm),
    fixed('randomizedOn', 'Date of randomization (UTC), day 0', 'date', (r) => r.randomizedOn),
    fixed('visit', 'Visit', 'string', (r) => r.visit),
    fixed('targetDate', 'Target date of the visit', 'date', (r) => r.targetDate),
    fixed('assessedOn', 'Date assessed', 'date', (r) => r.assessedOn),
    fixed('daysFromRandomization', 'Days from randomization to assessment', 'integer', (r) => r.daysFromRandomization),
    fixed('inWindow', 'Assessed within the visit window', 'boolean', (r) => r.inWindow),
    fixed('status', 'Visit status (schedule)', 'string', (r) => r.status),
    fixed('population_itt', 'Intention-to-treat population (every randomized service user)', 'boolean', () => true),
    fixed(
      'population_per_protocol',
      'Per-protocol population (not excluded from analysis, no major protocol deviation, minimum sessions reached)',
      'boolean',
      (r) => r.perProtocolExclusions.length === 0,
    ),
    fixed(
      'per_protocol_exclusions',
      'Reasons outside the per-protocol population, separated by ";" (excluded_from_analysis, major_deviation, ' +
        'below_minimum_sessions)',
      'string',
      (r) => (r.perProtocolExclusions.length === 0 ? null : r.perProtocolExclusions.join(';')),
    ),
  ];
  for (const measure of measures) {
    const unit = measure.unit ?? null;
    const base = { unit, range: rangeOf(measure), scoring: scoringRule(measure), type: scoreType(measure) };
    columns.push({ ...base, name: measure.code, label: measure.label, value: (r) => scoreOf(r.scores, measure.code) });
    if (measure.visits.includes('baseline'))
      columns.push({
        ...base,
        name: `${measure.code}_baseline`,
        label: `${measure.label} at baseline`,
        value: (r) => scoreOf(r.baselineScores, measure.code),
      });
  }
  if (items) {
    for (const measure of measures.filter((m) => m.type === 'scale')) {
      for (let i = 0; i < measure.items!; i++) {
        columns.push({
          name: `${measure.code}_item${i + 1}`,
          label: `${measure.label}, item ${i + 1}${measure.reverseItems?.includes(i + 1) ? ' (reverse-scored)' : ''}`,
          type: 'integer',
          unit: null,
          range: `${measure.itemMin}-${measure.itemMax}`,
          scoring: 'as entered',
          value: (r) => (r.values?.[measure.code] as { items?: (number | null)[] } | undefined)?.items?.[i] ?? null,
        });
      }
    }
  }
  return columns;
}

export const datasetHeader = (columns: DatasetColumn[]) => csvLine(columns.map((c) => c.name));
export const datasetLine = (columns: DatasetColumn[], row: DatasetRow) => csvLine(columns.map((c) => c.value(row)));

export const DICTIONARY_FIELDS = ['name', 'label', 'type', 'unit', 'range', 'scoring'] as const;
