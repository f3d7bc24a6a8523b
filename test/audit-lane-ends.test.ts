/* The pure part of audit chain verification: what the ends of the lanes say, and which finding comes first. */
import { firstInChainOrder, laneEndFindings, TRIAL_CHAIN_LANES } from '../src/features/audit/audit-chain';

const hash = (c: string) => c.repeat(64);
type End = Parameters<typeof laneEndFindings>[0][number];
/** A lane whose last row (id, seq, hash) matches its recorded head. */
const intact = (lane: number, seq: number, id = 100 + lane): End => ({
  lane,
  id,
  chain_seq: seq,
  row_hash: hash('a'),
  recorded_seq: seq,
  recorded_hash: hash('a'),
});
/** A lane with a head and no rows yet. */
const unused = (lane: number): End => ({
  lane,
  id: null,
  chain_seq: null,
  row_hash: null,
  recorded_seq: 0,
  recorded_hash: null,
});
const allLanes = (override: Record<number, End | null> = {}): End[] =>
  Array.from({ length: TRIAL_CHAIN_LANES }, (_, lane) =>
    lane in override ? (override[lane] ?? null) : lane === 0 ? intact(0, 5) : unused(lane),
  ).filter((end): end is End => end !== null);

describe('laneEndFindings', () => {
  it('finds nothing in an empty trail or in intact lanes, used or not', () => {
    expect(laneEndFindings([], TRIAL_CHAIN_LANES)).toEqual([]);
    expect(laneEndFindings(allLanes(), TRIAL_CHAIN_LANES)).toEqual([]);
    expect(laneEndFindings(allLanes({ 3: intact(3, 2), 15: intact(15, 1) }), TRIAL_CHAIN_LANES)).toEqual([]);
    expect(laneEndFindings([intact(0, 9)], 1)).toEqual([]);
  });

  it('reports a last row whose hash is not the recorded head', () => {
    const end = { ...intact(2, 4, 77), recorded_hash: hash('b') };
    expect(laneEndFindings(allLanes({ 2: end }), TRIAL_CHAIN_LANES)).toEqual([
      { lane: 2, chain_seq: 4, id: 77, problem: 'content-altered', expected: hash('b'), stored: hash('a') },
    ]);
  });

  it('does not compare hashes when the head is further on: that is rows missing at the end', () => {
    const end = { ...intact(1, 4, 50), recorded_seq: 6, recorded_hash: hash('c') };
    expect(laneEndFindings(allLanes({ 1: end }), TRIAL_CHAIN_LANES)).toEqual([
      { lane: 1, chain_seq: 5, id: null, problem: 'missing-rows-at-end', expected: hash('c'), stored: hash('a') },
    ]);
    // Every row of a lane removed, its head kept.
    const emptied = { ...unused(4), recorded_seq: 3, recorded_hash: hash('d') };
    expect(laneEndFindings(allLanes({ 4: emptied }), TRIAL_CHAIN_LANES)).toEqual([
      { lane: 4, chain_seq: 1, id: null, problem: 'missing-rows-at-end', expected: hash('d'), stored: null },
    ]);
  });

  it('reports a missing head, with or without rows left in its lane', () => {
    expect(laneEndFindings(allLanes({ 7: null }), TRIAL_CHAIN_LANES)).toEqual([
      { lane: 7, chain_seq: 1, id: null, problem: 'lane-missing', expected: null, stored: null },
    ]);
    const headless = { ...intact(9, 3), recorded_seq: null, recorded_hash: null };
    expect(laneEndFindings(allLanes({ 9: headless }), TRIAL_CHAIN_LANES)).toEqual([
      { lane: 9, chain_seq: 4, id: null, problem: 'lane-missing', expected: null, stored: hash('a') },
    ]);
    // The system trail has one lane: lane 0's head missing is found, no other lane is expected.
    expect(laneEndFindings([{ ...intact(0, 2), recorded_seq: null, recorded_hash: null }], 1)).toMatchObject([
      { lane: 0, problem: 'lane-missing' },
    ]);
  });
});

describe('firstInChainOrder', () => {
  const at = (lane: number, chain_seq: number) => ({
    lane,
    chain_seq,
    id: null,
    problem: 'sequence-gap' as const,
    expected: null,
    stored: null,
  });
  it('orders by lane, then by position', () => {
    expect(firstInChainOrder([])).toBeNull();
    expect(firstInChainOrder([at(3, 1), at(1, 9), at(1, 2), at(2, 1)])).toEqual(at(1, 2));
    expect(firstInChainOrder([at(0, 7), at(0, 3)])).toEqual(at(0, 3));
  });
  it('keeps the first of two findings at the same place', () => {
    const first = { ...at(1, 1), problem: 'lane-missing' as const };
    expect(firstInChainOrder([first, at(1, 1)])).toBe(first);
  });
});
