import type { components } from '../../generated/openapi';
import type { FieldError } from '../../core/errors';
import { FIDELITY_ITEM_MAX, FidelityScale } from './delivery-configuration';

type FidelityAreaScore = components['schemas']['FidelityAreaScore'];
type FidelityReview = components['schemas']['FidelityReview'];
export type FidelityTrend = 'improving' | 'stable' | 'declining' | null;

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

/** Scores that do not fit the scale: a missing item or an item the scale does not have (422, by pointer). */
export function scoreErrors(scale: FidelityScale, scores: Record<string, number>): FieldError[] {
  const errors: FieldError[] = [];
  for (const item of scale.items)
    if (scores[item.code] === undefined) errors.push({ pointer: `/scores/${item.code}`, detail: 'is not scored' });
  const known = new Set(scale.items.map((item) => item.code));
  for (const code of Object.keys(scores))
    if (!known.has(code)) errors.push({ pointer: `/scores/${code}`, detail: 'is not an item of the fidelity scale' });
  return errors;
}

/**
 * A review's figures: the total of the item scores against the maximum (5 per item), each area's total, maximum and
 * mean item score, and whether the total reaches the scale's high-fidelity threshold. The scores must fit the scale
 * (`scoreErrors` is empty).
 */
export function scoreFidelity(
  scale: FidelityScale,
  scores: Record<string, number>,
): { total: number; maximum: number; areas: FidelityAreaScore[]; highFidelity: boolean } {
  const areas = scale.areas.map((area) => {
    const items = scale.items.filter((item) => item.area === area.code);
    const total = items.reduce((sum, item) => sum + scores[item.code]!, 0);
    return {
      area: area.code,
      label: area.label,
      items: items.length,
      total,
      maximum: items.length * FIDELITY_ITEM_MAX,
      mean: round4(total / items.length),
    };
  });
  const total = areas.reduce((sum, a) => sum + a.total, 0);
  return {
    total,
    maximum: scale.items.length * FIDELITY_ITEM_MAX,
    areas,
    highFidelity: total >= scale.highFidelityThreshold,
  };
}

/** The last review's total against the first's (reviews in date order); null below two reviews. */
export function fidelityTrend(totals: readonly number[]): FidelityTrend {
  if (totals.length < 2) return null;
  const change = totals.at(-1)! - totals[0]!;
  return change > 0 ? 'improving' : change < 0 ? 'declining' : 'stable';
}

/** Reviews grouped by site (sites in code order, reviews by date), each with its change from the previous one. */
export function fidelityBySite(reviews: readonly FidelityReview[]) {
  const bySite = new Map<string, FidelityReview[]>();
  for (const review of [...reviews].sort(
    (a, b) => a.reviewedOn.localeCompare(b.reviewedOn) || a.recordedAt.localeCompare(b.recordedAt),
  )) {
    const list = bySite.get(review.siteCode) ?? [];
    list.push({ ...review, changeFromPrevious: list.length ? review.total - list.at(-1)!.total : null });
    bySite.set(review.siteCode, list);
  }
  return [...bySite.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([siteCode, list]) => ({ siteCode, reviews: list, trend: fidelityTrend(list.map((r) => r.total)) }));
}

const WIDTH = 640;
const HEIGHT = 360;
const PAD = { left: 56, right: 120, top: 40, bottom: 48 };
const COLOURS = ['#1b6ca8', '#c0392b', '#27ae60', '#8e44ad', '#d35400', '#2c3e50'];

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const DAY_MS = 86_400_000;
const epochDay = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY_MS;

/**
 * The fidelity chart: review totals against review dates, one line per site, the y axis from 0 to the largest
 * maximum, and the high-fidelity threshold as a dashed line. No script, no external resource.
 */
export function fidelityChart(
  sites: ReturnType<typeof fidelityBySite>,
  scale: { maximum: number; threshold: number },
): string {
  const reviews = sites.flatMap((s) => s.reviews);
  const days = reviews.map((r) => epochDay(r.reviewedOn));
  const first = days.length ? Math.min(...days) : 0;
  const span = days.length ? Math.max(Math.max(...days) - first, 1) : 1;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (date: string) => PAD.left + (reviews.length > 1 ? ((epochDay(date) - first) / span) * plotW : plotW / 2);
  const y = (total: number) => PAD.top + plotH - (total / scale.maximum) * plotH;
  const f = (n: number) => n.toFixed(1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    '<title>Fidelity review totals by site</title>',
    `<text x="${PAD.left}" y="20" font-weight="bold">Fidelity total (maximum ${scale.maximum}; high fidelity from ${scale.threshold})</text>`,
    `<line x1="${PAD.left}" y1="${f(y(0))}" x2="${PAD.left + plotW}" y2="${f(y(0))}" stroke="#000"/>`,
    `<line x1="${PAD.left}" y1="${f(y(0))}" x2="${PAD.left}" y2="${f(y(scale.maximum))}" stroke="#000"/>`,
    `<text x="${PAD.left - 8}" y="${f(y(0) + 4)}" text-anchor="end">0</text>`,
    `<text x="${PAD.left - 8}" y="${f(y(scale.maximum) + 4)}" text-anchor="end">${scale.maximum}</text>`,
    `<line data-threshold="${scale.threshold}" x1="${PAD.left}" y1="${f(y(scale.threshold))}" x2="${PAD.left + plotW}" y2="${f(y(scale.threshold))}" stroke="#888" stroke-dasharray="6 4"/>`,
    `<text x="${PAD.left - 8}" y="${f(y(scale.threshold) + 4)}" text-anchor="end">${scale.threshold}</text>`,
  ];
  sites.forEach((site, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const points = site.reviews.map((r) => `${f(x(r.reviewedOn))},${f(y(r.total))}`).join(' ');
    parts.push(`<g data-site="${escapeXml(site.siteCode)}">`);
    if (site.reviews.length > 1) parts.push(`<polyline points="${points}" fill="none" stroke="${colour}"/>`);
    for (const r of site.reviews) {
      parts.push(
        `<circle cx="${f(x(r.reviewedOn))}" cy="${f(y(r.total))}" r="4" fill="${colour}"><title>${escapeXml(
          `${site.siteCode} ${r.reviewedOn}: ${r.total} of ${r.maximum}`,
        )}</title></circle>`,
        `<text x="${f(x(r.reviewedOn))}" y="${f(y(r.total) - 8)}" text-anchor="middle">${r.total}</text>`,
        `<text x="${f(x(r.reviewedOn))}" y="${HEIGHT - PAD.bottom + 18}" text-anchor="middle">${r.reviewedOn}</text>`,
      );
    }
    parts.push(
      `<text x="${WIDTH - PAD.right + 12}" y="${PAD.top + 16 * (i + 1)}" fill="${colour}">${escapeXml(site.siteCode)}</text>`,
      '</g>',
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
