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

/** What is wrong with a round's codings: a coder not listed, or one coder coding a unit twice. */
export function codingErrors(coders: readonly string[], codings: readonly Coding[]): FieldError[] {
  const errors: FieldError[] = [];
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
 * Agreement of one coding round (nominal codes): the statistics of `POST /v1/stats/agreement` on the units × coders
 * matrix, and per code, over the units every coder coded, how often a code one coder used was used by all, with
 * kappa on the code's presence (a 2 × 2 table per pair of coders).
 */
export function roundAgreement(coders: readonly string[], codings: readonly Coding[]): RoundAgreement {
  const matrix = codingMatrix(coders, codings);
  const complete = matrix.filter((row) => row.every((code) => code !== null)) as string[][];
  const codes = [...new Set(codings.map((c) => c.code))].sort((a, b) => a.localeCompare(b, 'en'));
  const byCode = codes.map((code): CodeAgreement => {
    const withCode = complete.filter((row) => row.includes(code));
    const allAgree = withCode.filter((row) => row.every((c) => c === code)).length;
    const kappa = complete.length
      ? kappaOf(agreement({ ratings: complete.map((row) => row.map((c) => (c === code ? 'present' : 'absent'))) }))
      : null;
    return {
      code,
      unitsWithCode: withCode.length,
      unitsAllAgree: allAgree,
      proportion: withCode.length ? allAgree / withCode.length : null,
      kappa,
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
