import type { Server } from 'node:http';
import pino from 'pino';
import { createApp } from './app';
import { answerClientErrors } from './http/client-errors';
import { ConfigError, loadConfig } from './config';
import { createDb, migrateToLatest } from './db/database';
import { ensureBootstrapAdminKey } from './features/api-keys/api-keys.service';

async function main(): Promise<void> {
  const startedAt = performance.now();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`trialdesk: configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel });
  const driverLog = logger.child({ component: 'database-driver' });
  const db = await createDb(config.database, {
    warn: (message) => driverLog.warn(String(message)),
    error: (message) => driverLog.error(String(message)),
    debug: (message) => driverLog.debug(String(message)),
  });
  const applied = await migrateToLatest(db.knex);
  if (applied.length) logger.info({ migrations: applied }, 'migrations applied');

  const bootstrap = await ensureBootstrapAdminKey(db.knex, config.adminApiKey);
  if (bootstrap.kind === 'generated') {
    // Printed once, to the terminal only: the database keeps nothing but the digest.
    process.stdout.write(
      `\n  trialdesk created the first admin API key. It is shown only now; store it safely:\n\n    ${bootstrap.key}\n\n` +
        `  Use it as "Authorization: Bearer <key>". Set ADMIN_API_KEY to choose your own instead.\n\n`,
    );
  } else if (bootstrap.kind === 'configured' && bootstrap.created) {
    logger.info('registered ADMIN_API_KEY as an admin key');
  }

  const app = createApp({ db, logger, http: config.http, sessions: config.sessions });
  const server: Server = app.listen(config.port, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info(
      { port, database: db.kind, startupMs: Math.round(performance.now() - startedAt) },
      `trialdesk listening on http://localhost:${port} (${db.kind} database)`,
    );
  });

  answerClientErrors(server);
  // Slow clients cannot hold sockets open: the headers must arrive within 10 s, the whole request within 60 s.
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close(() => {
      db.close().then(
        () => process.exit(0),
        (error) => {
          logger.error({ err: error }, 'closing the database failed');
          process.exit(1);
        },
      );
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(`trialdesk: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
