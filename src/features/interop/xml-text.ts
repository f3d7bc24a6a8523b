/*
 * XML 1.0 text and attribute escaping. XML 1.0 cannot carry most C0 control characters at all (not even as
 * character references: `&#1;` is a well-formedness error), nor U+FFFE, U+FFFF or unpaired surrogates. Such
 * characters are replaced by U+FFFD, the Unicode replacement character, so that every document we write
 * parses; docs/interoperability.md says so. Tab, line feed and carriage return are kept, and escaped in
 * attributes so that attribute-value normalization does not turn them into spaces.
 */

/** Whether XML 1.0 can carry the UTF-16 code unit at `i` of `text` (a surrogate only as half of a pair). */
function representable(text: string, i: number): boolean {
  const unit = text.charCodeAt(i);
  if (unit < 0x20) return unit === 0x09 || unit === 0x0a || unit === 0x0d;
  if (unit === 0xfffe || unit === 0xffff) return false;
  if (unit >= 0xd800 && unit <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    return next >= 0xdc00 && next <= 0xdfff;
  }
  if (unit >= 0xdc00 && unit <= 0xdfff) {
    const previous = i > 0 ? text.charCodeAt(i - 1) : 0;
    return previous >= 0xd800 && previous <= 0xdbff;
  }
  return true;
}

/** The text with every character XML 1.0 cannot represent replaced by U+FFFD. */
export function xmlSafe(text: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (representable(text, i)) continue;
    out += text.slice(start, i) + '\uFFFD';
    start = i + 1;
  }
  return start === 0 ? text : out + text.slice(start);
}

/** Escapes character data (element content). */
export function escapeText(text: string): string {
  return xmlSafe(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** Escapes an attribute value written between double quotes. */
export function escapeAttribute(text: string): string {
  return xmlSafe(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

export type Attributes = Record<string, string | number | boolean | null | undefined>;

/** ` name="value"` for each attribute that has a value, in the order given. */
export function attributes(attrs: Attributes): string {
  let out = '';
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    out += ` ${name}="${escapeAttribute(String(value))}"`;
  }
  return out;
}

/** An element with attributes and already-serialized children (empty-element tag when there are none). */
export function element(name: string, attrs: Attributes, children: string | string[] = ''): string {
  const inner = Array.isArray(children) ? children.join('') : children;
  return inner === '' ? `<${name}${attributes(attrs)}/>` : `<${name}${attributes(attrs)}>${inner}</${name}>`;
}

/** An element holding text only. */
export function textElement(name: string, attrs: Attributes, text: string): string {
  return `<${name}${attributes(attrs)}>${escapeText(text)}</${name}>`;
}
