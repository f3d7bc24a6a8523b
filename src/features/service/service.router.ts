import type { Database } from '../../db/database';
import { ServiceUnavailableError } from '../../core/errors';
import type { LoadedSpec } from '../../http/openapi';
import type { HandlerMap } from '../../http/operations';
import { renderReferencePage } from '../../http/reference-page';

export function serviceHandlers(db: Database, spec: LoadedSpec, version: string): HandlerMap {
  const page = renderReferencePage(spec);
  return {
    getHealth: async () => {
      try {
        await db.knex.raw('SELECT 1');
      } catch {
        throw new ServiceUnavailableError('The database does not answer.', 5);
      }
      return { status: 200, body: { status: 'ok', database: db.kind, version } };
    },
    getOpenApiDocument: async () => ({ status: 200, body: spec.document }),
    getApiReference: async () => ({ status: 200, body: page, contentType: 'text/html; charset=utf-8' }),
  };
}
