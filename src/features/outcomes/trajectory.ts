import { mean, qt, standardDeviation } from '../../lib/statistics';

/** One arm at one visit: the recorded outcomes' mean with its t-based 95% confidence interval. */
export interface TrajectoryPoint {
  arm: string;
  visit: string;
  n: number;
  mean: number | null;
  /** mean ± t(0.975, n − 1) · sd / √n; null with fewer than two values. */
  ciLower: number | null;
  ciUpper: number | null;
}

/** Mean and 95% CI of `values` (R: `mean(x) + c(-1, 1) * qt(0.975, n - 1) * sd(x) / sqrt(n)`). */
export function meanWithInterval(
  values: readonly number[],
): Pick<TrajectoryPoint, 'n' | 'mean' | 'ciLower' | 'ciUpper'> {
  const n = values.length;
  if (n === 0) return { n, mean: null, ciLower: null, ciUpper: null };
  const m = mean(values);
  if (n < 2) return { n, mean: m, ciLower: null, ciUpper: null };
  const half = (qt(0.975, n - 1) * standardDeviation(values)) / Math.sqrt(n);
  return { n, mean: m, ciLower: m - half, ciUpper: m + half };
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (value: number) => value.toFixed(2);
/** Arms differ by marker and dash, not by colour alone (readable in print and by colour-blind readers). */
const STYLES = [
  { dash: '', marker: 'circle' },
  { dash: '6 4', marker: 'square' },
  { dash: '2 3', marker: 'triangle' },
  { dash: '10 3 2 3', marker: 'diamond' },
] as const;

function marker(shape: (typeof STYLES)[number]['marker'], x: number, y: number): string {
  const r = 4.5;
  switch (shape) {
    case 'circle':
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}"/>`;
    case 'square':
      return `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${2 * r}" height="${2 * r}"/>`;
    case 'triangle':
      return `<path d="M${x.toFixed(1)},${(y - r - 1).toFixed(1)} l${r + 1},${2 * r + 1} h${-2 * r - 2}z"/>`;
    case 'diamond':
      return `<path d="M${x.toFixed(1)},${(y - r - 1).toFixed(1)} l${r + 1},${r + 1} l${-r - 1},${r + 1} l${-r - 1},${-r - 1}z"/>`;
  }
}

/**
 * Means with 95% CIs by visit (x, in schedule order, equally spaced) and arm (one line each, arms offset a little
 * so their intervals do not overlap), from labelled points so blinded keys see `Group n`. Accessible: `role="img"`
 * with a title and a description that states every number drawn, so a screen reader gets the whole figure.
 */
export function trajectorySvg(options: {
  title: string;
  measure: string;
  population: string;
  visits: readonly string[];
  arms: readonly string[];
  points: readonly TrajectoryPoint[];
}): string {
  const { visits, arms, points } = options;
  const drawn = points.filter((p) => p.mean !== null);
  const values = drawn.flatMap((p) => [p.mean!, p.ciLower ?? p.mean!, p.ciUpper ?? p.mean!]);
  let low = values.length === 0 ? 0 : Math.min(...values);
  let high = values.length === 0 ? 1 : Math.max(...values);
  if (high - low < 1e-9) {
    low -= 1;
    high += 1;
  }
  const pad = (high - low) * 0.08;
  low -= pad;
  high += pad;
  const left = 70;
  const top = 70;
  const plotWidth = Math.max(160, 140 * visits.length);
  const plotHeight = 300;
  const width = left + plotWidth + 190;
  const height = top + plotHeight + 60;
  const step = plotWidth / Math.max(visits.length, 1);
  const offset = (i: number) => (i - (arms.length - 1) / 2) * Math.min(12, step / (arms.length + 2));
  const x = (visit: string, armIndex: number) => left + step * (visits.indexOf(visit) + 0.5) + offset(armIndex);
  const y = (value: number) => top + plotHeight - ((value - low) / (high - low)) * plotHeight;
  const ticks = Array.from({ length: 5 }, (_, i) => low + ((high - low) * i) / 4);
  const axis = [
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#000"/>`,
    `<line x1="${left}" x2="${left + plotWidth}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#000"/>`,
    ...ticks.map(
      (tick) =>
        `<text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(tick)}</text>`,
    ),
    ...visits.map(
      (visit) =>
        `<text x="${(left + step * (visits.indexOf(visit) + 0.5)).toFixed(1)}" y="${top + plotHeight + 20}" ` +
        `text-anchor="middle">${escapeXml(visit)}</text>`,
    ),
  ];
  const series = arms.map((arm, a) => {
    const style = STYLES[a % STYLES.length]!;
    const own = drawn.filter((p) => p.arm === arm).sort((p, q) => visits.indexOf(p.visit) - visits.indexOf(q.visit));
    const path = own.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.visit, a).toFixed(1)},${y(p.mean!).toFixed(1)}`);
    const bars = own
      .filter((p) => p.ciLower !== null && p.ciUpper !== null)
      .map((p) => {
        const px = x(p.visit, a).toFixed(1);
        return `<line x1="${px}" x2="${px}" y1="${y(p.ciLower!).toFixed(1)}" y2="${y(p.ciUpper!).toFixed(1)}"/>`;
      });
    const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : '';
    return (
      `<g data-arm="${escapeXml(arm)}" stroke="#000" fill="#000">` +
      (path.length > 1 ? `<path d="${path.join(' ')}" fill="none"${dash}/>` : '') +
      bars.join('') +
      own.map((p) => marker(style.marker, x(p.visit, a), y(p.mean!))).join('') +
      '</g>'
    );
  });
  const legend = arms.map((arm, a) => {
    const style = STYLES[a % STYLES.length]!;
    const ly = top + 10 + a * 22;
    const lx = left + plotWidth + 20;
    const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : '';
    return (
      `<g stroke="#000" fill="#000"><line x1="${lx}" x2="${lx + 30}" y1="${ly}" y2="${ly}"${dash}/>` +
      `${marker(style.marker, lx + 15, ly)}</g><text x="${lx + 38}" y="${ly + 4}">${escapeXml(arm)}</text>`
    );
  });
  const described = arms
    .map((arm) => {
      const own = points.filter((p) => p.arm === arm);
      const parts = visits.map((visit) => {
        const p = own.find((q) => q.visit === visit);
        if (!p || p.mean === null) return `${visit}: no data`;
        const ci = p.ciLower === null ? '' : ` (95% CI ${fmt(p.ciLower)} to ${fmt(p.ciUpper!)})`;
        return `${visit}: mean ${fmt(p.mean)}${ci}, n = ${p.n}`;
      });
      return `${arm}: ${parts.join('; ')}.`;
    })
    .join(' ');
  const heading = `${options.measure}: mean with 95% CI by visit and arm`;
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="trajectory-title trajectory-desc" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Georgia, serif" font-size="13">
<title id="trajectory-title">${escapeXml(heading)} – ${escapeXml(options.title)}</title>
<desc id="trajectory-desc">${escapeXml(`Recorded outcomes, ${options.population} population. ${described}`)}</desc>
<text x="10" y="24" font-size="16">${escapeXml(heading)}</text>
<text x="10" y="44" font-size="11">Observed means of the recorded outcomes with t-based 95% confidence intervals; ${escapeXml(options.population)} population.</text>
${axis.join('\n')}
${series.join('\n')}
${legend.join('\n')}${drawn.length === 0 ? `\n<text x="${left + 10}" y="${top + 20}">No outcome is recorded yet.</text>` : ''}
</svg>`;
}
