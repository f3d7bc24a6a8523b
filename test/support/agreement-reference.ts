/**
 * Compares agreement() with test/fixtures/r/agreement.json (written by test/fixtures/r/generate-agreement.R).
 * The fixture's `expected` has the shape of AgreementResult without the `reason` fields: the walk below
 * compares every number (relative error, see r-reference.ts), requires nulls where R has them, and reports
 * any other difference (a missing or extra field, a different category or level) as a mismatch.
 */
import { agreement, type AgreementInput, type AgreementResult } from '../../src/lib/statistics/agreement';
import { loadFixture, type Comparison } from './r-reference';

export interface AgreementCase {
  name: string;
  note?: string;
  input: AgreementInput;
  expected: Record<string, unknown>;
}

export interface AgreementComparison {
  comparisons: Comparison[];
  /** Structural differences, as sentences; a test expects none. */
  mismatches: string[];
}

export function agreementCases(): AgreementCase[] {
  return loadFixture<{ cases: AgreementCase[] }>('agreement').cases;
}

/** Statistic names drop array indices, so that e.g. every case's `cohensKappa.linear.standardError` is one row. */
function walk(caseName: string, path: string, actual: unknown, expected: unknown, into: AgreementComparison): void {
  const where = `${caseName}: ${path || '(result)'}`;
  if (typeof expected === 'number' || expected === null) {
    if (actual !== null && typeof actual !== 'number') {
      into.mismatches.push(`${where} is ${JSON.stringify(actual)}, R has ${expected}`);
      return;
    }
    into.comparisons.push({ statistic: path, caseName, actual: actual as number | null, expected });
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      into.mismatches.push(`${where} is ${JSON.stringify(actual)}, R has ${JSON.stringify(expected)}`);
      return;
    }
    expected.forEach((item, i) => walk(caseName, path, actual[i], item, into));
    return;
  }
  if (typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') {
      into.mismatches.push(`${where} is ${JSON.stringify(actual)}, R has an object`);
      return;
    }
    const actualKeys = Object.keys(actual).filter((key) => key !== 'reason');
    const expectedKeys = Object.keys(expected as object);
    const extra = actualKeys.filter((key) => !expectedKeys.includes(key));
    if (extra.length > 0) into.mismatches.push(`${where} has fields R does not: ${extra.join(', ')}`);
    for (const key of expectedKeys) {
      const child = path ? `${path}.${key}` : key;
      walk(caseName, child, (actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], into);
    }
    return;
  }
  if (actual !== expected)
    into.mismatches.push(`${where} is ${JSON.stringify(actual)}, R has ${JSON.stringify(expected)}`);
}

/** Compares one result (from the library or from the HTTP API) with its R case. */
export function compareAgreement(
  c: AgreementCase,
  actual: AgreementResult | Record<string, unknown>,
): AgreementComparison {
  const into: AgreementComparison = { comparisons: [], mismatches: [] };
  walk(c.name, '', actual, c.expected, into);
  return into;
}

export function agreementComparisons(): AgreementComparison {
  const all: AgreementComparison = { comparisons: [], mismatches: [] };
  for (const c of agreementCases()) {
    const { comparisons, mismatches } = compareAgreement(c, agreement(c.input));
    all.comparisons.push(...comparisons);
    all.mismatches.push(...mismatches);
  }
  return all;
}
