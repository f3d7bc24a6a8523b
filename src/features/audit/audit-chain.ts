/*
 * The pure part of audit chain verification (the database recomputes each row's hash and link: audit.repo.ts's
 * walkAuditChain): what the ends of the lanes say, and which finding comes first. docs/security.md, "Lanes".
 */

export type ChainProblem =
  'content-altered' | 'previous-hash-mismatch' | 'sequence-gap' | 'missing-rows-at-end' | 'lane-missing';

export interface ChainFinding {
  lane: number;
  chain_seq: number;
  id: number | null;
  problem: ChainProblem;
  /** Hashes as hex. */
  expected: string | null;
  stored: string | null;
}

/** What the walk's query answers for one lane: its last row and its recorded head, either of which may be absent. */
export interface LaneEnd {
  lane: number;
  id: number | null;
  chain_seq: number | null;
  row_hash: string | null;
  recorded_seq: number | null;
  recorded_hash: string | null;
}

/** Lanes of a trial's chain: each trial has this many heads from its first audit row (migration 20261203010000). */
export const TRIAL_CHAIN_LANES = 32;

/**
 * What verification finds at the ends of the lanes: a last row whose hash differs from its recorded head, rows
 * missing after the last one, and a lane whose head is missing (every trial that has a trail has all its lanes'
 * heads; the system trail has one).
 */
export function laneEndFindings(ends: LaneEnd[], lanes: number): ChainFinding[] {
  const findings: ChainFinding[] = [];
  const byLane = new Map(ends.map((end) => [end.lane, end]));
  if (ends.length > 0)
    for (let lane = 0; lane < lanes; lane++) {
      const end = byLane.get(lane);
      if (end === undefined || end.recorded_seq === null)
        findings.push({
          lane,
          chain_seq: (end?.chain_seq ?? 0) + 1,
          id: null,
          problem: 'lane-missing',
          expected: null,
          stored: end?.row_hash ?? null,
        });
    }
  for (const end of ends) {
    const lastSeq = end.chain_seq ?? 0;
    if (end.id !== null && end.recorded_seq === lastSeq && end.recorded_hash !== end.row_hash)
      findings.push({
        lane: end.lane,
        chain_seq: lastSeq,
        id: end.id,
        problem: 'content-altered',
        expected: end.recorded_hash,
        stored: end.row_hash,
      });
    if ((end.recorded_seq ?? 0) > lastSeq)
      findings.push({
        lane: end.lane,
        chain_seq: lastSeq + 1,
        id: null,
        problem: 'missing-rows-at-end',
        expected: end.recorded_hash,
        stored: end.row_hash,
      });
  }
  return findings;
}

/** The first finding in chain order: by lane, then by position in the lane. */
export function firstInChainOrder(findings: ChainFinding[]): ChainFinding | null {
  return findings.reduce<ChainFinding | null>(
    (first, f) =>
      first === null || f.lane < first.lane || (f.lane === first.lane && f.chain_seq < first.chain_seq) ? f : first,
    null,
  );
}
