import type { ErrorObject } from 'ajv/dist/2020';
import type { FieldError } from './errors';

/** The contract's pattern for free text: PostgreSQL text cannot hold U+0000. */
export const NUL_FREE_PATTERN = '^[^\\u0000]*$';

export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Turns ajv's errors into one entry per failing field, with JSON pointers a client can follow. */
export function toFieldErrors(errors: ErrorObject[] | null | undefined, prefix = ''): FieldError[] {
  const result: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    let pointer = prefix + error.instancePath;
    let detail = error.message ?? 'is invalid';
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required') {
      pointer += '/' + escapePointerToken(String(params.missingProperty));
      detail = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      pointer += '/' + escapePointerToken(String(params.additionalProperty));
      detail = 'is not allowed here';
    } else if (error.keyword === 'unevaluatedProperties') {
      pointer += '/' + escapePointerToken(String(params.unevaluatedProperty));
      detail = 'is not allowed here';
    } else if (error.keyword === 'pattern' && params.pattern === NUL_FREE_PATTERN) {
      detail = 'must not contain the NUL character (U+0000)';
    } else if (error.keyword === 'enum') {
      detail = `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (error.keyword === 'const') {
      detail = `must be ${JSON.stringify(params.allowedValue)}`;
    } else if (error.keyword === 'discriminator') {
      pointer += '/' + escapePointerToken(String(params.tag));
      detail =
        params.tagValue === undefined ? 'is required' : `${JSON.stringify(params.tagValue)} is not a known value`;
    } else if (error.keyword === 'if' || error.keyword === 'allOf') {
      continue; // their failing subschemas are reported on their own
    }
    const key = `${pointer}\u0000${detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ pointer, detail });
  }
  return result;
}
