/**
 * Times one MMRM fit (src/lib/statistics/mixed-model.ts) on simulated data: AR(1)-like errors, 12% missing
 * visits, baseline and a three-level site as covariates.
 *
 *   npx tsx scripts/bench/mixed-model.ts [subjects=2000] [visits=m2,m3,m5,m8] [groups=TAU,SMCM] [covariance]
 */
import { mixedModel, type MixedModelRow } from '../../src/lib/statistics/mixed-model';
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
const subjects = Number(process.argv[2] ?? 2000);
const visits = (process.argv[3] ?? 'm2,m3,m5,m8').split(',');
const groups = (process.argv[4] ?? 'TAU,SMCM').split(',');
const covariance = process.argv[5] === 'compound_symmetry' ? 'compound_symmetry' : 'unstructured';
const rows: MixedModelRow[] = [];
for (let s = 0; s < subjects; s++) {
  const group = groups[s % groups.length]!;
  const baseline = 25 + 5 * normal();
  const site = ['A', 'B', 'C'][Math.floor(rand() * 3)]!;
  let prev = 0;
  visits.forEach((visit, v) => {
    prev = 0.7 * prev + normal() * 4;
    if (rand() < 0.12) return;
    rows.push({
      subject: `s${s}`,
      group,
      visit,
      outcome: 8 + 0.6 * baseline + v + prev + (group === groups[0] ? 0 : v * 0.5),
      covariates: { baseline, site },
    });
  });
}
const t0 = performance.now();
const r = mixedModel({
  rows,
  reference: groups[0]!,
  visits,
  covariates: [
    { name: 'baseline', type: 'number' },
    { name: 'site', type: 'category' },
  ],
  covariance,
});
console.log(
  `${subjects} subjects ${visits.length} visits ${groups.length} groups ${rows.length} rows: ${(performance.now() - t0).toFixed(0)} ms, iterations ${r.iterations}, logLik ${r.logLik}, df ${r.differences.map((d) => d.df.toFixed(3)).join(' ')}`,
);
