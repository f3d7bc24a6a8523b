import express from 'express';
import pino, { Logger } from 'pino';
import { DEFAULT_SESSION_CONFIG, HttpConfig, SessionConfig } from './config';
import type { Database } from './db/database';
import { apiKeyHandlers } from './features/api-keys/api-keys.router';
import { authenticateApiKey } from './features/api-keys/api-keys.service';
import { auditHandlers } from './features/audit/audit.router';
import { consentHandlers } from './features/consent/consent.router';
import { consortHandlers } from './features/consort/consort.router';
import { deliveryHandlers } from './features/delivery/delivery.router';
import { eventHandlers } from './features/events/events.router';
import { followUpHandlers } from './features/follow-up/follow-up.router';
import { outcomesHandlers } from './features/outcomes/outcomes.router';
import { incentiveHandlers } from './features/incentives/incentives.router';
import { interopHandlers } from './features/interop/interop.router';
import { participantHandlers } from './features/participants/participants.router';
import { randomizationHandlers } from './features/randomization/randomization.router';
import { armLabellerFor } from './features/blinding/blinding.service';
import { runIdempotently } from './features/idempotency/idempotency.service';
import { createUseCaseContext } from './core/use-case-context';
import { safetyHandlers } from './features/safety/safety.router';
import { serviceHandlers } from './features/service/service.router';
import { statisticsHandlers } from './features/statistics/statistics.router';
import { substudyHandlers } from './features/substudies/substudies.router';
import { trialHandlers } from './features/trials/trials.router';
import { userHandlers } from './features/users/users.router';
import { authenticateSession, SessionDeps } from './features/users/users.service';
import { createSignInThrottle } from './features/users/sign-in-throttle';
import { createSigner } from './features/users/signatures.service';
import { consoleAssets } from './http/console-assets';
import { loadSpec } from './http/openapi';
import { mountOperations } from './http/operations';
import { BODY_LIMIT, notFoundHandler, problemHandler } from './http/problem';
import { createRateLimiter } from './http/rate-limit';
import { requestContext } from './http/request-context';
import { cors, securityHeaders } from './http/security';
import { compileOperations, createAjv } from './http/validation';
import packageJson from '../package.json';

export interface AppDeps {
  db: Database;
  logger?: Logger;
  /**
   * Rate limit and CORS; in-process uses (tests, demo, benchmarks) default to no rate limit. server.ts passes the
   * configuration.
   */
  http?: HttpConfig;
  /** "Now" for the trial's rules (visit windows, future dates) and the rate limiter; tests inject a fixed clock. */
  now?: () => Date;
  /** Console session lifetimes (config.sessions); defaults 30 min idle, 12 h absolute. */
  sessions?: SessionConfig;
}

const IN_PROCESS_HTTP: HttpConfig = { rateLimit: null, corsOrigins: [] };

export const SERVICE_VERSION: string = packageJson.version;

/** Builds the HTTP application: middleware, every operation of the contract, the problem renderer. Never listens. */
export function createApp({
  db,
  logger = pino({ level: 'silent' }),
  http = IN_PROCESS_HTTP,
  now,
  sessions = DEFAULT_SESSION_CONFIG,
}: AppDeps): express.Express {
  const spec = loadSpec();
  const compiled = compileOperations(createAjv(), spec);
  const knex = db.knex;
  const sessionDeps: SessionDeps = {
    db: knex,
    now: now ?? (() => new Date()),
    sessions,
    throttle: createSignInThrottle(),
  };
  const signer = createSigner(sessionDeps);
  const handlers = {
    ...serviceHandlers(db, spec, SERVICE_VERSION),
    ...apiKeyHandlers(),
    ...trialHandlers(),
    ...auditHandlers(),
    ...participantHandlers(),
    ...consentHandlers(signer),
    ...eventHandlers(),
    ...incentiveHandlers(),
    ...consortHandlers(),
    ...randomizationHandlers(signer),
    ...statisticsHandlers(),
    ...followUpHandlers(),
    ...outcomesHandlers(),
    ...deliveryHandlers(),
    ...safetyHandlers(),
    ...substudyHandlers(),
    ...interopHandlers(),
    ...userHandlers(sessionDeps),
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(logger));
  app.use(securityHeaders());
  app.use(cors(http.corsOrigins));
  app.use(express.json({ limit: BODY_LIMIT, strict: false, type: ['application/json', 'application/*+json'] }));
  app.use(express.text({ limit: BODY_LIMIT, type: ['text/csv', 'application/xml'] }));
  app.use(
    mountOperations(spec, compiled, handlers, {
      authenticate: (token) => authenticateApiKey(knex, token),
      authenticateSession: (sessionId) => authenticateSession(sessionDeps, sessionId),
      contextFor: (request) => createUseCaseContext({ db: knex, armLabellerFactory: armLabellerFor, now }, request),
      idempotent: (request, work) => runIdempotently(knex, request, work),
      limiter: http.rateLimit ? createRateLimiter(http.rateLimit, now && (() => now().getTime())) : null,
    }),
  );
  app.use(consoleAssets());
  app.use(notFoundHandler);
  app.use(problemHandler);
  return app;
}
