import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError, ValidationError } from '../../core/errors';
import type { UseCaseContext } from '../../core/use-case-context';
import { withExecutor } from '../../core/use-case-context';
import { withTransaction } from '../../db/database';
import type { components } from '../../generated/openapi';
import { recordAudit } from '../audit/audit.service';
import { recordConsent, withdrawConsent } from '../consent/consent.service';
import { recordEvent } from '../events/events.service';
import { recordAssessment } from '../follow-up/follow-up.service';
import { issueIncentive } from '../incentives/incentives.service';
import { screenParticipant } from '../participants/participants.service';
import { importAllocation } from '../randomization/randomization.service';
import type { TrialView } from '../trials/trials';
import { lockTrialExclusive } from '../trials/trials.service';
import { participantIdsByLabel } from './interop.query';
import {
  allocationRows,
  assessmentRows,
  columnOf,
  consentRows,
  couponRows,
  eventRows,
  LabelledRow,
  participantRows,
  RowError,
} from './migration-csv';

type MigrationReport = components['schemas']['HistoryImport'];
export type MigrationKind = MigrationReport['kind'];

/** Thrown to roll a dry run (or a failed run) back after every row was tried. */
class RollBack extends Error {}

function rowErrors(line: number, error: unknown): RowError[] {
  if (error instanceof ValidationError)
    return error.errors.map((e) => ({ line, column: columnOf(e.pointer), detail: e.detail }));
  if (error instanceof AppError) return [{ line, column: '', detail: error.message }];
  throw error;
}

/** One row's work, in its own savepoint; `participantId` is resolved from the row's label for labelled kinds. */
type RowWork<Input> = (rowCtx: UseCaseContext, row: { participantId: string; input: Input }) => Promise<unknown>;

interface ImportRun {
  trx: Knex.Transaction;
  trialId: string;
  importId: string;
  errors: RowError[];
  inSavepoint(line: number, work: (rowCtx: UseCaseContext) => Promise<unknown>): Promise<void>;
}

/** Rows of a kind that names existing participants: labels are resolved first, an unknown one is a row error. */
async function importLabelled<Input>(
  run: ImportRun,
  parsed: { rows: LabelledRow<Input>[]; errors: RowError[] },
  work: RowWork<Input>,
): Promise<number> {
  run.errors.push(...parsed.errors);
  const ids = await participantIdsByLabel(
    run.trx,
    run.trialId,
    parsed.rows.map((row) => row.label),
  );
  for (const row of parsed.rows) {
    const participantId = ids.get(row.label);
    if (!participantId)
      run.errors.push({
        line: row.line,
        column: 'label',
        detail: `the trial has no participant labelled ${row.label}`,
      });
    else await run.inSavepoint(row.line, (rowCtx) => work(rowCtx, { participantId, input: row.input }));
  }
  return parsed.rows.length + new Set(parsed.errors.map((e) => e.line)).size;
}

/** Reads the file of one kind and runs each row through the use case a request of that kind would. */
async function importRows(run: ImportRun, trial: TrialView, kind: MigrationKind, csv: string): Promise<number> {
  const { trialId } = run;
  switch (kind) {
    case 'participants': {
      const parsed = participantRows(csv);
      run.errors.push(...parsed.errors);
      for (const row of parsed.rows)
        await run.inSavepoint(row.line, (rowCtx) => screenParticipant(rowCtx, { ...row.input, trialId }));
      return parsed.rows.length + new Set(parsed.errors.map((e) => e.line)).size;
    }
    case 'consents': {
      const parsed = consentRows(csv);
      const rows = parsed.rows.map(({ line, label, input, withdrawal }) => ({
        line,
        label,
        input: { input, withdrawal },
      }));
      return importLabelled(run, { rows, errors: parsed.errors }, async (rowCtx, { participantId, input }) => {
        const consent = await recordConsent(rowCtx, { trialId, participantId, input: input.input });
        if (input.withdrawal)
          await withdrawConsent(rowCtx, { trialId, participantId, consentId: consent.id, input: input.withdrawal });
      });
    }
    case 'allocations':
      return importLabelled(run, allocationRows(csv), (rowCtx, { participantId, input }) =>
        importAllocation(rowCtx, { ...input, trialId, participantId, importId: run.importId }),
      );
    case 'events':
      return importLabelled(run, eventRows(csv), (rowCtx, { participantId, input }) =>
        recordEvent(rowCtx, { trialId, participantId, input }),
      );
    case 'assessments': {
      const measures = new Map(trial.measures.map((m) => [m.code, m]));
      return importLabelled(run, assessmentRows(csv, measures), (rowCtx, { participantId, input }) =>
        recordAssessment(rowCtx, { trialId, participantId, assessment: input }),
      );
    }
    case 'coupons':
      return importLabelled(run, couponRows(csv), (rowCtx, { participantId, input }) =>
        issueIncentive(rowCtx, { trialId, participantId, input }),
      );
  }
}

/**
 * Imports one CSV file of a trial's history, all or nothing: every row goes through the same use case a
 * request would (screening, consent, withdrawal, event, assessment, incentive; an allocation through the import's own
 * use case, which keeps the previous system's arm and sequence number), inside one transaction, each in a savepoint so
 * that one failing row does not hide the next. Original dates are kept; every audit row written carries the import
 * (`requestId` = `import:<id>`) and one `trial.history_imported` row closes it. A dry run, or any failing row, rolls
 * everything back; the report lists every failing row with its line and column.
 */
export async function importHistory(
  ctx: UseCaseContext,
  input: { trialId: string; kind: MigrationKind; csv: string; dryRun: boolean },
): Promise<MigrationReport> {
  const importId = randomUUID();
  const importing: UseCaseContext = { ...ctx, actor: { ...ctx.actor, requestId: `import:${importId}` } };
  const errors: RowError[] = [];
  let rowCount = 0;
  try {
    await withTransaction(ctx.db, async (trx) => {
      errors.length = 0;
      const trial = await lockTrialExclusive(trx, input.trialId);
      const run: ImportRun = {
        trx,
        trialId: input.trialId,
        importId,
        errors,
        inSavepoint: async (line, work) => {
          try {
            await trx.transaction(async (savepoint) => work(withExecutor(importing, savepoint)));
          } catch (error) {
            errors.push(...rowErrors(line, error));
          }
        },
      };
      rowCount = await importRows(run, trial, input.kind, input.csv);
      if (errors.length || input.dryRun) throw new RollBack();
      await recordAudit(trx, importing.actor, {
        trialId: input.trialId,
        action: 'trial.history_imported',
        entityType: 'trial',
        entityId: input.trialId,
        before: null,
        after: { importId, kind: input.kind, rows: rowCount },
      });
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
  }
  errors.sort((a, b) => a.line - b.line);
  if (errors.length && !input.dryRun)
    throw new ValidationError(
      errors.map((e) => ({ pointer: `/line/${e.line}/${e.column}`, detail: e.detail })),
      `${errors.length} problem(s) in the file; nothing was imported.`,
    );
  return { importId: input.dryRun ? null : importId, kind: input.kind, dryRun: input.dryRun, rows: rowCount, errors };
}
