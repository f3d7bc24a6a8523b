import type { ElectronicSignature, SignatureMeaning } from '../../core/electronic-signature';
import type { UseCaseContext } from '../../core/use-case-context';
import { TooManyRequestsError, ValidationError } from '../../core/errors';
import { verifyPassword } from './passwords';
import * as repo from './users.repo';
import type { SessionDeps } from './users.service';

/** What the request sent under `/signature`. */
export interface SignatureInput {
  password: string;
  meaning: string;
}

/**
 * Checks the signature a request carries and answers what to store: a signed-in person (cookie session) must
 * re-enter their password (21 CFR 11.200(a)(1)(i): each signing after the first of a session uses at least the
 * password); an API key is not a person and does not sign (null). A wrong password counts as a failed sign-in
 * of the account and is throttled with it, so the signature cannot be used to guess passwords faster.
 */
export type Signer = (
  ctx: UseCaseContext,
  request: { sent: SignatureInput | undefined; meaning: SignatureMeaning; clientAddress: string },
) => Promise<ElectronicSignature | null>;

export function createSigner(deps: SessionDeps): Signer {
  return async (ctx, { sent, meaning, clientAddress }) => {
    const { principal } = ctx;
    if (!principal.session) {
      if (sent)
        throw new ValidationError([
          { pointer: '/signature', detail: 'an API key does not sign; signatures are for people signed in' },
        ]);
      return null;
    }
    if (!sent)
      throw new ValidationError([
        { pointer: '/signature', detail: `re-enter your password to sign this as "${meaning}"` },
      ]);
    if (sent.meaning !== meaning)
      throw new ValidationError([{ pointer: '/signature/meaning', detail: `must be "${meaning}"` }]);
    // ctx.db: under an Idempotency-Key the handler runs in the idempotency transaction (one connection on PGlite).
    const user = await repo.findUser(ctx.db, principal.keyId);
    const account = user?.email ?? principal.keyId;
    const nowMs = ctx.now().getTime();
    const wait = deps.throttle.retryAfterSeconds(account, clientAddress, nowMs);
    if (wait > 0)
      throw new TooManyRequestsError(`Too many wrong passwords; try again in ${Math.ceil(wait / 60)} min.`, wait);
    if (!user?.password_hash || !(await verifyPassword(sent.password, user.password_hash))) {
      deps.throttle.recordFailure(account, clientAddress, nowMs);
      throw new ValidationError([{ pointer: '/signature/password', detail: 'the password is wrong' }]);
    }
    deps.throttle.recordSuccess(account);
    return { userId: user.id, name: user.name, signedAt: ctx.now().toISOString(), meaning };
  };
}
