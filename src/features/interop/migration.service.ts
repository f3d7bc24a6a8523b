import { randomUUID } from 'node:crypto';
import { AppError, ValidationError } from '../../core/errors';
import type { UseCaseContext } from '../../core/use-case-context';
import { withExecutor } from '../../core/use-case-context';
import { withTransaction } from '../../db/database';
import { recordAudit } from '../audit/audit.service';
import { recordConsent, withdrawConsent } from '../consent/consent.service';
import { screenParticipant } from '../participants/participants.service';
import { lockTrialExclusive } from '../trials/trials.service';
import { participantIdsByLabel } from './interop.query';
import { columnOf, consentRows, participantRows, RowError } from './migration-csv';

export type MigrationKind = 'participants' | 'consents';

export interface MigrationReport {
  importId: string | null;
  kind: MigrationKind;
  dryRun: boolean;
  rows: number;
  errors: RowError[];
}

/** Thrown to roll a dry run (or a failed run) back after every row was tried. */
class RollBack extends Error {}

function rowErrors(line: number, error: unknown): RowError[] {
  if (error instanceof ValidationError)
    return error.errors.map((e) => ({ line, column: columnOf(e.pointer), detail: e.detail }));
  if (error instanceof AppError) return [{ line, column: '', detail: error.message }];
  throw error;
}

/**
 * Imports one CSV file of a trial's history, all or nothing: every row goes through the same use case a
 * request would (screening, consent, withdrawal), inside one transaction, each in a savepoint so that one
 * failing row does not hide the next. Original dates are kept; every audit row written carries the import
 * (`requestId` = `import:<id>`) and one `trial.history_imported` row closes it. A dry run, or any failing row,
 * rolls everything back; the report lists every failing row with its line and column.
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
      await lockTrialExclusive(trx, input.trialId);
      const inSavepoint = async (line: number, work: (rowCtx: UseCaseContext) => Promise<void>) => {
        try {
          await trx.transaction(async (savepoint) => work(withExecutor(importing, savepoint)));
        } catch (error) {
          errors.push(...rowErrors(line, error));
        }
      };
      if (input.kind === 'participants') {
        const parsed = participantRows(input.csv);
        errors.push(...parsed.errors);
        rowCount = parsed.rows.length + new Set(parsed.errors.map((e) => e.line)).size;
        for (const row of parsed.rows)
          await inSavepoint(row.line, async (rowCtx) => {
            await screenParticipant(rowCtx, { ...row.input, trialId: input.trialId });
          });
      } else {
        const parsed = consentRows(input.csv);
        errors.push(...parsed.errors);
        rowCount = parsed.rows.length + new Set(parsed.errors.map((e) => e.line)).size;
        const ids = await participantIdsByLabel(
          trx,
          input.trialId,
          parsed.rows.map((row) => row.label),
        );
        for (const row of parsed.rows) {
          const participantId = ids.get(row.label);
          if (!participantId) {
            errors.push({
              line: row.line,
              column: 'label',
              detail: `the trial has no participant labelled ${row.label}`,
            });
            continue;
          }
          await inSavepoint(row.line, async (rowCtx) => {
            const consent = await recordConsent(rowCtx, { trialId: input.trialId, participantId, input: row.input });
            if (row.withdrawal)
              await withdrawConsent(rowCtx, {
                trialId: input.trialId,
                participantId,
                consentId: consent.id,
                input: row.withdrawal,
              });
          });
        }
      }
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
