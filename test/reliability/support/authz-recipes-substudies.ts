import { INTERVIEW_COUPON } from '../../../scripts/smcm-trial';
import type { TestApp, TestResponse } from '../../support/test-app';
import type { MatrixRequest, Recipe, RecipeContext, ScopeCheckContext } from './authz-recipes';
import { MATRIX_ARMS, randomizedServiceUser, SITE_IN, SITE_OUT, todayUtc, uniqueTag } from './authz-world';

/*
 * Recipes of the sub-study operations (issue #16), merged into RECIPES. Each cell gets participants of its
 * own (an invitation, an interview and a coupon happen once per participant) in one sub-study per trial.
 */

const get = (path: string): MatrixRequest => ({ method: 'get', path });
const post = (path: string, body?: unknown): MatrixRequest => ({ method: 'post', path, body });
const patch = (path: string, body: unknown): MatrixRequest => ({ method: 'patch', path, body });

async function admin(t: TestApp, status: number, path: string, body?: unknown): Promise<TestResponse> {
  const res = await t.call('post', path, { body });
  if (res.status !== status) throw new Error(`set-up POST ${path} answered ${res.status}: ${res.text}`);
  return res;
}

const substudies = new Map<string, Promise<string>>();
const interviewsAtBothSites = new Map<string, Promise<void>>();

/** The trial's matrix sub-study: quotas at both sites for both arms and roles, the interview coupon as incentive. */
function matrixSubstudy(ctx: RecipeContext): Promise<string> {
  let code = substudies.get(ctx.trialId);
  if (!code) {
    code = (async () => {
      const tag = uniqueTag('pe');
      await admin(ctx.t, 201, `/v1/trials/${ctx.trialId}/substudies`, {
        code: tag,
        title: 'Matrix process evaluation',
        incentive: INTERVIEW_COUPON.code,
        quotas: [SITE_IN, SITE_OUT].flatMap((siteCode) =>
          MATRIX_ARMS.flatMap((arm) =>
            ['service_user', 'case_worker'].map((role) => ({ siteCode, arm: arm.code, role, target: 1000 })),
          ),
        ),
      });
      return tag;
    })();
    substudies.set(ctx.trialId, code);
  }
  return code;
}

const substudyPath = async (ctx: RecipeContext, suffix = '') =>
  `/v1/trials/${ctx.trialId}/substudies/${await matrixSubstudy(ctx)}${suffix}`;

/** A randomized service user at the cell's site, invited (and, if asked, accepting) on today's date. */
async function invited(ctx: RecipeContext, accept: boolean): Promise<{ participantId: string; invitationId: string }> {
  const participantId = await randomizedServiceUser(ctx.t, ctx.trialId, ctx.site);
  const invitation = await admin(ctx.t, 201, await substudyPath(ctx, '/invitations'), {
    participantId,
    invitedOn: todayUtc(),
    invitedBy: 'ST',
  });
  if (accept)
    await admin(ctx.t, 200, await substudyPath(ctx, `/invitations/${invitation.body.id}/answer`), {
      answer: 'accepted',
      answeredOn: todayUtc(),
    });
  return { participantId, invitationId: invitation.body.id };
}

const interviewInput = (participantId: string, audioRecorded: boolean) => ({
  participantId,
  conductedOn: todayUtc(),
  interviewer: 'ST',
  durationMinutes: 45,
  location: 'the centre',
  audioRecorded,
});

/** The participant's granted audio consent, signed today; its id. */
async function audioConsent(ctx: RecipeContext, participantId: string): Promise<string> {
  const consent = await admin(ctx.t, 201, `/v1/trials/${ctx.trialId}/participants/${participantId}/consents`, {
    form: 'audio',
    version: '1.0',
    decision: 'granted',
    signedOn: todayUtc(),
    obtainedBy: 'IW',
    method: 'written',
  });
  return consent.body.id;
}

async function interviewed(ctx: RecipeContext): Promise<string> {
  const { participantId } = await invited(ctx, true);
  const res = await admin(ctx.t, 201, await substudyPath(ctx, '/interviews'), interviewInput(participantId, false));
  return res.body.id;
}

/** Rows of a site outside a site-limited key's sites, named for the failure message. */
function foreignSites(ctx: ScopeCheckContext, sites: string[], what: string): string[] {
  if (!ctx.scope.siteCodes) return [];
  const foreign = sites.filter((site) => !ctx.scope.siteCodes!.includes(site));
  const problems = foreign.length
    ? [`${what} shows ${foreign.length} item(s) of site(s) ${[...new Set(foreign)].join(', ')}`]
    : [];
  if (ctx.site === SITE_IN && sites.length === 0) problems.push(`${what} shows nothing; the site check proves nothing`);
  return problems;
}

export const SUBSTUDY_RECIPES: Record<string, Recipe> = {
  createSubstudy: {
    target: 'shared',
    prepare: async (ctx) =>
      post(`/v1/trials/${ctx.trialId}/substudies`, {
        code: uniqueTag('substudy'),
        title: 'A sub-study of the matrix',
        quotas: [{ siteCode: ctx.site, arm: MATRIX_ARMS[0]!.code, role: 'service_user', target: 3 }],
      }),
  },
  listSubstudies: {
    target: 'shared',
    prepare: async (ctx) => {
      await matrixSubstudy(ctx);
      return get(`/v1/trials/${ctx.trialId}/substudies`);
    },
    checkScope: async (res, ctx) =>
      foreignSites(
        ctx,
        res.body.flatMap((s: { quotas: { siteCode: string }[] }) => s.quotas.map((q) => q.siteCode)),
        'listSubstudies',
      ),
  },
  changeSubstudyQuotas: {
    target: 'shared',
    prepare: async (ctx) =>
      patch(await substudyPath(ctx, '/quotas'), {
        quotas: [{ siteCode: ctx.site, arm: MATRIX_ARMS[0]!.code, role: 'case_worker', target: 1000 }],
        reason: 'the steering committee kept the target',
      }),
  },
  inviteToSubstudy: {
    target: 'shared',
    prepare: async (ctx) => {
      const participantId = await randomizedServiceUser(ctx.t, ctx.trialId, ctx.site);
      return post(await substudyPath(ctx, '/invitations'), { participantId, invitedOn: todayUtc(), invitedBy: 'ST' });
    },
  },
  answerInvitation: {
    target: 'shared',
    prepare: async (ctx) => {
      const { invitationId } = await invited(ctx, false);
      return post(await substudyPath(ctx, `/invitations/${invitationId}/answer`), {
        answer: 'declined',
        answeredOn: todayUtc(),
        reason: 'no time for an interview',
      });
    },
  },
  withdrawInvitation: {
    target: 'shared',
    prepare: async (ctx) => {
      const { invitationId } = await invited(ctx, true);
      return post(await substudyPath(ctx, `/invitations/${invitationId}/withdrawal`), {
        withdrawnOn: todayUtc(),
        withdrawnBy: 'ST',
        reason: 'the cell is full',
      });
    },
  },
  getSubstudySampling: {
    target: 'shared',
    prepare: async (ctx) => get(await substudyPath(ctx, '/sampling')),
    checkScope: async (res, ctx) => {
      const sites =
        ctx.mediaType === 'application/json'
          ? res.body.rows.map((row: { siteCode: string }) => row.siteCode)
          : ctx.mediaType === 'text/csv'
            ? res.text
                .trim()
                .split(/\r?\n/)
                .slice(1)
                .map((line) => line.split(',')[0]!)
                .filter((site) => site !== 'all')
            : [...res.text.matchAll(/<tr><td>([^<]+)<\/td>/g)].map((m) => m[1]!).filter((s) => s !== 'All sites');
      return foreignSites(ctx, sites, `getSubstudySampling (${ctx.mediaType})`);
    },
  },
  recordInterview: {
    target: 'shared',
    prepare: async (ctx) => {
      const { participantId } = await invited(ctx, true);
      await audioConsent(ctx, participantId);
      return post(await substudyPath(ctx, '/interviews'), interviewInput(participantId, true));
    },
  },
  listInterviews: {
    target: 'shared',
    prepare: async (ctx) => {
      // Interviews at both sites, so that a site-limited key has something of its own and something to miss.
      let done = interviewsAtBothSites.get(ctx.trialId);
      if (!done) {
        done = (async () => {
          for (const site of [SITE_IN, SITE_OUT]) await interviewed({ ...ctx, site });
        })();
        interviewsAtBothSites.set(ctx.trialId, done);
      }
      await done;
      return get(await substudyPath(ctx, '/interviews'));
    },
    checkScope: async (res, ctx) =>
      foreignSites(
        ctx,
        res.body.map((i: { siteCode: string }) => i.siteCode),
        'listInterviews',
      ),
  },
  correctInterview: {
    target: 'shared',
    prepare: async (ctx) =>
      patch(await substudyPath(ctx, `/interviews/${await interviewed(ctx)}`), {
        durationMinutes: 60,
        reason: 'the recorder’s clock was wrong',
      }),
  },
  recordRecordingDeletion: {
    target: 'shared',
    prepare: async (ctx) => {
      const { participantId } = await invited(ctx, true);
      const consentId = await audioConsent(ctx, participantId);
      const interview = await admin(
        ctx.t,
        201,
        await substudyPath(ctx, '/interviews'),
        interviewInput(participantId, true),
      );
      await admin(
        ctx.t,
        201,
        `/v1/trials/${ctx.trialId}/participants/${participantId}/consents/${consentId}/withdrawal`,
        {
          withdrawnOn: todayUtc(),
          reason: 'no recording after all',
          scope: 'all',
        },
      );
      return post(await substudyPath(ctx, `/interviews/${interview.body.id}/recording-deletion`), {
        deletedOn: todayUtc(),
        deletedBy: 'IW',
        method: 'secure erase',
      });
    },
  },
  recordTranscriptStage: {
    target: 'shared',
    prepare: async (ctx) =>
      post(await substudyPath(ctx, `/interviews/${await interviewed(ctx)}/transcript`), {
        stage: 'transcribed',
        by: 'IW',
        on: todayUtc(),
      }),
  },
  issueInterviewCoupon: {
    target: 'shared',
    prepare: async (ctx) =>
      post(await substudyPath(ctx, `/interviews/${await interviewed(ctx)}/coupon`), {
        issuedOn: todayUtc(),
        reference: uniqueTag('coupon'),
      }),
  },
  recordCodingRound: {
    target: 'shared',
    prepare: async (ctx) =>
      post(await substudyPath(ctx, '/coding-rounds'), {
        coders: ['ST', 'IWKL'],
        codings: [
          { unit: 't01-s01', coder: 'ST', code: 'goal_attainment' },
          { unit: 't01-s01', coder: 'IWKL', code: 'goal_attainment' },
          { unit: 't01-s02', coder: 'ST', code: 'strengths' },
          { unit: 't01-s02', coder: 'IWKL', code: 'goal_attainment' },
        ],
      }),
  },
  listCodingRounds: {
    target: 'shared',
    prepare: async (ctx) => get(await substudyPath(ctx, '/coding-rounds')),
  },
};
