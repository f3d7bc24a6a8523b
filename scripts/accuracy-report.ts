/**
 * Prints the largest relative error against R per statistic, for this library and, where they
 * offer the same function, for jstat and simple-statistics.
 *
 *   npx tsx scripts/accuracy-report.ts
 */
import * as ss from 'simple-statistics';
import {
  chiSquareComparisons,
  type Comparison,
  descriptiveComparisons,
  distributionComparisons,
  type DistributionFixture,
  fisherComparisons,
  loadFixture,
  rankSumComparisons,
  smdComparisons,
  summarize,
  tTestComparisons,
  type DescriptiveCase,
  type Fixture,
  type TTestCase,
  runTTestCase,
} from '../test/support/r-reference';
import {
  ancovaComparisons,
  binaryCountsComparisons,
  logisticComparisons,
  poolComparisons,
} from '../test/support/r-reference-outcomes';
import { agreementComparisons } from '../test/support/agreement-reference';
import { compareMixedModel, mixedModelCases } from '../test/support/r-reference-mixed-model';
import { mixedModel } from '../src/lib/statistics/mixed-model';

/** The part of jstat's API measured here (the package ships no type declarations). */
interface JStat {
  normal: { cdf(x: number, mean: number, sd: number): number; inv(p: number, mean: number, sd: number): number };
  studentt: { cdf(t: number, df: number): number; inv(p: number, df: number): number };
  chisquare: { cdf(x: number, df: number): number };
  gammaln(x: number): number;
  betaln(a: number, b: number): number;
  ibeta(x: number, a: number, b: number): number;
  mean(values: number[]): number;
  stdev(values: number[], sample: boolean): number;
  quantiles(values: number[], probabilities: number[], alphap: number, betap: number): number[];
}
// jstat ships no types and no ES module entry; required and typed here with the parts the report uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
const { jStat } = require('jstat') as { jStat: JStat };

function printTable(title: string, comparisons: readonly Comparison[]): void {
  console.log(`\n${title}`);
  console.log('statistic'.padEnd(50) + 'cases  within 1e-10  largest rel. error  worst case');
  for (const row of summarize(comparisons)) {
    console.log(
      row.statistic.padEnd(50) +
        String(row.cases).padStart(5) +
        String(row.casesWithinTolerance).padStart(15) +
        row.largestRelativeError.toExponential(2).padStart(20) +
        '  ' +
        row.worstCase,
    );
  }
}

/** Runs a third-party function, recording a thrown error or a non-number as an infinite error. */
function attempt(compute: () => number): number | null {
  try {
    const value = compute();
    return typeof value === 'number' && !Number.isNaN(value) ? value : null;
  } catch {
    return null;
  }
}

function thirdPartyComparisons(): Comparison[] {
  const distributions = loadFixture<DistributionFixture>('distributions');
  const comparisons: Comparison[] = [];
  const push = (statistic: string, caseName: string, actual: number | null, expected: number) =>
    comparisons.push({ statistic, caseName, actual: actual ?? Number.NaN, expected });
  const lower = (value: number | null, lowerTail: boolean) => (value === null ? null : lowerTail ? value : 1 - value);

  for (const c of distributions.pnorm) {
    push(
      'jstat normal.cdf',
      `${c.x}`,
      lower(
        attempt(() => jStat.normal.cdf(c.x, 0, 1)),
        c.lowerTail,
      ),
      c.value,
    );
    push(
      'simple-statistics cumulativeStdNormalProbability',
      `${c.x}`,
      lower(
        attempt(() => ss.cumulativeStdNormalProbability(c.x)),
        c.lowerTail,
      ),
      c.value,
    );
  }
  for (const c of distributions.qnorm) {
    push(
      'jstat normal.inv',
      `${c.p}`,
      attempt(() => jStat.normal.inv(c.p, 0, 1)),
      c.value,
    );
    push(
      'simple-statistics probit',
      `${c.p}`,
      attempt(() => ss.probit(c.p)),
      c.value,
    );
  }
  for (const c of distributions.pt) {
    push(
      'jstat studentt.cdf',
      `t=${c.t} df=${c.df}`,
      lower(
        attempt(() => jStat.studentt.cdf(c.t, c.df)),
        c.lowerTail,
      ),
      c.value,
    );
  }
  for (const c of distributions.pt.filter((x) => x.df >= 1 && Math.abs(x.t) <= 30)) {
    push(
      'jstat studentt.cdf (df>=1, |t|<=30)',
      `t=${c.t} df=${c.df}`,
      lower(
        attempt(() => jStat.studentt.cdf(c.t, c.df)),
        c.lowerTail,
      ),
      c.value,
    );
  }
  for (const c of distributions.qt) {
    push(
      'jstat studentt.inv',
      `p=${c.p} df=${c.df}`,
      attempt(() => jStat.studentt.inv(c.p, c.df)),
      c.value,
    );
  }
  for (const c of distributions.pchisq) {
    push(
      'jstat chisquare.cdf',
      `x=${c.x} df=${c.df}`,
      lower(
        attempt(() => jStat.chisquare.cdf(c.x, c.df)),
        c.lowerTail,
      ),
      c.value,
    );
  }
  for (const c of distributions.lgamma)
    push(
      'jstat gammaln',
      `${c.x}`,
      attempt(() => jStat.gammaln(c.x)),
      c.value,
    );
  for (const c of distributions.lbeta)
    push(
      'jstat betaln',
      `${c.a},${c.b}`,
      attempt(() => jStat.betaln(c.a, c.b)),
      c.value,
    );
  for (const c of distributions.pbeta) {
    push(
      'jstat ibeta',
      `x=${c.x} a=${c.a} b=${c.b}`,
      lower(
        attempt(() => jStat.ibeta(c.x, c.a, c.b)),
        c.lowerTail,
      ),
      c.value,
    );
  }

  for (const c of loadFixture<Fixture<DescriptiveCase>>('descriptives').cases) {
    push(
      'simple-statistics mean',
      c.name,
      attempt(() => ss.mean(c.values)),
      c.mean,
    );
    push(
      'jstat mean',
      c.name,
      attempt(() => jStat.mean(c.values)),
      c.mean,
    );
    if (c.sd !== null) {
      push(
        'simple-statistics sampleStandardDeviation',
        c.name,
        attempt(() => ss.sampleStandardDeviation(c.values)),
        c.sd,
      );
      push(
        'jstat stdev (sample)',
        c.name,
        attempt(() => jStat.stdev(c.values, true)),
        c.sd,
      );
    }
    push(
      'simple-statistics median',
      c.name,
      attempt(() => ss.median(c.values)),
      c.median,
    );
    push(
      'simple-statistics quantile 0.25',
      c.name,
      attempt(() => ss.quantile(c.values, 0.25)),
      c.q1,
    );
    push(
      'jstat quantiles 0.25 (type 7: alphap=betap=1)',
      c.name,
      attempt(() => jStat.quantiles(c.values, [0.25], 1, 1)[0]!),
      c.q1,
    );
  }

  for (const c of loadFixture<Fixture<TTestCase>>('t-test').cases) {
    const ours = runTTestCase(c);
    // jstat has no two-sample t-test; its distribution functions given our t and df show what they would add.
    if (c.alternative === 'two.sided') {
      push(
        't-test p via jstat studentt.cdf',
        c.name,
        attempt(() => 2 * jStat.studentt.cdf(-Math.abs(ours.t), ours.df)),
        c.expected.p,
      );
    }
    if (c.input.kind === 'raw') {
      push(
        'simple-statistics tTestTwoSample (Student t only)',
        c.name,
        c.varEqual
          ? attempt(() => ss.tTestTwoSample(c.input.group1 as number[], c.input.group2 as number[], 0) ?? Number.NaN)
          : null,
        c.varEqual ? c.expected.t : Number.NaN,
      );
    }
  }
  return comparisons.filter((c) => !(c.expected !== null && Number.isNaN(c.expected)));
}

const ours = [
  ...distributionComparisons(),
  ...descriptiveComparisons(),
  ...tTestComparisons('t-test'),
  ...tTestComparisons('seed-paper'),
  ...chiSquareComparisons(),
  ...fisherComparisons(),
  ...rankSumComparisons(),
  ...smdComparisons(),
  ...agreementComparisons().comparisons,
];
console.log(`Reference: ${loadFixture<{ rVersion: string }>('distributions').rVersion}`);
printTable('trialdesk statistics vs R', ours);
printTable('outcome analyses vs R (lm + emmeans, fisher.test, mice::pool.scalar; target 1e-10)', [
  ...ancovaComparisons(),
  ...binaryCountsComparisons(),
  ...poolComparisons(),
]);
printTable('logistic regression vs glm(binomial) (target 1e-8; "within 1e-10" counts the stricter bound)', [
  ...logisticComparisons(),
]);
printTable('third-party libraries vs R (a thrown error or NaN counts as Infinity)', thirdPartyComparisons());

const mixedModelWorst: Record<string, number> = {};
for (const c of mixedModelCases()) {
  const { worst } = compareMixedModel(mixedModel(c.input), c.expected, c.name);
  for (const [quantity, error] of Object.entries(worst)) {
    mixedModelWorst[quantity] = Math.max(mixedModelWorst[quantity] ?? 0, error);
  }
}
console.log(
  `\nmixed model vs nlme::gls + emmeans (${mixedModelCases().length} cases; worst relative error per quantity)`,
);
for (const [quantity, error] of Object.entries(mixedModelWorst))
  console.log(`  ${quantity.padEnd(44)} ${error.toExponential(1)}`);
