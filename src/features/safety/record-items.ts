import { createHash } from 'node:crypto';

/**
 * Items inside a recorded document (a participant, a consent, an assessment…) addressed by JSON pointers
 * (RFC 6901), and the fingerprint of an item's value that source-data verification keeps.
 */

/** The reference tokens of a pointer; "" is the whole document. Assumes the syntax the contract checks. */
export function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value the pointer names in the document, or `{ found: false }` when it names nothing. */
export function resolvePointer(document: unknown, pointer: string): { found: true; value: unknown } | { found: false } {
  let value = document;
  for (const token of pointerTokens(pointer)) {
    if (Array.isArray(value)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token) || Number(token) >= value.length) return { found: false };
      value = value[Number(token)];
    } else if (value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, token)) {
      value = (value as Record<string, unknown>)[token];
    } else {
      return { found: false };
    }
  }
  return { found: true, value };
}

/** JSON with object keys sorted at every depth, so that equal values have equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** SHA-256 (hex) of the canonical JSON of a value: what a verification remembers of the value it verified. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** True when `ancestor` names the item `pointer` names or an item containing it ("" contains everything). */
export function pointerCovers(ancestor: string, pointer: string): boolean {
  return ancestor === pointer || pointer.startsWith(`${ancestor}/`);
}
