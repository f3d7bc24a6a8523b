/**
 * The exact risk-difference interval of the DMC closed report (#21): CPU time of the fast implementation
 * (`src/lib/statistics/risk-difference.ts`) against the plain one it replaced
 * (`test/support/risk-difference-plain.ts`), on a grid of tables, and the largest difference between their limits
 * (they must agree exactly).
 *
 *   npx tsx scripts/bench/risk-difference.ts [n per arm, default 50] [tables, default 12]
 */
import { exactRiskDifference } from '../../src/lib/statistics/risk-difference';
import { plainExactRiskDifference } from '../../test/support/risk-difference-plain';

const n = Number(process.argv[2] ?? 50);
const tables = Number(process.argv[3] ?? 12);

/** Tables spread over the event counts of both arms, rare to common (deterministic). */
const cases: [number, number, number, number][] = [];
for (let i = 0; i < tables; i++) {
  const x1 = Math.round((n * ((i * 7) % tables)) / (tables - 1 || 1));
  const x2 = Math.round((n * ((i * 5 + 3) % tables)) / (tables - 1 || 1) / 2);
  cases.push([x1, n, x2, n]);
}

const cpuMs = (work: () => void) => {
  const started = process.cpuUsage();
  work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
};

let plainTotal = 0;
let fastTotal = 0;
let largestDifference = 0;
console.log('table                plain ms    fast ms   speed-up   lower                 upper');
for (const [x1, n1, x2, n2] of cases) {
  let plain = plainExactRiskDifference(x1, n1, x2, n2);
  let fast = exactRiskDifference(x1, n1, x2, n2);
  const plainMs = cpuMs(() => (plain = plainExactRiskDifference(x1, n1, x2, n2)));
  const fastMs = cpuMs(() => (fast = exactRiskDifference(x1, n1, x2, n2)));
  plainTotal += plainMs;
  fastTotal += fastMs;
  largestDifference = Math.max(
    largestDifference,
    Math.abs(plain.lower - fast.lower),
    Math.abs(plain.upper - fast.upper),
  );
  console.log(
    `${`${x1}/${n1} vs ${x2}/${n2}`.padEnd(20)} ${plainMs.toFixed(0).padStart(8)} ${fastMs.toFixed(0).padStart(10)} ` +
      `${(plainMs / fastMs).toFixed(1).padStart(9)}x   ${fast.lower.toFixed(15).padEnd(20)}  ${fast.upper.toFixed(15)}`,
  );
}
console.log(
  `total: plain ${plainTotal.toFixed(0)} ms, fast ${fastTotal.toFixed(0)} ms (${(plainTotal / fastTotal).toFixed(1)}x); ` +
    `largest difference between the limits ${largestDifference}`,
);
