import { escapePointerToken } from '../src/core/field-errors';
import { loadSpec, OpenApiDocument, OperationSpec, resolveLocalRef } from '../src/http/openapi';
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

type Schema = Record<string, unknown>;
const BOUNDED_FORMATS = new Set(['uuid', 'date', 'date-time']);

/**
 * Every array and every free string a request may carry must be bounded (maxItems, maxLength; maps
 * maxProperties and their keys maxLength), and every free string must exclude NUL by a pattern:
 * request validation is synchronous, so an unbounded list or string lets one request hold the process.
 * Returns the pointers into the contract of the schemas that break the rule.
 */
function unboundedInRequests(document: OpenApiDocument, operations: OperationSpec[]): string[] {
  const problems = new Set<string>();
  const visited = new Set<string>();
  const visit = (schema: unknown, where: string): void => {
    if (typeof schema !== 'object' || schema === null) return;
    const node = schema as Schema;
    if (typeof node.$ref === 'string') {
      if (!visited.has(node.$ref)) {
        visited.add(node.$ref);
        visit(resolveLocalRef(document, { $ref: node.$ref }), node.$ref);
      }
    }
    const types = ([] as unknown[]).concat(node.type ?? []);
    const free = node.enum === undefined && node.const === undefined && !BOUNDED_FORMATS.has(String(node.format));
    if (types.includes('string') && free) {
      if (typeof node.maxLength !== 'number') problems.add(`${where}: a string without maxLength`);
      const pattern = typeof node.pattern === 'string' ? new RegExp(node.pattern, 'u') : undefined;
      if (!pattern || ['\u0000', 'a\u0000', '\u0000a'].some((text) => pattern.test(text)))
        problems.add(`${where}: a string without a pattern excluding NUL`);
    }
    if (types.includes('array') && typeof node.maxItems !== 'number')
      problems.add(`${where}: an array without maxItems`);
    const map = node.additionalProperties;
    if (typeof map === 'object' && map !== null) {
      if (typeof node.maxProperties !== 'number') problems.add(`${where}: a map without maxProperties`);
      const keys = node.propertyNames as Schema | undefined;
      if (typeof keys?.maxLength !== 'number' || typeof keys?.pattern !== 'string')
        problems.add(`${where}: a map without propertyNames bounded by maxLength and a pattern`);
      visit(map, `${where}/additionalProperties`);
    }
    for (const [name, inner] of Object.entries((node.properties as Record<string, unknown> | undefined) ?? {}))
      visit(inner, `${where}/properties/${escapePointerToken(name)}`);
    if (node.items) visit(node.items, `${where}/items`);
    for (const keyword of ['allOf', 'oneOf', 'anyOf'])
      ((node[keyword] as unknown[] | undefined) ?? []).forEach((inner, i) => visit(inner, `${where}/${keyword}/${i}`));
  };
  for (const op of operations) {
    op.parameters.forEach((p) => visit(p.schema, `${op.operationId} parameter ${p.name}`));
    const body = resolveLocalRef<{ content?: Record<string, { schema?: unknown }> }>(
      document,
      (document.paths[op.path]![op.method] as Schema).requestBody ?? {},
    );
    visit(body.content?.['application/json']?.schema, `${op.operationId} body`);
  }
  return [...problems];
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

  it('bounds every array, string and map a request may carry, and keeps NUL out of free strings', () => {
    expect(unboundedInRequests(spec.document, spec.operations)).toEqual([]);
  });

  it('catches an unbounded array or string', () => {
    const document = structuredClone(spec.document);
    const schemas = document.components.schemas as Record<string, Schema>;
    delete (schemas.ReasonInput!.properties as Record<string, Schema>).reason!.maxLength;
    delete schemas.StratifyBy!.maxItems;
    expect(unboundedInRequests(document, spec.operations)).toEqual(
      expect.arrayContaining([
        '#/components/schemas/ReasonInput/properties/reason: a string without maxLength',
        '#/components/schemas/StratifyBy: an array without maxItems',
      ]),
    );
  });

  it('uses no boolean schema where generators expect an object (openapi-python-client stops on them)', () => {
    const found: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((item, i) => walk(item, `${where}/${i}`));
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        const children =
          key === 'properties' && typeof value === 'object' && value !== null
            ? Object.entries(value)
            : ['items', 'not'].includes(key)
              ? [['', value] as const]
              : ['allOf', 'oneOf', 'anyOf', 'prefixItems'].includes(key) && Array.isArray(value)
                ? value.map((v, i) => [String(i), v] as const)
                : [];
        for (const [name, child] of children)
          if (typeof child === 'boolean') found.push(`${where}/${key}${name === '' ? '' : `/${name}`}`);
        walk(value, `${where}/${escapePointerToken(key)}`);
      }
    };
    walk(spec.document, '#');
    expect(found).toEqual([]);
  });

  it('maps every discriminator value to the member whose const it is', () => {
    const schemas = spec.document.components.schemas as Record<string, Schema>;
    const checked: string[] = [];
    for (const [name, schema] of Object.entries(schemas)) {
      const discriminator = schema.discriminator as
        { propertyName: string; mapping?: Record<string, string> } | undefined;
      if (!discriminator) continue;
      const members = (schema.oneOf as { $ref?: string }[]).map((m) => m.$ref);
      expect(members.every((ref) => typeof ref === 'string')).toBe(true);
      expect(Object.values(discriminator.mapping ?? {}).sort()).toEqual([...members].sort());
      for (const [value, ref] of Object.entries(discriminator.mapping ?? {})) {
        const member = resolveLocalRef<Schema>(spec.document, { $ref: ref });
        expect((member.properties as Record<string, Schema>)[discriminator.propertyName]).toEqual({ const: value });
        expect(member.required).toContain(discriminator.propertyName);
      }
      checked.push(name);
    }
    expect(checked).toContain('Randomization');
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
