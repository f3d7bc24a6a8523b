import type { components } from '../../generated/openapi';
import { Readable } from 'node:stream';
import { withoutJit } from '../../db/database';
import type { ArmLabeller, UseCaseContext } from '../../core/use-case-context';
import { ValidationError } from '../../core/errors';
import { appliesTo } from '../participants/participants';
import { loadTrial } from '../trials/trials.service';
import { BaselineTable, buildBaselineTable, TestChoice } from './baseline';
import { cohortAggregates } from './baseline.query';
import { dictionaryCsv, exportColumns, exportHeader, exportLine, ExportRow } from './participant-export';
import { streamExportRows } from './participant-export.query';
import {
  agreement,
  chiSquareTest,
  fisherExactTest,
  GroupInput,
  rankSumTest,
  StatisticsInputError,
  tTest,
} from '../../lib/statistics';

type TTestInput = components['schemas']['TTestInput'];
type TTestResult = components['schemas']['TTestResult'];
type ContingencyInput = components['schemas']['ContingencyInput'];
type ContingencyResult = components['schemas']['ContingencyResult'];
type MannWhitneyInput = components['schemas']['MannWhitneyInput'];
type MannWhitneyResult = components['schemas']['MannWhitneyResult'];
type AgreementInput = components['schemas']['AgreementInput'];
type AgreementResult = components['schemas']['AgreementResult'];

/**
 * Runs a statistic and turns the library's refusals (undefined statistics, tables too large to
 * enumerate) into a 422 whose pointer names the request field, by renaming the argument prefix.
 */
export function refusingAsValidation<T>(compute: () => T, pointerPrefixes: Record<string, string>): T {
  try {
    return compute();
  } catch (error) {
    if (!(error instanceof StatisticsInputError)) throw error;
    const prefix = Object.keys(pointerPrefixes).find((p) => error.pointer === p || error.pointer.startsWith(`${p}/`));
    const pointer =
      prefix === undefined
        ? (pointerPrefixes[''] ?? '') + error.pointer
        : pointerPrefixes[prefix] + error.pointer.slice(prefix.length);
    throw new ValidationError([{ pointer, detail: error.reason }]);
  }
}

const groupInput = (group: TTestInput['groups'][number]): GroupInput =>
  'values' in group ? group.values : { mean: group.mean, sd: group.sd, n: group.n };

export function runTTest(input: TTestInput): TTestResult {
  const [first, second] = input.groups as [TTestInput['groups'][number], TTestInput['groups'][number]];
  const result = refusingAsValidation(
    () =>
      tTest(groupInput(first), groupInput(second), {
        method: input.method ?? 'welch',
        alternative: input.alternative ?? 'two-sided',
        confidenceLevel: input.confidenceLevel ?? 0.95,
      }),
    { '/group1': '/groups/0', '/group2': '/groups/1', '': '' },
  );
  return {
    method: result.method,
    alternative: result.alternative,
    t: result.t,
    df: result.df,
    p: result.p,
    meanDifference: result.meanDifference,
    standardError: result.standardError,
    confidenceInterval: {
      level: result.confidenceLevel,
      lower: result.confidenceInterval.lower,
      upper: result.confidenceInterval.upper,
    },
    groups: [
      { label: first.label, ...result.group1 },
      { label: second.label, ...result.group2 },
    ],
    hedgesG: result.hedgesG,
  };
}

export function runContingencyTests(input: ContingencyInput): ContingencyResult {
  const chi = refusingAsValidation(
    () => chiSquareTest(input.table, { continuityCorrection: input.correction ?? true }),
    { '': '/table' },
  );
  const fisher = refusingAsValidation(() => fisherExactTest(input.table), { '': '/table' });
  return {
    chiSquare: {
      statistic: chi.statistic,
      df: chi.df,
      p: chi.p,
      correction: chi.continuityCorrected,
      expectedMin: chi.minimumExpectedCount,
    },
    fisherExact: { p: fisher.p },
  };
}

export function runMannWhitney(input: MannWhitneyInput): MannWhitneyResult {
  const result = refusingAsValidation(
    () => rankSumTest(input.x, input.y, { alternative: input.alternative ?? 'two-sided' }),
    { '/group1': '/x', '/group2': '/y', '': '' },
  );
  return { W: result.w, p: result.p, method: result.method, alternative: result.alternative };
}

/** The library's pointers already name request fields (`/ratings/3/1`, `/categories/0`). */
export function runAgreement(input: AgreementInput): AgreementResult {
  return refusingAsValidation(() => agreement(input), { '': '' });
}

export interface BaselineQuery {
  role?: 'service_user' | 'case_worker';
  tests?: TestChoice;
  asOf?: string;
}

export async function getBaselineTable(
  ctx: UseCaseContext,
  input: { trialId: string } & BaselineQuery,
): Promise<{ table: BaselineTable; title: string }> {
  const { db } = ctx;
  const { trialId, ...query } = input;
  const trial = await loadTrial(ctx, trialId);
  const role = query.role ?? 'service_user';
  const cohort = { trialId, role, asOf: query.asOf ?? null };
  const variables = trial.baselineVariables.filter((v) => appliesTo(v, role));
  const { sizes, numeric, categories } = await withoutJit(db, (trx) =>
    cohortAggregates(trx, cohort, {
      numeric: variables.filter((v) => v.type !== 'category').map((v) => v.name),
      categories: variables.filter((v) => v.type === 'category').map((v) => ({ name: v.name, levels: v.levels ?? [] })),
    }),
  );
  const table = buildBaselineTable({
    trialId,
    role,
    asOf: cohort.asOf,
    tests: query.tests ?? 'welch',
    arms: trial.arms.map((arm) => ({ arm: arm.code, n: sizes.get(arm.code) ?? 0 })),
    variables,
    numeric,
    categories,
  });
  return { table: baselineTableFor(await ctx.armLabeller(trialId), table), title: trial.title };
}

/** The table as this caller may see it: arm rows and per-arm summaries labelled and in label order. */
function baselineTableFor(labeller: ArmLabeller, table: BaselineTable): BaselineTable {
  if (!labeller.blinded) return table;
  return {
    ...table,
    arms: table.arms
      .map((row) => ({ ...row, arm: labeller.label(row.arm) }))
      .sort((a, b) => a.arm.localeCompare(b.arm, 'en', { numeric: true })),
    variables: table.variables.map((variable) => ({ ...variable, byArm: labeller.byArm(variable.byArm) })),
  };
}

/** The participant export as a stream of CSV lines, arms through the caller's labeller. */
export async function exportParticipants(ctx: UseCaseContext, input: { trialId: string }): Promise<Readable> {
  const { db, principal } = ctx;
  const { trialId } = input;
  const trial = await loadTrial(ctx, trialId);
  const columns = exportColumns(trial.baselineVariables);
  const labeller = await ctx.armLabeller(trialId);
  const rows = streamExportRows(db, trialId, principal.siteCodes);
  async function* lines() {
    yield exportHeader(columns);
    for await (const raw of rows) {
      const row = raw as ExportRow & { excluded_on: string | null };
      row.flags = { ...(row.flags ?? {}), excluded_from_analysis: row.excluded_on };
      if (row.arm) row.arm = labeller.label(row.arm);
      yield exportLine(columns, row);
    }
  }
  return Readable.from(lines());
}

export async function exportDictionary(ctx: UseCaseContext, input: { trialId: string }): Promise<string> {
  const trial = await loadTrial(ctx, input.trialId);
  return dictionaryCsv(exportColumns(trial.baselineVariables));
}
