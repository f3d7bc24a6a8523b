import { decodeCursor, encodeCursor, isTimeOrderedCursor } from './pagination';

describe('isTimeOrderedCursor', () => {
  const id = '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  it.each([
    ['2026-11-25 09:14:03.123456+00'],
    ['2026-11-25 09:14:03+05:30'],
    ['2026-11-25T09:14:03.1Z'],
    ['2024-02-29 00:00:00+00'],
  ])('accepts what the service issues: %s', (at) => {
    expect(isTimeOrderedCursor({ at, id })).toBe(true);
  });

  it.each([
    [{ at: '2019-02-30 00:00:00+00', id }],
    [{ at: '2023-02-29 00:00:00+00', id }],
    [{ at: '1', id }],
    [{ at: '2026-11-25', id }],
    [{ at: '2026-11-25 24:00:00+00', id }],
    [{ at: '2026-11-25 09:14:03+00', id: '-'.repeat(36) }],
    [{ at: '2026-11-25 09:14:03+00', id: id.toUpperCase() }],
    [{ at: 5, id }],
    [null],
  ])('refuses what PostgreSQL would not cast: %j', (value) => {
    expect(isTimeOrderedCursor(value)).toBe(false);
  });

  it('round-trips through encode/decode', () => {
    const cursor = { at: '2026-11-25 09:14:03.123456+00', id };
    expect(decodeCursor(encodeCursor(cursor), isTimeOrderedCursor)).toEqual(cursor);
  });
});
