import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { withTransaction } from '../../db/database';
import type { UseCaseContext } from '../../core/use-case-context';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors';
import type { components } from '../../generated/openapi';
import { decodeCursor, isTimeOrderedCursor, toPage } from '../../core/pagination';
import { recordAudit } from '../audit/audit.service';
import { loadTrial, lockTrialShared } from '../trials/trials.service';
import * as repo from './data-queries.repo';
import type { DataQueryRow } from './data-queries.repo';
import { ageInDays, nextQueryStatus, QueryAction, QueryStatus } from './query-states';
import { findRecordDocument, findRecordDocuments, RecordKind as QueryTargetKind } from './record-documents.query';
import { canonicalJson, resolvePointer } from './record-items';
import { assessmentFindings, baselineFindings, CheckedAssessment, Finding } from './automatic-checks';

type DataQuery = components['schemas']['DataQuery'];
type DataQueryInput = components['schemas']['DataQueryInput'];
type DataQueryList = components['schemas']['DataQueryList'];
type Measure = components['schemas']['Measure'];
type BaselineVariable = components['schemas']['BaselineVariable'];

const DAY_MS = 86_400_000;

const canSeeSite = (siteCodes: string[] | null, siteCode: string) => siteCodes === null || siteCodes.includes(siteCode);
const notFound = (id: string) => new NotFoundError(`Query ${id} was not found.`);

/** A query as shown: its age is counted to now while it waits, and to its closure once closed. */
function viewOf(row: DataQueryRow, now: Date): DataQuery {
  const until = row.status === 'closed' ? new Date(row.statusChangedAt) : now;
  return {
    id: row.id,
    target: row.target,
    participantId: row.participantId,
    siteCode: row.siteCode,
    status: row.status,
    text: row.messages[0]!.text,
    raisedAt: row.raisedAt,
    statusChangedAt: row.statusChangedAt,
    ageDays: ageInDays(new Date(row.raisedAt), until),
    check: row.check,
    messages: row.messages,
  };
}

export async function raiseQuery(
  ctx: UseCaseContext,
  request: { trialId: string; input: DataQueryInput },
): Promise<DataQuery> {
  const { trialId, input } = request;
  return withTransaction(ctx.db, async (trx) => {
    await lockTrialShared(trx, trialId);
    const { kind, id: recordId, pointer } = input.target;
    const owner = await findRecordDocument(trx, trialId, kind, recordId, ctx.principal.siteCodes);
    if (!owner)
      throw new ValidationError([
        { pointer: '/target/id', detail: `trial has no ${kind.replace('_', ' ')} ${recordId}` },
      ]);
    if (!resolvePointer(owner.document, pointer).found)
      throw new ValidationError([
        { pointer: '/target/pointer', detail: `names nothing in ${kind.replace('_', ' ')} ${recordId}` },
      ]);
    return insertRaised(ctx, trx, trialId, {
      participantId: owner.participantId,
      target: input.target,
      text: input.text,
      check: null,
    });
  });
}

/**
 * Raises a query in the caller's transaction and writes its audit row: a person's always, an automatic check's only
 * when that check has not raised one on the item before (undefined then).
 */
async function insertRaised(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  trialId: string,
  raise: { participantId: string; target: DataQuery['target']; text: string; check: null },
): Promise<DataQuery>;
async function insertRaised(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  trialId: string,
  raise: { participantId: string; target: DataQuery['target']; text: string; check: repo.AutomaticCheck },
): Promise<DataQuery | undefined>;
async function insertRaised(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  trialId: string,
  raise: { participantId: string; target: DataQuery['target']; text: string; check: repo.AutomaticCheck | null },
): Promise<DataQuery | undefined> {
  const id = randomUUID();
  const at = ctx.now();
  const row = { trialId, id, at, byKey: ctx.principal.keyId, byRole: ctx.principal.role, ...raise };
  if (raise.check === null) await repo.insertQuery(trx, row);
  else if (!(await repo.insertAutomaticQuery(trx, { ...row, check: raise.check }))) return undefined;
  const query = viewOf((await repo.findQuery(trx, trialId, id))!, at);
  await recordAudit(trx, ctx.actor, {
    trialId,
    action: 'query.raised',
    entityType: 'query',
    entityId: id,
    before: null,
    after: query,
  });
  return query;
}

/** Answer, close or re-open: one step of the state machine, refused (409) when it would go backwards. */
export async function actOnQuery(
  ctx: UseCaseContext,
  request: { trialId: string; queryId: string; action: Exclude<QueryAction, 'resolve'>; text: string },
): Promise<DataQuery> {
  const { trialId, queryId, action, text } = request;
  return withTransaction(ctx.db, async (trx) => {
    await lockTrialShared(trx, trialId);
    const current = await repo.lockQuery(trx, trialId, queryId);
    if (!current || !canSeeSite(ctx.principal.siteCodes, current.siteCode)) throw notFound(queryId);
    return stepQuery(ctx, trx, trialId, current, { action, text, viaCorrection: false });
  });
}

/** One step of a locked query, with its message and audit row, in the caller's transaction. */
async function stepQuery(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  trialId: string,
  current: DataQueryRow,
  step: { action: QueryAction; text: string; viaCorrection: boolean },
): Promise<DataQuery> {
  const { action, text, viaCorrection } = step;
  const to = nextQueryStatus(current.status, action);
  if (to === null)
    throw new ConflictError(
      'query-transition-refused',
      `A query that is ${current.status} cannot be ${PAST[action]}.`,
      {
        queryStatus: current.status,
      },
    );
  const at = ctx.now();
  await repo.moveQuery(trx, trialId, current, {
    action,
    to,
    text,
    at,
    byKey: ctx.principal.keyId,
    byRole: ctx.principal.role,
    viaCorrection,
  });
  const query = viewOf((await repo.findQuery(trx, trialId, current.id))!, at);
  await recordAudit(trx, ctx.actor, {
    trialId,
    action: `query.${PAST[action]}`,
    entityType: 'query',
    entityId: current.id,
    before: { status: current.status },
    after: { status: to, text, viaCorrection },
  });
  return query;
}

/**
 * For the correction operations of the features that own queried records (assessment PATCH, baseline PUT, adverse
 * event PATCH, session PATCH; consents and participant events have no correction operation): inside their
 * transaction, after the correction, answers the query the request names with the correction's reason. The query
 * must be on the corrected record (422 at `/queryId` otherwise, also for a query the caller may not see) and
 * answerable now (409 `query-transition-refused`).
 */
export async function answerQueryByCorrection(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  request: { trialId: string; queryId: string; record: { kind: QueryTargetKind; id: string }; reason: string },
): Promise<void> {
  const { trialId, queryId, record, reason } = request;
  const current = await repo.lockQuery(trx, trialId, queryId);
  if (
    !current ||
    !canSeeSite(ctx.principal.siteCodes, current.siteCode) ||
    current.target.kind !== record.kind ||
    current.target.id !== record.id
  )
    throw new ValidationError([
      { pointer: '/queryId', detail: `names no query on this ${record.kind.replace('_', ' ')}` },
    ]);
  await stepQuery(ctx, trx, trialId, current, { action: 'answer', text: reason, viaCorrection: true });
}

const PAST: Record<QueryAction, string> = {
  answer: 'answered',
  close: 'closed',
  reopen: 'reopened',
  resolve: 'resolved',
};

export async function getQuery(ctx: UseCaseContext, request: { trialId: string; queryId: string }): Promise<DataQuery> {
  await loadTrial(ctx, request.trialId);
  const row = await repo.findQuery(ctx.db, request.trialId, request.queryId);
  if (!row || !canSeeSite(ctx.principal.siteCodes, row.siteCode)) throw notFound(request.queryId);
  return viewOf(row, ctx.now());
}

export interface QueryListRequest {
  trialId: string;
  status?: QueryStatus;
  siteCode?: string;
  kind?: QueryTargetKind;
  targetId?: string;
  olderThan?: number;
  cursor?: string;
  limit?: number;
}

/** Queries oldest first, a page at a time, with the counts of all the caller may see. */
export async function listQueries(ctx: UseCaseContext, request: QueryListRequest): Promise<DataQueryList> {
  const { trialId, olderThan, cursor, limit = 50, ...filter } = request;
  await loadTrial(ctx, trialId);
  const now = ctx.now();
  const rows = await repo.listQueries(ctx.db, trialId, {
    ...filter,
    siteCodes: ctx.principal.siteCodes,
    raisedBefore: olderThan === undefined ? undefined : new Date(now.getTime() - olderThan * DAY_MS),
    after: cursor === undefined ? undefined : decodeCursor(cursor, isTimeOrderedCursor),
    limit: limit + 1,
  });
  const page = toPage(
    rows,
    limit,
    (r) => viewOf(r, now),
    (r) => ({ at: r.raisedAt, id: r.id }),
  );
  return { asOf: now.toISOString(), ...page, summary: await querySummary(ctx, trialId) };
}

type QuerySummary = components['schemas']['DataQuerySummary'];

/** Counts by site and by kind of record (form), with the age of the oldest waiting query. */
export async function querySummary(ctx: UseCaseContext, trialId: string): Promise<QuerySummary> {
  const counts = await repo.countQueries(ctx.db, trialId, ctx.principal.siteCodes);
  const waiting = await repo.listQueries(ctx.db, trialId, {
    siteCodes: ctx.principal.siteCodes,
    limit: 1,
    status: 'open',
  });
  const empty = () => ({ open: 0, answered: 0, closed: 0 });
  const bySite = new Map<string, ReturnType<typeof empty>>();
  const byKind = new Map<string, ReturnType<typeof empty>>();
  for (const c of counts) {
    const site = bySite.get(c.siteCode) ?? empty();
    site[c.status] += c.count;
    bySite.set(c.siteCode, site);
    const kind = byKind.get(c.kind) ?? empty();
    kind[c.status] += c.count;
    byKind.set(c.kind, kind);
  }
  const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  return {
    bySite: sorted(bySite).map(([siteCode, n]) => ({ siteCode, ...n })),
    byKind: sorted(byKind).map(([kind, n]) => ({ kind: kind as QueryTargetKind, ...n })),
    oldestOpenDays: waiting[0] ? ageInDays(new Date(waiting[0].raisedAt), ctx.now()) : null,
  };
}

type AutomaticQueryRun = components['schemas']['AutomaticQueryRun'];

/**
 * Runs the automatic checks over the trial's baseline values and assessments, against the configuration read under
 * the trial's lock, and raises one query per finding that its check has not raised before (on that item, in any
 * status), each audited. Running it again raises nothing new.
 */
export async function runAutomaticChecks(
  ctx: UseCaseContext,
  request: { trialId: string },
): Promise<AutomaticQueryRun> {
  const { trialId } = request;
  return withTransaction(ctx.db, async (trx) => {
    const trial = await lockTrialShared(trx, trialId);
    const siteCodes = ctx.principal.siteCodes;
    const participants = await findRecordDocuments(trx, trialId, 'participant', { siteCodes });
    const assessments = await findRecordDocuments(trx, trialId, 'assessment', { siteCodes });
    const owner = new Map([...participants, ...assessments].map((r) => [`${r.kind}/${r.id}`, r.participantId]));
    const findings: Finding[] = [
      ...participants.flatMap((p) =>
        baselineFindings(trial.baselineVariables, {
          id: p.id,
          role: p.document.role as string,
          baseline: p.document.baseline as Record<string, unknown>,
        }),
      ),
      ...assessments.flatMap((a) =>
        assessmentFindings(trial.measures, {
          id: a.id,
          visit: a.document.visit as string,
          values: a.document.values as Record<string, unknown>,
        }),
      ),
    ];
    const at = ctx.now();
    const raised = await raiseFindings(ctx, trx, trialId, findings, (f) => owner.get(`${f.kind}/${f.id}`)!);
    return {
      asOf: at.toISOString(),
      checked: { participants: participants.length, assessments: assessments.length },
      raised,
    };
  });
}

/**
 * Raises one query per finding that its check has not raised before on that item (in any status), each audited.
 * With `reopenResolved` (a correction's checks), a finding on an item whose query a correction resolved earlier
 * re-opens that query (the item was put right, then changed again to a value the check flags); a query a monitor
 * closed stays closed.
 */
async function raiseFindings(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  trialId: string,
  findings: readonly Finding[],
  participantOf: (finding: Finding) => string,
  reopenResolved = false,
): Promise<DataQuery[]> {
  const raised: DataQuery[] = [];
  for (const finding of findings) {
    const target = { kind: finding.kind, id: finding.id, pointer: finding.pointer };
    const query = await insertRaised(ctx, trx, trialId, {
      participantId: participantOf(finding),
      target,
      text: finding.text,
      check: finding.check,
    });
    if (query) raised.push(query);
    else if (reopenResolved) {
      const existing = (await repo.lockAutomaticQuery(trx, trialId, { ...target, check: finding.check }))!;
      if (existing.status === 'closed' && existing.messages[existing.messages.length - 1]!.action === 'resolve')
        raised.push(
          await stepQuery(ctx, trx, trialId, existing, { action: 'reopen', text: finding.text, viaCorrection: true }),
        );
    }
  }
  return raised;
}

/**
 * For the baseline writes (screening, baseline set or corrected): inside their transaction, after the write, runs
 * the soft-range checks on the participant's baseline as written and raises what they find, as the on-request run
 * would — nothing when the check already raised a query on that item, whatever its status. With `before` (the
 * baseline the write replaced), an open automatic query on an item the write changed that its check no longer
 * finds is resolved (see resolveCorrectedQueries), and a query resolved earlier whose item the check flags again is
 * re-opened. A first write with nothing found sends no statement.
 */
export async function raiseBaselineChecks(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  request: {
    trialId: string;
    variables: readonly BaselineVariable[];
    participant: { id: string; role: string; baseline: Record<string, unknown> };
    before?: Record<string, unknown>;
  },
): Promise<DataQuery[]> {
  const { trialId, variables, participant, before } = request;
  const findings = baselineFindings(variables, participant);
  if (before !== undefined)
    await resolveCorrectedQueries(ctx, trx, trialId, {
      record: { kind: 'participant', id: participant.id },
      findings,
      before: { baseline: before },
      after: { baseline: participant.baseline },
    });
  return raiseFindings(ctx, trx, trialId, findings, () => participant.id, before !== undefined);
}

/** For the assessment writes (record, correct): as raiseBaselineChecks, missing items and soft ranges. */
export async function raiseAssessmentChecks(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  request: {
    trialId: string;
    measures: readonly Measure[];
    participantId: string;
    assessment: CheckedAssessment;
    before?: Record<string, unknown>;
  },
): Promise<DataQuery[]> {
  const { trialId, measures, participantId, assessment, before } = request;
  const findings = assessmentFindings(measures, assessment);
  if (before !== undefined)
    await resolveCorrectedQueries(ctx, trx, trialId, {
      record: { kind: 'assessment', id: assessment.id },
      findings,
      before: { values: before },
      after: { values: assessment.values },
    });
  return raiseFindings(ctx, trx, trialId, findings, () => participantId, before !== undefined);
}

/**
 * A correction that puts right an item an automatic check queried closes the check's open query on it: the item's
 * value changed (`before` → `after`, documents as the pointers address them), it now holds a value (neither absent
 * nor null: a value removed is not put right), and the check that raised the query no longer finds anything there.
 * The query moves open → closed by the action `resolve` (a message with `viaCorrection: true`, the corrector's role,
 * and the audit row `query.resolved`), in the correction's transaction. Answered queries wait for the monitor; a
 * person's query is never resolved this way; an item corrected to another value the check still flags stays open.
 */
async function resolveCorrectedQueries(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  trialId: string,
  correction: {
    record: { kind: QueryTargetKind; id: string };
    findings: readonly Finding[];
    before: Record<string, unknown>;
    after: Record<string, unknown>;
  },
): Promise<void> {
  const { record, findings, before, after } = correction;
  const stillFound = new Set(findings.map((f) => `${f.check} ${f.pointer}`));
  for (const query of await repo.lockOpenAutomaticQueries(trx, trialId, record)) {
    const { pointer } = query.target;
    if (stillFound.has(`${query.check} ${pointer}`)) continue;
    const was = resolvePointer(before, pointer);
    const now = resolvePointer(after, pointer);
    if (!now.found || now.value === null || now.value === undefined) continue;
    if (was.found && canonicalJson(was.value) === canonicalJson(now.value)) continue;
    const text =
      query.check === 'soft_range'
        ? `Resolved by a correction: the value is now ${canonicalJson(now.value)}, which the soft-range check no longer flags.`
        : 'Resolved by a correction: the item now has a value.';
    await stepQuery(ctx, trx, trialId, query, { action: 'resolve', text, viaCorrection: true });
  }
}
