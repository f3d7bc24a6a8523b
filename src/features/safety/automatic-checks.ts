import type { components } from '../../generated/openapi';
import { outsideSoftRange, softRangeText } from './soft-ranges';

type BaselineVariable = components['schemas']['BaselineVariable'];
type Measure = components['schemas']['Measure'];

/** What an automatic check found on one item of one record. */
export interface Finding {
  kind: 'participant' | 'assessment';
  id: string;
  pointer: string;
  check: 'soft_range' | 'missing_item';
  text: string;
}

const escapeToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

/** A participant as the checks read it: the role decides which baseline variables apply. */
export interface CheckedParticipant {
  id: string;
  role: string;
  baseline: Record<string, unknown>;
}

/** Baseline values outside the soft range of their variable (variables that apply to the participant's role). */
export function baselineFindings(variables: readonly BaselineVariable[], p: CheckedParticipant): Finding[] {
  const findings: Finding[] = [];
  for (const variable of variables) {
    if (!variable.softRange || !(variable.roles ?? ['service_user']).includes(p.role as 'service_user')) continue;
    const value = p.baseline[variable.name];
    const side = outsideSoftRange(value, variable.softRange);
    if (side)
      findings.push({
        kind: 'participant',
        id: p.id,
        pointer: `/baseline/${escapeToken(variable.name)}`,
        check: 'soft_range',
        text: softRangeText(value as number, variable.softRange, side),
      });
  }
  return findings;
}

/** An assessment as the checks read it: one recorded visit (a completed visit) with its values by measure. */
export interface CheckedAssessment {
  id: string;
  visit: string;
  values: Record<string, unknown>;
}

/**
 * At a completed visit: each measure scheduled at the visit that is empty (absent or null), each unanswered item
 * of a scale, and each number outside its measure's soft range.
 */
export function assessmentFindings(measures: readonly Measure[], a: CheckedAssessment): Finding[] {
  const findings: Finding[] = [];
  const at = (pointer: string, check: Finding['check'], text: string) =>
    findings.push({ kind: 'assessment', id: a.id, pointer, check, text });
  for (const measure of measures) {
    if (!measure.visits.includes(a.visit)) continue;
    const pointer = `/values/${escapeToken(measure.code)}`;
    const value = a.values[measure.code];
    if (value === undefined || value === null) {
      at(pointer, 'missing_item', `Automatic check: ${measure.label} is missing at the completed visit ${a.visit}.`);
      continue;
    }
    if (measure.type === 'scale') {
      const items = (value as { items?: unknown[] }).items ?? [];
      items.forEach((item, i) => {
        if (item === null)
          at(
            `${pointer}/items/${i}`,
            'missing_item',
            `Automatic check: item ${i + 1} of ${measure.label} is unanswered at the completed visit ${a.visit}.`,
          );
      });
      continue;
    }
    const side = measure.softRange ? outsideSoftRange(value, measure.softRange) : null;
    if (side) at(pointer, 'soft_range', softRangeText(value as number, measure.softRange!, side));
  }
  return findings;
}
