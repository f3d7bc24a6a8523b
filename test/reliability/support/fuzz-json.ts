import fc from 'fast-check';

/*
 * The fuzzer's own JSON tree. Plain JSON.stringify cannot write what the fuzzer needs to send:
 * duplicate keys, `__proto__` as an ordinary key, number literals JavaScript cannot hold (1e400,
 * -0, 2^53 + 1), invalid UTF-8 inside a string, or a reference to a row of the seeded world that is
 * only known when the case runs. Generated values stay plain data, so fast-check can print and
 * shrink them.
 */

/** An object as an ordered list of entries: keys may repeat and may be `__proto__`. */
export class JObj {
  constructor(readonly entries: [string, JVal][]) {}
  [fc.toStringMethod](): string {
    return `{${this.entries.map(([k, v]) => `${JSON.stringify(k)}: ${fc.stringify(v)}`).join(', ')}}`;
  }
}

/** Bytes written verbatim where a JSON value goes (an over-long number, invalid UTF-8, deep nesting). */
export class Raw {
  constructor(
    readonly bytes: Buffer,
    readonly label: string,
  ) {}
  [fc.toStringMethod](): string {
    return `Raw(${this.label}, ${this.bytes.length} bytes)`;
  }
}

export type PoolName =
  | 'trialId'
  /** Active trials with the SMCM configuration, which the hints for screening and consent fit. */
  | 'activeTrialId'
  | 'participantId'
  | 'consentId'
  | 'eventId'
  | 'incentiveId'
  | 'keyId'
  | 'siteCode'
  | 'label'
  | 'armCode'
  | 'formCode'
  | 'formVersion'
  | 'incentiveCode'
  | 'reference'
  /** Sub-studies of a trial, their invitations and interviews (issue #16). */
  | 'substudyCode'
  | 'invitationId'
  | 'interviewId';

/**
 * A value taken from the seeded world when the case runs: pool[index % pool.length]. Unless
 * `anywhere`, it is taken among the rows related to the request's other ids (the participants of its
 * trial, the consents of its participant), so a generated path names rows that belong together.
 */
export class Ref {
  constructor(
    readonly pool: PoolName,
    readonly index: number,
    readonly anywhere = false,
  ) {}
  [fc.toStringMethod](): string {
    return `Ref(${this.pool}#${this.index}${this.anywhere ? ', anywhere' : ''})`;
  }
}

export type JVal = null | boolean | number | string | JVal[] | JObj | Raw | Ref;

export type Resolver = (ref: Ref) => string;

/** Serializes a tree to the bytes sent on the wire. */
export function serialize(value: JVal, resolve: Resolver): Buffer {
  const chunks: Buffer[] = [];
  let pending = '';
  const flush = () => {
    if (pending) chunks.push(Buffer.from(pending, 'utf8'));
    pending = '';
  };
  const walk = (v: JVal): void => {
    if (v instanceof Raw) {
      flush();
      chunks.push(v.bytes);
    } else if (v instanceof Ref) {
      pending += JSON.stringify(resolve(v));
    } else if (v instanceof JObj) {
      pending += '{';
      v.entries.forEach(([key, inner], i) => {
        if (i) pending += ',';
        pending += JSON.stringify(key) + ':';
        walk(inner);
      });
      pending += '}';
    } else if (Array.isArray(v)) {
      pending += '[';
      v.forEach((inner, i) => {
        if (i) pending += ',';
        walk(inner);
      });
      pending += ']';
    } else if (typeof v === 'number') {
      // JSON has no NaN or Infinity; a generator that produced one means "a number literal too big".
      pending += Number.isFinite(v) ? (Object.is(v, -0) ? '-0' : String(v)) : v > 0 ? '1e400' : '-1e400';
    } else {
      pending += JSON.stringify(v);
    }
  };
  walk(value);
  flush();
  return Buffer.concat(chunks);
}

/** Where a value sits in a tree: object keys and array indexes from the root. */
export type TreePath = (string | number)[];

/** Every position in the tree, the root included (an empty path). */
export function positions(value: JVal, prefix: TreePath = []): { path: TreePath; value: JVal }[] {
  const found: { path: TreePath; value: JVal }[] = [{ path: prefix, value }];
  if (value instanceof JObj) value.entries.forEach(([, inner], i) => found.push(...positions(inner, [...prefix, i])));
  else if (Array.isArray(value)) value.forEach((inner, i) => found.push(...positions(inner, [...prefix, i])));
  return found;
}

/** A copy of the tree with the value at `path` replaced (object steps are entry indexes). */
export function replaceAt(root: JVal, path: TreePath, replace: (old: JVal) => JVal): JVal {
  if (path.length === 0) return replace(root);
  const [step, ...rest] = path as [number, ...TreePath];
  if (root instanceof JObj) {
    return new JObj(root.entries.map(([k, v], i) => (i === step ? [k, replaceAt(v, rest, replace)] : [k, v])));
  }
  if (Array.isArray(root)) return root.map((v, i) => (i === step ? replaceAt(v, rest, replace) : v));
  return root;
}

/** Builds nesting of the given depth as raw bytes (no recursion, so any depth can be sent). */
export function deepNesting(depth: number, kind: 'array' | 'object'): Raw {
  const open = kind === 'array' ? '[' : '{"a":';
  const close = kind === 'array' ? ']' : '}';
  return new Raw(Buffer.from(open.repeat(depth) + '1' + close.repeat(depth), 'utf8'), `${kind} nested ${depth} deep`);
}

/** A JSON string literal whose content holds raw bytes that may not be valid UTF-8. */
export function rawString(before: string, bytes: number[], after: string, label: string): Raw {
  const head = JSON.stringify(before).slice(0, -1);
  const tail = JSON.stringify(after).slice(1);
  return new Raw(Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from(bytes), Buffer.from(tail, 'utf8')]), label);
}
