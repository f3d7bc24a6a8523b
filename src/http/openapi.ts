import { escapePointerToken } from '../core/field-errors';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
export const HTTP_METHODS: readonly HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];

/** `public` marks operations that need no key. */
export type OperationRole = 'public' | 'admin' | 'coordinator' | 'statistician' | 'monitor';

export interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Record<string, unknown>;
  description?: string;
}

export interface OperationSpec {
  operationId: string;
  method: HttpMethod;
  /** The path as the spec writes it: /v1/trials/{trialId} */
  path: string;
  /** The same path as express matches it: /v1/trials/:trialId */
  expressPath: string;
  /** JSON pointer of the operation in the document, for ajv references. */
  pointer: string;
  summary: string;
  description?: string;
  tags: string[];
  roles: OperationRole[];
  /** `x-requires-unscoped-key`: only keys not limited to trials may call it. */
  requiresUnscopedKey: boolean;
  /** `x-requires-unblinded-key`: blinded keys may not call it (it would reveal arms). */
  requiresUnblindedKey: boolean;
  /** Declares an `Idempotency-Key` header: the operation layer runs it once per key (features/idempotency). */
  idempotent: boolean;
  /** Media types the request body may have, e.g. application/json and text/csv. */
  requestMediaTypes: string[];
  parameters: ParameterObject[];
  hasJsonBody: boolean;
  bodyRequired: boolean;
  responses: Record<string, unknown>;
}

export interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
  tags?: { name: string; description?: string }[];
  [key: string]: unknown;
}

function findSpecFile(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'openapi', 'openapi.yaml');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`openapi/openapi.yaml not found above ${__dirname}`);
}

/** Follows a local `#/components/...` reference (parameters are referenced by the spec). */
export function resolveLocalRef<T>(document: OpenApiDocument, value: unknown): T {
  let current = value as Record<string, unknown>;
  const seen = new Set<string>();
  while (current && typeof current.$ref === 'string') {
    const ref = current.$ref;
    if (!ref.startsWith('#/') || seen.has(ref)) throw new Error(`unsupported or cyclic reference ${ref}`);
    seen.add(ref);
    current = ref
      .slice(2)
      .split('/')
      .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, token) => (node as Record<string, unknown>)[token], document) as Record<string, unknown>;
  }
  return current as T;
}

export function indexOperations(document: OpenApiDocument): OperationSpec[] {
  const operations: OperationSpec[] = [];
  for (const [specPath, pathItem] of Object.entries(document.paths)) {
    const shared = (pathItem.parameters as unknown[] | undefined) ?? [];
    for (const method of HTTP_METHODS) {
      const op = pathItem[method] as Record<string, unknown> | undefined;
      if (!op) continue;
      const own = (op.parameters as unknown[] | undefined) ?? [];
      const parameters = [...shared, ...own].map((p) => resolveLocalRef<ParameterObject>(document, p));
      const requestBody = op.requestBody
        ? resolveLocalRef<Record<string, unknown>>(document, op.requestBody)
        : undefined;
      const content = requestBody?.content as Record<string, unknown> | undefined;
      operations.push({
        operationId: String(op.operationId),
        method,
        path: specPath,
        expressPath: specPath.replace(/\{([^}]+)\}/g, ':$1'),
        pointer: `#/paths/${escapePointerToken(specPath)}/${method}`,
        summary: String(op.summary ?? ''),
        description: op.description as string | undefined,
        tags: (op.tags as string[] | undefined) ?? [],
        roles: (op['x-roles'] as OperationRole[] | undefined) ?? [],
        requiresUnscopedKey: op['x-requires-unscoped-key'] === true,
        requiresUnblindedKey: op['x-requires-unblinded-key'] === true,
        requestMediaTypes: Object.keys(content ?? {}),
        idempotent: parameters.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key'),
        parameters,
        hasJsonBody: Boolean(content?.['application/json']),
        bodyRequired: Boolean(requestBody?.required),
        responses: (op.responses as Record<string, unknown>) ?? {},
      });
    }
  }
  return operations;
}

export interface LoadedSpec {
  document: OpenApiDocument;
  operations: OperationSpec[];
  byId: Map<string, OperationSpec>;
}

let cached: LoadedSpec | undefined;

/** The contract, parsed once per process. */
export function loadSpec(): LoadedSpec {
  if (!cached) {
    const document = YAML.parse(fs.readFileSync(findSpecFile(), 'utf8')) as OpenApiDocument;
    const operations = indexOperations(document);
    cached = { document, operations, byId: new Map(operations.map((op) => [op.operationId, op])) };
  }
  return cached;
}
