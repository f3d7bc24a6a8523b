import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocationCommitment } from './commitment';
import { maskedArmLabels } from './masked-arms';
import { minimizationAllocation } from './minimization';
import { generateBlock } from './permuted-blocks';
import { acceptUniformInt, drawDigest, drawMessage, hmacDraws, leadingUint64, parseSeed } from './random-stream';
import { REPOSITORY_ROOT, runPython, VERIFIER_SCRIPT } from '../../../test/support/randomization-cases';
import { simpleAllocation } from './simple-randomization';

/**
 * Known-answer vectors for the seed 00 01 02 ... 1f. They are asserted three ways: against this TypeScript
 * implementation, against scripts/verify-allocations.py (written separately from the specification), and
 * against the copy published in docs/randomization.md. The first digest can also be checked with
 * `openssl dgst -sha256 -mac HMAC -macopt hexkey:<seed>` over the message bytes.
 */
const KNOWN_ANSWERS = {
  seed: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  firstDraw: {
    address: { stratumKey: '', blockNumber: 1, drawIndex: 0, rejectionCounter: 0 },
    message:
      '000000000000001a747269616c6465736b2f72616e646f6d697a6174696f6e2f7631' +
      '0000000000000000' +
      '0000000000000001' +
      '0000000000000000' +
      '0000000000000000',
    digest: '7f37d7c32315cde5f49484901d7df9115194c85fed98231de2a813e8d1619a5b',
    uniformIntBelow6: 5,
    uniformReal: 0.4969458438309494,
  },
  rejection: {
    comment: 'at stratum "", block 1: the first draw index whose counter-0 word is rejected for n = 3 * 2^51',
    n: 6755399441055744,
    drawIndex: 1491,
    uniformInt: 5445106601888669,
  },
  permutedBlocks: {
    arms: [
      { code: 'SMCM', ratio: 1 },
      { code: 'TAU', ratio: 1 },
    ],
    blockSizes: [4, 6],
    stratum: '',
    blocks: [
      { blockSize: 6, arms: ['TAU', 'TAU', 'SMCM', 'SMCM', 'TAU', 'SMCM'] },
      { blockSize: 6, arms: ['TAU', 'TAU', 'SMCM', 'SMCM', 'SMCM', 'TAU'] },
      { blockSize: 4, arms: ['SMCM', 'SMCM', 'TAU', 'TAU'] },
    ],
    commitment: 'e0de608bf55d580d87d18bb9ef96f0f3052439e8b2bcc3b2b04ef2a9cdba0e61',
    maskedLabels: [
      { code: 'SMCM', label: 'Group 1' },
      { code: 'TAU', label: 'Group 2' },
    ],
  },
  unequalPermutedBlocks: {
    arms: [
      { code: 'SMCM', ratio: 2 },
      { code: 'TAU', ratio: 1 },
    ],
    blockSizes: [3, 6],
    stratum: 'site=LDN|sex=F',
    blocks: [
      { blockSize: 6, arms: ['SMCM', 'TAU', 'SMCM', 'SMCM', 'TAU', 'SMCM'] },
      { blockSize: 6, arms: ['TAU', 'SMCM', 'SMCM', 'SMCM', 'SMCM', 'TAU'] },
      { blockSize: 3, arms: ['TAU', 'SMCM', 'SMCM'] },
    ],
  },
  simple: {
    arms: [
      { code: 'A', ratio: 1 },
      { code: 'B', ratio: 1 },
      { code: 'C', ratio: 1 },
    ],
    stratum: 'site=LDN',
    sequenceNumbers1to12: ['C', 'C', 'B', 'C', 'A', 'C', 'C', 'B', 'B', 'B', 'C', 'C'],
  },
  minimization: {
    arms: [
      { code: 'SMCM', ratio: 1 },
      { code: 'TAU', ratio: 1 },
    ],
    factors: ['sex', 'site'],
    p: 0.8,
    imbalance: 'range',
    participants: [
      { sex: 'F', site: 'X' },
      { sex: 'M', site: 'Y' },
      { sex: 'F', site: 'Y' },
      { sex: 'F', site: 'X' },
      { sex: 'M', site: 'X' },
      { sex: 'M', site: 'Y' },
      { sex: 'F', site: 'Y' },
      { sex: 'M', site: 'X' },
    ],
    arms1to8: ['TAU', 'TAU', 'SMCM', 'SMCM', 'SMCM', 'TAU', 'TAU', 'SMCM'],
  },
} as const;

type Vectors = typeof KNOWN_ANSWERS;

function computeInTypeScript(): unknown {
  const seed = parseSeed(KNOWN_ANSWERS.seed);
  const { firstDraw, rejection, permutedBlocks, unequalPermutedBlocks, simple, minimization } = KNOWN_ANSWERS;
  const firstDrawDraws = hmacDraws(seed, firstDraw.address.stratumKey, firstDraw.address.blockNumber);
  const counts: Record<string, Record<string, Record<string, number>>> = {};
  const minimizationArms = minimization.participants.map((participantLevels, index) => {
    const { arm } = minimizationAllocation(seed, { ...minimization, counts, participantLevels }, index + 1);
    for (const [factor, level] of Object.entries(participantLevels)) {
      const byArm = ((counts[factor] ??= {})[level] ??= {});
      byArm[arm] = (byArm[arm] ?? 0) + 1;
    }
    return arm;
  });
  return {
    ...KNOWN_ANSWERS,
    firstDraw: {
      ...firstDraw,
      message: drawMessage(firstDraw.address).toString('hex'),
      digest: drawDigest(seed, firstDraw.address).toString('hex'),
      uniformIntBelow6: firstDrawDraws.uniformInt(0, 6),
      uniformReal: firstDrawDraws.uniformReal(0),
    },
    rejection: {
      ...rejection,
      drawIndex: firstRejectingDrawIndex(seed, rejection.n),
      uniformInt: hmacDraws(seed, '', 1).uniformInt(rejection.drawIndex, rejection.n),
    },
    permutedBlocks: {
      ...permutedBlocks,
      blocks: [1, 2, 3].map((blockNumber) => generateBlock(seed, permutedBlocks, permutedBlocks.stratum, blockNumber)),
      commitment: allocationCommitment(KNOWN_ANSWERS.seed, {
        arms: permutedBlocks.arms,
        randomization: { method: 'permuted_block', blockSizes: [...permutedBlocks.blockSizes] },
      }),
      maskedLabels: maskedArmLabels(seed, permutedBlocks.arms),
    },
    unequalPermutedBlocks: {
      ...unequalPermutedBlocks,
      blocks: [1, 2, 3].map((blockNumber) =>
        generateBlock(seed, unequalPermutedBlocks, unequalPermutedBlocks.stratum, blockNumber),
      ),
    },
    simple: {
      ...simple,
      sequenceNumbers1to12: Array.from({ length: 12 }, (_, index) =>
        simpleAllocation(seed, simple.arms, simple.stratum, index + 1),
      ),
    },
    minimization: { ...minimization, arms1to8: minimizationArms },
  };
}

/** Searches the first 40,000 draws (a rejection is expected about once in 4,096); -1 when none rejects. */
function firstRejectingDrawIndex(seed: Buffer, n: number): number {
  for (let drawIndex = 0; drawIndex < 40_000; drawIndex += 1) {
    const word = leadingUint64(drawDigest(seed, { stratumKey: '', blockNumber: 1, drawIndex, rejectionCounter: 0 }));
    if (acceptUniformInt(word, n) === undefined) return drawIndex;
  }
  return -1;
}

/** The same vectors from the Python verifier's own functions, given only the inputs. */
const PYTHON_VECTORS = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("verifier", sys.argv[1])
v = importlib.util.module_from_spec(spec)
spec.loader.exec_module(v)
known = json.loads(sys.stdin.read())
seed = v.parse_seed(known["seed"])
first = known["firstDraw"]
a = first["address"]
first["message"] = v.draw_message(a["stratumKey"], a["blockNumber"], a["drawIndex"], a["rejectionCounter"]).hex()
import hmac, hashlib
first["digest"] = hmac.new(seed, bytes.fromhex(first["message"]), hashlib.sha256).hexdigest()
first["uniformIntBelow6"] = v.uniform_int(seed, "", 1, 0, 6)
first["uniformReal"] = v.uniform_real(seed, "", 1, 0)
rejection = known["rejection"]
n = rejection["n"]
rejection["drawIndex"] = next((d for d in range(40000) if v.accept_uniform_int(v.draw_word(seed, "", 1, d, 0), n) is None), -1)
rejection["uniformInt"] = v.uniform_int(seed, "", 1, rejection["drawIndex"], n)
for name in ("permutedBlocks", "unequalPermutedBlocks"):
    design = known[name]
    design["blocks"] = []
    for number in (1, 2, 3):
        size, arms = v.generate_block(seed, design["arms"], design["blockSizes"], design["stratum"], number)
        design["blocks"].append({"blockSize": size, "arms": arms})
blocks = known["permutedBlocks"]
config = {"arms": blocks["arms"], "randomization": {"method": "permuted_block", "blockSizes": blocks["blockSizes"]}}
blocks["commitment"] = v.allocation_commitment(known["seed"], config)
blocks["maskedLabels"] = [{"code": code, "label": label} for label, code in v.masked_arm_labels(seed, blocks["arms"])]
simple = known["simple"]
simple["sequenceNumbers1to12"] = [v.simple_allocation(seed, simple["arms"], simple["stratum"], k) for k in range(1, 13)]
m = known["minimization"]
counts, arms = {}, []
for k, levels in enumerate(m["participants"], start=1):
    arm = v.minimization_allocation(seed, m["arms"], m["factors"], counts, levels, m["imbalance"], m["p"], k)
    arms.append(arm)
    for factor in m["factors"]:
        by_arm = counts.setdefault(factor, {}).setdefault(levels[factor], {})
        by_arm[arm] = by_arm.get(arm, 0) + 1
m["arms1to8"] = arms
print(json.dumps(known))
`;

function computeInPython(): unknown {
  const inputs = JSON.stringify(KNOWN_ANSWERS);
  const result = runPython(['-c', PYTHON_VECTORS, VERIFIER_SCRIPT], inputs);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as unknown;
}

describe('known-answer vectors for the seed 000102...1f', () => {
  it('are what the TypeScript implementation computes', () => {
    expect(computeInTypeScript()).toEqual(KNOWN_ANSWERS);
  });

  it('are what the Python verifier computes independently', () => {
    expect(computeInPython()).toEqual(KNOWN_ANSWERS);
  });

  it('are published unchanged in docs/randomization.md', () => {
    const docs = readFileSync(join(REPOSITORY_ROOT, 'docs', 'randomization.md'), 'utf8');
    const published = /<!-- known-answer-vectors -->\s*```json\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(JSON.parse(published ?? 'null') as Vectors).toEqual(KNOWN_ANSWERS);
  });
});
