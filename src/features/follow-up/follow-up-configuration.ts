import type { components } from '../../generated/openapi';
import type { FieldError } from '../../core/errors';
import { checkSoftRange } from '../safety/soft-ranges';

export type Visit = components['schemas']['Visit'];
export type Measure = components['schemas']['Measure'];

/** The follow-up part of a trial's configuration. */
export interface FollowUpConfiguration {
  visits: Visit[];
  measures: Measure[];
  primaryVisit: string | null;
}

export const BASELINE_VISIT = 'baseline';

/** Fields that belong to one measure type only; any other type carrying them is refused. */
const TYPE_FIELDS: Record<string, Measure['type'][]> = {
  items: ['scale'],
  itemMin: ['scale'],
  itemMax: ['scale'],
  reverseItems: ['scale'],
  score: ['scale'],
  maxMissingItems: ['scale'],
  min: ['number', 'integer'],
  max: ['number', 'integer', 'count'],
  unit: ['number', 'integer', 'count'],
  levels: ['category'],
  softRange: ['number', 'integer', 'count'],
};

function validateMeasure(measure: Measure, at: string, add: (pointer: string, detail: string) => void): void {
  for (const [field, types] of Object.entries(TYPE_FIELDS)) {
    if ((measure as Record<string, unknown>)[field] !== undefined && !types.includes(measure.type))
      add(`${at}/${field}`, `applies to ${types.join(' and ')} measures only`);
  }
  switch (measure.type) {
    case 'scale': {
      for (const field of ['items', 'itemMin', 'itemMax', 'score'] as const)
        if (measure[field] === undefined) add(`${at}/${field}`, 'is required for a scale');
      const { items, itemMin, itemMax } = measure;
      if (itemMin !== undefined && itemMax !== undefined && itemMin >= itemMax)
        add(`${at}/itemMax`, `must be greater than itemMin (${itemMin})`);
      if (items !== undefined) {
        (measure.reverseItems ?? []).forEach((item, j) => {
          if (item > items) add(`${at}/reverseItems/${j}`, `names item ${item}; the scale has ${items} items`);
        });
        if (measure.maxMissingItems !== undefined && measure.maxMissingItems >= items)
          add(`${at}/maxMissingItems`, `must leave at least one of the ${items} items answered`);
      }
      return;
    }
    case 'number':
    case 'integer':
      if (measure.min !== undefined && measure.max !== undefined && measure.min > measure.max)
        add(`${at}/max`, `must be at least min (${measure.min})`);
      if (measure.type === 'integer') {
        if (measure.min !== undefined && !Number.isInteger(measure.min)) add(`${at}/min`, 'must be a whole number');
        if (measure.max !== undefined && !Number.isInteger(measure.max)) add(`${at}/max`, 'must be a whole number');
      }
      if (measure.softRange)
        checkSoftRange(measure.softRange, { ...measure, integer: measure.type === 'integer' }, `${at}/softRange`, add);
      return;
    case 'count':
      if (measure.max !== undefined && !(Number.isInteger(measure.max) && measure.max >= 0))
        add(`${at}/max`, 'must be a whole number from 0');
      if (measure.softRange)
        checkSoftRange(measure.softRange, { min: 0, max: measure.max, integer: true }, `${at}/softRange`, add);
      return;
    case 'category':
      if (!measure.levels) add(`${at}/levels`, 'a category measure needs its levels');
      return;
    case 'binary':
      return;
  }
}

function firstOccurrences<T>(items: T[], keyOf: (item: T) => string | number): Map<number, number> {
  const first = new Map<string | number, number>();
  const duplicates = new Map<number, number>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, i);
    else duplicates.set(i, earlier);
  });
  return duplicates;
}

/**
 * The coherence rules of visits and measures that the schema cannot express, each failure named by
 * JSON pointer into the trial configuration. An empty list means the configuration is valid.
 */
export function validateFollowUpConfiguration(config: FollowUpConfiguration): FieldError[] {
  const errors: FieldError[] = [];
  const add = (pointer: string, detail: string) => errors.push({ pointer, detail });
  const { visits, measures, primaryVisit } = config;

  for (const [i, first] of firstOccurrences(visits, (v) => v.code))
    add(`/visits/${i}/code`, `duplicates the code of /visits/${first}`);
  for (const [i, first] of firstOccurrences(visits, (v) => v.day))
    add(`/visits/${i}/day`, `is the day of /visits/${first}; two visits cannot share a target day`);
  visits.forEach((visit, i) => {
    if (visit.code === BASELINE_VISIT && visit.day !== 0) add(`/visits/${i}/day`, 'the baseline visit is on day 0');
    if (visit.code !== BASELINE_VISIT && visit.day - visit.windowBefore < 1)
      add(
        `/visits/${i}/windowBefore`,
        'a follow-up window must open after the randomization date (day 1 at the earliest)',
      );
  });

  const visitCodes = new Set(visits.map((v) => v.code));
  for (const [i, first] of firstOccurrences(measures, (m) => m.code))
    add(`/measures/${i}/code`, `duplicates the code of /measures/${first}`);
  measures.forEach((measure, i) => {
    validateMeasure(measure, `/measures/${i}`, add);
    measure.visits.forEach((code, j) => {
      if (!visitCodes.has(code)) add(`/measures/${i}/visits/${j}`, `"${code}" is not a visit of this trial`);
    });
  });

  const primaries = measures.map((m, i) => [m, i] as const).filter(([m]) => m.primary);
  primaries.slice(1).forEach(([, i]) => add(`/measures/${i}/primary`, 'only one measure is the primary outcome'));

  if (primaryVisit === null) {
    if (visits.length > 0)
      add('/primaryVisit', 'names the visit of the primary analysis; required once visits are defined');
  } else if (!visitCodes.has(primaryVisit)) {
    add('/primaryVisit', `"${primaryVisit}" is not a visit of this trial`);
  } else if (primaryVisit === BASELINE_VISIT) {
    add('/primaryVisit', 'the primary analysis compares outcomes after randomization, not at baseline');
  } else {
    for (const [measure, i] of primaries)
      if (!measure.visits.includes(primaryVisit))
        add(`/measures/${i}/visits`, `the primary outcome must be measured at the primary visit "${primaryVisit}"`);
  }
  return errors;
}

/** What an amendment to an active trial adds; the trial keeps everything it had. */
export interface FollowUpAmendmentDiff {
  addedVisits: string[];
  changedMeasures: string[];
}

const stable = (value: unknown) =>
  JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

/**
 * Compares an amended follow-up configuration with the current one. Recorded data keep their meaning
 * only if every visit stays as it was, every measure keeps its definition (it may be assessed at more
 * visits, and its label may be reworded), and the primary visit does not move. The conflicts come back
 * as pointers into the amended configuration (or into the current one for what was removed).
 */
export function compareAmendment(
  current: FollowUpConfiguration,
  amended: FollowUpConfiguration,
): { conflicts: FieldError[]; diff: FollowUpAmendmentDiff } {
  const conflicts: FieldError[] = [];
  const add = (pointer: string, detail: string) => conflicts.push({ pointer, detail });
  const amendedVisits = new Map(amended.visits.map((v, i) => [v.code, [v, i] as const]));
  current.visits.forEach((visit, i) => {
    const match = amendedVisits.get(visit.code);
    if (!match) return add(`/visits/${i}`, `visit "${visit.code}" is defined and cannot be removed`);
    const [next, j] = match;
    for (const field of ['day', 'windowBefore', 'windowAfter'] as const)
      if (next[field] !== visit[field])
        add(`/visits/${j}/${field}`, `visit "${visit.code}" has ${field} ${visit[field]}; it cannot change`);
  });
  const amendedMeasures = new Map(amended.measures.map((m, i) => [m.code, [m, i] as const]));
  const changedMeasures: string[] = [];
  current.measures.forEach((measure, i) => {
    const match = amendedMeasures.get(measure.code);
    if (!match) return add(`/measures/${i}`, `measure "${measure.code}" is defined and cannot be removed`);
    const [next, j] = match;
    const { label: _a, visits: currentVisits, ...definition } = measure;
    const { label: _b, visits: nextVisits, ...nextDefinition } = next;
    if (stable(definition) !== stable(nextDefinition))
      add(`/measures/${j}`, `measure "${measure.code}" is defined; its type, range and scoring cannot change`);
    currentVisits.forEach((code) => {
      if (!nextVisits.includes(code))
        add(`/measures/${j}/visits`, `measure "${measure.code}" is assessed at "${code}"; that cannot be removed`);
    });
    if (nextVisits.some((code) => !currentVisits.includes(code))) changedMeasures.push(measure.code);
  });
  const currentMeasureCodes = new Set(current.measures.map((m) => m.code));
  changedMeasures.push(...amended.measures.filter((m) => !currentMeasureCodes.has(m.code)).map((m) => m.code));
  if (current.primaryVisit !== null && amended.primaryVisit !== current.primaryVisit)
    add('/primaryVisit', `the primary visit is "${current.primaryVisit}"; it cannot change`);
  const currentVisitCodes = new Set(current.visits.map((v) => v.code));
  return {
    conflicts,
    diff: {
      addedVisits: amended.visits.filter((v) => !currentVisitCodes.has(v.code)).map((v) => v.code),
      changedMeasures,
    },
  };
}
