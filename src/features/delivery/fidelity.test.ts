import { smcmFidelityScale } from '../../../scripts/smcm-trial';
import type { components } from '../../generated/openapi';
import { fidelityBySite, fidelityChart, fidelityTrend, scoreErrors, scoreFidelity } from './fidelity';

const scale = smcmFidelityScale();
/** The seed paper's review: 36 of 45, about 4 of 5 in each of the three areas. */
const SEED_REVIEW = {
  caseload: 4,
  team_structure: 4,
  supervisor_ratio: 4,
  group_supervision: 5,
  field_mentoring: 4,
  tool_review: 3,
  strengths_assessment: 4,
  personal_recovery_plan: 4,
  community_contact: 4,
};

describe('scoreFidelity', () => {
  it("reproduces the seed paper's 36 of 45 with hand-computed area means", () => {
    const figures = scoreFidelity(scale, SEED_REVIEW);
    expect(figures.total).toBe(36);
    expect(figures.maximum).toBe(45);
    expect(figures.highFidelity).toBe(true);
    // structure 4+4+4 = 12 (mean 4), supervision 5+4+3 = 12 (mean 4), clinical 4+4+4 = 12 (mean 4)
    expect(figures.areas).toEqual([
      { area: 'structure', label: 'Structure', items: 3, total: 12, maximum: 15, mean: 4 },
      { area: 'supervision', label: 'Supervision and supervisor', items: 3, total: 12, maximum: 15, mean: 4 },
      { area: 'clinical', label: 'Clinical and service', items: 3, total: 12, maximum: 15, mean: 4 },
    ]);
  });

  it('computes uneven areas and the threshold edge (35 is not high fidelity, 36 is)', () => {
    const below = { ...SEED_REVIEW, tool_review: 2 };
    const figures = scoreFidelity(scale, below);
    expect(figures.total).toBe(35);
    expect(figures.highFidelity).toBe(false);
    // supervision 5+4+2 = 11, mean 11/3 = 3.6667
    expect(figures.areas[1]).toMatchObject({ total: 11, mean: 3.6667 });
    expect(scoreFidelity(scale, Object.fromEntries(scale.items.map((i) => [i.code, 1])))).toMatchObject({
      total: 9,
      highFidelity: false,
    });
    expect(scoreFidelity(scale, Object.fromEntries(scale.items.map((i) => [i.code, 5])))).toMatchObject({
      total: 45,
      highFidelity: true,
    });
  });
});

describe('scoreErrors', () => {
  it('names missing and unknown items', () => {
    expect(scoreErrors(scale, SEED_REVIEW)).toEqual([]);
    const { caseload: _c, ...missing } = SEED_REVIEW;
    expect(scoreErrors(scale, { ...missing, outreach: 3 })).toEqual([
      { pointer: '/scores/caseload', detail: 'is not scored' },
      { pointer: '/scores/outreach', detail: 'is not an item of the fidelity scale' },
    ]);
  });
});

describe('fidelityTrend', () => {
  it('compares the last review with the first', () => {
    expect(fidelityTrend([])).toBeNull();
    expect(fidelityTrend([30])).toBeNull();
    expect(fidelityTrend([30, 36, 38])).toBe('improving');
    expect(fidelityTrend([36, 30, 36])).toBe('stable');
    expect(fidelityTrend([38, 36])).toBe('declining');
  });
});

type Review = components['schemas']['FidelityReview'];
const review = (siteCode: string, reviewedOn: string, total: number): Review => ({
  id: `${siteCode}-${reviewedOn}`,
  siteCode,
  reviewedOn,
  reviewers: ['RG'],
  sources: ['observation'],
  scores: {},
  total,
  maximum: 45,
  areas: [],
  highFidelity: total >= 36,
  highFidelityThreshold: 36,
  recordedAt: '2026-11-29T00:00:00.000Z',
});

describe('fidelityBySite', () => {
  it('orders sites and reviews and computes each change from the previous review', () => {
    const sites = fidelityBySite([
      review('B', '2019-01-10', 30),
      review('A', '2019-07-01', 36),
      review('A', '2019-01-05', 31),
      review('A', '2020-01-03', 38),
    ]);
    expect(sites.map((s) => s.siteCode)).toEqual(['A', 'B']);
    expect(sites[0]!.reviews.map((r) => [r.reviewedOn, r.total, r.changeFromPrevious])).toEqual([
      ['2019-01-05', 31, null],
      ['2019-07-01', 36, 5],
      ['2020-01-03', 38, 2],
    ]);
    expect(sites.map((s) => s.trend)).toEqual(['improving', null]);
  });
});

describe('fidelityChart', () => {
  it('draws one group per site, one point per review and the threshold', () => {
    const svg = fidelityChart(fidelityBySite([review('A', '2019-01-05', 31), review('A', '2019-07-01', 36)]), {
      maximum: 45,
      threshold: 36,
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain('data-threshold="36"');
    expect(svg).toContain('<title>A 2019-07-01: 36 of 45</title>');
    expect(svg).not.toContain('<script');
    expect(fidelityChart([], { maximum: 45, threshold: 36 })).toContain('</svg>');
  });
});
