import { LoadedSpec, OperationSpec, resolveLocalRef } from '../../../src/http/openapi';
import type { components } from '../../../src/generated/openapi';

/*
 * What the service promises about who may call what, as a pure function of the contract and one cell
 * of the authorization matrix. Sources: README "Roles" (coordinators' site limits, blinded keys),
 * the contract's description (401/403/404 rule), `x-roles`, `x-requires-unscoped-key`,
 * `x-requires-unblinded-key`, `ApiKeyInput` (site codes only for coordinators of one trial; blinded
 * keys not for admins) and screenParticipant (a site-limited coordinator screens only at its sites, 403).
 */

export type KeyRole = components['schemas']['Role'];
export const KEY_ROLES: readonly KeyRole[] = ['admin', 'coordinator', 'statistician', 'monitor'];

/** unscoped: a key for every trial; in: a key limited to the trial it asks for; out: a key limited to another trial. */
export type TrialScope = 'unscoped' | 'in' | 'out';
export const TRIAL_SCOPES: readonly TrialScope[] = ['unscoped', 'in', 'out'];

/** Where the resource the request addresses lives: at the site the key is limited to (in), or at another one (out). */
export type SitePlacement = 'in' | 'out';
export const SITE_PLACEMENTS: readonly SitePlacement[] = ['in', 'out'];

export interface MatrixCell {
  role: KeyRole;
  trialScope: TrialScope;
  site: SitePlacement;
  blinded: boolean;
}

/**
 * How an operation touches a site, read from the contract: it addresses a participant (path
 * `participantId`, or a path parameter marked `x-participant-record`), names the site of a new participant in
 * its body (`siteCode`), or filters by site
 * (query `siteCode`).
 */
export type SiteBinding = 'participant' | 'screening' | 'filter' | 'none';

export interface OperationTraits {
  operationId: string;
  method: string;
  path: string;
  roles: readonly string[];
  isPublic: boolean;
  requiresUnscopedKey: boolean;
  requiresUnblindedKey: boolean;
  trialInPath: boolean;
  siteBinding: SiteBinding;
  /** The one 2xx status the contract declares. */
  successStatus: number;
  /** The media types of that response, e.g. application/json, text/csv, text/html. */
  successMediaTypes: string[];
}

export type ExpectedOutcome =
  { status: number; kind: 'success'; because: string } | { status: 403 | 404 | 422; kind: 'refusal'; because: string };

export function enumerateCells(): MatrixCell[] {
  const cells: MatrixCell[] = [];
  for (const role of KEY_ROLES) {
    for (const trialScope of TRIAL_SCOPES) {
      for (const site of SITE_PLACEMENTS) {
        for (const blinded of [false, true]) cells.push({ role, trialScope, site, blinded });
      }
    }
  }
  return cells;
}

/**
 * Site codes can be given only to coordinator keys limited to exactly one trial; those keys are limited to the matrix's
 * first site.
 */
export function isSiteLimited(cell: Pick<MatrixCell, 'role' | 'trialScope'>): boolean {
  return cell.role === 'coordinator' && cell.trialScope !== 'unscoped';
}

export function describeCell(cell: MatrixCell): string {
  const trial = { unscoped: 'unscoped key', in: 'key of this trial', out: 'key of another trial' }[cell.trialScope];
  const site = isSiteLimited(cell)
    ? `, limited to S1, resource at ${cell.site === 'in' ? 'S1' : 'S2'}`
    : `, resource at ${cell.site === 'in' ? 'S1' : 'S2'}`;
  return `${cell.blinded ? 'blinded ' : ''}${cell.role}, ${trial}${site}`;
}

type SchemaNode = { properties?: Record<string, unknown>; allOf?: unknown[] };

function bodyNamesSite(spec: LoadedSpec, op: OperationSpec): boolean {
  const raw = spec.document.paths[op.path]?.[op.method] as { requestBody?: unknown } | undefined;
  if (!raw?.requestBody) return false;
  const requestBody = resolveLocalRef<{ content?: Record<string, { schema?: unknown }> }>(
    spec.document,
    raw.requestBody,
  );
  const schema = requestBody.content?.['application/json']?.schema;
  if (!schema) return false;
  const pending: unknown[] = [schema];
  while (pending.length) {
    const node = resolveLocalRef<SchemaNode>(spec.document, pending.pop());
    if (node?.properties && 'siteCode' in node.properties) return true;
    pending.push(...(node?.allOf ?? []));
  }
  return false;
}

/** Everything the expectation needs to know about an operation, read from the contract alone. */
export function describeOperation(spec: LoadedSpec, op: OperationSpec): OperationTraits {
  const successes = Object.keys(op.responses).filter((status) => /^2\d\d$/.test(status));
  if (successes.length !== 1)
    throw new Error(
      `${op.operationId}: expected exactly one 2xx response in the contract, found [${successes.join(', ')}]`,
    );
  const success = resolveLocalRef<{ content?: Record<string, unknown> }>(spec.document, op.responses[successes[0]!]);
  const pathParam = (name: string) => op.parameters.some((p) => p.in === 'path' && p.name === name);
  let siteBinding: SiteBinding = 'none';
  // A record addressed by its own id (an adverse event, a data query) belongs to a participant's site too.
  const participantRecord = op.parameters.some(
    (p) => p.in === 'path' && (p as unknown as Record<string, unknown>)['x-participant-record'] === true,
  );
  if (pathParam('participantId') || participantRecord) siteBinding = 'participant';
  else if (bodyNamesSite(spec, op)) siteBinding = 'screening';
  else if (op.parameters.some((p) => p.in === 'query' && p.name === 'siteCode')) siteBinding = 'filter';
  return {
    operationId: op.operationId,
    method: op.method,
    path: op.path,
    roles: op.roles,
    isPublic: op.roles.includes('public'),
    requiresUnscopedKey: op.requiresUnscopedKey,
    requiresUnblindedKey: op.requiresUnblindedKey,
    trialInPath: pathParam('trialId'),
    siteBinding,
    successStatus: Number(successes[0]),
    successMediaTypes: Object.keys(success.content ?? {}),
  };
}

/**
 * The status one cell must get. The order is the service's: the key is made first (admins cannot be
 * blinded), then the middleware checks the role, the key's trial limit for operations that need an
 * unscoped key and blinding, then the trial in the path, and the service checks the site last.
 */
export function expectedOutcome(op: OperationTraits, cell: MatrixCell): ExpectedOutcome {
  if (cell.role === 'admin' && cell.blinded)
    return { status: 422, kind: 'refusal', because: 'admin keys cannot be blinded (POST /v1/api-keys refuses)' };
  const success = (because: string): ExpectedOutcome => ({ status: op.successStatus, kind: 'success', because });
  if (op.isPublic) return success('public operation: no key is checked');
  if (!op.roles.includes(cell.role))
    return { status: 403, kind: 'refusal', because: `role ${cell.role} is not in x-roles [${op.roles.join(', ')}]` };
  if (op.requiresUnscopedKey && cell.trialScope !== 'unscoped')
    return { status: 403, kind: 'refusal', because: 'x-requires-unscoped-key and the key is limited to trials' };
  if (op.requiresUnblindedKey && cell.blinded)
    return { status: 403, kind: 'refusal', because: 'x-requires-unblinded-key and the key is blinded' };
  if (op.trialInPath && cell.trialScope === 'out')
    return { status: 404, kind: 'refusal', because: "the trial is outside the key's scope" };
  if (isSiteLimited(cell) && cell.site === 'out') {
    if (op.siteBinding === 'participant')
      return { status: 404, kind: 'refusal', because: "the participant is at a site outside the key's scope" };
    if (op.siteBinding === 'screening')
      return { status: 403, kind: 'refusal', because: 'a site-limited coordinator screens only at its sites' };
    if (op.siteBinding === 'filter') return success('filtering by another site answers, with nothing of that site');
  }
  return success('allowed');
}
