import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import { withTransaction } from '../../db/database';
import type { UseCaseContext } from '../../core/use-case-context';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors';
import type { components } from '../../generated/openapi';
import { decodeCursor, isTimeOrderedCursor, Page, toPage } from '../../core/pagination';
import { recordAudit } from '../audit/audit.service';
import { lockVisibleParticipant } from '../participants/participants.service';
import { loadTrial, lockTrialExclusive, lockTrialShared } from '../trials/trials.service';
import { answerQueryByCorrection } from './data-queries.service';
import { checkAdverseEvent, checkFollowUp, checkReportTime, isResolved } from './adverse-events';
import * as repo from './adverse-events.repo';
import { harmsRows } from './dmc.query';
import { countHarms, HarmsCounts } from './harms';
import type { AdverseEventFields, AdverseEventRow } from './adverse-events.repo';
import {
  ClockSettings,
  DEFAULT_CLOCK_SETTINGS,
  formatInTimeZone,
  hoursRemaining,
  isValidTimeZone,
  reportingClocks,
} from './reporting-clock';

type AdverseEvent = components['schemas']['AdverseEvent'];
type AdverseEventInput = components['schemas']['AdverseEventInput'];
type AdverseEventCorrection = components['schemas']['AdverseEventCorrection'];
type FollowUpInput = components['schemas']['AdverseEventFollowUpInput'];
type ReportInput = components['schemas']['AdverseEventReportInput'];
type SafetyDue = components['schemas']['SafetyDue'];
type SafetyDueItem = components['schemas']['SafetyDueItem'];

const canSeeSite = (siteCodes: string[] | null, siteCode: string) => siteCodes === null || siteCodes.includes(siteCode);
const notFound = (id: string) => new NotFoundError(`Adverse event ${id} was not found.`);

/** The trial's clocks, or the defaults when an admin never set them. */
export async function clockSettings(db: Executor, trialId: string): Promise<ClockSettings> {
  return (await repo.findSettings(db, trialId)) ?? DEFAULT_CLOCK_SETTINGS;
}

/** The event as the API shows it: its clocks as of now, in the trial's time zone, and its history. */
function viewOf(
  row: AdverseEventRow,
  history: repo.AdverseEventEntryRow[],
  settings: ClockSettings,
  now: Date,
): AdverseEvent {
  const { revision: _revision, ...fields } = row;
  const clocks = reportingClocks(
    {
      ...row,
      awareAt: row.awareAt ? new Date(row.awareAt) : null,
      reportedToSponsorAt: row.reportedToSponsorAt ? new Date(row.reportedToSponsorAt) : null,
      reportedToEthicsAt: row.reportedToEthicsAt ? new Date(row.reportedToEthicsAt) : null,
    },
    settings,
    now,
  ).map((c) => ({
    clock: c.clock,
    category: c.category,
    dueAt: c.dueAt.toISOString(),
    dueAtLocal: formatInTimeZone(c.dueAt, settings.timeZone),
    reportedAt: c.reportedAt ? c.reportedAt.toISOString() : null,
    status: c.status,
  }));
  return { ...fields, clocks, history };
}

async function shown(ctx: UseCaseContext, db: Executor, trialId: string, id: string): Promise<AdverseEvent> {
  const row = (await repo.findAdverseEvent(db, trialId, id))!;
  const history = (await repo.listEntries(db, trialId, [id])).get(id) ?? [];
  return viewOf(row, history, await clockSettings(db, trialId), ctx.now());
}

const normalInstant = (value: string | undefined) => (value === undefined ? undefined : new Date(value).toISOString());

export async function recordAdverseEvent(
  ctx: UseCaseContext,
  request: { trialId: string; participantId: string; input: AdverseEventInput },
): Promise<AdverseEvent> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId, input } = request;
  return withTransaction(db, async (trx) => {
    await lockTrialShared(trx, trialId);
    const { view: participant } = await lockVisibleParticipant(trx, principal, trialId, participantId);
    const settings = await clockSettings(trx, trialId);
    const fields: AdverseEventFields = {
      term: input.term,
      onsetOn: input.onsetOn,
      severity: input.severity,
      serious: input.serious,
      relatedness: input.relatedness,
      expected: input.expected,
      action: input.action,
      reportedBy: input.reportedBy,
      awareAt: normalInstant(input.awareAt) ?? null,
      outcome: null,
      resolvedOn: null,
      reportedToSponsorAt: null,
      reportedToEthicsAt: null,
    };
    const errors = checkAdverseEvent(fields, {
      screenedOn: participant.screenedOn,
      now: ctx.now(),
      timeZone: settings.timeZone,
    });
    if (errors.length) throw new ValidationError(errors);
    const id = randomUUID();
    await repo.insertAdverseEvent(trx, { trialId, id, participantId, recordedBy: principal.keyId, ...fields });
    const event = await shown(ctx, trx, trialId, id);
    await recordAudit(trx, actor, {
      trialId,
      action: 'adverse_event.recorded',
      entityType: 'adverse_event',
      entityId: id,
      before: null,
      after: event,
    });
    return event;
  });
}

/** Locks an event of a participant the caller may see; 404 otherwise. */
async function lockVisibleEvent(ctx: UseCaseContext, trx: Knex.Transaction, trialId: string, id: string) {
  const row = await repo.lockAdverseEvent(trx, trialId, id);
  if (!row || !canSeeSite(ctx.principal.siteCodes, row.siteCode)) throw notFound(id);
  return row;
}

/** What one change to a recorded event writes: the history entry and the audit row. */
interface EventChange {
  kind: repo.AdverseEventEntryRow['kind'];
  note: string | null;
  fields: Partial<AdverseEventFields>;
  action: 'adverse_event.corrected' | 'adverse_event.followed_up' | 'adverse_event.reported';
  /** The audit row's before and after; `before` is the event as shown before the change. */
  audit: (shownBefore: AdverseEvent, shownAfter: AdverseEvent) => { before: unknown; after: unknown; reason?: string };
  /** What else the change does in its transaction once recorded (answering the query it names). */
  afterwards?: () => Promise<void>;
}

/**
 * The one shape of every change to a recorded event: one transaction, the trial and the event locked (404 for an
 * event the caller may not see), `decide` checks the change on the locked row, then the history entry and the audit
 * row are written with it.
 */
async function changeEvent(
  ctx: UseCaseContext,
  trialId: string,
  id: string,
  decide: (trx: Knex.Transaction, current: AdverseEventRow) => Promise<EventChange>,
): Promise<AdverseEvent> {
  return withTransaction(ctx.db, async (trx) => {
    await lockTrialShared(trx, trialId);
    const current = await lockVisibleEvent(ctx, trx, trialId, id);
    const change = await decide(trx, current);
    const before = await shown(ctx, trx, trialId, id);
    await repo.changeAdverseEvent(trx, trialId, current, {
      kind: change.kind,
      note: change.note,
      fields: change.fields,
      by: ctx.principal.keyId,
    });
    const event = await shown(ctx, trx, trialId, id);
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: change.action,
      entityType: 'adverse_event',
      entityId: id,
      ...change.audit(before, event),
    });
    await change.afterwards?.();
    return event;
  });
}

export async function correctAdverseEvent(
  ctx: UseCaseContext,
  request: { trialId: string; adverseEventId: string; input: AdverseEventCorrection },
): Promise<AdverseEvent> {
  const { trialId, adverseEventId: id, input } = request;
  const { reason, queryId, ...given } = input;
  return changeEvent(ctx, trialId, id, async (trx, current) => {
    const { view: participant } = await lockVisibleParticipant(trx, ctx.principal, trialId, current.participantId);
    const settings = await clockSettings(trx, trialId);
    const change: Partial<AdverseEventFields> = { ...given, awareAt: normalInstant(given.awareAt) };
    if (change.awareAt === undefined) delete change.awareAt;
    const errors = checkAdverseEvent(
      { ...current, ...change },
      { screenedOn: participant.screenedOn, now: ctx.now(), timeZone: settings.timeZone },
    );
    if (errors.length) throw new ValidationError(errors);
    return {
      kind: 'correction',
      note: reason,
      fields: change,
      action: 'adverse_event.corrected',
      audit: (before, after) => ({ before, after, reason }),
      afterwards:
        queryId === undefined
          ? undefined
          : () =>
              answerQueryByCorrection(ctx, trx, { trialId, queryId, record: { kind: 'adverse_event', id }, reason }),
    };
  });
}

export async function addFollowUp(
  ctx: UseCaseContext,
  request: { trialId: string; adverseEventId: string; input: FollowUpInput },
): Promise<AdverseEvent> {
  const { trialId, adverseEventId: id, input } = request;
  return changeEvent(ctx, trialId, id, async (_trx, current) => {
    if (isResolved(current))
      throw new ConflictError(
        'adverse-event-resolved',
        `Adverse event ${id} is resolved (${current.outcome} on ${current.resolvedOn}); correct it instead.`,
      );
    const errors = checkFollowUp(input, { onsetOn: current.onsetOn, now: ctx.now() });
    if (errors.length) throw new ValidationError(errors);
    const fields: Partial<AdverseEventFields> = {};
    if (input.outcome !== undefined) fields.outcome = input.outcome;
    if (input.resolvedOn !== undefined) fields.resolvedOn = input.resolvedOn;
    return {
      kind: 'follow_up',
      note: input.note,
      fields,
      action: 'adverse_event.followed_up',
      audit: () => ({ before: null, after: { note: input.note, ...fields } }),
    };
  });
}

export async function recordReport(
  ctx: UseCaseContext,
  request: { trialId: string; adverseEventId: string; input: ReportInput },
): Promise<AdverseEvent> {
  const { trialId, adverseEventId: id, input } = request;
  return changeEvent(ctx, trialId, id, async (_trx, current) => {
    if (!current.serious)
      throw new ConflictError('not-serious', `Adverse event ${id} is not serious; it has no reporting clock.`);
    const field = input.recipient === 'sponsor' ? 'reportedToSponsorAt' : 'reportedToEthicsAt';
    if (current[field] !== null)
      throw new ConflictError(
        'already-reported',
        `Adverse event ${id} was already reported to the ${input.recipient.replace('_', ' ')} at ${current[field]}.`,
      );
    const errors = checkReportTime(input.reportedAt, { awareAt: current.awareAt, now: ctx.now() });
    if (errors.length) throw new ValidationError(errors);
    const reportedAt = new Date(input.reportedAt).toISOString();
    return {
      kind: 'report',
      note: null,
      fields: { [field]: reportedAt },
      action: 'adverse_event.reported',
      audit: (_before, after) => ({
        before: null,
        after: { recipient: input.recipient, reportedAt, clocks: after.clocks },
      }),
    };
  });
}

export async function getAdverseEvent(
  ctx: UseCaseContext,
  request: { trialId: string; adverseEventId: string },
): Promise<AdverseEvent> {
  await loadTrial(ctx, request.trialId);
  const row = await repo.findAdverseEvent(ctx.db, request.trialId, request.adverseEventId);
  if (!row || !canSeeSite(ctx.principal.siteCodes, row.siteCode)) throw notFound(request.adverseEventId);
  return shown(ctx, ctx.db, request.trialId, row.id);
}

const isDate = (v: unknown) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);

function isEventCursor(value: unknown): value is repo.AdverseEventCursor {
  const v = value as Record<string, unknown>;
  return isDate(v?.on) && isTimeOrderedCursor({ at: v?.at, id: v?.id });
}

/** Events in onset order, a page at a time (cursor-paginated like every list). */
export async function listAdverseEvents(
  ctx: UseCaseContext,
  request: {
    trialId: string;
    siteCode?: string;
    participantId?: string;
    serious?: boolean;
    cursor?: string;
    limit?: number;
  },
): Promise<Page<AdverseEvent>> {
  const { trialId, cursor, limit = 50, ...filter } = request;
  await loadTrial(ctx, trialId);
  const after = cursor === undefined ? undefined : decodeCursor(cursor, isEventCursor);
  const rows = await repo.listAdverseEvents(ctx.db, trialId, {
    ...filter,
    siteCodes: ctx.principal.siteCodes,
    after,
    limit: limit + 1,
  });
  const history = await repo.listEntries(
    ctx.db,
    trialId,
    rows.slice(0, limit).map((r) => r.row.id),
  );
  const settings = await clockSettings(ctx.db, trialId);
  const now = ctx.now();
  return toPage(
    rows,
    limit,
    ({ row }) => viewOf(row, history.get(row.id) ?? [], settings, now),
    (r) => r.cursor,
  );
}

export async function getSafetySettings(ctx: UseCaseContext, request: { trialId: string }): Promise<ClockSettings> {
  await loadTrial(ctx, request.trialId);
  return clockSettings(ctx.db, request.trialId);
}

export async function putSafetySettings(
  ctx: UseCaseContext,
  request: { trialId: string; settings: ClockSettings },
): Promise<ClockSettings> {
  const { trialId, settings } = request;
  if (!isValidTimeZone(settings.timeZone))
    throw new ValidationError([{ pointer: '/timeZone', detail: `is not a known IANA time zone` }]);
  return withTransaction(ctx.db, async (trx) => {
    const trial = await lockTrialExclusive(trx, trialId);
    if (trial.status === 'closed') throw new ConflictError('trial-closed', `Trial ${trialId} is closed.`);
    const before = await repo.findSettings(trx, trialId);
    await repo.upsertSettings(trx, trialId, settings);
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'safety_settings.set',
      entityType: 'safety_settings',
      entityId: trialId,
      before: before ?? null,
      after: settings,
    });
    return settings;
  });
}

/** Every unreported clock as of now, due or late, grouped by site (sites in code order, soonest deadline first). */
export async function getSafetyDue(ctx: UseCaseContext, request: { trialId: string }): Promise<SafetyDue> {
  const { trialId } = request;
  await loadTrial(ctx, trialId);
  const settings = await clockSettings(ctx.db, trialId);
  const now = ctx.now();
  const rows = await repo.listUnreportedSerious(ctx.db, trialId, ctx.principal.siteCodes);
  const bySite = new Map<string, SafetyDueItem[]>();
  for (const row of rows) {
    const clocks = reportingClocks(
      {
        ...row,
        awareAt: new Date(row.awareAt!),
        reportedToSponsorAt: row.reportedToSponsorAt ? new Date(row.reportedToSponsorAt) : null,
        reportedToEthicsAt: row.reportedToEthicsAt ? new Date(row.reportedToEthicsAt) : null,
      },
      settings,
      now,
    );
    for (const c of clocks) {
      if (c.status !== 'due' && c.status !== 'late') continue;
      const items = bySite.get(row.siteCode) ?? [];
      items.push({
        adverseEventId: row.id,
        participantId: row.participantId,
        term: row.term,
        clock: c.clock,
        category: c.category,
        awareAt: row.awareAt!,
        dueAt: c.dueAt.toISOString(),
        dueAtLocal: formatInTimeZone(c.dueAt, settings.timeZone),
        status: c.status,
        hoursRemaining: hoursRemaining(c.dueAt, now),
      });
      bySite.set(row.siteCode, items);
    }
  }
  const sites = [...bySite.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([siteCode, items]) => ({ siteCode, items: items.sort((a, b) => a.dueAt.localeCompare(b.dueAt)) }));
  const all = sites.flatMap((s) => s.items);
  return {
    asOf: now.toISOString(),
    timeZone: settings.timeZone,
    due: all.filter((i) => i.status === 'due').length,
    late: all.filter((i) => i.status === 'late').length,
    sites,
  };
}

/**
 * For CONSORT's harms items: adverse-event counts by arm code (participants as randomized), events with onset on or
 * before `asOf` at the given sites (all when null). Arms are codes; the caller labels them for blinded keys.
 */
export async function harmsByArmCode(
  db: Executor,
  trialId: string,
  filter: { siteCodes: readonly string[] | null; asOf: string },
): Promise<Map<string, HarmsCounts>> {
  const rows = await harmsRows(db, trialId, { siteCodes: filter.siteCodes, onsetBy: filter.asOf });
  const byArm = new Map<string, HarmsCounts>();
  for (const arm of new Set(rows.map((r) => r.armCode)))
    if (arm !== null)
      byArm.set(arm, countHarms(rows.filter((r) => r.armCode === arm).map((r) => ({ ...r, group: arm }))));
  return byArm;
}
