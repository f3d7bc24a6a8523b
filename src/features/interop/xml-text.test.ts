import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { attributes, element, escapeAttribute, escapeText, textElement, xmlSafe } from './xml-text';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
});

describe('xmlSafe', () => {
  it('keeps tab, line feed, carriage return, BMP and astral characters', () => {
    expect(xmlSafe('a\tb\nc\rd 中文 😀 é')).toBe('a\tb\nc\rd 中文 😀 é');
  });

  it('replaces every character XML 1.0 cannot carry by U+FFFD', () => {
    for (let code = 1; code < 0x20; code++) {
      const expected = [0x09, 0x0a, 0x0d].includes(code) ? String.fromCharCode(code) : '\uFFFD';
      expect(xmlSafe(String.fromCharCode(code))).toBe(expected);
    }
    expect(xmlSafe('\uFFFE\uFFFF')).toBe('\uFFFD\uFFFD');
    expect(xmlSafe('a\uD800b')).toBe('a\uFFFDb');
    expect(xmlSafe('a\uDC00b')).toBe('a\uFFFDb');
    expect(xmlSafe('\uDC00\uD800')).toBe('\uFFFD\uFFFD');
  });
});

describe('escaping', () => {
  it('escapes markup in text and quotes and whitespace in attributes', () => {
    expect(escapeText('<a & b>')).toBe('&lt;a &amp; b&gt;');
    expect(escapeAttribute('"x"\t\n\r<&>')).toBe('&quot;x&quot;&#9;&#10;&#13;&lt;&amp;&gt;');
  });

  it('leaves out attributes without a value and writes empty elements short', () => {
    expect(attributes({ A: 'x', B: undefined, C: null, D: 0, E: false })).toBe(' A="x" D="0" E="false"');
    expect(element('E', { A: '1' })).toBe('<E A="1"/>');
    expect(element('E', {}, ['<x/>', '<y/>'])).toBe('<E><x/><y/></E>');
  });

  it('round-trips any string a parser reads back (U+FFFD for what XML cannot carry)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const doc = parser.parse(`<r>${element('e', { v: value }, textElement('t', {}, value))}</r>`);
        const expected = xmlSafe(value);
        expect(doc.r.e['@v']).toBe(expected);
        expect(String(doc.r.e.t ?? '')).toBe(expected);
      }),
      { numRuns: 100 },
    );
  });
});
