import { ValidationError } from './errors';

/** Cursors are opaque to clients: base64url of a small JSON value naming the last row of a page. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor<T>(cursor: string, isValid: (value: unknown) => value is T, parameter = 'cursor'): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isValid(value)) {
    throw new ValidationError([{ pointer: `/query/${parameter}`, detail: 'is not a cursor this service issued' }]);
  }
  return value;
}

/** Keyset position in a listing ordered by an instant and then an id (both compared in SQL). */
export interface TimeOrderedCursor {
  /** The instant as PostgreSQL's text, keeping the microseconds a JavaScript Date would drop. */
  at: string;
  id: string;
}

/**
 * What the service puts in cursors: PostgreSQL's timestamptz text in UTC ("2026-11-25 09:14:03.123456+00") or ISO 8601,
 * and a UUID.
 */
const ISSUED_INSTANT =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isCalendarInstant(text: string): boolean {
  const match = ISSUED_INSTANT.exec(text);
  if (!match) return false;
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day && year >= 1;
}

export function isTimeOrderedCursor(value: unknown): value is TimeOrderedCursor {
  const v = value as Record<string, unknown>;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof v.at === 'string' &&
    isCalendarInstant(v.at) &&
    typeof v.id === 'string' &&
    UUID.test(v.id)
  );
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Builds a page from rows fetched with limit + 1, so the presence of a next page costs no count. */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  cursorOf: (row: Row) => unknown,
): Page<Item> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    items: pageRows.map(toItem),
    nextCursor: hasMore && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
