import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocationCommitment, type RandomizationConfig } from './commitment';
import { minimizationAllocation } from './minimization';
import { permutedBlockSequence, permutedBlockSlot } from './permuted-blocks';
import { runPython, VERIFIER_SCRIPT, type ProcessResult } from '../../../test/support/randomization-cases';
import { simpleAllocation } from './simple-randomization';
import { stratumKey } from './stratum-key';

/**
 * End to end with the statistician's tool: export allocations the way the service will, run
 * scripts/verify-allocations.py on them, and expect it to accept them — and to catch tampering.
 */

const SEED_HEX = 'c0ffee'.padEnd(64, '5a');
const SEED = Buffer.from(SEED_HEX, 'hex');
const CSV_COLUMNS = [
  'sequenceNumber',
  'stratum',
  'blockNumber',
  'blockSize',
  'positionInBlock',
  'arm',
  'participantId',
  'randomizedAt',
  'errorFlag',
] as const;

type CsvRow = Record<string, string | number>;

interface Export {
  trial: RandomizationConfig & Record<string, unknown>;
  rows: CsvRow[];
  extraColumns?: string[];
}

function csvField(value: string | number | undefined): string {
  const text = String(value ?? '');
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function verify(exported: Export, extraArgs: string[] = []): ProcessResult {
  const directory = mkdtempSync(join(tmpdir(), 'trialdesk-verify-'));
  try {
    const columns = [...CSV_COLUMNS, ...(exported.extraColumns ?? [])];
    const lines = [
      columns.join(','),
      ...exported.rows.map((row) => columns.map((column) => csvField(row[column])).join(',')),
    ];
    writeFileSync(join(directory, 'trial.json'), JSON.stringify(exported.trial, null, 2));
    writeFileSync(join(directory, 'allocations.csv'), `${lines.join('\r\n')}\r\n`);
    return runPython([
      VERIFIER_SCRIPT,
      '--seed',
      SEED_HEX,
      '--config',
      join(directory, 'trial.json'),
      '--allocations',
      join(directory, 'allocations.csv'),
      ...extraArgs,
    ]);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function participantColumns(sequence: number): CsvRow {
  return {
    participantId: `P-${String(sequence).padStart(4, '0')}`,
    randomizedAt: new Date(Date.UTC(2026, 0, 5) + sequence * 3_600_000).toISOString(),
    errorFlag: 'false',
  };
}

function permutedBlockExport(): Export {
  const trial = {
    id: '2b1c6f4e-0000-4000-8000-000000000001',
    title: 'SMCM for people leaving prison',
    arms: [
      { code: 'SMCM', name: 'Strengths-based case management', ratio: 2 },
      { code: 'TAU', name: 'Treatment as usual', ratio: 1 },
    ],
    randomization: { method: 'permuted_block' as const, blockSizes: [3, 6, 9], stratifyBy: ['site', 'risk'] },
  };
  const strata = [
    { site: 'LDN', risk: 'high', participants: 40 },
    { site: 'LDN', risk: 'low', participants: 23 },
    { site: 'MAN', risk: 'a|b=c%', participants: 17 },
  ];
  const rows = strata.flatMap(({ participants, ...levels }) => {
    const key = stratumKey(trial.randomization.stratifyBy, levels);
    const design = { arms: trial.arms, blockSizes: trial.randomization.blockSizes };
    return permutedBlockSequence(SEED, design, key, participants).map((slot) => ({
      sequenceNumber: slot.sequenceNumber,
      stratum: key,
      blockNumber: slot.blockNumber,
      blockSize: slot.blockSize,
      positionInBlock: slot.positionInBlock,
      arm: slot.arm,
      ...participantColumns(slot.sequenceNumber),
    }));
  });
  return { trial, rows };
}

function flipArm(exported: Export, index: number): { exported: Export; row: CsvRow } {
  const rows = exported.rows.map((row) => ({ ...row }));
  const row = rows[index]!;
  const recordedArm = row.arm!;
  row.arm = exported.trial.arms.find((arm) => arm.code !== recordedArm)!.code;
  return { exported: { ...exported, rows }, row: { ...row, expected: recordedArm } };
}

describe('scripts/verify-allocations.py', () => {
  it('accepts a permuted-block export with its commitment, and reports what it checked', () => {
    const exported = permutedBlockExport();
    const result = verify(exported, ['--commitment', allocationCommitment(SEED_HEX, exported.trial)]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('rows checked: 80\nstrata: 3\nmismatches: 0\ncommitment: matches\n');
    expect(result.stdout).toContain('result: OK');
    expect(result.status).toBe(0);
  });

  it('reports a flipped arm and exits 1', () => {
    const { exported, row } = flipArm(permutedBlockExport(), 45);
    const result = verify(exported);
    expect(result.stdout).toContain(
      `mismatch: stratum ${JSON.stringify(row.stratum)} sequence ${row.sequenceNumber}: arm is ${row.arm}, expected ${row.expected}`,
    );
    expect(result.stdout).toContain('mismatches: 1\n');
    expect(result.status).toBe(1);
  });

  it('reports a wrong commitment and exits 1', () => {
    const exported = permutedBlockExport();
    const published = allocationCommitment(SEED_HEX, {
      ...exported.trial,
      randomization: { method: 'permuted_block', blockSizes: [3, 6] },
    });
    const result = verify(exported, ['--commitment', published]);
    expect(result.stdout).toContain('commitment: DOES NOT MATCH');
    expect(result.status).toBe(1);
  });

  it('reports a wrong block position and a missing allocation', () => {
    const exported = permutedBlockExport();
    const shifted = exported.rows.map((row, index) => (index === 3 ? { ...row, positionInBlock: 9 } : row));
    expect(verify({ ...exported, rows: shifted }).stdout).toMatch(/sequence 4: positionInBlock is 9, expected \d/);
    const gap = verify({ ...exported, rows: exported.rows.filter((_, index) => index !== 10) });
    expect(gap.stdout).toContain('sequence numbers run 1, 2, 3');
    expect(gap.status).toBe(1);
  });

  it('verifies simple randomization, and catches a flipped arm', () => {
    const trial = {
      arms: [
        { code: 'A', name: 'A', ratio: 1 },
        { code: 'B', name: 'B', ratio: 1 },
        { code: 'C', name: 'C', ratio: 1 },
      ],
      randomization: { method: 'simple' as const, stratifyBy: ['site'] },
    };
    const rows = ['LDN', 'MAN'].flatMap((site) => {
      const key = stratumKey(['site'], { site });
      return Array.from({ length: 30 }, (_, index) => ({
        sequenceNumber: index + 1,
        stratum: key,
        arm: simpleAllocation(SEED, trial.arms, key, index + 1),
        ...participantColumns(index + 1),
      }));
    });
    const exported = { trial, rows };
    const accepted = verify(exported);
    expect(accepted.stdout).toContain('rows checked: 60\nstrata: 2\nmismatches: 0');
    expect(accepted.status).toBe(0);
    expect(verify(flipArm(exported, 7).exported).status).toBe(1);
  });

  it('replays minimization from factor columns, catches a flipped arm, and refuses an export without them', () => {
    const trial = {
      arms: [
        { code: 'SMCM', name: 'SMCM', ratio: 1 },
        { code: 'TAU', name: 'TAU', ratio: 1 },
      ],
      randomization: {
        method: 'minimization' as const,
        factors: ['site', 'sex'],
        p: 0.75,
        imbalance: 'variance' as const,
      },
    };
    const counts: Record<string, Record<string, Record<string, number>>> = {};
    const rows = Array.from({ length: 60 }, (_, index) => {
      const participantLevels = { site: ['LDN', 'MAN', 'BRS'][index % 3]!, sex: index % 7 < 3 ? 'F' : 'M' };
      const { arm } = minimizationAllocation(
        SEED,
        {
          arms: trial.arms,
          factors: trial.randomization.factors,
          counts,
          participantLevels,
          imbalance: 'variance',
          p: 0.75,
        },
        index + 1,
      );
      for (const [factor, level] of Object.entries(participantLevels)) {
        const byArm = ((counts[factor] ??= {})[level] ??= {});
        byArm[arm] = (byArm[arm] ?? 0) + 1;
      }
      return { sequenceNumber: index + 1, stratum: '', arm, ...participantLevels, ...participantColumns(index + 1) };
    });
    const exported = { trial, rows, extraColumns: ['site', 'sex'] };
    const accepted = verify(exported, ['--commitment', allocationCommitment(SEED_HEX, trial)]);
    expect(accepted.stdout).toContain('rows checked: 60\nstrata: 1\nmismatches: 0\ncommitment: matches');
    expect(accepted.status).toBe(0);
    const flipped = verify(flipArm(exported, 0).exported);
    expect(flipped.stdout).toContain('mismatch: sequence 1: arm is');
    expect(flipped.status).toBe(1);
    const withoutLevels = verify({ ...exported, extraColumns: [] });
    expect(withoutLevels.stderr).toContain('add the column(s) site, sex');
    expect(withoutLevels.status).toBe(2);
  });

  it('counts imported rows without recomputing them; the blocks of the seed start after the highest imported number', () => {
    const trial = {
      arms: [
        { code: 'A', name: 'A', ratio: 1 },
        { code: 'B', name: 'B', ratio: 1 },
      ],
      randomization: { method: 'permuted_block' as const, blockSizes: [2, 4], stratifyBy: ['site'] },
    };
    const key = stratumKey(['site'], { site: 'LDN' });
    const design = { arms: trial.arms, blockSizes: trial.randomization.blockSizes };
    // Imported 1, 2 and 4 (slot 3 burnt by the previous system): block 0 spans 1..4, as the service stores it.
    const imported = [1, 2, 4].map((n) => ({ sequenceNumber: n, stratum: key, arm: 'A', importId: 'imp-1' }));
    let block = { blockNumber: 0, blockSize: 4, blockStartSequence: 1 };
    const seeded = [5, 6, 7, 8, 9].map((n) => {
      const slot = permutedBlockSlot(SEED, design, key, block, n);
      block = { blockNumber: slot.blockNumber, blockSize: slot.blockSize, blockStartSequence: slot.blockStartSequence };
      return {
        sequenceNumber: n,
        stratum: key,
        blockNumber: slot.blockNumber,
        blockSize: slot.blockSize,
        positionInBlock: slot.positionInBlock,
        arm: slot.arm,
        ...participantColumns(n),
      };
    });
    const exported = { trial, rows: [...imported, ...seeded], extraColumns: ['importId'] };
    const accepted = verify(exported);
    expect(accepted.stdout).toContain('rows checked: 5\nimported rows (not recomputed from the seed): 3');
    expect(accepted.status).toBe(0);
    expect(verify(flipArm(exported, 3).exported).status).toBe(1);
    // The same rows without the import marks are the seed's sequence from 1, which they are not.
    expect(verify({ ...exported, extraColumns: [] }).status).toBe(1);
    const repeated = verify({ ...exported, rows: [...imported, { ...imported[0]! }, ...seeded] });
    expect(repeated.stdout).toContain('imported sequence numbers repeat: 1, 1, 2, 4');
    const gapAfterImports = verify({ ...exported, rows: [...imported, ...seeded.slice(1)] });
    expect(gapAfterImports.stdout).toContain('expected 5..8 without gaps or repeats');
  });

  it('explains that list allocations cannot be regenerated from a seed', () => {
    const trial = {
      arms: [
        { code: 'A', name: 'A', ratio: 1 },
        { code: 'B', name: 'B', ratio: 1 },
      ],
      randomization: { method: 'list' as const },
    };
    const result = verify({ trial, rows: [{ sequenceNumber: 1, stratum: '', arm: 'A' }] });
    expect(result.stderr).toContain('the list method allocates from the uploaded table');
    expect(result.status).toBe(2);
  });
});
