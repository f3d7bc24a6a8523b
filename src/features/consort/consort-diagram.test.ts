import { buildConsortReport, numericLeaves, type ConsortReport } from './consort';
import { estimateTextWidth, renderConsortDot, renderConsortSvg, wrapText } from './consort-diagram';
import {
  HOSTILE_REASONS,
  mulberry32,
  randomConsistentAggregation,
  randomInteger,
  SMCM_CRITERIA,
  SMCM_META,
  smcmAggregation,
} from '../../../test/support/consort-cases';

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

function smcmReport(): ConsortReport {
  return buildConsortReport(smcmAggregation(), SMCM_CRITERIA, SMCM_META);
}

function randomReports(seed: number, count: number): ConsortReport[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () =>
    buildConsortReport(randomConsistentAggregation(random), SMCM_CRITERIA, SMCM_META),
  );
}

function resolvePointer(document: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>(
      (node, token) =>
        typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[token] : undefined,
      document,
    );
}

function displayedCounts(markup: string): { pointer: string; value: number }[] {
  return [...markup.matchAll(/<tspan data-pointer="([^"]*)">n = (\d+)<\/tspan>/g)].map((match) => ({
    pointer: match[1]!,
    value: Number(match[2]),
  }));
}

function unescapeXml(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot);/g,
    (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"' })[name as 'amp'],
  );
}

/** Problems that would stop an XML parser: unbalanced or malformed tags, stray ampersands. Empty when well formed. */
function xmlProblems(markup: string): string[] {
  const problems: string[] = [];
  const open: string[] = [];
  const body = markup.replace(/^<\?xml [^?]*\?>\n/, '');
  const text = body.replace(/<[^>]*>/g, '');
  if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) problems.push('bare & in text');
  if (/>/.test(text)) problems.push('bare > in text');
  for (const [tag] of body.matchAll(/<[^>]*>?/g)) {
    if (!/^<\/?[A-Za-z][\w:-]*(\s+[\w:-]+="[^"<&]*(&(amp|lt|gt|quot|apos);[^"<&]*)*")*\s*\/?>$/.test(tag)) {
      problems.push(`malformed tag ${tag}`);
      continue;
    }
    const name = /^<\/?([\w:-]+)/.exec(tag)![1]!;
    if (tag.startsWith('</')) {
      const expected = open.pop();
      if (expected !== name) problems.push(`</${name}> closes <${expected ?? 'nothing'}>`);
    } else if (!tag.endsWith('/>')) {
      open.push(name);
    }
  }
  if (open.length > 0) problems.push(`unclosed ${open.join(', ')}`);
  if (open.length === 0 && !/^<svg /.test(body)) problems.push('root is not <svg>');
  return problems;
}

function attribute(tag: string, name: string): number {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  if (match === null) throw new Error(`no ${name} in ${tag}`);
  return Number(match[1]);
}

function rectOf(tag: string): Rect {
  return {
    x: attribute(tag, 'x'),
    y: attribute(tag, 'y'),
    width: attribute(tag, 'width'),
    height: attribute(tag, 'height'),
  };
}

interface RenderedBox {
  id: string;
  rect: Rect;
  lines: { x: number; y: number; text: string }[];
}

function renderedBoxes(svg: string): RenderedBox[] {
  return [...svg.matchAll(/<g data-box="([^"]*)">\n(<rect [^>]*>)\n([\s\S]*?)<\/g>/g)].map((match) => ({
    id: match[1]!,
    rect: rectOf(match[2]!),
    lines: [...match[3]!.matchAll(/<text( [^>]*)>(.*?)<\/text>/g)].map((line) => ({
      x: attribute(line[1]!, 'x'),
      y: attribute(line[1]!, 'y'),
      text: unescapeXml(line[2]!.replace(/<[^>]*>/g, '')),
    })),
  }));
}

function rowLabelRects(svg: string): { row: string; rect: Rect }[] {
  return [...svg.matchAll(/<g data-row="([^"]*)">\n(<rect [^>]*>)/g)].map((match) => ({
    row: match[1]!,
    rect: rectOf(match[2]!),
  }));
}

type Segment = readonly [number, number, number, number];

function arrowSegments(svg: string): Segment[] {
  return [...svg.matchAll(/<path d="([^"]*)"\/>/g)].flatMap((match) => {
    const points = [...match[1]!.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((point) => [
      Number(point[1]),
      Number(point[2]),
    ]);
    return points.slice(1).map((end, index) => [...points[index]!, ...end] as unknown as Segment);
  });
}

function arrowTips(svg: string): [number, number][] {
  return [...svg.matchAll(/<polygon points="(-?[\d.]+),(-?[\d.]+) /g)].map((match) => [
    Number(match[1]),
    Number(match[2]),
  ]);
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Whether an axis-aligned segment enters the inside of a rectangle; ending on its border is fine. */
function crossesInside([x1, y1, x2, y2]: Segment, rect: Rect): boolean {
  return (
    Math.min(x1, x2) < rect.x + rect.width &&
    Math.max(x1, x2) > rect.x &&
    Math.min(y1, y2) < rect.y + rect.height &&
    Math.max(y1, y2) > rect.y
  );
}

function onBorder([x, y]: [number, number], rect: Rect): boolean {
  const withinX = x >= rect.x && x <= rect.x + rect.width;
  const withinY = y >= rect.y && y <= rect.y + rect.height;
  return (
    (withinX && (y === rect.y || y === rect.y + rect.height)) ||
    (withinY && (x === rect.x || x === rect.x + rect.width))
  );
}

function withoutWhitespace(text: string): string {
  return text.replace(/\s+/g, '');
}

function withReason(reason: string): ConsortReport {
  const report = smcmReport();
  report.arms[0]!.lostToFollowUp.reasons[1]!.reason = reason;
  return report;
}

describe('renderConsortSvg', () => {
  const reports = [smcmReport(), ...randomReports(42, 40)];

  it('shows every count of the report exactly once, each under the pointer to its number', () => {
    for (const report of reports) {
      const displayed = displayedCounts(renderConsortSvg(report));
      for (const { pointer, value } of displayed)
        expect({ pointer, value: resolvePointer(report, pointer) }).toEqual({ pointer, value });
      const expected = numericLeaves(report).filter(
        // Pending randomization has a box only while someone is pending.
        (leaf) => !(leaf.pointer === '/enrollment/pendingRandomization' && leaf.value === 0),
      );
      expect(displayed.map((count) => count.pointer).sort()).toEqual(expected.map((leaf) => leaf.pointer).sort());
    }
  });

  it('shows pending randomization only when someone is pending', () => {
    const report = smcmReport();
    expect(renderConsortSvg(report)).not.toContain('Pending randomization');
    report.enrollment.pendingRandomization = 7;
    expect(renderConsortSvg(report)).toContain(
      'Pending randomization (<tspan data-pointer="/enrollment/pendingRandomization">n = 7</tspan>)',
    );
  });

  it('is well-formed XML whatever the reasons and arm labels say', () => {
    for (const report of reports)
      expect(xmlProblems(renderConsortSvg(report, { title: 'R&D <trial> "x"' }))).toEqual([]);
  });

  it('escapes user text: a reason is shown as typed, never as markup', () => {
    const svg = renderConsortSvg(withReason('<script>alert("x")</script> & <b>'));
    expect(svg).not.toMatch(/<script|<b>/);
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;');
    const followUp = renderedBoxes(svg).find((box) => box.id === 'arm0_followup')!;
    expect(withoutWhitespace(followUp.lines.map((line) => line.text).join(''))).toContain(
      withoutWhitespace('<script>alert("x")</script> & <b>'),
    );
  });

  it('escapes arm labels and the title', () => {
    const report = smcmReport();
    report.arms[1]!.arm = 'TAU & <i>friends</i>';
    const svg = renderConsortSvg(report, { title: 'Trial <1> & "2"' });
    expect(svg).toContain('<title>Trial &lt;1&gt; &amp; &quot;2&quot;</title>');
    expect(svg).toContain('Allocated to TAU &amp; &lt;i&gt;friends&lt;/i&gt;');
    expect(xmlProblems(svg)).toEqual([]);
  });

  it('replaces characters XML cannot carry', () => {
    const svg = renderConsortSvg(withReason('bell\u0007 and lone surrogate \ud800 here'));
    // eslint-disable-next-line no-control-regex -- the test looks for the control character it sent
    expect(svg).not.toMatch(/[\u0007\ud800]/);
    expect(svg).toContain('bell\ufffd');
  });

  it('gives the same string for the same report', () => {
    for (const report of reports.slice(0, 10)) {
      expect(renderConsortSvg(structuredClone(report), { title: 'T' })).toBe(renderConsortSvg(report, { title: 'T' }));
    }
  });

  it('labels the four rows on the left, top to bottom, beside their boxes', () => {
    const svg = renderConsortSvg(smcmReport());
    const rows = rowLabelRects(svg);
    expect(rows.map((row) => row.row)).toEqual(['enrollment', 'allocation', 'followup', 'analysis']);
    expect(svg).toMatch(/>Enrollment<[\s\S]*>Allocation<[\s\S]*>Follow-up<[\s\S]*>Analysis</);
    const tops = rows.map((row) => row.rect.y);
    expect([...tops].sort((a, b) => a - b)).toEqual(tops);
    const leftmostBox = Math.min(...renderedBoxes(svg).map((box) => box.rect.x));
    for (const row of rows) expect(row.rect.x + row.rect.width).toBeLessThan(leftmostBox);
  });

  it('lays out boxes that do not overlap, with arrows that go around them and end on them', () => {
    for (const report of reports) {
      const svg = renderConsortSvg(report, { title: 'A title long enough to need wrapping '.repeat(4) });
      const boxes = renderedBoxes(svg);
      const rects = [...boxes.map((box) => box.rect), ...rowLabelRects(svg).map((row) => row.rect)];
      rects.forEach((a, index) => rects.slice(index + 1).forEach((b) => expect(overlaps(a, b)).toBe(false)));
      for (const segment of arrowSegments(svg)) {
        for (const rect of rects)
          expect({ segment, crosses: crossesInside(segment, rect) }).toEqual({ segment, crosses: false });
      }
      const tips = arrowTips(svg);
      for (const box of boxes.filter((candidate) => candidate.id !== 'assessed')) {
        expect({ box: box.id, arrowIn: tips.some((tip) => onBorder(tip, box.rect)) }).toEqual({
          box: box.id,
          arrowIn: true,
        });
      }
      const width = attribute(svg, 'width');
      const height = attribute(svg, 'height');
      for (const rect of rects) {
        expect(rect.x + rect.width).toBeLessThanOrEqual(width);
        expect(rect.y + rect.height).toBeLessThanOrEqual(height);
      }
    }
  });

  it('keeps every line of text inside its box', () => {
    for (const report of reports) {
      for (const box of renderedBoxes(renderConsortSvg(report))) {
        for (const line of box.lines) {
          expect(line.x).toBeGreaterThan(box.rect.x);
          expect(line.x + estimateTextWidth(line.text)).toBeLessThanOrEqual(box.rect.x + box.rect.width);
          expect(line.y - 12).toBeGreaterThanOrEqual(box.rect.y);
          expect(line.y).toBeLessThanOrEqual(box.rect.y + box.rect.height);
        }
      }
    }
  });

  it('puts one column per arm and grows wider with more arms', () => {
    const widths = [2, 3, 5].map((armCount) => {
      const report = smcmReport();
      report.arms = Array.from({ length: armCount }, (_, index) => ({ ...report.arms[0]!, arm: `Group ${index + 1}` }));
      const svg = renderConsortSvg(report);
      const allocationLefts = renderedBoxes(svg)
        .filter((box) => box.id.endsWith('_allocation'))
        .map((box) => box.rect.x);
      expect(allocationLefts).toHaveLength(armCount);
      expect(new Set(allocationLefts).size).toBe(armCount);
      return attribute(svg, 'width');
    });
    expect(widths[0]).toBeLessThan(widths[1]!);
    expect(widths[1]).toBeLessThan(widths[2]!);
  });
});

describe('wrapText', () => {
  it('property: keeps every character in order and fits every line, breaking only over-long words', () => {
    const random = mulberry32(7);
    const words = HOSTILE_REASONS.filter((reason): reason is string => reason !== null);
    for (let trial = 0; trial < 300; trial += 1) {
      const text = Array.from(
        { length: randomInteger(random, 0, 6) },
        () => words[randomInteger(random, 0, words.length - 1)],
      ).join(' ');
      const maxWidth = randomInteger(random, 40, 300);
      const lines = wrapText(text, maxWidth);
      expect(lines.join('').replace(/\s+/g, '')).toBe(withoutWhitespace(text));
      for (const line of lines) {
        expect(line).toBe(line.trim());
        expect(line === '' || estimateTextWidth(line) <= maxWidth || [...line].length === 1).toBe(true);
      }
    }
  });

  it('wraps at spaces when it can', () => {
    expect(wrapText('Could not be contacted after three attempts', 140)).toEqual([
      'Could not be contacted',
      'after three attempts',
    ]);
  });

  it('splits text without spaces, such as Chinese, by character', () => {
    expect(wrapText('住院治療中無法聯絡', 48)).toEqual(['住院治療', '中無法聯', '絡']);
  });
});

/** The labels of a DOT file by node id, with Graphviz escapes undone (`\l` becomes a newline). */
function dotLabels(dot: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const match of dot.matchAll(/^ {2}(\w+) \[label="/gm)) {
    let index = match.index + match[0].length;
    let label = '';
    for (;;) {
      const character = dot[index];
      if (character === undefined) throw new Error(`unterminated label of ${match[1]}`);
      if (character === '"') break;
      if (character === '\\') {
        const escaped = dot[index + 1];
        if (escaped === 'l') label += '\n';
        else if (escaped === '"' || escaped === '\\') label += escaped;
        else throw new Error(`unexpected escape \\${escaped} in ${match[1]}`);
        index += 2;
      } else {
        label += character;
        index += 1;
      }
    }
    expect(dot[index + 1]).toMatch(/[\],]/);
    labels.set(match[1]!, label);
  }
  return labels;
}

describe('renderConsortDot', () => {
  it('has one node per diagram box, with the same counts in the same order', () => {
    for (const report of [smcmReport(), ...randomReports(99, 20)]) {
      const svgBoxes = renderedBoxes(renderConsortSvg(report));
      const labels = dotLabels(renderConsortDot(report));
      const boxNodes = [...labels.keys()].filter((id) => !id.startsWith('row_'));
      expect(boxNodes.sort()).toEqual(svgBoxes.map((box) => box.id).sort());
      for (const box of svgBoxes) {
        const svgCounts = box.lines.flatMap((line) =>
          [...line.text.matchAll(/\(n = (\d+)\)/g)].map((count) => count[1]),
        );
        const dotCounts = [...labels.get(box.id)!.matchAll(/\(n = (\d+)\)/g)].map((count) => count[1]);
        expect(dotCounts).toEqual(svgCounts);
      }
    }
  });

  it('escapes quotes and backslashes in labels', () => {
    const reason = 'She said "no" to C:\\new\\lost \\N';
    const dot = renderConsortDot(withReason(reason));
    expect(dot).toContain('\\"no\\"');
    expect(dot).toContain('C:\\\\new\\\\lost \\\\N');
    expect(withoutWhitespace(dotLabels(dot).get('arm0_followup')!)).toContain(withoutWhitespace(reason));
  });

  it('is a top-to-bottom digraph of boxes, every edge between declared nodes, one rank per row', () => {
    const report = smcmReport();
    report.enrollment.pendingRandomization = 3;
    const dot = renderConsortDot(report);
    expect(dot).toMatch(/^digraph consort \{\n {2}rankdir=TB;\n/);
    expect(dot).toContain('node [shape=box');
    expect(dot.trimEnd().endsWith('}')).toBe(true);
    const declared = new Set([...dot.matchAll(/^ {2}(\w+) \[/gm)].map((match) => match[1]));
    const edges = [...dot.matchAll(/^ {2}(\w+(?: -> \w+)+)/gm)].flatMap((match) => match[1]!.split(' -> '));
    for (const node of edges) expect(declared).toContain(node);
    for (const edge of [
      'randomized -> arm0_allocation;',
      'randomized -> arm1_allocation;',
      'arm1_allocation -> arm1_followup;',
      'arm1_followup -> arm1_analysis;',
      'trunk_excluded -> excluded;',
      'trunk_pending -> pending;',
    ]) {
      expect(dot).toContain(edge);
    }
    expect(dot).toContain('subgraph rank_allocation { rank=same; row_allocation; arm0_allocation; arm1_allocation; }');
    expect(dot).toContain('subgraph rank_analysis { rank=same; row_analysis; arm0_analysis; arm1_analysis; }');
  });
});
