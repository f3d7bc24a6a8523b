import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ValidationError } from '../core/errors';
import { toFieldErrors } from '../core/field-errors';
import { LoadedSpec, OperationSpec, ParameterObject } from './openapi';

const SPEC_ID = 'openapi.json';

export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictTypes: false,
    allowUnionTypes: true,
    discriminator: true,
  });
  addFormats(ajv);
  // The contract is added whole so that references resolve within it; its top-level OpenAPI fields
  // are not schema keywords, and strict mode must be told they carry no validation.
  for (const keyword of [
    'openapi',
    'info',
    'servers',
    'tags',
    'security',
    'paths',
    'components',
    'jsonSchemaDialect',
    'webhooks',
    'externalDocs',
  ]) {
    ajv.addKeyword({ keyword });
  }
  return ajv;
}

/** Keywords that look at an array's items; ajv is given them only for arrays within `maxItems`. */
const ITEM_KEYWORDS = ['items', 'prefixItems', 'contains', 'minContains', 'maxContains', 'uniqueItems'] as const;

/**
 * The contract as ajv is given it, rewritten in two ways that change no verdict, only the work done
 * and the errors listed:
 * - discriminator `mapping`s are left out: ajv refuses the keyword, and derives the same mapping from
 *   each member's `const` (test/spec-lint.test.ts checks that they agree);
 * - an array's item keywords apply only once its `maxItems` holds (`if: {maxItems}, then: {items, …}`).
 *   With allErrors, ajv would otherwise check every item of an over-long array (and compare every pair
 *   for uniqueItems), collecting an error per item: 16,000 empty arms in one trial took 17 s of CPU
 *   while the process answered nothing else. Beyond the limit the only error is now the limit.
 */
export function validationView(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(validationView);
  if (node === null || typeof node !== 'object') return node;
  const schema: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    schema[key] = ['const', 'enum', 'default', 'examples'].includes(key) ? value : validationView(value);
  }
  if (typeof schema.discriminator === 'object' && schema.discriminator !== null) {
    const { mapping: _mapping, ...discriminator } = schema.discriminator as Record<string, unknown>;
    schema.discriminator = discriminator;
  }
  const gated = ITEM_KEYWORDS.filter((keyword) => keyword in schema);
  if (typeof schema.maxItems === 'number' && gated.length) {
    if ('unevaluatedItems' in schema)
      throw new Error('validationView: unevaluatedItems next to maxItems is not supported');
    const guard = { if: { maxItems: schema.maxItems }, then: Object.fromEntries(gated.map((k) => [k, schema[k]])) };
    for (const keyword of gated) delete schema[keyword];
    if ('if' in schema) schema.allOf = [...((schema.allOf as unknown[] | undefined) ?? []), guard];
    else Object.assign(schema, guard);
  }
  return schema;
}

export interface CompiledOperation {
  spec: OperationSpec;
  body?: ValidateFunction;
  path: ValidateFunction;
  query: ValidateFunction;
  headers: ValidateFunction;
}

function parametersSchema(parameters: ParameterObject[], location: ParameterObject['in'], closed: boolean) {
  const selected = parameters.filter((p) => p.in === location);
  const key = (p: ParameterObject) => (location === 'header' ? p.name.toLowerCase() : p.name);
  return {
    type: 'object',
    properties: Object.fromEntries(selected.map((p) => [key(p), p.schema ?? {}])),
    required: selected.filter((p) => p.required).map(key),
    additionalProperties: !closed,
  };
}

/** Compiles, once, a validator for each part of every operation's request. */
export function compileOperations(ajv: Ajv2020, spec: LoadedSpec): Map<string, CompiledOperation> {
  if (!ajv.getSchema(SPEC_ID)) ajv.addSchema(validationView(spec.document) as object, SPEC_ID);
  const compiled = new Map<string, CompiledOperation>();
  for (const op of spec.operations) {
    const withinSpec = (schema: object) => ajv.compile(pointRefsAtSpec(schema) as object);
    compiled.set(op.operationId, {
      spec: op,
      body: op.hasJsonBody
        ? ajv.compile({ $ref: `${SPEC_ID}${op.pointer}/requestBody/content/application~1json/schema` })
        : undefined,
      path: withinSpec(parametersSchema(op.parameters, 'path', false)),
      query: withinSpec(parametersSchema(op.parameters, 'query', true)),
      headers: withinSpec(parametersSchema(op.parameters, 'header', false)),
    });
  }
  return compiled;
}

/** Parameter schemas may reference components; compiled on their own, their refs must name the document. */
export function pointRefsAtSpec(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pointRefsAtSpec);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' && inner.startsWith('#/') ? SPEC_ID + inner : pointRefsAtSpec(inner),
    ]),
  );
}

/**
 * Query and path values arrive as strings; convert those whose schema says number or boolean,
 * leaving anything that does not parse for ajv to report.
 */
export function coerceParameters(
  values: Record<string, unknown>,
  parameters: ParameterObject[],
  location: ParameterObject['in'],
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...values };
  for (const p of parameters.filter((param) => param.in === location)) {
    const name = location === 'header' ? p.name.toLowerCase() : p.name;
    const raw = result[name];
    if (typeof raw !== 'string') continue;
    const type = p.schema?.type;
    if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) result[name] = Number(raw);
    else if (type === 'boolean' && (raw === 'true' || raw === 'false')) result[name] = raw === 'true';
  }
  return result;
}

export function validateOrThrow(validate: ValidateFunction, value: unknown, prefix: string): void {
  if (!validate(value)) throw new ValidationError(toFieldErrors(validate.errors, prefix));
}
