import fs from 'node:fs';
import path from 'node:path';
import { indexOperations, loadSpec, OpenApiDocument, resolveLocalRef } from '../src/http/openapi';

/*
 * The R and Python clients (src/client/r, src/client/python) send requests only through their
 * operations.json tables. This test fails when an operation a client wraps disappears from the
 * contract or changes its method, path, parameters, request body, media type, the response members
 * the client reads, or an enum the client turns into factor levels.
 */

interface WrappedOperation {
  operationId: string;
  method: string;
  path: string;
  query?: string[];
  headers?: string[];
  body?: string;
  accept?: string;
  reads?: string[];
}

interface OperationsTable {
  operations: WrappedOperation[];
  enums: Record<string, string[]>;
}

type Schema = Record<string, unknown>;

const ROOT = path.join(__dirname, '..');
const CLIENTS = {
  r: { table: 'src/client/r/inst/operations.json', sources: 'src/client/r/R' },
  python: { table: 'src/client/python/trialdesk/operations.json', sources: 'src/client/python/trialdesk' },
};

function readTable(file: string): OperationsTable {
  return JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as OperationsTable;
}

/** The object schemas a value may be: through $ref, allOf, and the non-null branches of oneOf/anyOf. */
function variants(document: OpenApiDocument, value: unknown): Schema[] {
  const schema = resolveLocalRef<Schema>(document, value);
  if (!schema || typeof schema !== 'object') return [];
  const out: Schema[] = [schema];
  for (const key of ['allOf', 'oneOf', 'anyOf']) {
    for (const member of (schema[key] as unknown[] | undefined) ?? []) out.push(...variants(document, member));
  }
  return out.filter((s) => s.type !== 'null');
}

/** Why a pointer (a `*` segment means the array items) is not a required member of the schema; null when it is. */
function follow(document: OpenApiDocument, root: unknown, pointer: string): string | null {
  let current: Schema[] = variants(document, root);
  for (const segment of pointer.split('/').slice(1)) {
    const next: Schema[] = [];
    if (segment === '*') {
      for (const schema of current) if (schema.items) next.push(...variants(document, schema.items));
      if (!next.length) return `${pointer}: ${segment} is not an array`;
    } else {
      let required = false;
      for (const schema of current) {
        const properties = (schema.properties as Record<string, unknown> | undefined) ?? {};
        if (segment in properties && properties[segment] !== true)
          next.push(...variants(document, properties[segment]));
        if (((schema.required as string[] | undefined) ?? []).includes(segment)) required = true;
      }
      if (!required) return `${pointer}: ${segment} is not a required member`;
    }
    current = next;
  }
  return null;
}

function successContent(document: OpenApiDocument, responses: Record<string, unknown>): Record<string, Schema> {
  const content: Record<string, Schema> = {};
  for (const [code, response] of Object.entries(responses)) {
    if (!/^2\d\d$/.test(code)) continue;
    const resolved = resolveLocalRef<{ content?: Record<string, Schema> }>(document, response);
    Object.assign(content, resolved.content ?? {});
  }
  return content;
}

/** Every way `table` no longer matches `document`; empty when the client and the contract agree. */
function contractMismatches(document: OpenApiDocument, table: OperationsTable): string[] {
  const byId = new Map(indexOperations(document).map((op) => [op.operationId, op]));
  const problems: string[] = [];
  for (const wrapped of table.operations) {
    const id = wrapped.operationId;
    const op = byId.get(id);
    if (!op) {
      problems.push(`${id}: not in the contract`);
      continue;
    }
    if (op.method !== wrapped.method || op.path !== wrapped.path) {
      problems.push(
        `${id}: the contract has ${op.method.toUpperCase()} ${op.path}, ` +
          `the client ${wrapped.method.toUpperCase()} ${wrapped.path}`,
      );
    }
    for (const where of ['query', 'header'] as const) {
      const declared = (where === 'query' ? wrapped.query : wrapped.headers) ?? [];
      const inContract = op.parameters.filter((p) => p.in === where);
      for (const name of declared) {
        if (!inContract.some((p) => p.name === name)) problems.push(`${id}: no ${where} parameter ${name}`);
      }
      for (const p of inContract) {
        if (p.required && !declared.includes(p.name)) problems.push(`${id}: required ${where} ${p.name} not sent`);
      }
    }
    const requestBody = resolveLocalRef<{
      required?: boolean;
      content?: Record<string, { schema?: { $ref?: string } }>;
    }>(document, (document.paths[op.path]?.[op.method] as { requestBody?: unknown } | undefined)?.requestBody ?? {});
    const bodySchema = (requestBody.content?.['application/json']?.schema?.$ref ?? null)?.replace(
      '#/components/schemas/',
      '',
    );
    // An optional body (randomizeParticipant's signature, which only console sessions send) may be left out.
    const bodyLeftOut = wrapped.body === undefined && requestBody.required !== true;
    if (!bodyLeftOut && (wrapped.body ?? null) !== (bodySchema ?? null)) {
      problems.push(
        `${id}: the body is ${bodySchema ?? 'none'} in the contract, ${wrapped.body ?? 'none'} in the client`,
      );
    }
    const content = successContent(document, op.responses);
    const accept = wrapped.accept ?? 'application/json';
    if (!content[accept]) problems.push(`${id}: no success response of type ${accept}`);
    for (const pointer of wrapped.reads ?? []) {
      const problem = content[accept] ? follow(document, content[accept]!.schema, pointer) : 'no schema';
      if (problem) problems.push(`${id}: ${problem}`);
    }
  }
  const schemas = document.components.schemas as Record<string, Schema>;
  for (const [name, levels] of Object.entries(table.enums)) {
    const [schemaName, ...rest] = name.split('/');
    let schema: unknown = schemas[schemaName!];
    for (const part of rest) schema = (resolveLocalRef<Schema>(document, schema) ?? {})[part];
    const actual = (resolveLocalRef<Schema>(document, schema) ?? {}).enum;
    if (JSON.stringify(actual) !== JSON.stringify(levels)) {
      problems.push(`enum ${name}: the contract has ${JSON.stringify(actual)}, the client ${JSON.stringify(levels)}`);
    }
  }
  return problems;
}

function sourceText(dir: string): string {
  return fs
    .readdirSync(path.join(ROOT, dir))
    .filter((file) => /\.(R|py)$/.test(file))
    .map((file) => fs.readFileSync(path.join(ROOT, dir, file), 'utf8'))
    .join('\n');
}

describe.each(Object.entries(CLIENTS))('the %s client', (_name, client) => {
  const { document } = loadSpec();
  const table = readTable(client.table);

  it('wraps only operations that exist in the contract with the method, path, parameters and shapes it uses', () => {
    expect(table.operations.length).toBeGreaterThan(20);
    expect(contractMismatches(document, table)).toEqual([]);
  });

  it('calls every operation of its table, and lists each once', () => {
    const source = sourceText(client.sources);
    const ids = table.operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !source.includes(`"${id}"`))).toEqual([]);
  });
});

describe('the client contract check', () => {
  const table = readTable(CLIENTS.python.table);
  const mutated = (change: (doc: OpenApiDocument) => void): string[] => {
    const copy = structuredClone(loadSpec().document);
    change(copy);
    return contractMismatches(copy, table);
  };
  const path = (doc: OpenApiDocument, p: string) => doc.paths[p] as Record<string, Record<string, unknown>>;

  it('fails when an operation is removed or moved', () => {
    expect(mutated((doc) => delete doc.paths['/v1/trials/{trialId}/consort'])).toEqual([
      'getConsortCounts: not in the contract',
    ]);
    expect(
      mutated((doc) => {
        path(doc, '/v1/trials/{trialId}/activation').put = path(doc, '/v1/trials/{trialId}/activation').post!;
        delete path(doc, '/v1/trials/{trialId}/activation').post;
      }),
    ).toEqual([
      'activateTrial: the contract has PUT /v1/trials/{trialId}/activation, ' +
        'the client POST /v1/trials/{trialId}/activation',
    ]);
  });

  it('fails when a parameter, body, media type, response member or enum changes', () => {
    expect(
      mutated((doc) => {
        const op = path(doc, '/v1/trials/{trialId}/consort').get!;
        op.parameters = (op.parameters as { name: string }[]).map((p) =>
          p.name === 'asOf' ? { ...p, name: 'until' } : p,
        );
      }),
    ).toEqual(['getConsortCounts: no query parameter asOf']);
    expect(
      mutated((doc) => {
        const op = path(doc, '/v1/trials/{trialId}/participants').post!;
        (op.requestBody as { content: Record<string, { schema: unknown }> }).content['application/json']!.schema = {
          $ref: '#/components/schemas/BaselineUpdate',
        };
      }),
    ).toEqual(['screenParticipant: the body is BaselineUpdate in the contract, ParticipantInput in the client']);
    expect(
      mutated((doc) => {
        const page = (doc.components.schemas as Record<string, Schema>).ParticipantPage!;
        page.required = ['items'];
      }),
    ).toEqual(['listParticipants: /nextCursor: nextCursor is not a required member']);
    expect(
      mutated((doc) => {
        const status = (doc.components.schemas as Record<string, Schema>).ParticipantStatus!;
        status.enum = [...(status.enum as string[]), 'lost'];
      }),
    ).toHaveLength(1);
  });
});
