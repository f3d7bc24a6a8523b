import type { FieldError } from '../../core/errors';
import type { Measure } from './follow-up-configuration';

/** The computed score of one measure at one assessment. */
export interface MeasureScore {
  /** Null when the score is missing; `reason` then says why. */
  score: number | boolean | string | null;
  /** Scales only: how many items were not answered. */
  missingItems?: number;
  /** Scales only: true when the score was prorated from the answered items. */
  prorated?: boolean;
  reason?: string;
}

export type ScaleValue = { items: (number | null)[] };
export type MeasureValue = ScaleValue | number | boolean | string | null;

const describe = (value: unknown) => JSON.stringify(value) ?? String(value);

/**
 * Scores a scale. Reverse-scored items are mirrored (`itemMin + itemMax - answer`). With at most
 * `maxMissingItems` missing, a `sum` is prorated (the mean of the answered items times the number
 * of items) and a `mean` is the mean of the answered items; with more missing the score is missing.
 */
function scoreScale(measure: Measure, value: unknown, at: string, errors: FieldError[]): MeasureScore | null {
  const items = measure.items!;
  const itemMin = measure.itemMin!;
  const itemMax = measure.itemMax!;
  if (typeof value !== 'object' || value === null || !Array.isArray((value as ScaleValue).items)) {
    errors.push({ pointer: at, detail: `must be {"items": [...]} with ${items} answers (null for unanswered)` });
    return null;
  }
  const answers = (value as ScaleValue).items;
  if (Object.keys(value).length !== 1) {
    errors.push({ pointer: at, detail: 'has only "items"' });
    return null;
  }
  if (answers.length !== items) {
    errors.push({
      pointer: `${at}/items`,
      detail: `must have ${items} answers (null for unanswered); has ${answers.length}`,
    });
    return null;
  }
  const reverse = new Set(measure.reverseItems ?? []);
  const scored: number[] = [];
  let valid = true;
  answers.forEach((answer, i) => {
    if (answer === null) return;
    if (typeof answer !== 'number' || !Number.isInteger(answer) || answer < itemMin || answer > itemMax) {
      errors.push({
        pointer: `${at}/items/${i}`,
        detail: `must be a whole number from ${itemMin} to ${itemMax}, or null`,
      });
      valid = false;
      return;
    }
    scored.push(reverse.has(i + 1) ? itemMin + itemMax - answer : answer);
  });
  if (!valid) return null;
  const missingItems = items - scored.length;
  const allowed = measure.maxMissingItems ?? 0;
  if (missingItems > allowed)
    return {
      score: null,
      missingItems,
      prorated: false,
      reason: `${missingItems} of ${items} items unanswered; at most ${allowed} may be missing`,
    };
  const total = scored.reduce((sum, answer) => sum + answer, 0);
  const mean = total / scored.length;
  return {
    score: measure.score === 'mean' ? mean : missingItems === 0 ? total : mean * items,
    missingItems,
    prorated: missingItems > 0,
  };
}

function inRange(measure: Measure, value: number): string | null {
  if (measure.min !== undefined && value < measure.min) return `must be at least ${measure.min}`;
  if (measure.max !== undefined && value > measure.max) return `must be at most ${measure.max}`;
  return null;
}

/**
 * Checks one value against its measure and scores it. Failures are appended to `errors` with the
 * pointer of the failing part (`at` points at the measure's value); null comes back then.
 * A null or absent value is a missing score, not an error.
 */
export function scoreMeasure(measure: Measure, value: unknown, at: string, errors: FieldError[]): MeasureScore | null {
  if (value === null || value === undefined) return { score: null, reason: 'not recorded' };
  const fail = (detail: string) => {
    errors.push({ pointer: at, detail });
    return null;
  };
  switch (measure.type) {
    case 'scale':
      return scoreScale(measure, value, at, errors);
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail(`must be a number; got ${describe(value)}`);
      const outside = inRange(measure, value);
      return outside ? fail(outside) : { score: value };
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value))
        return fail(`must be a whole number; got ${describe(value)}`);
      const outside = inRange(measure, value);
      return outside ? fail(outside) : { score: value };
    }
    case 'count':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
        return fail(`must be a count (a whole number from 0); got ${describe(value)}`);
      if (measure.max !== undefined && value > measure.max) return fail(`must be at most ${measure.max}`);
      return { score: value };
    case 'binary':
      return typeof value === 'boolean' ? { score: value } : fail(`must be true or false; got ${describe(value)}`);
    case 'category':
      return typeof value === 'string' && measure.levels!.includes(value)
        ? { score: value }
        : fail(`must be one of ${measure.levels!.map((l) => JSON.stringify(l)).join(', ')}; got ${describe(value)}`);
  }
}

/**
 * Scores every measure assessed at a visit from the values recorded. Values of measures that are
 * not assessed at the visit (or do not exist) are refused; measures without a value score as missing.
 * Pointers are `/values/<measure>` and below.
 */
export function scoreAssessment(
  measures: Measure[],
  visit: string,
  values: Record<string, unknown>,
): { scores: Record<string, MeasureScore>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const scheduled = measures.filter((m) => m.visits.includes(visit));
  const known = new Map(measures.map((m) => [m.code, m]));
  for (const code of Object.keys(values)) {
    const measure = known.get(code);
    if (!measure) errors.push({ pointer: `/values/${code}`, detail: `"${code}" is not a measure of this trial` });
    else if (!measure.visits.includes(visit))
      errors.push({ pointer: `/values/${code}`, detail: `"${code}" is not assessed at visit "${visit}"` });
  }
  const scores: Record<string, MeasureScore> = {};
  for (const measure of scheduled) {
    const score = scoreMeasure(measure, values[measure.code], `/values/${measure.code}`, errors);
    if (score) scores[measure.code] = score;
  }
  return { scores, errors };
}
