import zlib from 'node:zlib';
import fc from 'fast-check';
import { deepNesting, JObj, JVal, positions, Raw, rawString, replaceAt, TreePath } from './fuzz-json';

/*
 * The hostile values of the issue, as catalogues, and the mutations that put them into a request
 * built from the contract. A mutation is generated as plain numbers (which kind, where, which
 * value) and applied deterministically, so fast-check can shrink it.
 */

export interface Labelled<T> {
  label: string;
  value: T;
}

const L = <T>(label: string, value: T): Labelled<T> => ({ label, value });

export const HUGE_NUMBERS: Labelled<JVal>[] = [
  L('1e308', 1e308),
  L('-1e308', -1e308),
  L('1e400 literal', new Raw(Buffer.from('1e400'), '1e400')),
  L('-1e400 literal', new Raw(Buffer.from('-1e400'), '-1e400')),
  L('-1', -1),
  L('-0 literal', new Raw(Buffer.from('-0'), '-0')),
  L('0', 0),
  L('2^53+1 literal', new Raw(Buffer.from('9007199254740993'), '2^53+1')),
  L('2^63 literal', new Raw(Buffer.from('9223372036854775808'), '2^63')),
  L('30-digit literal', new Raw(Buffer.from('123456789012345678901234567890'), '30 digits')),
  L('MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER),
  L('-MAX_SAFE_INTEGER', -Number.MAX_SAFE_INTEGER),
  L('2^31', 2147483648),
  L('-2^31-1', -2147483649),
  L('5e-324', 5e-324),
  L('1e-400 literal', new Raw(Buffer.from('1e-400'), '1e-400')),
  L('0.1', 0.1),
  L('1.5', 1.5),
  L('1E2 literal', new Raw(Buffer.from('1E2'), '1E2')),
  L('1.0 literal', new Raw(Buffer.from('1.0'), '1.0')),
  L('-1.7976931348623157e308', -Number.MAX_VALUE),
];

export const NAN_LIKE: Labelled<JVal>[] = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '0x1F',
  ' 42',
  '42 ',
  '4_2',
  '',
  'null',
  'undefined',
  '٤٢',
  'Ⅻ',
  '0.1e1',
  '+1',
  '-0',
  '1,5',
  '∞',
  'true',
].map((s) => L(`nan-like ${JSON.stringify(s)}`, s));

export const BAD_DATES: Labelled<JVal>[] = [
  '2019-02-30',
  '2019-02-29',
  '2020-02-29',
  '2019-13-01',
  '2019-00-10',
  '2019-04-31',
  '0000-01-01',
  '0001-01-01',
  '9999-12-31',
  '2999-01-01',
  '+002019-01-01',
  '-000001-01-01',
  '2019-1-1',
  '2019-02-30T00:00:00Z',
  '2019-01-01T00:00:00+14:00',
  '1969-12-31',
  '1900-01-01',
  '20190101',
  '2019-W01-1',
  '2019-01-01\u0000',
  ' 2019-01-01',
  '２０１９-０１-０１',
  'yesterday',
].map((s) => L(`date ${JSON.stringify(s)}`, s));

const NFD_LABEL = 'Zoe\u0308-\u212b'; // e + combining diaeresis, ANGSTROM SIGN: NFC folds both

export const NASTY_STRINGS: Labelled<JVal>[] = [
  L('NUL inside', 'a\u0000b'),
  L('NUL only', '\u0000'),
  L('lone high surrogate', '\ud800'),
  L('lone low surrogate', 'x\udfff'),
  L('reversed surrogates', '\udc00\ud800'),
  L('RLO', '\u202eABC-001'),
  L('RLO + isolates', 'abc\u202e\u2066\u2069'),
  L('zero-width space', 'SU\u200b-0001'),
  L('BOM inside', '\ufeffSU-0001'),
  L('NFD label', NFD_LABEL),
  L('NFC label', NFD_LABEL.normalize('NFC')),
  L('fullwidth (NFKC-only twin)', 'ＳＵ－０００１'),
  L('ligature', 'ﬁle'),
  L('astral', '𝔸𝔹ℂ'),
  L('ZWJ emoji', '👩‍👩‍👧'),
  L('half emoji', 'a\ud83d'),
  L('CRLF', 'a\r\nb: c'),
  L('line separator', 'a\u2028b'),
  L('whitespace only', '   '),
  L('SQL', "'; DROP TABLE trials; --"),
  L('LIKE wildcards', '%_\\'),
  L('format string', '%s%n%x'),
  L('HTML', '<script>alert(1)</script>'),
  L('path traversal', '../../etc/passwd'),
  L('10k chars', 'x'.repeat(10_000)),
  L('100k chars', 'y'.repeat(100_000)),
  L('500 astral chars', '𝔸'.repeat(500)),
  L('invalid UTF-8 0xff', rawString('a', [0xff], 'b', 'invalid UTF-8 0xff')),
  L('overlong slash', rawString('a', [0xc0, 0xaf], 'b', 'overlong UTF-8 /')),
  L('CESU surrogate', rawString('', [0xed, 0xa0, 0x80], '', 'UTF-8-encoded surrogate')),
  L('5-byte sequence', rawString('', [0xf8, 0x88, 0x80, 0x80, 0x80], '', '5-byte UTF-8')),
  L('truncated sequence', rawString('é', [0xe2, 0x82], '', 'truncated UTF-8')),
  L('raw NUL byte', rawString('a', [0x00], 'b', 'unescaped NUL in string')),
  L('raw control chars', rawString('a', [0x01, 0x1f], 'b', 'unescaped control chars')),
];

export const WRONG_TYPES: Labelled<JVal>[] = [
  L('null', null),
  L('true', true),
  L('false', false),
  L('0', 0),
  L('-1', -1),
  L('1.5', 1.5),
  L('"" ', ''),
  L('"x"', 'x'),
  L('"1"', '1'),
  L('"true"', 'true'),
  L('[]', []),
  L('[1,2]', [1, 2]),
  L('{}', new JObj([])),
  L('{"a":1}', new JObj([['a', 1]])),
  L('[null]', [null]),
  L('uuid string', '00000000-0000-0000-0000-000000000000'),
];

export const EXTRA_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'extra',
  '',
  ' ',
  'a'.repeat(300),
  '\u0000',
  '\u202eedoc',
  'ｃｏｄｅ',
  'id',
  'status',
  'trialId',
  'role',
  'version',
  '$ref',
  '__defineGetter__',
];

export const PROTO_PAYLOADS: JVal[] = [
  new JObj([
    ['role', 'admin'],
    ['polluted', true],
    ['status', 'active'],
  ]),
  new JObj([['prototype', new JObj([['polluted', true]])]]),
  null,
  'x',
  [],
  1,
];

/** One mutation, as plain numbers: `kind` picks the mutation, `at` the position, `pick` the value. */
export interface MutationChoice {
  kind: BodyMutationKind;
  at: number;
  pick: number;
}

export const BODY_MUTATIONS = [
  'wrongType',
  'dropField',
  'extraField',
  'protoKey',
  'duplicateKey',
  'hugeNumber',
  'nanLike',
  'badDate',
  'nastyString',
  'deepNesting',
  'bigArray',
  'manyKeys',
  'wholeBody',
] as const;
export type BodyMutationKind = (typeof BODY_MUTATIONS)[number];

export const mutationChoice: fc.Arbitrary<MutationChoice> = fc.record({
  kind: fc.constantFrom(...BODY_MUTATIONS),
  at: fc.nat(),
  pick: fc.nat(),
});

function pickFrom<T>(list: readonly T[], n: number): T {
  return list[n % list.length]!;
}

type Position = { path: TreePath; value: JVal };

/** Prefers positions that hold what the mutation is about (numbers for huge numbers, ...), falling back to any. */
function choose(all: Position[], at: number, prefer: (v: JVal) => boolean): Position {
  const preferred = all.filter((p) => prefer(p.value));
  return pickFrom(preferred.length ? preferred : all, at);
}

const isObject = (v: JVal) => v instanceof JObj;
const isDateLike = (v: JVal) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v);

export function applyBodyMutation(body: JVal, m: MutationChoice): { body: JVal; label: string } {
  const all = positions(body);
  switch (m.kind) {
    case 'wrongType': {
      const pos = pickFrom(all.length > 1 ? all.slice(1) : all, m.at);
      const value = pickFrom(WRONG_TYPES, m.pick);
      return {
        body: replaceAt(body, pos.path, () => value.value),
        label: `wrong type at ${pointerOf(body, pos.path)}: ${value.label}`,
      };
    }
    case 'dropField': {
      const pos = choose(all, m.at, (v) => v instanceof JObj && v.entries.length > 0);
      if (!(pos.value instanceof JObj) || pos.value.entries.length === 0)
        return { body, label: 'drop field (nothing to drop)' };
      const index = m.pick % pos.value.entries.length;
      const dropped = pos.value.entries[index]![0];
      return {
        body: replaceAt(body, pos.path, (old) => new JObj((old as JObj).entries.filter((_, i) => i !== index))),
        label: `missing field ${pointerOf(body, pos.path)}/${dropped}`,
      };
    }
    case 'extraField':
    case 'protoKey': {
      const pos = choose(all, m.at, isObject);
      const key =
        m.kind === 'protoKey'
          ? pickFrom(['__proto__', 'constructor', 'prototype'], m.pick)
          : pickFrom(EXTRA_KEYS, m.pick);
      const value =
        m.kind === 'protoKey' ? pickFrom(PROTO_PAYLOADS, m.pick >> 2) : pickFrom(WRONG_TYPES, m.pick >> 3).value;
      if (!(pos.value instanceof JObj))
        return { body: new JObj([[key, value]]), label: `body replaced by {${key}: ...}` };
      return {
        body: replaceAt(body, pos.path, (old) => new JObj([...(old as JObj).entries, [key, value]])),
        label: `extra field ${pointerOf(body, pos.path)}/${JSON.stringify(key).slice(0, 40)}`,
      };
    }
    case 'duplicateKey': {
      const pos = choose(all, m.at, (v) => v instanceof JObj && v.entries.length > 0);
      if (!(pos.value instanceof JObj) || pos.value.entries.length === 0)
        return { body, label: 'duplicate key (no object)' };
      const [key] = pos.value.entries[m.pick % pos.value.entries.length]!;
      const value = pickFrom(WRONG_TYPES, m.pick >> 3).value;
      const first = m.pick % 2 === 0;
      return {
        body: replaceAt(
          body,
          pos.path,
          (old) =>
            new JObj(first ? [[key, value], ...(old as JObj).entries] : [...(old as JObj).entries, [key, value]]),
        ),
        label: `duplicate key ${pointerOf(body, pos.path)}/${key} (${first ? 'first' : 'last'} wins a naive parser)`,
      };
    }
    case 'hugeNumber':
      return replaceWith(body, all, m, (v) => typeof v === 'number', HUGE_NUMBERS);
    case 'nanLike':
      return replaceWith(body, all, m, (v) => typeof v === 'number', NAN_LIKE);
    case 'badDate':
      return replaceWith(body, all, m, isDateLike, BAD_DATES);
    case 'nastyString':
      return replaceWith(body, all, m, (v) => typeof v === 'string', NASTY_STRINGS);
    case 'deepNesting': {
      const pos = pickFrom(all, m.at);
      const depth = pickFrom([1000, 1000, 5000, 100_000], m.pick);
      const nested = deepNesting(depth, m.pick % 2 ? 'object' : 'array');
      return {
        body: replaceAt(body, pos.path, () => nested),
        label: `${nested.label} at ${pointerOf(body, pos.path)}`,
      };
    }
    case 'bigArray': {
      const pos = choose(all, m.at, Array.isArray);
      const size = pickFrom([10_000, 50_000], m.pick);
      const element = pickFrom<JVal>([1, 'x', null, 0.5], m.pick >> 1);
      const text = '[' + Array.from({ length: size }, () => JSON.stringify(element)).join(',') + ']';
      return {
        body: replaceAt(body, pos.path, () => new Raw(Buffer.from(text), `array of ${size}`)),
        label: `array of ${size} at ${pointerOf(body, pos.path)}`,
      };
    }
    case 'manyKeys': {
      const pos = choose(all, m.at, isObject);
      const size = pickFrom([300, 5000], m.pick);
      const text = '{' + Array.from({ length: size }, (_, i) => `"k${i}":${i % 2 ? 'true' : '1'}`).join(',') + '}';
      return {
        body: replaceAt(body, pos.path, () => new Raw(Buffer.from(text), `object of ${size} keys`)),
        label: `object of ${size} keys at ${pointerOf(body, pos.path)}`,
      };
    }
    case 'wholeBody': {
      const value = pickFrom<Labelled<JVal>>(
        [...WRONG_TYPES, L('[body]', [body]), L('{"body": body}', new JObj([['body', body]]))],
        m.pick,
      );
      return { body: value.value, label: `whole body replaced by ${value.label}` };
    }
  }
}

function replaceWith(
  body: JVal,
  all: Position[],
  m: MutationChoice,
  prefer: (v: JVal) => boolean,
  catalogue: Labelled<JVal>[],
) {
  const pos = choose(all, m.at, prefer);
  const value = pickFrom(catalogue, m.pick);
  return {
    body: replaceAt(body, pos.path, () => value.value),
    label: `${value.label} at ${pointerOf(body, pos.path)}`,
  };
}

/** A readable JSON pointer for a tree path (object steps are entry indexes). */
export function pointerOf(root: JVal, path: TreePath): string {
  let node = root;
  let pointer = '';
  for (const step of path) {
    if (node instanceof JObj) {
      const [key, inner] = node.entries[step as number]!;
      pointer += '/' + key;
      node = inner;
    } else if (Array.isArray(node)) {
      pointer += '/' + step;
      node = node[step as number]!;
    }
  }
  return pointer || '(root)';
}

/*
 * Mutations of the bytes of a serialized body, and bodies that are not JSON at all.
 */

export const BYTE_MUTATIONS = [
  'truncate',
  'garbage',
  'bom',
  'utf16',
  'trailingGarbage',
  'empty',
  'tenMegabytes',
  'atLimit',
  'overLimit',
  'gzipBomb',
  'badGzip',
  'formEncoded',
] as const;
export type ByteMutationKind = (typeof BYTE_MUTATIONS)[number];

export interface ByteMutation {
  kind: ByteMutationKind;
  pick: number;
  garbage: Uint8Array;
}

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.record({
  kind: fc.constantFrom(...BYTE_MUTATIONS),
  pick: fc.nat(),
  garbage: fc.uint8Array({ minLength: 1, maxLength: 64 }),
});

export const BODY_LIMIT_BYTES = 1024 * 1024;
const TEN_MB = 10 * 1024 * 1024;
let gzipBombCache: Buffer | undefined;

/** Twenty megabytes of zeros in about twenty kilobytes: the limit must apply to the inflated body. */
function gzipBomb(): Buffer {
  gzipBombCache ??= zlib.gzipSync(
    Buffer.concat([Buffer.from('{"pad":"'), Buffer.alloc(20 * 1024 * 1024, 0x30), Buffer.from('"}')]),
  );
  return gzipBombCache;
}

/** Pads valid JSON with leading whitespace to exactly `size` bytes (still valid JSON). */
function padTo(bytes: Buffer, size: number): Buffer {
  return size > bytes.length ? Buffer.concat([Buffer.alloc(size - bytes.length, 0x20), bytes]) : bytes;
}

export interface MutatedBytes {
  bytes: Buffer;
  label: string;
  /** Headers the mutation needs (a charset, a content encoding). */
  headers?: [string, string][];
}

export function applyByteMutation(bytes: Buffer, m: ByteMutation): MutatedBytes {
  switch (m.kind) {
    case 'truncate': {
      const at = bytes.length ? m.pick % bytes.length : 0;
      return { bytes: bytes.subarray(0, at), label: `body truncated at byte ${at} of ${bytes.length}` };
    }
    case 'garbage':
      return { bytes: Buffer.from(m.garbage), label: `${m.garbage.length} random bytes` };
    case 'bom':
      return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]), label: 'UTF-8 BOM before the body' };
    case 'utf16':
      return {
        bytes: Buffer.from(bytes.toString('utf8'), 'utf16le'),
        label: 'body in UTF-16LE',
        headers: [['content-type', 'application/json; charset=utf-16le']],
      };
    case 'trailingGarbage': {
      const tail = pickFrom(['x', '\u0000', ']', '}{}', ' // comment', '\n{"a":1}'], m.pick);
      return { bytes: Buffer.concat([bytes, Buffer.from(tail)]), label: `trailing ${JSON.stringify(tail)}` };
    }
    case 'empty':
      return { bytes: Buffer.alloc(0), label: 'empty body' };
    case 'tenMegabytes':
      return m.pick % 2
        ? {
            bytes: Buffer.concat([Buffer.from('{"pad":"'), Buffer.alloc(TEN_MB, 0x61), Buffer.from('"}')]),
            label: '10 MB JSON string',
          }
        : { bytes: padTo(bytes, TEN_MB), label: '10 MB of whitespace before the body' };
    case 'atLimit':
      return { bytes: padTo(bytes, BODY_LIMIT_BYTES), label: 'body of exactly 1 MiB (the limit)' };
    case 'overLimit':
      return { bytes: padTo(bytes, BODY_LIMIT_BYTES + 1), label: 'body of 1 MiB + 1 byte' };
    case 'gzipBomb':
      return { bytes: gzipBomb(), label: 'gzip bomb (20 MB inflated)', headers: [['content-encoding', 'gzip']] };
    case 'badGzip':
      return {
        bytes,
        label: 'Content-Encoding gzip on a plain body',
        headers: [
          ['content-encoding', pickFrom(['gzip', 'deflate', 'br', 'compress', 'gzip, gzip', 'identity'], m.pick)],
        ],
      };
    case 'formEncoded':
      return {
        bytes: Buffer.from('role=admin&__proto__[x]=1'),
        label: 'form-encoded body',
        headers: [['content-type', 'application/x-www-form-urlencoded']],
      };
  }
}

/*
 * Parameters and headers.
 */

/** Path segments already percent-encoded, sent as they are. */
export const NASTY_PATH_SEGMENTS: string[] = [
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA',
  '{00000000-0000-0000-0000-000000000000}',
  '00000000000000000000000000000000',
  '%00',
  '00000000-0000-0000-0000-000000000000%00',
  '%ED%A0%80',
  '%C0%AF',
  '%FF',
  '%',
  '%zz',
  '%E2%80%AE',
  'e%CC%81',
  '..',
  '%2e%2e',
  '%2F',
  '%20',
  '-1',
  'NaN',
  '1e400',
  '__proto__',
  'constructor',
  'a'.repeat(5000),
  '%u0041',
];

export const NASTY_QUERY_VALUES: string[] = [
  '',
  '-1',
  '0',
  '501',
  '1.5',
  '1e309',
  '9007199254740993',
  'NaN',
  'Infinity',
  '0x10',
  ' 5',
  'true',
  '2019-02-30',
  '2019-13-01',
  '9999-12-31',
  '%00',
  '%ED%A0%80',
  '%FF',
  '%',
  '%E2%80%AEx',
  'a'.repeat(300),
  '__proto__',
];

/** Cursors that decode (base64url of JSON) to plausible but hostile positions, and some that do not decode. */
export const NASTY_CURSORS: string[] = [
  '{"at":"2019-02-30 00:00:00+00","id":"00000000-0000-0000-0000-000000000000"}',
  '{"at":"2019-02-30","id":"00000000-0000-0000-0000-000000000000"}',
  '{"at":"2020-01-01T00:00:00Z","id":"------------------------------------"}',
  '{"at":"2020-01-01T00:00:00Z","id":"gggggggg-gggg-gggg-gggg-gggggggggggg"}',
  '{"at":"99999-01-01","id":"00000000-0000-0000-0000-000000000000"}',
  '{"at":"2020-01-01T00:00:00Z","id":"ffffffff-ffff-ffff-ffff-ffffffffffff"}',
  '{"at":"2020-01-01T00:00:00Z","id":"0000000-0000-0000-0000-0000000000000"}',
  '{"at":"1","id":"00000000-0000-0000-0000-000000000000"}',
  '{"at":"Infinity","id":"00000000-0000-0000-0000-000000000000"}',
  '{"at":"2020-01-01T00:00:00Z\\u0000","id":"00000000-0000-0000-0000-000000000000"}',
  '{"at":"2020-01-01T00:00:00Z","id":"00000000-0000-0000-0000-000000000000","__proto__":{"at":1}}',
  '{"seq":-1}',
  '{"sequenceNumber":1e400}',
  '{"stratumKey":"\\ud800","sequenceNumber":1}',
  '[1,2]',
  'null',
  '1e308',
  '"x"',
  '{"at":"2020',
]
  .map((json) => Buffer.from(json, 'utf8').toString('base64url'))
  .concat(['not-base64!', '====', 'AAAA', '%00']);

export const AUDIT_AFTER_VALUES: string[] = [
  '-1',
  '0',
  '1',
  '9223372036854775808',
  '1e400',
  'NaN',
  '1.5',
  ' 1',
  '0x1',
  '%00',
  'abc',
];

export const IDEMPOTENCY_KEYS: string[] = [
  'fuzz-key-1',
  'fuzz-key-2',
  'k',
  '',
  ' ',
  'x'.repeat(255),
  'x'.repeat(256),
  'with space',
  'tab\there',
  '\u00e9',
  '\u00ff\u00fe',
  '%00',
  '"quoted"',
];

export const IF_MATCH_VALUES: string[] = [
  '"1"',
  '"2"',
  'W/"1"',
  '*',
  '"999999999999999999999"',
  '"-1"',
  'garbage',
  '',
  '"1", "2"',
  '"1",',
  ',,,',
  '"\u00e9"',
  '"' + 'x'.repeat(2000) + '"',
  '1',
  '"0"',
  '"NaN"',
];

export const CONTENT_TYPES: string[] = [
  'text/plain',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=utf-8',
  'application/json; charset="UTF-8"',
  'application/json; charset=nonsense',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/merge-patch+json',
  'application/problem+json',
  'text/csv',
  'APPLICATION/JSON',
  'application/json;;',
  'application/json; charset=',
  '*/*',
  'application/',
  'json',
  'text/json',
  'application/json, text/plain',
];

export const ACCEPT_VALUES: string[] = [
  'text/csv',
  'text/html',
  'image/svg+xml',
  'text/vnd.graphviz',
  'application/xml',
  '*/*',
  'text/csv;q=0',
  'text/csv;q=abc, application/json;q=0.1',
  'garbage;;;',
  'application/problem+json',
  '',
  'application/json;q=0',
];

export const REQUEST_ID_VALUES: string[] = ['../../etc', 'a'.repeat(65), 'ok-request-1', '', '<script>', '%00'];
