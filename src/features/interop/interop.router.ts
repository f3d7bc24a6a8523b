import type { HandlerMap } from '../../http/operations';
import { exportFhirBundle, exportOdm, importOdmStudy } from './interop.service';
import { importHistory } from './migration.service';

export function interopHandlers(): HandlerMap {
  return {
    exportOdm: async ({ params, query, ctx }) => ({
      status: 200,
      body: await exportOdm(ctx, { trialId: params.trialId, audit: query.audit }),
      contentType: 'application/xml; charset=utf-8',
      headers: { 'Content-Disposition': `attachment; filename="odm-${params.trialId}.xml"` },
    }),
    exportFhirBundle: async ({ params, ctx }) => ({
      status: 200,
      body: JSON.stringify(await exportFhirBundle(ctx, params)),
      contentType: 'application/fhir+json; charset=utf-8',
    }),
    importOdmStudy: async ({ query, text, ctx }) => {
      const result = await importOdmStudy(ctx, { code: query.code, document: text ?? '' });
      return { status: 201, body: result, headers: { Location: `/v1/trials/${result.trial.id}` } };
    },
    importTrialHistory: async ({ params, query, text, ctx }) => {
      const report = await importHistory(ctx, {
        trialId: params.trialId,
        kind: query.kind,
        text: text ?? '',
        dryRun: query.dryRun ?? false,
      });
      return { status: 200, body: report };
    },
  };
}
