import type { components } from '../../generated/openapi';
import type { FieldError } from '../../core/errors';
import { validateFollowUpConfiguration } from '../follow-up/follow-up-configuration';
import { validateDeliverySetUp } from '../delivery/delivery-configuration';
import { checkSoftRange } from '../safety/soft-ranges';

export type TrialView = components['schemas']['Trial'];
export type TrialInput = components['schemas']['TrialInput'];
export type TrialPatch = components['schemas']['TrialPatch'];
export type Arm = components['schemas']['Arm'];
export type Randomization = components['schemas']['Randomization'];
export type BaselineVariable = components['schemas']['BaselineVariable'];
export type IncentiveType = components['schemas']['IncentiveType'];

/** The parts of a trial an admin configures; what creation and PATCH both produce. */
export interface TrialConfiguration {
  title: string;
  registry: string | null;
  arms: Arm[];
  randomization: Randomization;
  eligibility: components['schemas']['EligibilityCriterion'][];
  consentForms: components['schemas']['ConsentForm'][];
  baselineVariables: BaselineVariable[];
  incentives: IncentiveType[];
  visits: components['schemas']['Visit'][];
  measures: components['schemas']['Measure'][];
  primaryVisit: string | null;
  delivery: components['schemas']['DeliveryConfiguration'] | null;
  fidelityScale: components['schemas']['FidelityScale'] | null;
}

/** The seed never travels with the stored configuration; it is kept apart and never shown. */
export function withoutSeed(randomization: Randomization): Randomization {
  const { seed: _seed, ...rest } = randomization;
  return rest as Randomization;
}

export function seedOf(randomization: Randomization): string | undefined {
  return randomization.seed?.toLowerCase();
}

export function configurationOf(input: TrialInput): TrialConfiguration {
  return {
    title: input.title,
    registry: input.registry ?? null,
    arms: input.arms,
    randomization: input.randomization,
    eligibility: input.eligibility ?? [],
    consentForms: input.consentForms ?? [],
    baselineVariables: input.baselineVariables ?? [],
    incentives: input.incentives ?? [],
    visits: input.visits ?? [],
    measures: input.measures ?? [],
    primaryVisit: input.primaryVisit ?? null,
    delivery: input.delivery ?? null,
    fidelityScale: input.fidelityScale ?? null,
  };
}

/** PATCH semantics: each top-level field given replaces the stored one; lists are replaced whole. */
export function applyPatch(current: TrialConfiguration, patch: TrialPatch): TrialConfiguration {
  const next = { ...current };
  for (const key of Object.keys(patch) as (keyof TrialPatch)[]) {
    const value = patch[key];
    if (value !== undefined) (next as Record<string, unknown>)[key] = value;
  }
  return next;
}

const SUPPORTED_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

const decimalsByCurrency = new Map<string, number>();

/**
 * Decimal places of an ISO 4217 currency (HKD 2, JPY 0, KWD 3), from the runtime's CLDR data. Remembered per
 * currency: building an Intl.NumberFormat costs ~30 µs, and every amount read or written asks (it was the
 * costliest function of our own code in the randomization tests' CPU profile).
 */
export function currencyDecimals(currency: string): number {
  let decimals = decimalsByCurrency.get(currency);
  if (decimals === undefined) {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    decimals = format.resolvedOptions().maximumFractionDigits ?? 2;
    decimalsByCurrency.set(currency, decimals);
  }
  return decimals;
}

/**
 * Converts a major-unit amount to integer minor units without floating-point drift: the decimal
 * text of the number is shifted, never multiplied. Returns null when it has more decimals than
 * the currency allows.
 */
export function toMinorUnits(amount: number, currency: string): number | null {
  const decimals = currencyDecimals(currency);
  const fixed = amount.toFixed(decimals);
  if (Number(fixed) !== amount) return null;
  return Number(fixed.replace('.', ''));
}

export function fromMinorUnits(minor: number, currency: string): number {
  const decimals = currencyDecimals(currency);
  // Build the decimal text and let Number parse it: one correctly rounded step, no multiplication.
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(minor)).padStart(decimals + 1, '0');
  return Number(decimals === 0 ? sign + digits : `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`);
}

function duplicates<T>(items: T[], keyOf: (item: T) => string): Map<number, number> {
  const firstIndex = new Map<string, number>();
  const result = new Map<number, number>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    const first = firstIndex.get(key);
    if (first === undefined) firstIndex.set(key, i);
    else result.set(i, first);
  });
  return result;
}

const appliesToServiceUsers = (variable: BaselineVariable) =>
  !variable.roles || variable.roles.includes('service_user');

/**
 * The coherence rules the schema cannot express. Each failure names the field by JSON pointer.
 * An empty list means the configuration is valid.
 */
export function validateTrialConfiguration(config: TrialConfiguration): FieldError[] {
  const errors: FieldError[] = [];
  const add = (pointer: string, detail: string) => errors.push({ pointer, detail });

  for (const [i, first] of duplicates(config.arms, (arm) => arm.code))
    add(`/arms/${i}/code`, `duplicates the code of /arms/${first}`);

  const ratioSum = config.arms.reduce((sum, arm) => sum + arm.ratio, 0);
  const randomization = config.randomization;
  if (randomization.method === 'permuted_block') {
    randomization.blockSizes.forEach((size, i) => {
      if (size % ratioSum !== 0)
        add(`/randomization/blockSizes/${i}`, `must be a multiple of ${ratioSum}, the sum of the arm ratios`);
    });
  }
  const stratifiable = new Set([
    'site',
    ...config.baselineVariables.filter((v) => v.type === 'category' && appliesToServiceUsers(v)).map((v) => v.name),
  ]);
  const factors =
    randomization.method === 'minimization'
      ? { key: 'factors', names: randomization.factors }
      : { key: 'stratifyBy', names: randomization.stratifyBy ?? [] };
  factors.names.forEach((name, i) => {
    if (!stratifiable.has(name)) {
      add(
        `/randomization/${factors.key}/${i}`,
        `"${name}" is neither "site" nor a category baseline variable of service users`,
      );
    }
  });

  for (const [i, first] of duplicates(config.eligibility, (c) => c.code))
    add(`/eligibility/${i}/code`, `duplicates the code of /eligibility/${first}`);

  for (const [i, first] of duplicates(config.consentForms, (f) => `${f.code}\u0000${f.version}`)) {
    add(
      `/consentForms/${i}/version`,
      `form ${config.consentForms[i]!.code} version ${config.consentForms[i]!.version} duplicates /consentForms/${first}`,
    );
  }
  const requiredByCode = new Map<string, boolean>();
  config.consentForms.forEach((form, i) => {
    const earlier = requiredByCode.get(form.code);
    if (earlier !== undefined && earlier !== form.required)
      add(`/consentForms/${i}/required`, `every version of form ${form.code} must agree on "required"`);
    requiredByCode.set(form.code, form.required);
  });

  for (const [i, first] of duplicates(config.baselineVariables, (v) => v.name))
    add(`/baselineVariables/${i}/name`, `duplicates the name of /baselineVariables/${first}`);
  config.baselineVariables.forEach((variable, i) => {
    const at = `/baselineVariables/${i}`;
    if (variable.type === 'category') {
      if (!variable.levels) add(`${at}/levels`, 'a category variable needs its levels');
      if (variable.min !== undefined) add(`${at}/min`, 'applies to number and integer variables only');
      if (variable.max !== undefined) add(`${at}/max`, 'applies to number and integer variables only');
      if (variable.unit !== undefined) add(`${at}/unit`, 'applies to number and integer variables only');
      if (variable.softRange !== undefined) add(`${at}/softRange`, 'applies to number and integer variables only');
    } else {
      if (variable.softRange !== undefined)
        checkSoftRange(
          variable.softRange,
          { ...variable, integer: variable.type === 'integer' },
          `${at}/softRange`,
          add,
        );
      if (variable.levels) add(`${at}/levels`, 'only category variables have levels');
      if (variable.min !== undefined && variable.max !== undefined && variable.min > variable.max)
        add(`${at}/max`, `must be at least min (${variable.min})`);
      if (variable.type === 'integer') {
        if (variable.min !== undefined && !Number.isInteger(variable.min))
          add(`${at}/min`, 'must be a whole number for an integer variable');
        if (variable.max !== undefined && !Number.isInteger(variable.max))
          add(`${at}/max`, 'must be a whole number for an integer variable');
      }
    }
  });

  for (const [i, first] of duplicates(config.incentives, (t) => t.code))
    add(`/incentives/${i}/code`, `duplicates the code of /incentives/${first}`);
  config.incentives.forEach((incentive, i) => {
    if (!SUPPORTED_CURRENCIES.has(incentive.currency)) {
      add(`/incentives/${i}/currency`, `"${incentive.currency}" is not an ISO 4217 currency code`);
    } else if (toMinorUnits(incentive.amount, incentive.currency) === null) {
      add(
        `/incentives/${i}/amount`,
        `${incentive.currency} amounts have at most ${currencyDecimals(incentive.currency)} decimals`,
      );
    }
  });
  errors.push(...validateFollowUpConfiguration(config));
  errors.push(...validateDeliverySetUp(config));
  return errors;
}

/** Whether the randomization makes each site a stratum (so sites are part of the locked design). */
export function isStratifiedBySite(randomization: Randomization): boolean {
  if (randomization.method === 'minimization') return randomization.factors.includes('site');
  return (randomization.stratifyBy ?? []).includes('site');
}

export function etagOf(version: number): string {
  return `"${version}"`;
}

/** If-Match holds when it is `*` or lists the current ETag (strong comparison, RFC 9110 13.1.1). */
export function ifMatchHolds(ifMatch: string | undefined, version: number): boolean {
  if (ifMatch === undefined) return true;
  const current = etagOf(version);
  return ifMatch
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === current);
}
