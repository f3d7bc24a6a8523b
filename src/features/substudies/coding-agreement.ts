import type { FieldError } from '../../core/errors';
import { agreement, AgreementResult } from '../../lib/statistics';

export interface Coding {
  unit: string;
  coder: string;
  code: string;
}

export interface CodeAgreement {
  code: string;
  unitsWithCode: number;
  unitsAllAgree: number;
  proportion: number | null;
  kappa: number | null;
}

export interface RoundAgreement {
  units: number;
  agreement: AgreementResult;
  byCode: CodeAgreement[];
}

export interface TrendRow {
  round: number;
  percentAgreement: number | null;
  kappa: number | null;
  alpha: number | null;
  change: number | null;
}

/** Distinct codes a round may use: per-code agreement costs one pass over the units per code. */
export const MAX_CODES_PER_ROUND = 200;

/** What is wrong with a round's codings: a coder not listed, one coder coding a unit twice, too many codes. */
export function codingErrors(coders: readonly string[], codings: readonly Coding[]): FieldError[] {
  const errors: FieldError[] = [];
  const codes = new Set(codings.map((c) => c.code));
  if (codes.size > MAX_CODES_PER_ROUND)
    errors.push({ pointer: '/codings', detail: `uses ${codes.size} codes; at most ${MAX_CODES_PER_ROUND}` });
  const listed = new Set(coders);
  const seen = new Set<string>();
  codings.forEach((c, i) => {
    if (!listed.has(c.coder))
      errors.push({ pointer: `/codings/${i}/coder`, detail: `${c.coder} is not one of the round's coders` });
    const key = JSON.stringify([c.unit, c.coder]);
    if (seen.has(key)) errors.push({ pointer: `/codings/${i}`, detail: `${c.coder} already coded unit ${c.unit}` });
    seen.add(key);
  });
  return errors;
}

/** Units × coders, in order of the units' first appearance and the coders' listing; null where a coder gave no code. */
export function codingMatrix(coders: readonly string[], codings: readonly Coding[]): (string | null)[][] {
  const column = new Map(coders.map((coder, i) => [coder, i]));
  const rows = new Map<string, (string | null)[]>();
  for (const c of codings) {
    let row = rows.get(c.unit);
    if (!row) rows.set(c.unit, (row = coders.map(() => null)));
    row[column.get(c.coder)!] = c.code;
  }
  return [...rows.values()];
}

const kappaOf = (result: AgreementResult): number | null =>
  result.cohensKappa?.unweighted.value ?? result.fleissKappa?.value ?? null;

/**
 * Kappa on one code's presence in fully coded units, from the number of coders (of `coders`) who used it in each:
 * Cohen's for two coders (chance agreement from each coder's own rate), Fleiss' for more (from the pooled rate).
 * The same formulas as `agreement()` on a present/absent matrix, in one pass: a round may use 200 codes.
 */
export function presenceKappa(
  usedBy: readonly number[],
  coders: number,
  rates?: readonly [number, number],
): number | null {
  const n = usedBy.length;
  if (n === 0) return null;
  let observed = 0;
  for (const k of usedBy) observed += (k * (k - 1) + (coders - k) * (coders - k - 1)) / (coders * (coders - 1));
  observed /= n;
  let chance: number;
  if (coders === 2 && rates) {
    const [p1, p2] = rates;
    chance = p1 * p2 + (1 - p1) * (1 - p2);
  } else {
    const p = usedBy.reduce((sum, k) => sum + k, 0) / (n * coders);
    chance = p * p + (1 - p) * (1 - p);
  }
  return chance === 1 ? null : (observed - chance) / (1 - chance);
}

/**
 * Agreement of one coding round (nominal codes): the statistics of `POST /v1/stats/agreement` on the units × coders
 * matrix, and per code, over the units every coder coded, how often a code one coder used was used by all, with
 * kappa on the code's presence.
 */
export function roundAgreement(coders: readonly string[], codings: readonly Coding[]): RoundAgreement {
  const matrix = codingMatrix(coders, codings);
  const complete = matrix.filter((row) => row.every((code) => code !== null)) as string[][];
  const codes = [...new Set(codings.map((c) => c.code))].sort((a, b) => a.localeCompare(b, 'en'));
  // One pass over the fully coded units: per code, how many coders used it in each unit and how often each coder did.
  const index = new Map(codes.map((code, i) => [code, i]));
  const usedBy = codes.map(() => new Array<number>(complete.length).fill(0));
  const byCoder = codes.map(() => coders.map(() => 0));
  complete.forEach((row, u) =>
    row.forEach((code, r) => {
      const i = index.get(code)!;
      usedBy[i]![u]! += 1;
      byCoder[i]![r]! += 1;
    }),
  );
  const byCode = codes.map((code, i): CodeAgreement => {
    const withCode = usedBy[i]!.filter((k) => k > 0).length;
    const allAgree = usedBy[i]!.filter((k) => k === coders.length).length;
    const rates = byCoder[i]!.map((count) => count / complete.length);
    return {
      code,
      unitsWithCode: withCode,
      unitsAllAgree: allAgree,
      proportion: withCode ? allAgree / withCode : null,
      kappa: presenceKappa(usedBy[i]!, coders.length, coders.length === 2 ? [rates[0]!, rates[1]!] : undefined),
    };
  });
  return { units: matrix.length, agreement: agreement({ ratings: matrix, level: 'nominal' }), byCode };
}

/** One row per round: percent agreement, kappa and alpha, and the change in percent agreement from the round before. */
export function agreementTrend(rounds: readonly { round: number; agreement: AgreementResult }[]): TrendRow[] {
  return rounds.map(({ round, agreement: result }, i) => {
    const percent = result.percentAgreement.percent;
    const previous = i === 0 ? null : rounds[i - 1]!.agreement.percentAgreement.percent;
    return {
      round,
      percentAgreement: percent,
      kappa: kappaOf(result),
      alpha: result.krippendorffAlpha.value,
      change: percent === null || previous === null ? null : percent - previous,
    };
  });
}
