import { loadSpec, OperationSpec, resolveLocalRef } from '../src/http/openapi';
import { compileOperations, createAjv } from '../src/http/validation';

const spec = loadSpec();
const ROLES = new Set(['public', 'admin', 'coordinator', 'statistician', 'monitor']);

function problemsOf(op: OperationSpec): string[] {
  const problems: string[] = [];
  const status = (code: string) => op.responses[code];
  if (!/^[a-z][A-Za-z]+$/.test(op.operationId)) problems.push('operationId must be lowerCamelCase');
  if (!op.summary) problems.push('no summary');
  if (!op.roles.length) problems.push('no x-roles');
  for (const role of op.roles) if (!ROLES.has(role)) problems.push(`unknown role ${role} in x-roles`);
  if (!op.tags.length) problems.push('no tag');
  if (!status('default')) problems.push('no default (unexpected error) response');
  if (!Object.keys(op.responses).some((code) => /^2\d\d$/.test(code))) problems.push('no success response');
  const isPublic = op.roles.includes('public');
  if (!isPublic && (!status('401') || !status('403')))
    problems.push('authenticated operation must document 401 and 403');
  if (!isPublic && (!status('429') || !status('503')))
    problems.push('authenticated operation must document 429 and 503');
  if (op.parameters.length && !status('422')) problems.push('operation with parameters must document 422');
  if (op.parameters.some((p) => p.in === 'path' && p.name === 'trialId') && !status('404'))
    problems.push('trial operation must document 404');
  if (op.hasJsonBody)
    for (const code of ['400', '413', '415', '422'])
      if (!status(code)) problems.push(`operation with a body must document ${code}`);
  for (const [code, response] of Object.entries(op.responses)) {
    if (code !== 'default' && !/^[1-5]\d\d$/.test(code)) problems.push(`bad status ${code}`);
    if (code === 'default' || Number(code) >= 400) {
      const resolved = resolveLocalRef<{ content?: Record<string, { schema?: { $ref?: string } }> }>(
        spec.document,
        response,
      );
      const schemaRef = resolved.content?.['application/problem+json']?.schema?.$ref;
      if (schemaRef !== '#/components/schemas/Problem' || Object.keys(resolved.content ?? {}).length !== 1) {
        problems.push(`${code} must be application/problem+json with the Problem schema`);
      }
    }
  }
  return problems.map((p) => `${op.operationId}: ${p}`);
}

describe('the OpenAPI contract', () => {
  it('is OpenAPI 3.1 and every operation is fully documented', () => {
    expect(spec.document.openapi).toBe('3.1.0');
    expect(spec.operations.flatMap(problemsOf)).toEqual([]);
  });

  it('has unique operationIds and only declared tags', () => {
    const ids = spec.operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = new Set((spec.document.tags ?? []).map((t) => t.name));
    expect(spec.operations.filter((op) => op.tags.some((tag) => !tags.has(tag))).map((op) => op.operationId)).toEqual(
      [],
    );
  });

  it('compiles every request schema in strict mode', () => {
    expect(() => compileOperations(createAjv(), spec)).not.toThrow();
  });

  it('catches an operation that breaks the rules', () => {
    const broken: OperationSpec = {
      ...spec.byId.get('createTrial')!,
      summary: '',
      roles: [],
      responses: { '201': {} },
    };
    expect(problemsOf(broken)).toEqual(
      expect.arrayContaining([
        'createTrial: no summary',
        'createTrial: no x-roles',
        'createTrial: no default (unexpected error) response',
        'createTrial: authenticated operation must document 401 and 403',
        'createTrial: operation with a body must document 415',
      ]),
    );
  });
});
