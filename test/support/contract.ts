import type { ValidateFunction } from 'ajv';
import { loadSpec, OperationSpec, resolveLocalRef } from '../../src/http/openapi';
import { createAjv, pointRefsAtSpec, validationView } from '../../src/http/validation';
import { toFieldErrors } from '../../src/core/field-errors';

const spec = loadSpec();
const ajv = createAjv();
ajv.addSchema(validationView(spec.document) as object, 'openapi.json');
const cache = new Map<string, ValidateFunction>();

function validatorFor(key: string, schema: object): ValidateFunction {
  let validate = cache.get(key);
  if (!validate) {
    validate = ajv.compile(pointRefsAtSpec(schema) as object);
    cache.set(key, validate);
  }
  return validate;
}

const matchers = spec.operations.map((op) => ({
  op,
  regex: new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

export function findOperation(method: string, path: string): OperationSpec | undefined {
  const bare = path.split('?')[0]!;
  return matchers.find((m) => m.op.method === method.toLowerCase() && m.regex.test(bare))?.op;
}

export interface ResponseLike {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
  text: string;
}

/**
 * Checks a response against the contract: the status is documented for the operation (or it is
 * a problem from the routing layer), the media type is the documented one, and the body validates
 * against its schema. Throws with a readable explanation otherwise.
 */
export function assertMatchesContract(method: string, path: string, res: ResponseLike): void {
  const contentType = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
  const op = findOperation(method, path);
  let schema: object;
  let key: string;
  if (!op) {
    if (![404, 405].includes(res.status))
      throw new Error(`${method} ${path}: no operation in the contract, yet status ${res.status}`);
    schema = { $ref: '#/components/schemas/Problem' };
    key = 'routing-problem';
    if (contentType !== 'application/problem+json')
      throw new Error(`${method} ${path}: routing error served as ${contentType}`);
  } else {
    const declared = op.responses[String(res.status)] ?? op.responses.default;
    if (!declared)
      throw new Error(`${op.operationId}: status ${res.status} is not documented (body: ${res.text.slice(0, 300)})`);
    if (!op.responses[String(res.status)] && res.status < 500) {
      throw new Error(
        `${op.operationId}: status ${res.status} is only covered by "default"; document it (body: ${res.text.slice(0, 300)})`,
      );
    }
    const response = resolveLocalRef<{ content?: Record<string, { schema: object }> }>(spec.document, declared);
    if (!response.content) {
      if (res.text) throw new Error(`${op.operationId}: ${res.status} has a body but the contract declares none`);
      return;
    }
    const media = response.content[contentType];
    if (!media)
      throw new Error(
        `${op.operationId}: ${res.status} served as ${contentType}, contract says ${Object.keys(response.content).join(', ')}`,
      );
    if (!contentType.includes('json')) return;
    schema = media.schema;
    key = `${op.operationId}:${res.status}:${contentType}`;
  }
  const validate = validatorFor(key, schema);
  if (!validate(res.body)) {
    const errors = toFieldErrors(validate.errors)
      .map((e) => `${e.pointer} ${e.detail}`)
      .join('; ');
    throw new Error(
      `${method} ${path} -> ${res.status}: body does not match the contract: ${errors}\n${res.text.slice(0, 500)}`,
    );
  }
}
