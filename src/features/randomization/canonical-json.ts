/**
 * Canonical JSON as in RFC 8785 (JSON Canonicalization Scheme) for the values trialdesk commits to:
 * no whitespace, object keys sorted by UTF-16 code units, strings escaped as JSON.stringify does,
 * numbers in ECMAScript's shortest round-trip form (1, 0.8, 1e-7). Identical input gives identical bytes
 * in any language that follows the RFC; scripts/verify-allocations.py carries the Python version.
 */

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`canonical JSON has no representation for ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item: JsonValue) => canonicalJson(item)).join(',')}]`;
  const object = value as { readonly [key: string]: JsonValue };
  const members = Object.keys(object)
    .sort()
    .map((key) => {
      const member = object[key];
      if (member === undefined) throw new TypeError(`canonical JSON has no representation for undefined (${key})`);
      return `${JSON.stringify(key)}:${canonicalJson(member)}`;
    });
  return `{${members.join(',')}}`;
}
