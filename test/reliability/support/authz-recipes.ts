import type { HttpMethod } from '../../../src/http/openapi';
import { smcmFidelityScale, smcmFollowUp } from '../../../scripts/smcm-trial';
import { serviceUserInput } from '../../support/factories';
import type { TestApp, TestResponse } from '../../support/test-app';
import { SUBSTUDY_RECIPES } from './authz-recipes-substudies';
import {
  consentedServiceUser,
  FreshTrialState,
  issueToken,
  KeyScope,
  MATRIX_ARMS,
  matrixDelivery,
  MATRIX_TOKEN,
  matrixTrialInput,
  MatrixWorld,
  randomizedServiceUser,
  recordBaselineAssessment,
  recordFollowUp,
  recordMissed,
  screenServiceUser,
  SharedTrial,
  SITE_IN,
  SITE_OUT,
  todayUtc,
  uniqueTag,
} from './authz-world';

/*
 * One recipe per operation of the contract: the state it needs, made with the admin key, and the
 * request itself. The matrix runs every recipe under every cell; an operation without a recipe fails.
 */

export interface MatrixRequest {
  method: HttpMethod;
  path: string;
  body?: unknown;
  /** A body sent as is with its media type (an ODM document), instead of JSON. */
  raw?: { contentType: string; data: string };
  headers?: Record<string, string>;
}

export interface RecipeContext {
  t: TestApp;
  world: MatrixWorld;
  /** The trial the request addresses: T1 or T2, or a trial made for this cell. */
  trialId: string;
  /** The site of the resource the request addresses (a participant, a new participant, a filter). */
  site: string;
}

export interface ScopeCheckContext extends RecipeContext {
  request: MatrixRequest;
  mediaType: string | undefined;
  scope: KeyScope;
}

/**
 * Where the request goes: `none` (not about a trial), `shared` (T1, or T2 for keys of another trial),
 * or a trial made for the cell in the given state, when the operation changes a trial for good.
 */
export type RecipeTarget = 'none' | 'shared' | FreshTrialState;

export interface Recipe {
  target: RecipeTarget;
  prepare(ctx: RecipeContext): Promise<MatrixRequest>;
  /** The request for one representation of the answer; by default the same request with that Accept. */
  represent?(request: MatrixRequest, mediaType: string): MatrixRequest;
  /**
   * For a 2xx answer to a key limited to trials or sites: what the answer shows that the limit should have kept out.
   */
  checkScope?(res: TestResponse, ctx: ScopeCheckContext): Promise<string[]>;
}

const MATRIX_PASSWORD = 'matrix cell password';
const matrixEmail = () => `${uniqueTag('matrix').replace(/[^A-Za-z0-9]+/g, '-')}@matrix.example`;

/** A console user made with the admin key, with its one-time set-password token. */
async function matrixUser(t: TestApp): Promise<{ id: string; email: string; setPasswordToken: string }> {
  const res = await t.call('post', '/v1/users', {
    body: { name: 'Matrix Person', email: matrixEmail(), role: 'coordinator' },
  });
  if (res.status !== 201) throw new Error(`creating a user failed: ${res.text}`);
  return res.body;
}

function shared(ctx: RecipeContext): SharedTrial {
  const trial = ctx.world.byId.get(ctx.trialId);
  if (!trial) throw new Error(`recipe needs one of the shared matrix trials, not ${ctx.trialId}`);
  return trial;
}

const trialPath = (ctx: RecipeContext, suffix = '') => `/v1/trials/${ctx.trialId}${suffix}`;
const participantPath = (ctx: RecipeContext, participantId: string, suffix = '') =>
  trialPath(ctx, `/participants/${participantId}${suffix}`);

export function withQuery(path: string, query: Record<string, string>): string {
  const entries = Object.entries(query);
  if (!entries.length) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(entries).toString()}`;
}

/** Lists filtered by site: the key's own view (no filter) for the key's site, an explicit filter for the other site. */
const siteFilter = (ctx: RecipeContext): Record<string, string> => (ctx.site === SITE_IN ? {} : { siteCode: ctx.site });

const get = (path: string): MatrixRequest => ({ method: 'get', path });
const post = (path: string, body?: unknown, headers?: Record<string, string>): MatrixRequest => ({
  method: 'post',
  path,
  body,
  headers,
});

/** Rows of a CSV the service wrote (no quoted commas in the columns read here), as objects by header. */
export function csvRecords(text: string): Record<string, string>[] {
  const [header, ...lines] = text.split(/\r?\n/).filter((line) => line !== '');
  const columns = (header ?? '').split(',');
  return lines.map((line) => {
    const values = line.split(',');
    return Object.fromEntries(columns.map((column, i) => [column, values[i] ?? '']));
  });
}

/** Items that belong to a site outside the key's sites, named for the failure message. */
function outsideSites(scope: KeyScope, sites: string[], what: string): string[] {
  if (!scope.siteCodes) return [];
  const foreign = sites.filter((site) => !scope.siteCodes!.includes(site));
  return foreign.length
    ? [
        `${what} shows ${foreign.length} item(s) of site(s) ${[...new Set(foreign)].join(', ')} to a key limited to ${scope.siteCodes.join(', ')}`,
      ]
    : [];
}

/** An unfiltered list read by a site-limited key must show its own site's items, or the check proves nothing. */
function nothingShown(ctx: ScopeCheckContext, count: number, what: string): string[] {
  return ctx.scope.siteCodes && ctx.site === SITE_IN && count === 0
    ? [`${what} is empty for a key limited to ${ctx.scope.siteCodes.join(', ')}; the site check proves nothing`]
    : [];
}

interface EnrollmentCounts {
  assessed: number;
  randomized: number;
}

/** The CONSORT enrollment counts an admin sees, for one site or (no site) the whole trial. */
async function adminEnrollment(ctx: ScopeCheckContext, site?: string): Promise<EnrollmentCounts> {
  const res = await ctx.t.call('get', withQuery(trialPath(ctx, '/consort'), site ? { siteCode: site } : {}));
  if (res.status !== 200)
    throw new Error(`reference CONSORT ${site ? `for site ${site}` : 'of the trial'} answered ${res.status}`);
  return { assessed: res.body.enrollment.assessedForEligibility, randomized: res.body.enrollment.randomized };
}

/**
 * A site-limited key's CONSORT counts its own sites' participants (or none when it filters by another
 * site): the admin's counts for that site, and fewer than the whole trial's, which has people at
 * the other site too (so a filter ignored everywhere, the admin's included, is caught as well).
 */
async function checkEnrollment(what: string, seen: EnrollmentCounts, ctx: ScopeCheckContext): Promise<string[]> {
  const ownSites = ctx.scope.siteCodes!;
  const filteredElsewhere = ctx.site !== SITE_IN && !ownSites.includes(ctx.site);
  const expected = filteredElsewhere ? { assessed: 0, randomized: 0 } : await adminEnrollment(ctx, ownSites[0]);
  const whole = await adminEnrollment(ctx);
  const problems: string[] = [];
  if (seen.assessed !== expected.assessed || seen.randomized !== expected.randomized) {
    problems.push(
      `${what} counts assessed ${seen.assessed}, randomized ${seen.randomized}; the key's sites alone have ${expected.assessed} and ${expected.randomized}`,
    );
  }
  if (seen.assessed >= whole.assessed)
    problems.push(
      `${what} counts ${seen.assessed} assessed, as many as the whole trial (${whole.assessed}), for a key limited to ${ownSites.join(', ')}`,
    );
  return problems;
}

/** An adverse event recorded with the admin key at the recipe's site (serious, so it has reporting clocks). */
async function recordedAdverseEvent(ctx: RecipeContext): Promise<string> {
  const participantId = await screenServiceUser(ctx.t, ctx.trialId, ctx.site);
  const res = await ctx.t.call('post', participantPath(ctx, participantId, '/adverse-events'), {
    body: adverseEventBody(),
  });
  if (res.status !== 201) throw new Error(`recording an adverse event failed: ${res.text}`);
  return res.body.id;
}

const adverseEventBody = () => ({
  term: 'Psychiatric hospitalisation',
  onsetOn: todayUtc(),
  severity: 'severe',
  serious: { criteria: ['hospitalization'] },
  relatedness: 'unlikely',
  expected: true,
  action: 'Admitted',
  reportedBy: 'case worker',
  awareAt: new Date(Date.now() - 1000).toISOString(),
});

/** The sites of a list's items (adverse events, queries): none outside the key's sites, some when unfiltered. */
const adverseEventSites = (res: TestResponse, what: string, ctx: ScopeCheckContext) => {
  const sites: string[] = res.body.items.map((e: { siteCode: string }) => e.siteCode);
  return [...outsideSites(ctx.scope, sites, what), ...nothingShown(ctx, sites.length, what)];
};

/** A source-data verification mark made with the admin key on a participant at the recipe's site. */
async function markedVerified(ctx: RecipeContext): Promise<string> {
  const participantId = await screenServiceUser(ctx.t, ctx.trialId, ctx.site);
  const res = await ctx.t.call('post', trialPath(ctx, '/sdv'), {
    body: { target: { kind: 'participant', id: participantId, pointer: '/baseline/age' }, verifiedOn: todayUtc() },
  });
  if (res.status !== 201) throw new Error(`marking verified failed: ${res.text}`);
  return res.body.id;
}

/** A data query raised with the admin key on a participant at the recipe's site; closed first when asked. */
async function raisedQuery(ctx: RecipeContext, closed = false): Promise<string> {
  const participantId = await screenServiceUser(ctx.t, ctx.trialId, ctx.site);
  const res = await ctx.t.call('post', trialPath(ctx, '/queries'), {
    body: { target: { kind: 'participant', id: participantId, pointer: '/baseline/age' }, text: 'Age plausible?' },
  });
  if (res.status !== 201) throw new Error(`raising a query failed: ${res.text}`);
  if (closed) await ctx.t.call('post', trialPath(ctx, `/queries/${res.body.id}/closure`), { body: { text: 'ok' } });
  return res.body.id;
}

const statsBodies = {
  tTest: {
    groups: [
      { label: 'first', mean: 4.29, sd: 2.08, n: 7 },
      { label: 'second', mean: 8.43, sd: 8.24, n: 7 },
    ],
  },
  contingencyTest: {
    table: [
      [12, 7],
      [5, 14],
    ],
  },
  mannWhitneyTest: { x: [1.83, 0.5, 1.62, 2.48, 1.68], y: [0.878, 0.647, 0.598, 2.05, 1.06] },
  runAncova: {
    reference: 'TAU',
    covariates: [{ name: 'baseline', type: 'number' }],
    rows: [
      { group: 'TAU', outcome: 20, covariates: { baseline: 24 } },
      { group: 'TAU', outcome: 22, covariates: { baseline: 25 } },
      { group: 'TAU', outcome: 19, covariates: { baseline: 21 } },
      { group: 'SMCM', outcome: 17, covariates: { baseline: 23 } },
      { group: 'SMCM', outcome: 18, covariates: { baseline: 26 } },
      { group: 'SMCM', outcome: 16.5, covariates: { baseline: 22 } },
    ],
  },
  runBinaryAnalysis: {
    reference: 'TAU',
    groups: [
      { label: 'SMCM', events: 9, n: 47 },
      { label: 'TAU', events: 14, n: 48 },
    ],
  },
  poolImputations: { estimates: [-2.1, -2.6, -2.3], variances: [0.5, 0.55, 0.6], n: 96, k: 4 },
  runMixedModel: {
    reference: 'TAU',
    visits: ['m2', 'm3'],
    covariance: 'compound_symmetry',
    rows: [
      ['s1', 'TAU', 20, 21],
      ['s2', 'TAU', 22, 25],
      ['s3', 'TAU', 19, 18],
      ['s4', 'TAU', 24, 26],
      ['s5', 'SMCM', 17, 15],
      ['s6', 'SMCM', 18, 19],
      ['s7', 'SMCM', 16.5, 14],
      ['s8', 'SMCM', 21, 18],
    ].flatMap(([subject, group, m2, m3]) => [
      { subject, group, visit: 'm2', outcome: m2 },
      { subject, group, visit: 'm3', outcome: m3 },
    ]),
  },
  runAgreement: {
    ratings: [
      ['a', 'a'],
      ['b', 'a'],
      ['b', 'b'],
      [null, 'a'],
    ],
    level: 'nominal',
  },
};

/** A session of the site's first randomized service user by the site's case worker, recorded with the admin key. */
async function recordedSession(ctx: RecipeContext): Promise<string> {
  const res = await ctx.t.call('post', trialPath(ctx, '/sessions'), { body: sessionBody(ctx) });
  if (res.status !== 201) throw new Error(`set-up session answered ${res.status}: ${res.text}`);
  return res.body.id;
}

const sessionBody = (ctx: RecipeContext) => ({
  participantId: shared(ctx).randomized[ctx.site]![0]!,
  caseWorkerId: shared(ctx).caseWorker[ctx.site]!,
  date: todayUtc(),
  durationMinutes: 30,
  mode: 'phone',
  kind: 'individual_session',
  toolsUsed: [],
});

const fidelityReviewBody = (ctx: RecipeContext) => ({
  siteCode: ctx.site,
  reviewedOn: todayUtc(),
  reviewers: ['matrix reviewer'],
  sources: ['observation'],
  scores: Object.fromEntries(smcmFidelityScale().items.map((item) => [item.code, 4])),
});

/** Issue #15: delivery, sessions, dose, fidelity, supervision and deviations. */
const deliveryRecipes: Record<string, Recipe> = {
  recordSupervision: {
    target: 'shared',
    prepare: async (ctx) =>
      post(trialPath(ctx, '/supervision'), {
        date: todayUtc(),
        kind: 'group',
        siteCode: ctx.site,
        caseWorkerIds: [shared(ctx).caseWorker[ctx.site]!],
        supervisor: 'matrix supervisor',
        durationMinutes: 60,
      }),
  },
  getSupervisionSummary: {
    target: 'shared',
    prepare: async (ctx) => get(withQuery(trialPath(ctx, '/supervision/summary'), siteFilter(ctx))),
    checkScope: async (res, ctx) =>
      outsideSites(
        ctx.scope,
        res.body.rows.map((r: { siteCode: string }) => r.siteCode),
        'getSupervisionSummary',
      ),
  },
  recordDeviation: {
    target: 'shared',
    prepare: async (ctx) =>
      post(trialPath(ctx, '/deviations'), {
        participantId: shared(ctx).randomized[ctx.site]![0]!,
        category: 'visit_out_of_window',
        severity: 'minor',
        occurredOn: todayUtc(),
        description: 'recorded by the matrix',
      }),
  },
  listDeviations: {
    target: 'shared',
    prepare: async (ctx) => get(withQuery(trialPath(ctx, '/deviations'), siteFilter(ctx))),
    checkScope: async (res, ctx) =>
      outsideSites(
        ctx.scope,
        res.body.items.map((d: { siteCode: string }) => d.siteCode),
        'listDeviations',
      ),
  },
  recordFidelityReview: {
    target: 'shared',
    prepare: async (ctx) => post(trialPath(ctx, '/fidelity-reviews'), fidelityReviewBody(ctx)),
  },
  getFidelity: {
    target: 'shared',
    prepare: async (ctx) => {
      await ctx.t.call('post', trialPath(ctx, '/fidelity-reviews'), { body: fidelityReviewBody(ctx) });
      return get(withQuery(trialPath(ctx, '/fidelity'), siteFilter(ctx)));
    },
    checkScope: async (res, ctx) => {
      const sites = res.body.sites.map((s: { siteCode: string }) => s.siteCode);
      return [...outsideSites(ctx.scope, sites, 'getFidelity'), ...nothingShown(ctx, sites.length, 'getFidelity')];
    },
  },
  getFidelityChart: {
    target: 'shared',
    prepare: async (ctx) => get(withQuery(trialPath(ctx, '/fidelity.svg'), siteFilter(ctx))),
  },
  amendDelivery: {
    target: 'active',
    prepare: async (ctx) => {
      const delivery = matrixDelivery();
      delivery.arms[0]!.minimumSessions = 8;
      return {
        method: 'put',
        path: trialPath(ctx, '/delivery-configuration'),
        body: { delivery, fidelityScale: smcmFidelityScale(), reason: 'DSMB advice', effectiveOn: todayUtc() },
      };
    },
  },
  recordSession: { target: 'shared', prepare: async (ctx) => post(trialPath(ctx, '/sessions'), sessionBody(ctx)) },
  correctSession: {
    target: 'shared',
    prepare: async (ctx) => ({
      method: 'patch',
      path: trialPath(ctx, `/sessions/${await recordedSession(ctx)}`),
      body: { durationMinutes: 45, reason: 'the call ran longer' },
    }),
  },
  retractSession: {
    target: 'shared',
    prepare: async (ctx) =>
      post(trialPath(ctx, `/sessions/${await recordedSession(ctx)}/retraction`), { reason: 'recorded twice' }),
  },
  listSessions: {
    target: 'shared',
    prepare: async (ctx) => {
      await recordedSession(ctx);
      return get(withQuery(trialPath(ctx, '/sessions'), { limit: '500', ...siteFilter(ctx) }));
    },
    checkScope: async (res, ctx) => {
      const sites = res.body.items.map((s: { siteCode: string }) => s.siteCode);
      return [...outsideSites(ctx.scope, sites, 'listSessions'), ...nothingShown(ctx, sites.length, 'listSessions')];
    },
  },
  getDelivery: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, '/delivery')),
    checkScope: async (res, ctx) => {
      const sites: string[] =
        ctx.mediaType === 'text/csv'
          ? csvRecords(res.text).map((row) => row.siteCode!)
          : res.body.participants.map((row: { siteCode: string }) => row.siteCode);
      return outsideSites(ctx.scope, sites, `getDelivery (${ctx.mediaType})`);
    },
  },
};

export const RECIPES: Record<string, Recipe> = {
  getHealth: { target: 'none', prepare: async () => get('/healthz') },
  getOpenApiDocument: { target: 'none', prepare: async () => get('/openapi.json') },
  getApiReference: { target: 'none', prepare: async () => get('/docs') },

  createApiKey: {
    target: 'none',
    prepare: async () => post('/v1/api-keys', { name: uniqueTag('matrix-made key'), role: 'monitor' }),
  },
  listApiKeys: { target: 'none', prepare: async () => get('/v1/api-keys?limit=20') },
  revokeApiKey: {
    target: 'none',
    prepare: async ({ t }) => ({ method: 'delete', path: `/v1/api-keys/${(await t.createKey('monitor')).id}` }),
  },
  createUser: {
    target: 'none',
    prepare: async () =>
      post('/v1/users', { name: 'Matrix Person', email: matrixEmail(), role: 'monitor', blinded: true }),
  },
  listUsers: { target: 'none', prepare: async () => get('/v1/users?limit=20') },
  deactivateUser: {
    target: 'none',
    prepare: async ({ t }) => post(`/v1/users/${(await matrixUser(t)).id}/deactivation`),
  },
  setPassword: {
    target: 'none',
    prepare: async ({ t }) =>
      post('/v1/password', { token: (await matrixUser(t)).setPasswordToken, password: MATRIX_PASSWORD }),
  },
  signIn: {
    target: 'none',
    prepare: async ({ t }) => {
      const user = await matrixUser(t);
      const set = await t.call('post', '/v1/password', {
        key: null,
        body: { token: user.setPasswordToken, password: MATRIX_PASSWORD },
      });
      if (set.status !== 204) throw new Error(`setting a password failed: ${set.text}`);
      return post('/v1/session', { email: user.email, password: MATRIX_PASSWORD });
    },
  },
  getSession: { target: 'none', prepare: async () => get('/v1/session') },
  signOut: { target: 'none', prepare: async () => ({ method: 'delete', path: '/v1/session' }) },
  setPreferences: {
    target: 'none',
    prepare: async () => ({ method: 'put', path: '/v1/session/preferences', body: { language: 'zh-HK' } }),
  },
  listSystemAuditEvents: { target: 'none', prepare: async () => get('/v1/audit?limit=20') },
  verifySystemAuditChain: { target: 'none', prepare: async () => get('/v1/audit/verification') },

  createTrial: { target: 'none', prepare: async () => post('/v1/trials', matrixTrialInput()) },
  listTrials: {
    target: 'none',
    prepare: async () => get('/v1/trials?limit=20'),
    checkScope: async (res, { scope }) => {
      if (!scope.trialIds) return [];
      const ids: string[] = res.body.items.map((trial: { id: string }) => trial.id);
      const foreign = ids.filter((id) => !scope.trialIds!.includes(id));
      if (foreign.length)
        return [`listTrials shows trials ${foreign.join(', ')} to a key limited to ${scope.trialIds.join(', ')}`];
      return ids.length ? [] : ['listTrials shows a trial-limited key none of its trials'];
    },
  },
  getTrial: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx)) },
  updateTrial: {
    target: 'setup',
    prepare: async (ctx) => ({
      method: 'patch',
      path: trialPath(ctx),
      body: { title: 'Authorization matrix trial, renamed' },
    }),
  },
  createSite: {
    target: 'setup',
    prepare: async (ctx) => post(trialPath(ctx, '/sites'), { code: 'S3', name: 'Third matrix site' }),
  },
  listSites: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx, '/sites')) },
  activateTrial: { target: 'setup', prepare: async (ctx) => post(trialPath(ctx, '/activation')) },
  closeTrial: {
    target: 'active',
    prepare: async (ctx) => post(trialPath(ctx, '/closure'), { reason: 'recruitment complete' }),
  },
  revealSeed: {
    target: 'closed',
    prepare: async (ctx) => post(trialPath(ctx, '/seed-reveal'), { reason: 'final analysis' }),
  },
  putAllocationTable: {
    target: 'setup-list',
    prepare: async (ctx) => ({
      method: 'put',
      path: trialPath(ctx, '/allocation-table'),
      body: {
        rows: [
          { stratum: { site: SITE_IN }, arm: MATRIX_ARMS[0]!.code },
          { stratum: { site: SITE_OUT }, arm: MATRIX_ARMS[1]!.code },
        ],
      },
    }),
  },
  // The first page holds the set-up of the shared trial: its arms, allocations and case-worker assignments.
  listTrialAuditEvents: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx, '/audit?limit=500')) },
  verifyTrialAuditChain: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx, '/audit/verification')) },

  addConsentFormVersion: {
    target: 'shared',
    prepare: async (ctx) =>
      post(trialPath(ctx, '/consent-forms'), {
        code: uniqueTag('form'),
        version: '1.0',
        required: false,
        title: 'Optional matrix form',
      }),
  },
  listConsentForms: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx, '/consent-forms')) },

  screenParticipant: {
    target: 'shared',
    prepare: async (ctx) =>
      post(trialPath(ctx, '/participants'), serviceUserInput({ siteCode: ctx.site, label: uniqueTag('SU') })),
  },
  listParticipants: {
    target: 'shared',
    prepare: async (ctx) => get(withQuery(trialPath(ctx, '/participants'), { limit: '500', ...siteFilter(ctx) })),
    checkScope: async (res, ctx) => {
      const sites: string[] = res.body.items.map((p: { siteCode: string }) => p.siteCode);
      return [
        ...outsideSites(ctx.scope, sites, 'listParticipants'),
        ...nothingShown(ctx, sites.length, 'listParticipants'),
      ];
    },
  },
  getParticipant: {
    target: 'shared',
    prepare: async (ctx) => get(participantPath(ctx, shared(ctx).randomized[ctx.site]![0]!)),
  },
  setBaseline: {
    target: 'shared',
    prepare: async (ctx) => ({
      method: 'put',
      path: participantPath(ctx, shared(ctx).randomized[ctx.site]![0]!, '/baseline'),
      body: {
        values: { age: 45, sex: 'female', diagnosis: 'depression', onsetYears: 11 },
        reason: 'checked against the case file',
      },
    }),
  },
  recordConsent: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = await screenServiceUser(ctx.t, ctx.trialId, ctx.site);
      return post(participantPath(ctx, participantId, '/consents'), {
        form: 'trial',
        version: '1.0',
        decision: 'granted',
        signedOn: '2018-03-02',
        obtainedBy: 'IW',
        method: 'written',
      });
    },
  },
  withdrawConsent: {
    target: 'shared',
    prepare: async (ctx) => {
      const { participantId, consentId } = await consentedServiceUser(ctx.t, ctx.trialId, ctx.site);
      return post(participantPath(ctx, participantId, `/consents/${consentId}/withdrawal`), {
        withdrawnOn: '2018-04-01',
        reason: 'moved out of the district',
        scope: 'all',
      });
    },
  },
  assignCaseWorker: {
    target: 'shared',
    prepare: async (ctx) =>
      post(participantPath(ctx, shared(ctx).caseWorker[ctx.site]!, '/assignment'), {
        arm: MATRIX_ARMS[1]!.code,
        reason: 'moved to the other team',
      }),
  },

  randomizeParticipant: {
    target: 'shared',
    prepare: async (ctx) => {
      const { participantId } = await consentedServiceUser(ctx.t, ctx.trialId, ctx.site);
      return post(participantPath(ctx, participantId, '/randomization'), undefined, {
        'Idempotency-Key': uniqueTag('randomize'),
      });
    },
  },
  flagRandomizationError: {
    target: 'shared',
    prepare: async (ctx) =>
      post(participantPath(ctx, await randomizedServiceUser(ctx.t, ctx.trialId, ctx.site), '/randomization/error'), {
        reason: 'randomized the wrong person',
      }),
  },
  listAllocations: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx, '/allocations?limit=500')) },

  tTest: { target: 'none', prepare: async () => post('/v1/stats/t-test', statsBodies.tTest) },
  contingencyTest: { target: 'none', prepare: async () => post('/v1/stats/contingency', statsBodies.contingencyTest) },
  mannWhitneyTest: { target: 'none', prepare: async () => post('/v1/stats/mann-whitney', statsBodies.mannWhitneyTest) },
  runAncova: { target: 'none', prepare: async () => post('/v1/stats/ancova', statsBodies.runAncova) },
  runBinaryAnalysis: { target: 'none', prepare: async () => post('/v1/stats/binary', statsBodies.runBinaryAnalysis) },
  poolImputations: { target: 'none', prepare: async () => post('/v1/stats/pool', statsBodies.poolImputations) },
  runMixedModel: { target: 'none', prepare: async () => post('/v1/stats/mixed-model', statsBodies.runMixedModel) },
  runAgreement: { target: 'none', prepare: async () => post('/v1/stats/agreement', statsBodies.runAgreement) },
  getBaselineTable: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx, '/baseline')) },

  recordEvent: {
    target: 'shared',
    prepare: async (ctx) =>
      post(participantPath(ctx, shared(ctx).randomized[ctx.site]![1]!, '/events'), {
        type: 'follow_up_completed',
        occurredOn: todayUtc(),
      }),
  },
  retractEvent: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = shared(ctx).randomized[ctx.site]![1]!;
      const eventId = await recordFollowUp(ctx.t, ctx.trialId, participantId);
      return post(participantPath(ctx, participantId, `/events/${eventId}/retraction`), {
        reason: 'recorded for the wrong person',
      });
    },
  },
  getConsortCounts: {
    target: 'shared',
    prepare: async (ctx) => get(withQuery(trialPath(ctx, '/consort'), siteFilter(ctx))),
    checkScope: async (res, ctx) => {
      if (!ctx.scope.siteCodes) return [];
      const seen = { assessed: res.body.enrollment.assessedForEligibility, randomized: res.body.enrollment.randomized };
      return checkEnrollment('getConsortCounts', seen, ctx);
    },
  },
  getConsortDiagram: {
    target: 'shared',
    prepare: async (ctx) => get(withQuery(trialPath(ctx, '/consort.svg'), siteFilter(ctx))),
    represent: (request, mediaType) => ({
      ...request,
      path: mediaType === 'text/vnd.graphviz' ? withQuery(request.path, { format: 'dot' }) : request.path,
      headers: { Accept: mediaType },
    }),
    checkScope: async (res, ctx) => {
      if (!ctx.scope.siteCodes) return [];
      const count = (pattern: RegExp) => Number(pattern.exec(res.text)?.[1] ?? NaN);
      const seen =
        ctx.mediaType === 'image/svg+xml'
          ? {
              assessed: count(/data-pointer="\/enrollment\/assessedForEligibility">n = (\d+)</),
              randomized: count(/data-pointer="\/enrollment\/randomized">n = (\d+)</),
            }
          : {
              assessed: count(/Assessed for eligibility \(n = (\d+)\)/),
              randomized: count(/Randomi[sz]ed \(n = (\d+)\)/),
            };
      return checkEnrollment(`getConsortDiagram (${ctx.mediaType})`, seen, ctx);
    },
  },
  exportParticipants: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx, '/export/participants.csv')) },
  exportDictionary: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx, '/export/dictionary.csv')) },

  exportOdm: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx, '/odm?audit=true')) },
  exportFhirBundle: { target: 'shared', prepare: async (ctx) => get(trialPath(ctx, '/fhir')) },
  importTrialHistory: {
    target: 'shared',
    // A dry run (200): the matrix checks who may import without adding people to the shared trials.
    prepare: async (ctx) => ({
      method: 'post',
      path: withQuery(trialPath(ctx, '/imports'), { kind: 'participants', dryRun: 'true' }),
      raw: {
        contentType: 'text/csv',
        data: `label,siteCode,role,screenedOn\n${uniqueTag('migrated')},${ctx.site},case_worker,2018-01-10\n`,
      },
    }),
  },
  importOdmStudy: {
    target: 'none',
    prepare: async ({ t, world }) => {
      const odm = await t.call('get', `/v1/trials/${world.t1.id}/odm`);
      if (odm.status !== 200) throw new Error(`exporting the ODM to import answered ${odm.status}`);
      return {
        method: 'post',
        path: withQuery('/v1/trials/odm-import', { code: uniqueTag('odm-import') }),
        raw: { contentType: 'application/xml', data: odm.text },
      };
    },
  },

  addIncentiveType: {
    target: 'shared',
    prepare: async (ctx) =>
      post(trialPath(ctx, '/incentive-types'), {
        code: uniqueTag('reward'),
        description: 'A reward added by the matrix',
        amount: 10,
        currency: 'HKD',
        roles: ['service_user'],
        maxPerParticipant: 1,
      }),
  },
  issueIncentive: {
    target: 'shared',
    prepare: async (ctx) =>
      post(
        participantPath(ctx, shared(ctx).randomized[ctx.site]![0]!, '/incentives'),
        { incentive: MATRIX_TOKEN.code, issuedOn: todayUtc(), reference: uniqueTag('token') },
        { 'Idempotency-Key': uniqueTag('issue') },
      ),
  },
  voidIncentive: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = shared(ctx).randomized[ctx.site]![0]!;
      const entryId = await issueToken(ctx.t, ctx.trialId, participantId);
      return post(participantPath(ctx, participantId, `/incentives/${entryId}/void`), {
        reason: 'handed to the wrong person',
      });
    },
  },
  listIncentives: {
    target: 'shared',
    prepare: async (ctx) => get(withQuery(trialPath(ctx, '/incentives'), { limit: '500', ...siteFilter(ctx) })),
    checkScope: async (res, ctx) => {
      const sites: string[] =
        ctx.mediaType === 'text/csv'
          ? csvRecords(res.text).map((row) => row.siteCode!)
          : res.body.items.map((entry: { siteCode: string }) => entry.siteCode);
      return [
        ...outsideSites(ctx.scope, sites, `listIncentives (${ctx.mediaType})`),
        ...nothingShown(ctx, sites.length, `listIncentives (${ctx.mediaType})`),
      ];
    },
  },
  summarizeIncentives: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, '/incentives/summary')),
    checkScope: async (res, ctx) => {
      if (!ctx.scope.siteCodes) return [];
      const what = `summarizeIncentives (${ctx.mediaType})`;
      const rows =
        ctx.mediaType === 'text/csv'
          ? csvRecords(res.text).map((row) => ({
              grouping: row.grouping!,
              key: row.key!,
              issuedCount: Number(row.issuedCount),
            }))
          : [
              ...res.body.byType.map((row: { issuedCount: number }) => ({
                grouping: 'type',
                key: '',
                issuedCount: row.issuedCount,
              })),
              ...res.body.bySite.map((row: { siteCode: string; issuedCount: number }) => ({
                grouping: 'site',
                key: row.siteCode,
                issuedCount: row.issuedCount,
              })),
              ...res.body.byArm.map((row: { arm: string | null; issuedCount: number }) => ({
                grouping: 'arm',
                key: row.arm ?? '',
                issuedCount: row.issuedCount,
              })),
            ];
      const bySite = rows.filter((row) => row.grouping === 'site');
      const total = (list: typeof rows) => list.reduce((sum, row) => sum + row.issuedCount, 0);
      const problems = [
        ...outsideSites(
          ctx.scope,
          bySite.map((row) => row.key),
          what,
        ),
        ...nothingShown(ctx, bySite.length, what),
      ];
      // Totals by type and by arm must be the key's sites' totals too, not the whole trial's.
      for (const grouping of ['type', 'arm']) {
        const grouped = total(rows.filter((row) => row.grouping === grouping));
        if (grouped !== total(bySite))
          problems.push(`${what}: ${grouped} issued by ${grouping}, but ${total(bySite)} at the key's sites`);
      }
      return problems;
    },
  },
  amendFollowUp: {
    target: 'active',
    prepare: async (ctx) => {
      const followUp = smcmFollowUp() as Required<ReturnType<typeof smcmFollowUp>>;
      return {
        method: 'put',
        path: trialPath(ctx, '/follow-up'),
        body: {
          ...followUp,
          visits: [
            ...followUp.visits,
            { code: 'm3', label: '3-month call', day: 91, windowBefore: 14, windowAfter: 14 },
          ],
          reason: 'a telephone check at 3 months',
          effectiveOn: todayUtc(),
        },
      };
    },
  },
  recordAssessment: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = await randomizedServiceUser(ctx.t, ctx.trialId, ctx.site);
      return post(participantPath(ctx, participantId, '/assessments'), {
        visit: 'baseline',
        assessedOn: todayUtc(),
        assessor: 'MX',
        values: { employed: true },
      });
    },
  },
  correctAssessment: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = await randomizedServiceUser(ctx.t, ctx.trialId, ctx.site);
      await recordBaselineAssessment(ctx.t, ctx.trialId, participantId);
      return {
        method: 'patch',
        path: participantPath(ctx, participantId, '/assessments/baseline'),
        body: { values: { employed: false }, reason: 'misread the answer' },
      };
    },
  },
  recordMissedVisit: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = await randomizedServiceUser(ctx.t, ctx.trialId, ctx.site);
      return post(participantPath(ctx, participantId, '/visits/m6/missed'), {
        reason: 'could not be contacted',
        recordedOn: todayUtc(),
      });
    },
  },
  retractMissedVisit: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = await randomizedServiceUser(ctx.t, ctx.trialId, ctx.site);
      const missedVisitId = await recordMissed(ctx.t, ctx.trialId, participantId);
      return post(participantPath(ctx, participantId, `/visits/m6/missed/${missedVisitId}/retraction`), {
        reason: 'recorded for the wrong person',
      });
    },
  },
  getParticipantSchedule: {
    target: 'shared',
    prepare: async (ctx) => get(participantPath(ctx, shared(ctx).randomized[ctx.site]![0]!, '/schedule')),
  },
  listVisits: {
    target: 'shared',
    prepare: async (ctx) =>
      get(withQuery(trialPath(ctx, '/visits'), { status: 'not_due,open,overdue', limit: '500', ...siteFilter(ctx) })),
    checkScope: async (res, ctx) => {
      const sites: string[] =
        ctx.mediaType === 'text/csv'
          ? csvRecords(res.text).map((row) => row.siteCode!)
          : res.body.items.map((item: { siteCode: string }) => item.siteCode);
      return [
        ...outsideSites(ctx.scope, sites, `listVisits (${ctx.mediaType})`),
        ...nothingShown(ctx, sites.length, `listVisits (${ctx.mediaType})`),
      ];
    },
  },
  getFollowUpCompleteness: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, '/follow-up/completeness')),
  },
  getAnalysisDataset: {
    target: 'shared',
    prepare: async (ctx) => get(withQuery(trialPath(ctx, '/analysis-dataset'), { limit: '5000' })),
    checkScope: async (res, ctx) => {
      const sites: string[] =
        ctx.mediaType === 'text/csv'
          ? csvRecords(res.text).map((row) => row.siteCode!)
          : res.body.items.map((row: { siteCode: string }) => row.siteCode);
      return outsideSites(ctx.scope, sites, `getAnalysisDataset (${ctx.mediaType})`);
    },
  },
  getAnalysisDatasetDictionary: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, '/analysis-dataset/dictionary')),
  },
  getOutcomeAnalysis: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, '/outcomes/hope/analysis')),
  },
  ...deliveryRecipes,
  getSafetySettings: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, '/safety/settings')),
  },
  putSafetySettings: {
    target: 'shared',
    prepare: async (ctx) => ({
      method: 'put',
      path: trialPath(ctx, '/safety/settings'),
      body: { timeZone: 'Asia/Hong_Kong', initialReportHours: 24, fatalOrLifeThreateningDays: 7, otherSeriousDays: 15 },
    }),
  },
  recordAdverseEvent: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = await screenServiceUser(ctx.t, ctx.trialId, ctx.site);
      return post(participantPath(ctx, participantId, '/adverse-events'), adverseEventBody());
    },
  },
  listAdverseEvents: {
    target: 'shared',
    prepare: async (ctx) => {
      await recordedAdverseEvent(ctx);
      return get(withQuery(trialPath(ctx, '/adverse-events'), siteFilter(ctx)));
    },
    checkScope: async (res, ctx) => adverseEventSites(res, 'listAdverseEvents', ctx),
  },
  getAdverseEvent: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, `/adverse-events/${await recordedAdverseEvent(ctx)}`)),
  },
  correctAdverseEvent: {
    target: 'shared',
    prepare: async (ctx) => ({
      method: 'patch',
      path: trialPath(ctx, `/adverse-events/${await recordedAdverseEvent(ctx)}`),
      body: { reason: 'term coded', term: 'Hospitalisation' },
    }),
  },
  addAdverseEventFollowUp: {
    target: 'shared',
    prepare: async (ctx) =>
      post(trialPath(ctx, `/adverse-events/${await recordedAdverseEvent(ctx)}/follow-ups`), {
        note: 'still on the ward',
        outcome: 'recovering',
      }),
  },
  recordAdverseEventReport: {
    target: 'shared',
    prepare: async (ctx) =>
      post(trialPath(ctx, `/adverse-events/${await recordedAdverseEvent(ctx)}/reports`), {
        recipient: 'sponsor',
        reportedAt: new Date().toISOString(),
      }),
  },
  getSafetyDue: {
    target: 'shared',
    prepare: async (ctx) => {
      await recordedAdverseEvent(ctx);
      return get(trialPath(ctx, '/safety/due'));
    },
    checkScope: async (res, ctx) =>
      outsideSites(
        ctx.scope,
        res.body.sites.map((s: { siteCode: string }) => s.siteCode),
        'getSafetyDue',
      ),
  },
  raiseQuery: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = await screenServiceUser(ctx.t, ctx.trialId, ctx.site);
      return post(trialPath(ctx, '/queries'), {
        target: { kind: 'participant', id: participantId, pointer: '/baseline/age' },
        text: 'Age plausible?',
      });
    },
  },
  listQueries: {
    target: 'shared',
    prepare: async (ctx) => {
      await raisedQuery(ctx);
      return get(withQuery(trialPath(ctx, '/queries'), siteFilter(ctx)));
    },
    checkScope: async (res, ctx) => [
      ...adverseEventSites(res, 'listQueries', ctx),
      ...outsideSites(
        ctx.scope,
        res.body.summary.bySite.map((s: { siteCode: string }) => s.siteCode),
        'listQueries summary',
      ),
    ],
  },
  getQuery: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, `/queries/${await raisedQuery(ctx)}`)),
  },
  answerQuery: {
    target: 'shared',
    prepare: async (ctx) => post(trialPath(ctx, `/queries/${await raisedQuery(ctx)}/answers`), { text: 'Checked' }),
  },
  closeQuery: {
    target: 'shared',
    prepare: async (ctx) => post(trialPath(ctx, `/queries/${await raisedQuery(ctx)}/closure`), { text: 'Resolved' }),
  },
  reopenQuery: {
    target: 'shared',
    prepare: async (ctx) =>
      post(trialPath(ctx, `/queries/${await raisedQuery(ctx, true)}/reopening`), { text: 'Not resolved' }),
  },
  runAutomaticQueryChecks: {
    target: 'shared',
    prepare: async (ctx) => post(trialPath(ctx, '/automatic-queries')),
  },
  markSourceDataVerified: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = await screenServiceUser(ctx.t, ctx.trialId, ctx.site);
      return post(trialPath(ctx, '/sdv'), {
        target: { kind: 'participant', id: participantId, pointer: '/baseline/age' },
        verifiedOn: todayUtc(),
      });
    },
  },
  listSourceDataVerifications: {
    target: 'shared',
    prepare: async (ctx) => {
      await markedVerified(ctx);
      return get(withQuery(trialPath(ctx, '/sdv'), { limit: '500', ...siteFilter(ctx) }));
    },
    checkScope: async (res, ctx) => adverseEventSites(res, 'listSourceDataVerifications', ctx),
  },
  getSdvCoverage: {
    target: 'shared',
    prepare: async (ctx) => {
      await markedVerified(ctx);
      return get(trialPath(ctx, '/sdv/coverage'));
    },
    checkScope: async (res, ctx) => {
      const sites: string[] = res.body.rows.map((r: { siteCode: string }) => r.siteCode);
      return [
        ...outsideSites(ctx.scope, sites, 'getSdvCoverage'),
        ...nothingShown(ctx, sites.length, 'getSdvCoverage'),
      ];
    },
  },
  putSdvKeyItems: {
    target: 'shared',
    prepare: async (ctx) => ({
      method: 'put',
      path: trialPath(ctx, '/sdv/key-items'),
      body: { items: [{ kind: 'participant', pointer: '/baseline/age' }] },
    }),
  },
  ...SUBSTUDY_RECIPES,
  getOutcomeSummary: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, '/outcomes/summary')),
  },
  getOutcomeForestPlot: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, '/outcomes/forest.svg')),
  },
  getOutcomeTrajectory: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, '/outcomes/hope/trajectory.svg')),
  },
  getDmcOpenReport: {
    target: 'shared',
    prepare: async (ctx) => get(trialPath(ctx, '/dmc/open-report')),
  },
  getDmcClosedReport: {
    // A fresh trial: on the shared one (hundreds randomized, events from every recipe) the exact intervals take
    // seconds per request and the 96 requests overran the matrix's 10-minute limit (docs/monitoring.md, limits).
    target: 'active',
    prepare: async (ctx) => get(trialPath(ctx, '/dmc/closed-report')),
  },
};
