import Ajv2020 from 'ajv/dist/2020';
import type { components } from '../../generated/openapi';
import type { FieldError } from '../../core/errors';
import { toFieldErrors } from '../../core/field-errors';

type Criterion = components['schemas']['EligibilityCriterion'];
type BaselineVariable = components['schemas']['BaselineVariable'];
export type ParticipantRole = components['schemas']['ParticipantRole'];
export type BaselineValues = Record<string, number | string>;

/** Criteria and variables apply to service users unless they list roles. */
export function appliesTo(item: { roles?: ParticipantRole[] }, role: ParticipantRole): boolean {
  return item.roles ? item.roles.includes(role) : role === 'service_user';
}

export interface EligibilityOutcome {
  errors: FieldError[];
  eligible: boolean;
  /** Failed criteria in the trial's order: inclusion answered false, exclusion answered true. */
  unmetCriteria: string[];
}

/** Screening: every applicable criterion must be answered, nothing else; missing answers are errors, not guesses. */
export function evaluateEligibility(
  criteria: Criterion[],
  role: ParticipantRole,
  answers: Record<string, boolean>,
): EligibilityOutcome {
  const errors: FieldError[] = [];
  const applicable = criteria.filter((c) => appliesTo(c, role));
  const known = new Set(criteria.map((c) => c.code));
  const applicableCodes = new Set(applicable.map((c) => c.code));
  for (const criterion of applicable) {
    if (!(criterion.code in answers))
      errors.push({
        pointer: `/eligibility/${criterion.code}`,
        detail: `answer "${criterion.text}" (${criterion.kind} criterion)`,
      });
  }
  for (const code of Object.keys(answers)) {
    if (!known.has(code)) errors.push({ pointer: `/eligibility/${code}`, detail: 'is not a criterion of this trial' });
    else if (!applicableCodes.has(code))
      errors.push({ pointer: `/eligibility/${code}`, detail: `does not apply to ${role.replace('_', ' ')}s` });
  }
  const unmetCriteria = applicable.filter((c) => answers[c.code] === (c.kind === 'exclusion')).map((c) => c.code);
  return { errors, eligible: errors.length === 0 && unmetCriteria.length === 0, unmetCriteria };
}

/** The JSON Schema of a role's baseline values, built from the trial's variable definitions. */
export function baselineSchema(variables: BaselineVariable[], role: ParticipantRole): object {
  const applicable = variables.filter((v) => appliesTo(v, role));
  const properties = Object.fromEntries(
    applicable.map((v) => {
      if (v.type === 'category') return [v.name, { enum: v.levels ?? [] }];
      return [
        v.name,
        {
          type: v.type,
          ...(v.min !== undefined ? { minimum: v.min } : {}),
          ...(v.max !== undefined ? { maximum: v.max } : {}),
        },
      ];
    }),
  );
  return {
    type: 'object',
    properties,
    required: applicable.filter((v) => v.required).map((v) => v.name),
    additionalProperties: false,
  };
}

const baselineAjv = new Ajv2020({ allErrors: true, strict: true });
const compiledBaselineSchemas = new Map<string, ReturnType<typeof baselineAjv.compile>>();
const MAX_CACHED_SCHEMAS = 1000;

/**
 * Checks values against the trial's variables for the role. Compiled schemas are cached by their
 * own text, so a trial's schema is compiled once however many participants are screened.
 */
export function validateBaseline(
  variables: BaselineVariable[],
  role: ParticipantRole,
  values: BaselineValues,
  pointer = '/baseline',
): FieldError[] {
  const errors: FieldError[] = [];
  for (const name of Object.keys(values)) {
    const variable = variables.find((v) => v.name === name);
    if (variable && !appliesTo(variable, role))
      errors.push({
        pointer: `${pointer}/${name}`,
        detail: `applies to ${(variable.roles ?? ['service_user']).join(' and ').replace(/_/g, ' ')}s only`,
      });
  }
  if (errors.length) return errors;
  const schema = baselineSchema(variables, role);
  const key = JSON.stringify(schema);
  let validate = compiledBaselineSchemas.get(key);
  if (!validate) {
    if (compiledBaselineSchemas.size >= MAX_CACHED_SCHEMAS) compiledBaselineSchemas.clear();
    validate = baselineAjv.compile(schema);
    compiledBaselineSchemas.set(key, validate);
  }
  if (validate(values)) return [];
  return toFieldErrors(validate.errors, pointer).map((e) =>
    e.detail === 'is not allowed here' ? { ...e, detail: 'is not a baseline variable of this trial' } : e,
  );
}

/** A change of baseline is a correction when a recorded value changes or disappears; filling gaps is not. */
export function isCorrection(before: BaselineValues, after: BaselineValues): boolean {
  return Object.entries(before).some(([name, value]) => !(name in after) || after[name] !== value);
}

export function labelKey(label: string): string {
  return label.normalize('NFC');
}

/**
 * The latest calendar date that is "today" anywhere on Earth (UTC+14). Dates after it are in the
 * future for everyone; comparing with UTC alone would refuse a Hong Kong date before 08:00.
 */
export function latestToday(now: Date): string {
  return new Date(now.getTime() + 14 * 3600_000).toISOString().slice(0, 10);
}

export function isFutureDate(date: string, now: Date): boolean {
  return date > latestToday(now);
}
