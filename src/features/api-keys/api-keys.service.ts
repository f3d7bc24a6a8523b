import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { withTransaction } from '../../db/database';
import type { Actor, Principal } from '../../core/principal';
import type { UseCaseContext } from '../../core/use-case-context';
import { ConflictError, FieldError, NotFoundError, ValidationError } from '../../core/errors';
import { decodeCursor, isTimeOrderedCursor, Page, toPage } from '../../core/pagination';
import type { components } from '../../generated/openapi';
import { recordAudit } from '../audit/audit.service';
import { findMissingSiteCodes, findMissingTrialIds } from '../trials/trials.service';
import { digestApiKey, generateApiKey, visiblePrefix } from './api-keys';
import * as repo from './api-keys.repo';
import { ApiKeyView, toApiKeyView } from './api-keys.repo';

type ApiKeyInput = components['schemas']['ApiKeyInput'];
type CreatedApiKey = components['schemas']['CreatedApiKey'];

export async function authenticateApiKey(db: Knex, token: string): Promise<Principal | null> {
  const row = await repo.findActiveApiKeyByDigest(db, digestApiKey(token));
  if (!row) return null;
  return {
    keyId: row.id,
    name: row.name,
    role: row.role,
    trialIds: row.trial_ids,
    siteCodes: row.site_codes,
    blinded: row.blinded,
  };
}

/** The scope rules shared by API keys and console users (same role, trial, site and blinding model). */
export async function checkScope(
  trx: Knex.Transaction,
  input: Pick<ApiKeyInput, 'role' | 'trialIds' | 'siteCodes' | 'blinded'>,
): Promise<void> {
  const errors: FieldError[] = [];
  if (input.siteCodes && input.role !== 'coordinator') {
    errors.push({ pointer: '/siteCodes', detail: 'only coordinator keys can be limited to sites' });
  } else if (input.siteCodes && input.trialIds?.length !== 1) {
    errors.push({
      pointer: '/siteCodes',
      detail: 'site codes belong to one trial: give exactly one trial in trialIds',
    });
  }
  if (input.blinded && input.role === 'admin')
    errors.push({
      pointer: '/blinded',
      detail: 'admin keys cannot be blinded: admins set up randomization and may reveal the seed',
    });
  if (input.trialIds) {
    const missing = new Set(await findMissingTrialIds(trx, input.trialIds));
    input.trialIds.forEach(
      (id, i) => missing.has(id) && errors.push({ pointer: `/trialIds/${i}`, detail: `no trial ${id}` }),
    );
  }
  if (!errors.length && input.siteCodes && input.trialIds) {
    const missing = new Set(await findMissingSiteCodes(trx, input.trialIds[0]!, input.siteCodes));
    input.siteCodes.forEach(
      (code, i) =>
        missing.has(code) && errors.push({ pointer: `/siteCodes/${i}`, detail: `trial has no site ${code}` }),
    );
  }
  if (errors.length) throw new ValidationError(errors);
}

export async function createApiKey(ctx: UseCaseContext, input: ApiKeyInput): Promise<CreatedApiKey> {
  const { db, actor } = ctx;
  return withTransaction(db, async (trx) => {
    await checkScope(trx, input);
    const { key, digest, prefix } = generateApiKey();
    const row = await repo.insertApiKey(trx, {
      id: randomUUID(),
      name: input.name,
      role: input.role,
      key_digest: digest,
      prefix,
      trial_ids: input.trialIds ?? null,
      site_codes: input.siteCodes ?? null,
      blinded: input.blinded ?? false,
      is_bootstrap: false,
    });
    const view = toApiKeyView(row);
    await recordAudit(trx, actor, {
      trialId: null,
      action: 'api_key.created',
      entityType: 'api_key',
      entityId: row.id,
      before: null,
      after: view,
    });
    return { ...view, key };
  });
}

export async function listApiKeys(
  { db }: UseCaseContext,
  query: { limit?: number; cursor?: string; includeRevoked?: boolean },
): Promise<Page<ApiKeyView>> {
  const limit = query.limit ?? 50;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isTimeOrderedCursor);
  const rows = await repo.listApiKeys(db, { limit, after, includeRevoked: query.includeRevoked ?? false });
  return toPage(rows, limit, toApiKeyView, (row) => ({ at: row.created_at_text, id: row.id }));
}

export async function revokeApiKey(ctx: UseCaseContext, input: { keyId: string }): Promise<ApiKeyView> {
  const { db, actor } = ctx;
  const { keyId } = input;
  return withTransaction(db, async (trx) => {
    const before = await repo.findApiKey(trx, keyId);
    if (!before) throw new NotFoundError(`API key ${keyId} was not found.`);
    const revoked = await repo.revokeApiKey(trx, keyId);
    if (!revoked)
      throw new ConflictError(
        'api-key-already-revoked',
        `API key ${keyId} was already revoked at ${before.revoked_at?.toISOString()}.`,
      );
    const view = toApiKeyView(revoked);
    await recordAudit(trx, actor, {
      trialId: null,
      action: 'api_key.revoked',
      entityType: 'api_key',
      entityId: keyId,
      before: toApiKeyView(before),
      after: view,
    });
    return view;
  });
}

export type BootstrapOutcome =
  { kind: 'configured'; created: boolean } | { kind: 'generated'; key: string } | { kind: 'existing' };

const SERVICE_ACTOR: Actor = { keyId: null, role: 'service', requestId: null };

/**
 * Makes sure someone can administer the service: registers ADMIN_API_KEY when it is given, or on a
 * database with no keys at all creates one admin key, to be printed once. Only digests are stored.
 */
export async function ensureBootstrapAdminKey(db: Knex, configuredKey: string | null): Promise<BootstrapOutcome> {
  return withTransaction(db, async (trx) => {
    await repo.lockBootstrap(trx);
    let key: string;
    let outcome: BootstrapOutcome;
    if (configuredKey) {
      const existing = await repo.findApiKeyByDigest(trx, digestApiKey(configuredKey));
      if (existing) return { kind: 'configured', created: false };
      key = configuredKey;
      outcome = { kind: 'configured', created: true };
    } else {
      if ((await repo.countApiKeys(trx)) > 0) return { kind: 'existing' };
      key = generateApiKey().key;
      outcome = { kind: 'generated', key };
    }
    const row = await repo.insertApiKey(trx, {
      id: randomUUID(),
      name: configuredKey ? 'bootstrap admin (ADMIN_API_KEY)' : 'bootstrap admin (printed at first start)',
      role: 'admin',
      key_digest: digestApiKey(key),
      prefix: visiblePrefix(key),
      trial_ids: null,
      site_codes: null,
      blinded: false,
      is_bootstrap: true,
    });
    await recordAudit(trx, SERVICE_ACTOR, {
      trialId: null,
      action: 'api_key.created',
      entityType: 'api_key',
      entityId: row.id,
      before: null,
      after: toApiKeyView(row),
    });
    return outcome;
  });
}
