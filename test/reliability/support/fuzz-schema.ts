import fc from 'fast-check';
import { OpenApiDocument, resolveLocalRef } from '../../../src/http/openapi';
import { NUL_FREE_PATTERN } from '../../../src/core/field-errors';
import { JObj, JVal } from './fuzz-json';

/*
 * JSON Schema -> fast-check arbitrary, for the subset of JSON Schema 2020-12 the contract uses:
 * $ref into components, type (also as a list), enum, const, properties / required,
 * additionalProperties / unevaluatedProperties, minProperties / maxProperties, items, minItems /
 * maxItems / uniqueItems, minimum / maximum / exclusiveMinimum / exclusiveMaximum, minLength /
 * maxLength, pattern, format (date, date-time, uuid), oneOf / anyOf / allOf, discriminator (its
 * branches carry a `const` for the property, so choosing a branch is enough). The values are meant
 * to be valid: the mutations make them invalid. Sizes are kept small; huge values are mutations.
 */

export type Schema = boolean | Record<string, unknown>;

/** Offers values from the seeded world for a property, by its name (siteCode, label, ...). */
export type Hint = (propertyName: string, schema: Record<string, unknown>) => fc.Arbitrary<JVal> | undefined;

export interface SchemaContext {
  document: OpenApiDocument;
  hint?: Hint;
}

const MAX_DEPTH = 8;
const EXTRA_ITEMS = 4;

/** Follows $ref chains; other keywords next to a $ref are merged in (2020-12 allows them). */
export function deref(document: OpenApiDocument, schema: Schema): Schema {
  if (typeof schema !== 'object' || typeof schema.$ref !== 'string') return schema;
  const { $ref, ...siblings } = schema;
  const target = deref(document, resolveLocalRef<Schema>(document, { $ref }));
  if (Object.keys(siblings).length === 0) return target;
  return typeof target === 'object' ? { ...target, ...siblings } : siblings;
}

/**
 * Folds allOf members into one object schema: properties merged (a `true` schema yields to a real one), required
 * united.
 */
function flattenAllOf(document: OpenApiDocument, schema: Record<string, unknown>): Record<string, unknown> {
  const members = (schema.allOf as Schema[])
    .map((m) => deref(document, m))
    .filter((m): m is Record<string, unknown> => typeof m === 'object');
  const flattened = members.map((m) => (m.allOf ? flattenAllOf(document, m) : m));
  const properties: Record<string, Schema> = {};
  const required = new Set<string>();
  for (const part of [...flattened, schema]) {
    for (const [name, inner] of Object.entries((part.properties as Record<string, Schema> | undefined) ?? {})) {
      if (properties[name] === undefined || properties[name] === true) properties[name] = inner;
    }
    for (const name of (part.required as string[] | undefined) ?? []) required.add(name);
  }
  const { allOf: _allOf, ...rest } = schema;
  return { ...rest, type: 'object', properties, required: [...required] };
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * Dates a trial would plausibly record (2017 to last year): most pass "not in the future" and "after screening" checks.
 */
export const plausibleDate = fc
  .date({
    min: new Date('2017-01-01T00:00:00Z'),
    max: new Date(Date.UTC(new Date().getUTCFullYear() - 1, 11, 31)),
    noInvalidDate: true,
  })
  .map(isoDate);

const anyDate = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2100-12-31T00:00:00Z'), noInvalidDate: true })
  .map(isoDate);

function stringArbitrary(schema: Record<string, unknown>): fc.Arbitrary<string> {
  const minLength = (schema.minLength as number | undefined) ?? 0;
  const maxLength = Math.min((schema.maxLength as number | undefined) ?? minLength + 24, minLength + 24);
  switch (schema.format) {
    case 'date':
      return fc.oneof({ arbitrary: plausibleDate, weight: 4 }, { arbitrary: anyDate, weight: 1 });
    case 'date-time':
      return fc
        .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString());
    case 'uuid':
      return fc.uuid();
  }
  // The free-text pattern only keeps NUL out (NUL strings are one of the mutations): plain strings without it.
  if (schema.pattern === NUL_FREE_PATTERN) {
    return fc
      .oneof(
        { arbitrary: fc.string({ minLength, maxLength }), weight: 4 },
        { arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme' }), weight: 1 },
      )
      .map((s) => s.replaceAll('\u0000', ' '));
  }
  if (typeof schema.pattern === 'string') {
    const declaredMax = (schema.maxLength as number | undefined) ?? Infinity;
    try {
      const regex = new RegExp(schema.pattern);
      // Patterns such as ^[!-~]+$ have no length of their own; keep the declared bounds.
      return fc
        .stringMatching(regex, { size: 'xsmall' })
        .filter((s) => s.length >= minLength && s.length <= declaredMax);
    } catch {
      // A pattern fast-check cannot invert: plain strings of the right length, which the mutations treat alike.
      return fc.string({ minLength, maxLength });
    }
  }
  return fc.oneof(
    { arbitrary: fc.string({ minLength, maxLength }), weight: 4 },
    { arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme' }), weight: 1 },
  );
}

function numberArbitrary(schema: Record<string, unknown>, integer: boolean): fc.Arbitrary<number> {
  const exclusiveMin = schema.exclusiveMinimum as number | undefined;
  const exclusiveMax = schema.exclusiveMaximum as number | undefined;
  const declaredMin = (schema.minimum as number | undefined) ?? exclusiveMin;
  const declaredMax = (schema.maximum as number | undefined) ?? exclusiveMax;
  // Unbounded sides stay near the other bound: big values are the mutations' job, and small ones keep
  // expensive operations (Fisher's exact test) quick.
  const min = declaredMin ?? (declaredMax !== undefined ? declaredMax - 100 : -100);
  const max = declaredMax ?? min + 60;
  if (integer) {
    const lo = Math.ceil(exclusiveMin !== undefined && min === exclusiveMin ? min + 1e-9 : min);
    const hi = Math.floor(exclusiveMax !== undefined && max === exclusiveMax ? max - 1e-9 : max);
    const safeLo = Math.max(lo, Number.MIN_SAFE_INTEGER);
    return fc.integer({ min: safeLo, max: Math.max(safeLo, Math.min(hi, Number.MAX_SAFE_INTEGER)) });
  }
  const double = fc
    .double({
      min,
      max,
      noNaN: true,
      noDefaultInfinity: true,
      minExcluded: min === exclusiveMin,
      maxExcluded: max === exclusiveMax,
    })
    .map((n) => (Object.is(n, -0) ? 0 : n));
  // fast-check's integers must be safe integers (bounds such as ±1e100 make it spin): whole numbers stay within them.
  const wholeMin = Math.max(Math.ceil(min + (min === exclusiveMin ? 1e-9 : 0)), Number.MIN_SAFE_INTEGER);
  const wholeMax = Math.min(Math.floor(max - (max === exclusiveMax ? 1e-9 : 0)), Number.MAX_SAFE_INTEGER);
  return wholeMin <= wholeMax ? fc.oneof(fc.integer({ min: wholeMin, max: wholeMax }), double) : double;
}

const scalarForEmptySchema: fc.Arbitrary<JVal> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5 }),
  fc.string({ maxLength: 8 }),
);

function objectArbitrary(ctx: SchemaContext, schema: Record<string, unknown>, depth: number): fc.Arbitrary<JVal> {
  const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const names = Object.keys(properties);
  const deep = depth >= MAX_DEPTH;
  const fields = names.map((name) => {
    const valueArb = arbitraryFor(ctx, properties[name]!, depth + 1, name);
    if (required.has(name)) return valueArb.map((v) => [name, v] as [string, JVal] | null);
    if (deep) return fc.constant(null);
    return fc.option(
      valueArb.map((v) => [name, v] as [string, JVal]),
      { nil: null, freq: 2 },
    );
  });
  const additional = schema.additionalProperties;
  const extraArb: fc.Arbitrary<[string, JVal][]> =
    typeof additional === 'object' && additional !== null && !deep
      ? fc.uniqueArray(
          fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), arbitraryFor(ctx, additional as Schema, depth + 1)),
          {
            maxLength: 3,
            selector: ([key]) => key,
          },
        )
      : fc.constant([]);
  const minProperties = (schema.minProperties as number | undefined) ?? 0;
  const maxProperties = (schema.maxProperties as number | undefined) ?? Infinity;
  return fc
    .tuple(fc.tuple(...fields), extraArb)
    .map(([chosen, extra]) => {
      const entries = chosen.filter((e): e is [string, JVal] => e !== null);
      const taken = new Set(entries.map(([k]) => k));
      return new JObj([...entries, ...extra.filter(([k]) => !taken.has(k))].slice(0, maxProperties));
    })
    .filter((o) => o.entries.length >= minProperties);
}

function arrayArbitrary(ctx: SchemaContext, schema: Record<string, unknown>, depth: number): fc.Arbitrary<JVal> {
  const minLength = (schema.minItems as number | undefined) ?? 0;
  const maxLength = Math.min(
    (schema.maxItems as number | undefined) ?? minLength + EXTRA_ITEMS,
    minLength + EXTRA_ITEMS,
  );
  const items = arbitraryFor(ctx, (schema.items as Schema | undefined) ?? true, depth + 1);
  if (schema.uniqueItems) return fc.uniqueArray(items, { minLength, maxLength, selector: (v) => fc.stringify(v) });
  return fc.array(items, { minLength, maxLength });
}

/** An arbitrary of values valid against `schema` (as far as the schema alone can say). */
export function arbitraryFor(ctx: SchemaContext, input: Schema, depth = 0, propertyName?: string): fc.Arbitrary<JVal> {
  const schema = deref(ctx.document, input);
  if (schema === true) return scalarForEmptySchema;
  if (schema === false) return fc.constant(null);
  const own = buildFor(ctx, schema, depth);
  const hinted = propertyName !== undefined ? ctx.hint?.(propertyName, schema) : undefined;
  return hinted ? fc.oneof({ arbitrary: hinted, weight: 6 }, { arbitrary: own, weight: 1 }) : own;
}

function buildFor(ctx: SchemaContext, schema: Record<string, unknown>, depth: number): fc.Arbitrary<JVal> {
  if (schema.allOf) return objectArbitrary(ctx, flattenAllOf(ctx.document, schema), depth);
  if (Array.isArray(schema.oneOf) || Array.isArray(schema.anyOf)) {
    const branches = ((schema.oneOf ?? schema.anyOf) as Schema[]).map((branch) => arbitraryFor(ctx, branch, depth + 1));
    return fc.oneof(...branches);
  }
  if ('const' in schema) return fc.constant(schema.const as JVal);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as JVal[]));
  const types = Array.isArray(schema.type)
    ? (schema.type as string[])
    : typeof schema.type === 'string'
      ? [schema.type]
      : [];
  if (types.length === 0) {
    if (schema.properties || schema.additionalProperties !== undefined) types.push('object');
    else if (schema.items) types.push('array');
    else return scalarForEmptySchema;
  }
  const byType = types.map((type): fc.Arbitrary<JVal> => {
    switch (type) {
      case 'object':
        return objectArbitrary(ctx, schema, depth);
      case 'array':
        return arrayArbitrary(ctx, schema, depth);
      case 'string':
        return stringArbitrary(schema);
      case 'integer':
        return numberArbitrary(schema, true);
      case 'number':
        return numberArbitrary(schema, false);
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      default:
        throw new Error(`fuzz-schema: unsupported type ${type}`);
    }
  });
  return byType.length === 1 ? byType[0]! : fc.oneof(...byType);
}
