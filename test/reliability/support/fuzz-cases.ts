import fc from 'fast-check';
import type { LoadedSpec, OperationSpec } from '../../../src/http/openapi';
import type { Framing, WireRequest } from './fuzz-http';
import { JObj, JVal, PoolName, Ref, serialize } from './fuzz-json';
import {
  ACCEPT_VALUES,
  applyBodyMutation,
  applyByteMutation,
  AUDIT_AFTER_VALUES,
  ByteMutation,
  byteMutation,
  CONTENT_TYPES,
  IDEMPOTENCY_KEYS,
  IF_MATCH_VALUES,
  MutationChoice,
  mutationChoice,
  NASTY_CURSORS,
  NASTY_PATH_SEGMENTS,
  NASTY_QUERY_VALUES,
  REQUEST_ID_VALUES,
} from './fuzz-mutations';
import { arbitraryFor, deref, SchemaContext } from './fuzz-schema';
import { AUTH_CHOICES, AuthChoice, World, worldHints } from './fuzz-world';

/*
 * One fuzz case: a request to one operation of the contract, built from its schemas, plus zero to
 * two mutations. Cases are plain data (world rows are `Ref`s); `render` turns one into the bytes
 * to send, against the world as it is when the case runs.
 */

/** A path or query value: a generated value (encoded when rendered) or text already percent-encoded. */
export type ParamValue = { value: JVal } | { raw: string };

export type Mutation =
  | { on: 'body'; choice: MutationChoice }
  | { on: 'bytes'; choice: ByteMutation }
  | { on: 'path'; param: number; segment: number }
  | { on: 'crossId'; param: number; pool: PoolName; index: number }
  | { on: 'query'; kind: 'nasty' | 'unknown' | 'repeat' | 'cursor' | 'proto'; param: number; pick: number }
  | {
      on: 'header';
      kind: 'contentType' | 'noContentType' | 'accept' | 'idempotencyKey' | 'ifMatch' | 'requestId' | 'methodOverride';
      pick: number;
    }
  | {
      on: 'route';
      kind: 'method' | 'head' | 'options' | 'trailingSlash' | 'doubleSlash' | 'upperCase' | 'child' | 'dotSegment';
      pick: number;
    }
  | { on: 'wire'; kind: 'framing' | 'nulHeader' | 'rawPathBytes' | 'hugeHeader' | 'duplicateHeader'; pick: number }
  | { on: 'csv'; pick: number };

export interface FuzzCase {
  operationId: string;
  auth: AuthChoice;
  pathParams: [string, ParamValue][];
  query: [string, ParamValue][];
  headers: [string, string][];
  body: JVal | undefined;
  mutations: Mutation[];
}

const ID_POOLS: Record<string, PoolName> = {
  trialId: 'trialId',
  participantId: 'participantId',
  consentId: 'consentId',
  eventId: 'eventId',
  incentiveId: 'incentiveId',
  keyId: 'keyId',
  substudyCode: 'substudyCode',
  invitationId: 'invitationId',
  interviewId: 'interviewId',
};
const ALL_ID_POOLS = Object.values(ID_POOLS);

function pathParamArbitrary(
  ctx: SchemaContext,
  name: string,
  schema: Record<string, unknown>,
): fc.Arbitrary<ParamValue> {
  const pool = ID_POOLS[name];
  const fromSchema = arbitraryFor(ctx, schema).map((value): ParamValue => ({ value }));
  if (!pool) return fromSchema;
  const fromPool = (name: PoolName) => fc.nat().map((n): ParamValue => ({ value: new Ref(name, n) }));
  // Half the trial ids are active SMCM trials, where the body hints make valid requests likely.
  if (pool === 'trialId')
    return fc.oneof(
      { arbitrary: fromPool('activeTrialId'), weight: 5 },
      { arbitrary: fromPool('trialId'), weight: 5 },
      { arbitrary: fromSchema, weight: 2 },
    );
  return fc.oneof({ arbitrary: fromPool(pool), weight: 10 }, { arbitrary: fromSchema, weight: 2 });
}

function queryArbitrary(ctx: SchemaContext, op: OperationSpec): fc.Arbitrary<[string, ParamValue][]> {
  const params = op.parameters.filter((p) => p.in === 'query');
  if (!params.length) return fc.constant([]);
  return fc
    .tuple(
      ...params.map((p) =>
        fc.option(
          arbitraryFor(ctx, p.schema ?? true, 0, p.name).map((value): [string, ParamValue] => [p.name, { value }]),
          { nil: null, freq: 2 },
        ),
      ),
    )
    .map((entries) => entries.filter((e): e is [string, ParamValue] => e !== null));
}

function headerArbitrary(ctx: SchemaContext, op: OperationSpec): fc.Arbitrary<[string, string][]> {
  const params = op.parameters.filter((p) => p.in === 'header');
  if (!params.length) return fc.constant([]);
  return fc
    .tuple(
      ...params.map((p) => {
        const own =
          p.name.toLowerCase() === 'if-match'
            ? fc.constantFrom('"1"', '"2"', '*', '"1", "3"')
            : arbitraryFor(ctx, p.schema ?? true).map((v) => String(v));
        return fc.option(
          own.map((value): [string, string] => [p.name, value]),
          { nil: null, freq: 2 },
        );
      }),
    )
    .map((entries) => entries.filter((e): e is [string, string] => e !== null));
}

function mutationArbitrary(op: OperationSpec): fc.Arbitrary<Mutation> {
  const pathCount = op.parameters.filter((p) => p.in === 'path').length;
  const queryCount = op.parameters.filter((p) => p.in === 'query').length;
  const options: { arbitrary: fc.Arbitrary<Mutation>; weight: number }[] = [
    { arbitrary: byteMutation.map((choice): Mutation => ({ on: 'bytes', choice })), weight: op.hasJsonBody ? 8 : 2 },
    {
      arbitrary: fc
        .record({
          kind: fc.constantFrom(
            'contentType',
            'noContentType',
            'accept',
            'idempotencyKey',
            'ifMatch',
            'requestId',
            'methodOverride',
          ),
          pick: fc.nat(),
        })
        .map((h): Mutation => ({ on: 'header', ...h })),
      weight: 6,
    },
    {
      arbitrary: fc
        .record({
          kind: fc.constantFrom(
            'method',
            'head',
            'options',
            'trailingSlash',
            'doubleSlash',
            'upperCase',
            'child',
            'dotSegment',
          ),
          pick: fc.nat(),
        })
        .map((r): Mutation => ({ on: 'route', ...r })),
      weight: 2,
    },
    {
      arbitrary: fc
        .record({
          kind: fc.constantFrom('framing', 'nulHeader', 'rawPathBytes', 'hugeHeader', 'duplicateHeader'),
          pick: fc.nat(),
        })
        .map((w): Mutation => ({ on: 'wire', ...w })),
      weight: 2,
    },
    {
      arbitrary: fc
        .record({
          kind: fc.constantFrom('nasty', 'unknown', 'repeat', 'cursor', 'proto'),
          param: fc.nat(),
          pick: fc.nat(),
        })
        .map((q): Mutation => ({ on: 'query', ...q })),
      weight: queryCount ? 6 : 1,
    },
  ];
  if (op.hasJsonBody)
    options.push({ arbitrary: mutationChoice.map((choice): Mutation => ({ on: 'body', choice })), weight: 20 });
  if (pathCount) {
    options.push({
      arbitrary: fc.record({ param: fc.nat(), segment: fc.nat() }).map((p): Mutation => ({ on: 'path', ...p })),
      weight: 5,
    });
    options.push({
      arbitrary: fc
        .record({ param: fc.nat(), pool: fc.constantFrom(...ALL_ID_POOLS), index: fc.nat() })
        .map((p): Mutation => ({ on: 'crossId', ...p })),
      weight: 3,
    });
  }
  if (op.requestMediaTypes.includes('text/csv'))
    options.push({ arbitrary: fc.nat().map((pick): Mutation => ({ on: 'csv', pick })), weight: 6 });
  return fc.oneof(...options);
}

export interface CaseFactory {
  operations: OperationSpec[];
  arbitrary: fc.Arbitrary<FuzzCase>;
}

export function caseFactory(spec: LoadedSpec): CaseFactory {
  const ctx: SchemaContext = { document: spec.document, hint: worldHints };
  const perOperation = spec.operations.map((op) => {
    const bodySchema = op.hasJsonBody
      ? deref(
          spec.document,
          (spec.document.paths[op.path]![op.method] as { requestBody: { content: Record<string, { schema: object }> } })
            .requestBody.content['application/json']!.schema as Record<string, unknown>,
        )
      : undefined;
    const pathParams = op.parameters.filter((p) => p.in === 'path');
    return fc.record({
      operationId: fc.constant(op.operationId),
      auth: op.roles.includes('public')
        ? fc.oneof({ arbitrary: fc.constant<AuthChoice>('none'), weight: 4 }, ...AUTH_CHOICES)
        : fc.oneof(...AUTH_CHOICES),
      pathParams: pathParams.length
        ? fc.tuple(
            ...pathParams.map((p) =>
              pathParamArbitrary(ctx, p.name, p.schema ?? {}).map((v): [string, ParamValue] => [p.name, v]),
            ),
          )
        : fc.constant([] as [string, ParamValue][]),
      query: queryArbitrary(ctx, op),
      headers: headerArbitrary(ctx, op),
      body: bodySchema ? arbitraryFor(ctx, bodySchema) : fc.constant(undefined),
      mutations: fc.oneof(
        { arbitrary: fc.constant([] as Mutation[]), weight: 7 },
        { arbitrary: fc.array(mutationArbitrary(op), { minLength: 1, maxLength: 2 }), weight: 13 },
      ),
    });
  });
  // Every operation equally often: the contract's surface is covered evenly whatever its size.
  return {
    operations: spec.operations,
    arbitrary: fc.nat({ max: perOperation.length - 1 }).chain((i) => perOperation[i]!),
  };
}

/*
 * Rendering.
 */

function percentEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    // A lone surrogate: encodeURIComponent refuses it; send the bytes Node would make of it.
    return [...Buffer.from(text, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
  }
}

function paramText(value: JVal, resolve: (ref: Ref) => string): string {
  if (value instanceof Ref) return resolve(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return serialize(value, resolve).toString('utf8');
}

function encodeParam(param: ParamValue, resolve: (ref: Ref) => string): string {
  return 'raw' in param ? param.raw : percentEncode(paramText(param.value, resolve));
}

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!;

const CSV_BODIES = [
  'arm,site\nSMCM,A\nTAU,A\nTAU,B\nSMCM,B\n',
  'arm,site\r\nSMCM,A\r\nTAU,A\r\n',
  '\ufeffarm,site\nSMCM,A\nTAU,A\n',
  'arm\nSMCM\nTAU\n',
  'arm,site\n"SMCM",A\n"TA""U",A\n',
  'arm,site\n"unterminated,A\n',
  'arm,site\n=cmd|/c calc!A1,A\n',
  'arm,site,extra\nSMCM,A,1\n',
  'site,arm\nA,SMCM\n',
  'arm,site\nSMCM,A\u0000\n',
  'arm,site\nSMCM\n',
  '',
  '\n\n\n',
  'arm,site\n' + 'SMCM,A\nTAU,A\n'.repeat(30_000),
  'arm,site\n' + 'X'.repeat(200) + ',A\n',
  'arm,arm\nSMCM,TAU\n',
  'arm,__proto__\nSMCM,A\n',
];

export interface Rendered {
  request: WireRequest;
  /** What was done to the request, for the report. */
  labels: string[];
  /** The request is meant for the operation (its method and route were not mutated). */
  onRoute: boolean;
  /** The trial and participant the path names, for harvesting what a success created. */
  ids: { trialId?: string; participantId?: string };
}

/** The bytes to send for a case, against the world as it is now. */
export function render(fuzzCase: FuzzCase, op: OperationSpec, world: World): Rendered {
  const { resolve, note } = world.resolver();
  const ids: Rendered['ids'] = {};
  const labels: string[] = [];
  const pathParams = fuzzCase.pathParams.map(([name, value]): [string, ParamValue] => [name, value]);
  let query = [...fuzzCase.query];
  let headers: [string, string][] = [];
  let body: JVal | undefined = fuzzCase.body;
  let bytes: Buffer | null = null;
  let contentType: string | null = null;
  let method = op.method.toUpperCase();
  let framing: Framing = 'content-length';
  let onRoute = true;
  const extraHeaders: [string, string][] = [...fuzzCase.headers];
  const byteMutations: ByteMutation[] = [];
  const wire: Extract<Mutation, { on: 'wire' }>[] = [];
  const routes: Extract<Mutation, { on: 'route' }>[] = [];
  let csv: number | undefined;

  for (const m of fuzzCase.mutations) {
    switch (m.on) {
      case 'body':
        if (body !== undefined) {
          const mutated = applyBodyMutation(body, m.choice);
          body = mutated.body;
          labels.push(mutated.label);
        }
        break;
      case 'bytes':
        byteMutations.push(m.choice);
        break;
      case 'path': {
        if (!pathParams.length) break;
        const index = m.param % pathParams.length;
        const segment = pick(NASTY_PATH_SEGMENTS, m.segment);
        pathParams[index] = [pathParams[index]![0], { raw: segment }];
        labels.push(`path ${pathParams[index]![0]} = ${segment.slice(0, 60)}`);
        break;
      }
      case 'crossId': {
        if (!pathParams.length) break;
        const index = m.param % pathParams.length;
        pathParams[index] = [pathParams[index]![0], { value: new Ref(m.pool, m.index, true) }];
        labels.push(`path ${pathParams[index]![0]} = a ${m.pool} of the world`);
        break;
      }
      case 'query': {
        const declared = op.parameters.filter((p) => p.in === 'query');
        const name = declared.length ? declared[m.param % declared.length]!.name : 'limit';
        const others = query.filter(([n]) => n !== name);
        if (m.kind === 'nasty') {
          const isAfter = name === 'after';
          const value =
            isAfter && m.pick % 2 ? pick(AUDIT_AFTER_VALUES, m.pick >> 1) : pick(NASTY_QUERY_VALUES, m.pick);
          query = [...others, [name, { raw: value }]];
          labels.push(`query ${name}=${value.slice(0, 60)}`);
        } else if (m.kind === 'cursor') {
          const cursorName = declared.some((p) => p.name === 'after') ? 'after' : 'cursor';
          const value = pick(NASTY_CURSORS, m.pick);
          query = [...query.filter(([n]) => n !== cursorName), [cursorName, { raw: value }]];
          labels.push(`query ${cursorName}=<crafted cursor ${m.pick % NASTY_CURSORS.length}>`);
        } else if (m.kind === 'unknown') {
          const unknown = pick(['unknown', 'limit[]', 'LIMIT', 'status[$ne]', 'a'.repeat(300), '%00', ''], m.pick);
          query = [...query, [unknown, { raw: '1' }]];
          labels.push(`unknown query parameter ${unknown.slice(0, 40)}`);
        } else if (m.kind === 'repeat') {
          query = [...query, [name, { raw: '1' }], [name, { raw: '2' }]];
          labels.push(`query ${name} repeated`);
        } else {
          const protoName = pick(
            ['__proto__', 'constructor', '__proto__[limit]', 'constructor[prototype][x]', 'toString'],
            m.pick,
          );
          query = [...query, [protoName, { raw: '1' }]];
          labels.push(`query ${protoName}=1`);
        }
        break;
      }
      case 'header': {
        if (m.kind === 'contentType') {
          contentType = pick(CONTENT_TYPES, m.pick);
          labels.push(`Content-Type: ${contentType}`);
        } else if (m.kind === 'noContentType') {
          contentType = '';
          labels.push('no Content-Type');
        } else if (m.kind === 'accept') {
          const accept = pick(ACCEPT_VALUES, m.pick);
          extraHeaders.push(['Accept', accept]);
          labels.push(`Accept: ${accept}`);
        } else if (m.kind === 'idempotencyKey') {
          const key = pick(IDEMPOTENCY_KEYS, m.pick);
          extraHeaders.splice(
            0,
            extraHeaders.length,
            ...extraHeaders.filter(([n]) => n.toLowerCase() !== 'idempotency-key'),
            ['Idempotency-Key', key],
          );
          labels.push(`Idempotency-Key: ${JSON.stringify(key.slice(0, 40))}`);
        } else if (m.kind === 'ifMatch') {
          const tag = pick(IF_MATCH_VALUES, m.pick);
          extraHeaders.splice(0, extraHeaders.length, ...extraHeaders.filter(([n]) => n.toLowerCase() !== 'if-match'), [
            'If-Match',
            tag,
          ]);
          labels.push(`If-Match: ${tag.slice(0, 40)}`);
        } else if (m.kind === 'requestId') {
          const id = pick(REQUEST_ID_VALUES, m.pick);
          extraHeaders.push(['X-Request-Id', id]);
          labels.push(`X-Request-Id: ${id.slice(0, 40)}`);
        } else {
          extraHeaders.push(['X-HTTP-Method-Override', pick(['DELETE', 'PUT', 'GET'], m.pick)]);
          labels.push('X-HTTP-Method-Override');
        }
        break;
      }
      case 'route':
        routes.push(m);
        break;
      case 'wire':
        wire.push(m);
        break;
      case 'csv':
        csv = m.pick;
        break;
    }
  }

  let path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const param = pathParams.find(([n]) => n === name);
    if (!param) return '';
    const encoded = encodeParam(param[1], resolve);
    if (name === 'trialId' || name === 'participantId') {
      const text = 'raw' in param[1] ? param[1].raw : paramText(param[1].value, resolve);
      note(name, text);
      ids[name] = text;
    }
    return encoded;
  });
  for (const r of routes) {
    onRoute = false;
    switch (r.kind) {
      case 'method': {
        const other = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((x) => x !== method);
        method = pick(other, r.pick);
        break;
      }
      case 'head':
        method = 'HEAD';
        break;
      case 'options':
        method = 'OPTIONS';
        break;
      case 'trailingSlash':
        path += '/';
        break;
      case 'doubleSlash':
        path = path.replace('/v1/', '/v1//').replace(/^\/(?!v1)/, '//');
        break;
      case 'upperCase':
        path = path.toUpperCase();
        onRoute = true; // express matches paths case-insensitively: still the operation
        break;
      case 'child':
        path += pick(['/x', '/..', '/%2e%2e', '/0'], r.pick);
        break;
      case 'dotSegment':
        path = path.replace(/\/[^/]+$/, '/../' + path.split('/').pop());
        break;
    }
    labels.push(`route ${r.kind} -> ${method} ${path.slice(0, 100)}`);
  }
  const queryString = query
    .map(([name, value]) => `${percentEncodeName(name)}=${encodeParam(value, resolve)}`)
    .join('&');
  let target = queryString ? `${path}?${queryString}` : path;

  const authorization = world.authorization(fuzzCase.auth);
  if (authorization !== undefined) headers.push(['Authorization', latin1(authorization)]);
  if (fuzzCase.auth !== 'admin') labels.push(`auth ${fuzzCase.auth}`);

  if (csv !== undefined) {
    bytes = Buffer.from(pick(CSV_BODIES, csv), 'utf8');
    contentType ??= 'text/csv';
    labels.push(`CSV body ${csv % CSV_BODIES.length}`);
  } else if (body !== undefined) {
    bytes = serialize(body, resolve);
  }
  for (const m of byteMutations) {
    const base = bytes ?? serialize(new JObj([['unexpected', 'body']]), resolve);
    const mutated = applyByteMutation(base, m);
    bytes = mutated.bytes;
    labels.push(mutated.label);
    for (const [name, value] of mutated.headers ?? []) {
      if (name === 'content-type') contentType = value;
      else extraHeaders.push([name, value]);
    }
  }
  // JSON unless a mutation said otherwise; a mutated Content-Type is sent even without a body.
  if (bytes !== null && contentType === null) contentType = 'application/json';
  if (contentType) headers.push(['Content-Type', contentType]);
  headers.push(...extraHeaders.map(([n, v]): [string, string] => [n, latin1(v)]));

  for (const w of wire) {
    switch (w.kind) {
      case 'framing':
        framing = pick<Framing>(
          ['chunked', 'short-length', 'long-length', 'both-lengths', 'bad-chunk', 'http10'],
          w.pick,
        );
        if (bytes === null || bytes.length === 0) bytes = Buffer.from('{"a":1}');
        // A stray body on an operation that takes none stays unlabelled: no body parser reads it, so
        // the operation may run before Node finds the framing broken.
        if (op.requestMediaTypes.length && !headers.some(([n]) => n === 'Content-Type'))
          headers.push(['Content-Type', 'application/json']);
        labels.push(`framing ${framing}`);
        break;
      case 'nulHeader': {
        const where = w.pick % 3;
        if (where === 0)
          headers = headers.map(([n, v]): [string, string] => (n === 'Authorization' ? [n, v + '\u0000'] : [n, v]));
        else if (where === 1) headers.push(['X-Fuzz', 'a\u0000b']);
        else headers.push(['X-Fuzz', 'a\rb']);
        labels.push(
          ['NUL after the Authorization value', 'NUL in a header value', 'bare CR in a header value'][where]!,
        );
        break;
      }
      case 'rawPathBytes': {
        const insert = pick(
          ['\u00ff', '\u00c3\u00a9', ' ', '\u0000', '\u007f', '\t', '#frag', '\u00ed\u00a0\u0080'],
          w.pick,
        );
        const cut = target.indexOf('/', 1) > 0 ? target.indexOf('/', 1) + 1 : target.length;
        target = target.slice(0, cut) + insert + target.slice(cut);
        labels.push(`raw bytes ${JSON.stringify(insert)} in the request target`);
        break;
      }
      case 'hugeHeader': {
        const size = pick([8 * 1024, 17 * 1024, 64 * 1024], w.pick);
        headers.push(['X-Fuzz-Pad', 'p'.repeat(size)]);
        labels.push(`header of ${size} bytes`);
        break;
      }
      case 'duplicateHeader': {
        const dup = pick<[string, string]>(
          [
            ['Authorization', 'Bearer ' + 'B'.repeat(40)],
            ['Content-Type', 'text/plain'],
            ['Content-Length', '0'],
            ['Host', 'evil.example'],
          ],
          w.pick,
        );
        headers.push(dup);
        labels.push(`duplicate ${dup[0]}`);
        break;
      }
    }
  }
  return { request: { method, target, headers, body: bytes, framing }, labels, onRoute, ids };
}

function percentEncodeName(name: string): string {
  return name.startsWith('%')
    ? name
    : percentEncode(name).replace(/%5B/g, '[').replace(/%5D/g, ']').replace(/%24/g, '$');
}

/** Header values travel as latin1; characters beyond it go as their UTF-8 bytes (what a client would send). */
function latin1(value: string): string {
  // eslint-disable-next-line no-control-regex -- latin1 includes the control characters
  return /^[\u0000-\u00ff]*$/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1');
}
