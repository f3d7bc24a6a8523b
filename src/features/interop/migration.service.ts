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
import { correctAssessment, recordAssessment, recordMissedVisit } from '../follow-up/follow-up.service';
import { issueIncentive } from '../incentives/incentives.service';
import { assignCaseWorker, screenParticipant } from '../participants/participants.service';
import { flagRandomizationError, importAllocation } from '../randomization/randomization.service';
import type { TrialView } from '../trials/trials';
import { lockTrialExclusive } from '../trials/trials.service';
import { participantIdsByLabel, participantStatesByLabel } from './interop.query';
import {
  allocationRows,
  assessmentRows,
  columnOf,
  consentRows,
  correctionRows,
  couponRows,
  eventRows,
  LabelledRow,
  missedVisitRows,
  participantRows,
  RowError,
} from './migration-csv';
import { clinicalDataOf, definitionProblems, OdmRecord } from './odm-clinical-data';
import { parseOdmDocument } from './odm-import';

type MigrationReport = components['schemas']['HistoryImport'];
export type MigrationKind = MigrationReport['kind'];
type ImportProblem = MigrationReport['errors'][number];

/** Thrown to roll a dry run (or a failed run) back after every row was tried. */
class RollBack extends Error {}

/** Where a row is: a CSV line, or an ODM element (and where each of its input fields came from). */
type Where = { line: number } | Pick<OdmRecord<unknown>, 'location' | 'locate'>;

/** A problem of a row: at a CSV line and column, or at the ODM record's element (which has no columns). */
const problemAt = (where: Where, column: string, detail: string): ImportProblem =>
  'line' in where ? { line: where.line, column, detail } : { location: where.location, detail };

function problemsAt(where: Where, error: unknown): ImportProblem[] {
  if (error instanceof ValidationError)
    return error.errors.map((e) =>
      'line' in where
        ? { line: where.line, column: columnOf(e.pointer), detail: e.detail }
        : { location: where.locate(e.pointer), detail: e.detail },
    );
  if (error instanceof AppError) return [problemAt(where, '', error.message)];
  throw error;
}

/** One row's work, in its own savepoint; `participantId` is resolved from the row's label for labelled kinds. */
type RowWork<Input> = (rowCtx: UseCaseContext, row: { participantId: string; input: Input }) => Promise<unknown>;

interface ImportRun {
  trx: Knex.Transaction;
  trialId: string;
  importId: string;
  errors: ImportProblem[];
  inSavepoint(where: Where, work: (rowCtx: UseCaseContext) => Promise<unknown>): Promise<void>;
}

/** Rows that name existing participants: labels are resolved first, an unknown one is a row error. */
async function runLabelled<Input>(
  run: ImportRun,
  rows: { where: Where; label: string; input: Input }[],
  work: RowWork<Input>,
): Promise<void> {
  const ids = await participantIdsByLabel(
    run.trx,
    run.trialId,
    rows.map((row) => row.label),
  );
  for (const row of rows) {
    const participantId = ids.get(row.label);
    if (participantId) await run.inSavepoint(row.where, (rowCtx) => work(rowCtx, { participantId, input: row.input }));
    else run.errors.push(problemAt(row.where, 'label', `the trial has no participant labelled ${row.label}`));
  }
}

/** A CSV kind that names existing participants. */
async function importLabelled<Input>(
  run: ImportRun,
  parsed: { rows: LabelledRow<Input>[]; errors: RowError[] },
  work: RowWork<Input>,
): Promise<number> {
  run.errors.push(...parsed.errors);
  await runLabelled(
    run,
    parsed.rows.map((row) => ({ where: { line: row.line }, label: row.label, input: row.input })),
    work,
  );
  return parsed.rows.length + new Set(parsed.errors.map((e) => e.line)).size;
}

const odmRows = <Input>(records: OdmRecord<Input>[]) =>
  records.map((record) => ({ where: record, label: record.label, input: record.input }));

/**
 * The `ClinicalData` of an ODM document, through the same use cases as the CSV kinds and in their order (subjects,
 * consents, allocations and case-worker assignments, events, assessments, missed visits). Refused whole (422) when
 * the document's definition is not the trial's. When every record went in, each subject's status as the document
 * states it (`I.SCR.STATUS`) must be the status its imported history gives.
 */
async function importOdm(run: ImportRun, trial: TrialView, document: string): Promise<number> {
  const { trialId } = run;
  const root = parseOdmDocument(document);
  const refused = definitionProblems(root, trial);
  if (refused.length)
    throw new ValidationError(
      refused.map((p) => ({ pointer: p.location, detail: p.detail })),
      `The document's ClinicalData is not for this trial's definition (${refused.length} difference(s)); nothing was imported.`,
    );
  const data = clinicalDataOf(root, trial);
  run.errors.push(...data.problems);
  for (const record of data.participants)
    await run.inSavepoint(record, (rowCtx) => screenParticipant(rowCtx, { ...record.input, trialId }));
  await runLabelled(run, odmRows(data.consents), async (rowCtx, { participantId, input }) => {
    const consent = await recordConsent(rowCtx, { trialId, participantId, input: input.consent });
    if (input.withdrawal)
      await withdrawConsent(rowCtx, { trialId, participantId, consentId: consent.id, input: input.withdrawal });
  });
  await runLabelled(run, odmRows(data.allocations), async (rowCtx, { participantId, input }) => {
    const { errorReason, ...allocation } = input;
    await importAllocation(rowCtx, { ...allocation, trialId, participantId, importId: run.importId });
    if (errorReason !== null) await flagRandomizationError(rowCtx, { trialId, participantId, reason: errorReason });
  });
  await runLabelled(run, odmRows(data.assignments), (rowCtx, { participantId, input }) =>
    assignCaseWorker(rowCtx, { trialId, participantId, input }),
  );
  await runLabelled(run, odmRows(data.events), (rowCtx, { participantId, input }) =>
    recordEvent(rowCtx, { trialId, participantId, input }),
  );
  await runLabelled(run, odmRows(data.assessments), (rowCtx, { participantId, input }) =>
    recordAssessment(rowCtx, { trialId, participantId, assessment: input }),
  );
  await runLabelled(run, odmRows(data.missedVisits), (rowCtx, { participantId, input }) =>
    recordMissedVisit(rowCtx, { trialId, participantId, ...input }),
  );
  if (!run.errors.length) {
    const states = await participantStatesByLabel(
      run.trx,
      trialId,
      data.participants.map((p) => p.label),
    );
    for (const { label, status } of data.participants)
      if (status && states.get(label) !== status.value)
        run.errors.push({
          location: status.location,
          detail: `the imported history gives the status ${states.get(label) ?? 'none'}, the document says ${status.value}`,
        });
  }
  return data.subjects;
}

/** Reads the file of one kind and runs each row through the use case a request of that kind would. */
async function importRows(run: ImportRun, trial: TrialView, kind: MigrationKind, text: string): Promise<number> {
  const { trialId } = run;
  switch (kind) {
    case 'odm':
      return importOdm(run, trial, text);
    case 'participants': {
      const parsed = participantRows(text);
      run.errors.push(...parsed.errors);
      for (const row of parsed.rows)
        await run.inSavepoint({ line: row.line }, (rowCtx) => screenParticipant(rowCtx, { ...row.input, trialId }));
      return parsed.rows.length + new Set(parsed.errors.map((e) => e.line)).size;
    }
    case 'consents': {
      const parsed = consentRows(text);
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
      return importLabelled(run, allocationRows(text), (rowCtx, { participantId, input }) =>
        importAllocation(rowCtx, { ...input, trialId, participantId, importId: run.importId }),
      );
    case 'events':
      return importLabelled(run, eventRows(text), (rowCtx, { participantId, input }) =>
        recordEvent(rowCtx, { trialId, participantId, input }),
      );
    case 'assessments': {
      const measures = new Map(trial.measures.map((m) => [m.code, m]));
      return importLabelled(run, assessmentRows(text, measures), (rowCtx, { participantId, input }) =>
        recordAssessment(rowCtx, { trialId, participantId, assessment: input }),
      );
    }
    case 'missed_visits':
      return importLabelled(run, missedVisitRows(text), (rowCtx, { participantId, input }) =>
        recordMissedVisit(rowCtx, { trialId, participantId, ...input }),
      );
    case 'assessment_corrections': {
      const measures = new Map(trial.measures.map((m) => [m.code, m]));
      return importLabelled(run, correctionRows(text, measures), (rowCtx, { participantId, input }) =>
        correctAssessment(rowCtx, { trialId, participantId, visit: input.visit, correction: input.correction }),
      );
    }
    case 'coupons':
      return importLabelled(run, couponRows(text), (rowCtx, { participantId, input }) =>
        issueIncentive(rowCtx, { trialId, participantId, input }),
      );
  }
}

/**
 * Imports one CSV file of a trial's history (or an ODM document's ClinicalData), all or nothing: every row goes
 * through the same use case a request would (screening, consent, withdrawal, event, assessment, incentive; an
 * allocation through the import's own use case, which keeps the previous system's arm and sequence number), inside
 * one transaction, each in a savepoint so that one failing row does not hide the next. Original dates are kept; every
 * audit row written carries the import (`requestId` = `import:<id>`) and one `trial.history_imported` row closes it.
 * A dry run, or any failing row, rolls everything back; the report lists every failing row with its line and column
 * (its element, for ODM).
 */
export async function importHistory(
  ctx: UseCaseContext,
  input: { trialId: string; kind: MigrationKind; text: string; dryRun: boolean },
): Promise<MigrationReport> {
  const importId = randomUUID();
  const importing: UseCaseContext = { ...ctx, actor: { ...ctx.actor, requestId: `import:${importId}` } };
  const errors: ImportProblem[] = [];
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
        inSavepoint: async (where, work) => {
          try {
            await trx.transaction(async (savepoint) => work(withExecutor(importing, savepoint)));
          } catch (error) {
            errors.push(...problemsAt(where, error));
          }
        },
      };
      rowCount = await importRows(run, trial, input.kind, input.text);
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
  // CSV problems by line; ODM problems stay in the order they were found (document order within each phase).
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (errors.length && !input.dryRun)
    throw new ValidationError(
      errors.map((e) => ({ pointer: e.location ?? `/line/${e.line}/${e.column}`, detail: e.detail })),
      `${errors.length} problem(s) in the file; nothing was imported.`,
    );
  return { importId: input.dryRun ? null : importId, kind: input.kind, dryRun: input.dryRun, rows: rowCount, errors };
}
