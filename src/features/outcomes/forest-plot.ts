import type { components } from '../../generated/openapi';

type OutcomeSummary = components['schemas']['OutcomeSummary'];

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (value: number) => value.toFixed(2);

/**
 * A forest plot of Table 2's adjusted mean differences (numeric measures: arm − reference with 95% CI, one line per
 * measure, visit and compared arm), drawn from the labelled table so blinded keys see `Group n`. Measures are on
 * their own scales, so each line is drawn on a common axis of the differences divided by the largest |CI limit|
 * of that line's measure; the numbers printed on the right are in the measure's units.
 */
export function forestPlotSvg(summary: OutcomeSummary, title: string): string {
  const lines = summary.rows.flatMap((row) =>
    row.type !== 'continuous'
      ? []
      : row.differences
          .filter((d) => d.estimate !== null && d.ciLower !== null && d.ciUpper !== null)
          .map((d) => ({
            measure: row.measure,
            text: `${row.label}, ${row.visit}: ${d.arm} − ${summary.reference}`,
            estimate: d.estimate!,
            lower: d.ciLower!,
            upper: d.ciUpper!,
            p: d.p,
          })),
  );
  const scale = new Map<string, number>();
  for (const line of lines) {
    const largest = Math.max(Math.abs(line.lower), Math.abs(line.upper), Number.MIN_VALUE);
    scale.set(line.measure, Math.max(scale.get(line.measure) ?? 0, largest));
  }
  const rowHeight = 28;
  const top = 70;
  const labelWidth = 380;
  const plotWidth = 320;
  const width = labelWidth + plotWidth + 260;
  const height = top + Math.max(lines.length, 1) * rowHeight + 50;
  const centre = labelWidth + plotWidth / 2;
  const x = (value: number, measure: string) => centre + (value / scale.get(measure)!) * (plotWidth / 2 - 10);
  const body = lines.map((line, i) => {
    const y = top + i * rowHeight + rowHeight / 2;
    const p = line.p === null ? '' : line.p < 0.001 ? ', p < 0.001' : `, p = ${line.p.toFixed(3)}`;
    return (
      `<g data-measure="${escapeXml(line.measure)}">` +
      `<text x="10" y="${y + 4}">${escapeXml(line.text)}</text>` +
      `<line x1="${x(line.lower, line.measure).toFixed(1)}" x2="${x(line.upper, line.measure).toFixed(1)}" ` +
      `y1="${y}" y2="${y}" stroke="#000"/>` +
      `<rect x="${(x(line.estimate, line.measure) - 4).toFixed(1)}" y="${y - 4}" width="8" height="8" fill="#000"/>` +
      `<text x="${labelWidth + plotWidth + 15}" y="${y + 4}">` +
      `${fmt(line.estimate)} (${fmt(line.lower)} to ${fmt(line.upper)})${p}</text></g>`
    );
  });
  const empty =
    lines.length === 0 ? `<text x="10" y="${top + 18}">No adjusted difference is estimable yet.</text>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Georgia, serif" font-size="13">
<title>Adjusted mean differences – ${escapeXml(title)}</title>
<text x="10" y="24" font-size="16">Adjusted mean differences (95% CI) against ${escapeXml(summary.reference)}</text>
<text x="10" y="44" font-size="11">ANCOVA on arm, baseline score and centre; ${escapeXml(summary.population.code.toUpperCase())} population. Axis per measure: difference / largest |CI limit| of the measure.</text>
<line x1="${centre}" x2="${centre}" y1="${top - 8}" y2="${height - 40}" stroke="#888" stroke-dasharray="4 3"/>
<text x="${centre}" y="${height - 22}" text-anchor="middle" font-size="11">0 (no difference)</text>
${body.join('\n')}${empty}
</svg>`;
}
