import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { TimeOrderedCursor } from '../../core/pagination';
import { fromMinorUnits, TrialConfiguration, TrialView, withoutSeed } from './trials';

interface TrialRow {
  trial_id: string;
  code: string;
  title: string;
  registry: string | null;
  status: TrialView['status'];
  randomization: TrialView['randomization'];
  eligibility: TrialView['eligibility'];
  baseline_variables: TrialView['baselineVariables'];
  visits: TrialView['visits'];
  measures: TrialView['measures'];
  primary_visit: string | null;
  follow_up_amendments: TrialView['followUpAmendments'];
  delivery: TrialConfiguration['delivery'];
  fidelity_scale: TrialView['fidelityScale'];
  delivery_amendments: TrialView['deliveryAmendments'];
  version: number;
  created_at: Date;
  updated_at: Date;
  activated_at: Date | null;
  closed_at: Date | null;
  allocation_commitment: string | null;
  revealed_seed: string | null;
  created_at_text: string;
  arms: TrialView['arms'];
  sites: { code: string; name: string; created_at: string }[];
  consent_forms: { code: string; version: string; required: boolean; title: string | null }[];
  incentives: {
    code: string;
    description: string;
    amount_minor: number;
    currency: string;
    roles: string[];
    max_per_participant: number;
    occasion: string | null;
  }[];
}

/**
 * One round trip per read: the trial row with its arms, sites, consent forms and incentive types
 * aggregated as JSON in order.
 */
function selectTrials(db: Executor): Knex.QueryBuilder {
  return db('trials as t').select(
    't.*',
    db.raw('t.created_at::text AS created_at_text'),
    db.raw(
      `(SELECT encode(rs.seed, 'hex') FROM randomization_secrets rs WHERE rs.trial_id = t.trial_id AND rs.revealed_at IS NOT NULL) AS revealed_seed`,
    ),
    db.raw(`(SELECT coalesce(json_agg(json_build_object('code', a.code, 'name', a.name, 'ratio', a.ratio) ORDER BY a.position), '[]')
               FROM trial_arms a WHERE a.trial_id = t.trial_id) AS arms`),
    db.raw(`(SELECT coalesce(json_agg(json_build_object('code', s.code, 'name', s.name, 'created_at', s.created_at) ORDER BY s.code), '[]')
               FROM trial_sites s WHERE s.trial_id = t.trial_id) AS sites`),
    db.raw(`(SELECT coalesce(json_agg(json_build_object('code', f.code, 'version', f.version, 'required', f.required, 'title', f.title) ORDER BY f.position), '[]')
               FROM consent_forms f WHERE f.trial_id = t.trial_id) AS consent_forms`),
    db.raw(`(SELECT coalesce(json_agg(json_build_object('code', i.code, 'description', i.description, 'amount_minor', i.amount_minor,
                      'currency', i.currency, 'roles', i.roles, 'max_per_participant', i.max_per_participant, 'occasion', i.occasion) ORDER BY i.position), '[]')
               FROM incentive_types i WHERE i.trial_id = t.trial_id) AS incentives`),
  );
}

const isoInstant = (value: string) => new Date(value).toISOString();

function toTrialView(row: TrialRow): TrialView {
  return {
    id: row.trial_id,
    code: row.code,
    title: row.title,
    registry: row.registry,
    status: row.status,
    arms: row.arms,
    randomization: row.randomization,
    eligibility: row.eligibility,
    consentForms: row.consent_forms.map((f) => ({
      code: f.code,
      version: f.version,
      required: f.required,
      ...(f.title === null ? {} : { title: f.title }),
    })),
    baselineVariables: row.baseline_variables,
    visits: row.visits,
    measures: row.measures,
    primaryVisit: row.primary_visit,
    followUpAmendments: row.follow_up_amendments,
    delivery: row.delivery,
    fidelityScale: row.fidelity_scale,
    deliveryAmendments: row.delivery_amendments,
    incentives: row.incentives.map((i) => ({
      code: i.code,
      description: i.description,
      amount: fromMinorUnits(i.amount_minor, i.currency),
      currency: i.currency,
      roles: i.roles as TrialView['incentives'][number]['roles'],
      maxPerParticipant: i.max_per_participant,
      ...(i.occasion === null ? {} : { occasion: i.occasion }),
    })),
    sites: row.sites.map((s) => ({ code: s.code, name: s.name, createdAt: isoInstant(s.created_at) })),
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    activatedAt: row.activated_at ? row.activated_at.toISOString() : null,
    closedAt: row.closed_at ? row.closed_at.toISOString() : null,
    allocationCommitment: row.allocation_commitment,
    revealedSeed: row.revealed_seed,
  };
}

export async function findTrial(db: Executor, trialId: string): Promise<TrialView | undefined> {
  const row = await selectTrials(db).where('t.trial_id', trialId).first<TrialRow | undefined>();
  return row && toTrialView(row);
}

export interface TrialListQuery {
  limit: number;
  after?: TimeOrderedCursor;
  status?: TrialView['status'];
  /** null: every trial. */
  trialIds: string[] | null;
}

export async function listTrials(
  db: Executor,
  query: TrialListQuery,
): Promise<{ view: TrialView; cursor: TimeOrderedCursor }[]> {
  const builder = selectTrials(db);
  if (query.trialIds !== null) builder.whereIn('t.trial_id', query.trialIds);
  if (query.status) builder.where('t.status', query.status);
  if (query.after)
    builder.whereRaw('(t.created_at, t.trial_id) > (?::timestamptz, ?::uuid)', [query.after.at, query.after.id]);
  const rows: TrialRow[] = await builder
    .orderBy([{ column: 't.created_at' }, { column: 't.trial_id' }])
    .limit(query.limit + 1);
  return rows.map((row) => ({ view: toTrialView(row), cursor: { at: row.created_at_text, id: row.trial_id } }));
}

/** Locks the trial row for the rest of the transaction: changes to one trial's set-up are serialised. */
export async function lockTrial(
  trx: Knex.Transaction,
  trialId: string,
  mode: 'update' | 'share' = 'update',
): Promise<{ status: TrialView['status']; version: number } | undefined> {
  const query = trx('trials').where({ trial_id: trialId });
  return (mode === 'share' ? query.forShare() : query.forUpdate()).first<
    { status: TrialView['status']; version: number } | undefined
  >('status', 'version');
}

/** Locks the row shared and returns what a hot path decides on: status and the published allocation commitment. */
export async function lockTrialState(
  trx: Knex.Transaction,
  trialId: string,
): Promise<{ status: TrialView['status']; version: number; allocation_commitment: string | null } | undefined> {
  return trx('trials')
    .where({ trial_id: trialId })
    .forShare()
    .first<{ status: TrialView['status']; version: number; allocation_commitment: string | null } | undefined>(
      'status',
      'version',
      'allocation_commitment',
    );
}

/** The arms; consent forms and incentive types are written by their own features. */
async function writeChildren(trx: Knex.Transaction, trialId: string, config: TrialConfiguration): Promise<void> {
  await trx('trial_arms').insert(
    config.arms.map((arm, position) => ({
      trial_id: trialId,
      code: arm.code,
      name: arm.name,
      ratio: arm.ratio,
      position,
    })),
  );
}

function trialColumns(config: TrialConfiguration) {
  return {
    title: config.title,
    registry: config.registry,
    randomization: JSON.stringify(withoutSeed(config.randomization)),
    eligibility: JSON.stringify(config.eligibility),
    baseline_variables: JSON.stringify(config.baselineVariables),
    visits: JSON.stringify(config.visits),
    measures: JSON.stringify(config.measures),
    primary_visit: config.primaryVisit,
    delivery: config.delivery === null ? null : JSON.stringify(config.delivery),
    fidelity_scale: config.fidelityScale === null ? null : JSON.stringify(config.fidelityScale),
  };
}

export async function insertTrial(
  trx: Knex.Transaction,
  trialId: string,
  code: string,
  config: TrialConfiguration,
): Promise<void> {
  await trx('trials').insert({ trial_id: trialId, code, ...trialColumns(config) });
  await writeChildren(trx, trialId, config);
}

/** Replaces the configuration of a trial in set-up; the caller holds the row lock. */
export async function replaceConfiguration(
  trx: Knex.Transaction,
  trialId: string,
  config: TrialConfiguration,
): Promise<void> {
  await trx('trials')
    .where({ trial_id: trialId, status: 'setup' })
    .update({ ...trialColumns(config), version: trx.raw('version + 1'), updated_at: trx.fn.now() });
  await trx('trial_arms').where({ trial_id: trialId }).delete();
  await writeChildren(trx, trialId, config);
}

/** Replaces the follow-up of an active trial and appends the amendment; the caller holds the row lock. */
export async function amendFollowUp(
  trx: Knex.Transaction,
  trialId: string,
  config: Pick<TrialConfiguration, 'visits' | 'measures' | 'primaryVisit'>,
  amendment: TrialView['followUpAmendments'][number],
): Promise<void> {
  await trx('trials')
    .where({ trial_id: trialId })
    .update({
      visits: JSON.stringify(config.visits),
      measures: JSON.stringify(config.measures),
      primary_visit: config.primaryVisit,
      follow_up_amendments: trx.raw('follow_up_amendments || ?::jsonb', [JSON.stringify([amendment])]),
      version: trx.raw('version + 1'),
      updated_at: trx.fn.now(),
    });
}

/** Replaces the delivery plan and fidelity scale of an active trial, appends the amendment; caller holds the lock. */
export async function amendDelivery(
  trx: Knex.Transaction,
  trialId: string,
  config: Pick<TrialConfiguration, 'delivery' | 'fidelityScale'>,
  amendment: TrialView['deliveryAmendments'][number],
): Promise<void> {
  await trx('trials')
    .where({ trial_id: trialId })
    .update({
      delivery: config.delivery === null ? null : JSON.stringify(config.delivery),
      fidelity_scale: config.fidelityScale === null ? null : JSON.stringify(config.fidelityScale),
      delivery_amendments: trx.raw('delivery_amendments || ?::jsonb', [JSON.stringify([amendment])]),
      version: trx.raw('version + 1'),
      updated_at: trx.fn.now(),
    });
}

export async function bumpVersion(trx: Knex.Transaction, trialId: string): Promise<void> {
  await trx('trials')
    .where({ trial_id: trialId })
    .update({ version: trx.raw('version + 1'), updated_at: trx.fn.now() });
}

/** Moves active -> closed in one guarded statement; false when the trial was not active. */
export async function markClosed(trx: Knex.Transaction, trialId: string): Promise<boolean> {
  const updated = await trx('trials')
    .where({ trial_id: trialId, status: 'active' })
    .update({ status: 'closed', closed_at: trx.fn.now(), version: trx.raw('version + 1'), updated_at: trx.fn.now() });
  return updated === 1;
}

/**
 * Moves setup -> active and publishes the commitment, in one guarded statement; false when the trial was not in set-up.
 */
export async function markActive(
  trx: Knex.Transaction,
  trialId: string,
  allocationCommitment: string,
): Promise<boolean> {
  const updated = await trx('trials')
    .where({ trial_id: trialId, status: 'setup' })
    .update({
      status: 'active',
      activated_at: trx.fn.now(),
      allocation_commitment: allocationCommitment,
      version: trx.raw('version + 1'),
      updated_at: trx.fn.now(),
    });
  return updated === 1;
}

export async function insertSite(
  trx: Knex.Transaction,
  trialId: string,
  site: { code: string; name: string },
): Promise<void> {
  await trx('trial_sites').insert({ trial_id: trialId, code: site.code, name: site.name });
}

export async function listSites(db: Executor, trialId: string): Promise<TrialView['sites']> {
  const rows = await db('trial_sites')
    .where({ trial_id: trialId })
    .orderBy('code')
    .select<{ code: string; name: string; created_at: Date }[]>('code', 'name', 'created_at');
  return rows.map((s) => ({ code: s.code, name: s.name, createdAt: s.created_at.toISOString() }));
}

export async function findSite(
  db: Executor,
  trialId: string,
  code: string,
): Promise<TrialView['sites'][number] | undefined> {
  const row = await db('trial_sites')
    .where({ trial_id: trialId, code })
    .first<{ code: string; name: string; created_at: Date } | undefined>('code', 'name', 'created_at');
  return row && { code: row.code, name: row.name, createdAt: row.created_at.toISOString() };
}

export async function countSites(db: Executor, trialId: string): Promise<number> {
  const row = await db('trial_sites').where({ trial_id: trialId }).count<{ count: number }[]>('* as count').first();
  return Number(row?.count ?? 0);
}

export async function existingTrialIds(db: Executor, trialIds: string[]): Promise<string[]> {
  return db('trials').whereIn('trial_id', trialIds).pluck('trial_id');
}

export async function existingSiteCodes(db: Executor, trialId: string, codes: string[]): Promise<string[]> {
  return db('trial_sites').where({ trial_id: trialId }).whereIn('code', codes).pluck('code');
}
