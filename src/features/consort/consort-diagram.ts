import { ARM_REASONED_COUNTS, type ConsortReasonedCount, type ConsortReport } from './consort';

/**
 * The CONSORT 2010 flow diagram of a report, as standalone SVG or as Graphviz DOT. Both are built from
 * one list of boxes, so they always show the same text. In the SVG every count is a
 * `<tspan data-pointer="/json/pointer">n = 123</tspan>`: the pointer locates the number in the report,
 * so a browser test can compare what is displayed with the JSON. Layout: docs/consort.md.
 */

const FONT_FAMILY = 'Arial, Helvetica, sans-serif';
const FONT_SIZE = 12;
const TITLE_FONT_SIZE = 16;
const LINE_HEIGHT = 16;
const TITLE_LINE_HEIGHT = 20;
/** From the top of a line box to the text baseline. */
const BASELINE_OFFSET = 12;
const BOX_PADDING = 8;
const LEVEL_INDENT = 14;
/** Bullets hang left of the text they introduce. */
const BULLET_HANG = 10;
const MARGIN = 20;
const ROW_LABEL_WIDTH = 96;
const ROW_LABEL_HEIGHT = 28;
const COLUMN_GAP = 40;
const ARM_BOX_WIDTH = 280;
const CENTRE_BOX_WIDTH = 240;
const SIDE_BOX_MIN_WIDTH = 300;
/** Horizontal distance from the vertical trunk to the boxes beside it. */
const SIDE_BOX_OFFSET = 40;
const VERTICAL_GAP = 32;
const ARROWHEAD_LENGTH = 7;
const ARROWHEAD_HALF_WIDTH = 3.5;
/** Bold glyphs run this much wider than regular ones. */
const BOLD_WIDTH_FACTOR = 1.1;
const BULLETS = ['', '•', '◦'] as const;

type Level = 0 | 1 | 2;

interface BoxEntry {
  label: string;
  count: number;
  pointer: string;
  level: Level;
}

interface Box {
  /** `data-box` in the SVG, node id in DOT. */
  id: string;
  entries: BoxEntry[];
}

interface WrappedLine {
  text: string;
  /** Present on an entry's last line. */
  count?: { value: number; pointer: string };
}

interface PlacedBox {
  box: Box;
  x: number;
  y: number;
  width: number;
  height: number;
}

type Point = readonly [number, number];

/**
 * Width of a character in ems. Measured against Arial it errs about 10% wide, so that wrapped text also
 * stays inside its box in the wider fallback faces (DejaVu Sans) of machines without Arial or Helvetica.
 */
function characterWidthEm(character: string): number {
  const codePoint = character.codePointAt(0) ?? 0;
  // CJK, Hangul syllables, full-width forms and emoji are square.
  if (codePoint >= 0x2e80) return 1;
  if (/[ .,:;'!|ijlI()[\]]/.test(character)) return 0.3;
  if (/[mwMW@%]/.test(character)) return 0.9;
  if (/[A-Z]/.test(character)) return 0.7;
  if (/[0-9]/.test(character)) return 0.58;
  return 0.54;
}

export function estimateTextWidth(text: string, fontSize: number = FONT_SIZE): number {
  let ems = 0;
  for (const character of text) ems += characterWidthEm(character);
  return ems * fontSize;
}

/** Splits a word too long for any line (a URL, unspaced CJK text) into pieces that fit. */
function breakLongWord(word: string, maxWidth: number, fontSize: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const character of word) {
    if (piece !== '' && estimateTextWidth(piece + character, fontSize) > maxWidth) {
      pieces.push(piece);
      piece = '';
    }
    piece += character;
  }
  if (piece !== '') pieces.push(piece);
  return pieces;
}

/** Greedy word wrap; whitespace runs (including newlines typed into a reason) become single spaces. */
export function wrapText(text: string, maxWidth: number, fontSize: number = FONT_SIZE): string[] {
  const words = text
    .split(/\s+/)
    .filter((word) => word !== '')
    .flatMap((word) => breakLongWord(word, maxWidth, fontSize));
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (line !== '' && estimateTextWidth(candidate, fontSize) > maxWidth) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

function countText(value: number): string {
  return `n = ${value}`;
}

/** The label wrapped, then `(n = …)` after it on its last line, or on a line of its own when it does not fit. */
function wrapEntry(entry: BoxEntry, maxWidth: number): WrappedLine[] {
  const count = { value: entry.count, pointer: entry.pointer };
  const lines: WrappedLine[] = wrapText(entry.label, maxWidth).map((text) => ({ text }));
  const last = lines[lines.length - 1];
  const countWidth = estimateTextWidth(` (${countText(entry.count)})`);
  if (last !== undefined && estimateTextWidth(last.text) + countWidth <= maxWidth) last.count = count;
  else lines.push({ text: '', count });
  return lines;
}

function entryTextWidth(boxWidth: number, level: Level): number {
  return boxWidth - 2 * BOX_PADDING - level * LEVEL_INDENT;
}

function wrapBox(box: Box, width: number): { entry: BoxEntry; lines: WrappedLine[] }[] {
  return box.entries.map((entry) => ({ entry, lines: wrapEntry(entry, entryTextWidth(width, entry.level)) }));
}

function lineCount(box: Box, width: number): number {
  return wrapBox(box, width).reduce((total, wrapped) => total + wrapped.lines.length, 0);
}

function boxHeight(box: Box, width: number): number {
  return lineCount(box, width) * LINE_HEIGHT + 2 * BOX_PADDING;
}

function reasonEntries(group: ConsortReasonedCount, pointer: string, level: Level): BoxEntry[] {
  return group.reasons.map((reason, index) => ({
    label: reason.reason,
    count: reason.count,
    pointer: `${pointer}/reasons/${index}/count`,
    level,
  }));
}

function enrollmentBoxes(report: ConsortReport): {
  assessed: Box;
  excluded: Box;
  pending: Box | null;
  randomized: Box;
} {
  const { enrollment } = report;
  const excluded = enrollment.excluded;
  const pointer = '/enrollment/excluded';
  const criteria = excluded.notMeetingInclusionCriteria;
  return {
    assessed: {
      id: 'assessed',
      entries: [
        {
          label: 'Assessed for eligibility',
          count: enrollment.assessedForEligibility,
          pointer: '/enrollment/assessedForEligibility',
          level: 0,
        },
      ],
    },
    excluded: {
      id: 'excluded',
      entries: [
        { label: 'Excluded', count: excluded.total, pointer: `${pointer}/total`, level: 0 },
        {
          label: 'Not meeting inclusion criteria',
          count: criteria.total,
          pointer: `${pointer}/notMeetingInclusionCriteria/total`,
          level: 1,
        },
        ...criteria.reasons.map((criterion, index) => ({
          label: criterion.text,
          count: criterion.count,
          pointer: `${pointer}/notMeetingInclusionCriteria/reasons/${index}/count`,
          level: 2 as const,
        })),
        {
          label: 'Declined to participate',
          count: excluded.declinedToParticipate.total,
          pointer: `${pointer}/declinedToParticipate/total`,
          level: 1,
        },
        ...reasonEntries(excluded.declinedToParticipate, `${pointer}/declinedToParticipate`, 2),
        {
          label: 'Other reasons',
          count: excluded.otherReasons.total,
          pointer: `${pointer}/otherReasons/total`,
          level: 1,
        },
        ...reasonEntries(excluded.otherReasons, `${pointer}/otherReasons`, 2),
      ],
    },
    // Not part of the CONSORT template: shown only while some eligible participants await randomization.
    pending:
      enrollment.pendingRandomization > 0
        ? {
            id: 'pending',
            entries: [
              {
                label: 'Pending randomization',
                count: enrollment.pendingRandomization,
                pointer: '/enrollment/pendingRandomization',
                level: 0,
              },
            ],
          }
        : null,
    randomized: {
      id: 'randomized',
      entries: [{ label: 'Randomized', count: enrollment.randomized, pointer: '/enrollment/randomized', level: 0 }],
    },
  };
}

interface ArmBoxes {
  allocation: Box;
  followUp: Box;
  analysis: Box;
}

function armBoxes(report: ConsortReport): ArmBoxes[] {
  return report.arms.map((arm, index) => {
    const pointer = `/arms/${index}`;
    const [didNotReceive, lost, discontinued, excluded] = ARM_REASONED_COUNTS.map((key) => ({
      group: arm[key],
      pointer: `${pointer}/${key}`,
    })) as [
      { group: ConsortReasonedCount; pointer: string },
      { group: ConsortReasonedCount; pointer: string },
      { group: ConsortReasonedCount; pointer: string },
      { group: ConsortReasonedCount; pointer: string },
    ];
    return {
      allocation: {
        id: `arm${index}_allocation`,
        entries: [
          { label: `Allocated to ${arm.arm}`, count: arm.allocated, pointer: `${pointer}/allocated`, level: 0 },
          {
            label: 'Received allocated intervention',
            count: arm.receivedAllocatedIntervention,
            pointer: `${pointer}/receivedAllocatedIntervention`,
            level: 1,
          },
          {
            label: 'Did not receive allocated intervention',
            count: didNotReceive.group.total,
            pointer: `${didNotReceive.pointer}/total`,
            level: 1,
          },
          ...reasonEntries(didNotReceive.group, didNotReceive.pointer, 2),
        ],
      },
      followUp: {
        id: `arm${index}_followup`,
        entries: [
          { label: 'Lost to follow-up', count: lost.group.total, pointer: `${lost.pointer}/total`, level: 0 },
          ...reasonEntries(lost.group, lost.pointer, 1),
          {
            label: 'Discontinued intervention',
            count: discontinued.group.total,
            pointer: `${discontinued.pointer}/total`,
            level: 0,
          },
          ...reasonEntries(discontinued.group, discontinued.pointer, 1),
        ],
      },
      analysis: {
        id: `arm${index}_analysis`,
        entries: [
          { label: 'Analysed', count: arm.analysed, pointer: `${pointer}/analysed`, level: 0 },
          {
            label: 'Excluded from analysis',
            count: excluded.group.total,
            pointer: `${excluded.pointer}/total`,
            level: 1,
          },
          ...reasonEntries(excluded.group, excluded.pointer, 2),
        ],
      },
    };
  });
}

const ROW_LABELS = {
  enrollment: 'Enrollment',
  allocation: 'Allocation',
  followup: 'Follow-up',
  analysis: 'Analysis',
} as const;

type RowName = keyof typeof ROW_LABELS;

interface Layout {
  width: number;
  height: number;
  headerLines: string[];
  subtitle: string;
  rowLabels: { row: RowName; centreY: number }[];
  boxes: PlacedBox[];
  arrows: { points: Point[]; arrowhead: boolean }[];
}

const ARM_ROWS = ['allocation', 'followUp', 'analysis'] as const;

const ROW_LABEL_FOR_ARM_ROW: Record<(typeof ARM_ROWS)[number], RowName> = {
  allocation: 'allocation',
  followUp: 'followup',
  analysis: 'analysis',
};

function layOut(report: ConsortReport, title: string | undefined): Layout {
  const enrollment = enrollmentBoxes(report);
  const arms = armBoxes(report);
  const armCount = Math.max(arms.length, 1);
  const armsLeft = MARGIN + ROW_LABEL_WIDTH + COLUMN_GAP;
  const armsRight = armsLeft + armCount * ARM_BOX_WIDTH + (armCount - 1) * COLUMN_GAP;
  const trunkX = Math.round((armsLeft + armsRight) / 2);
  const sideLeft = trunkX + SIDE_BOX_OFFSET;
  const sideWidth = Math.max(SIDE_BOX_MIN_WIDTH, armsRight - sideLeft);
  const width = Math.max(armsRight, sideLeft + sideWidth) + MARGIN;

  const headerLines =
    title === undefined ? [] : wrapText(title, (width - 2 * MARGIN) / BOLD_WIDTH_FACTOR, TITLE_FONT_SIZE);
  const subtitle =
    report.receivedRule === 'sessions_and_events'
      ? `Counts as of ${report.asOf}; received intervention = at least the arm's minimum sessions in its period`
      : `Counts as of ${report.asOf}`;
  let y = MARGIN + headerLines.length * TITLE_LINE_HEIGHT + LINE_HEIGHT + VERTICAL_GAP / 2;

  const boxes: PlacedBox[] = [];
  const arrows: Layout['arrows'] = [];
  const place = (box: Box, x: number, top: number, boxWidth: number, height = boxHeight(box, boxWidth)): PlacedBox => {
    const placed = { box, x, y: top, width: boxWidth, height };
    boxes.push(placed);
    return placed;
  };
  const centreLeft = trunkX - CENTRE_BOX_WIDTH / 2;

  const assessed = place(enrollment.assessed, centreLeft, y, CENTRE_BOX_WIDTH);
  y = assessed.y + assessed.height + VERTICAL_GAP;
  const sideBoxes = [enrollment.excluded, enrollment.pending].flatMap((box) => (box === null ? [] : [box]));
  for (const box of sideBoxes) {
    const placed = place(box, sideLeft, y, sideWidth);
    const arrowY = Math.round(placed.y + placed.height / 2);
    arrows.push({
      points: [
        [trunkX, arrowY],
        [sideLeft, arrowY],
      ],
      arrowhead: true,
    });
    y = placed.y + placed.height + VERTICAL_GAP / 2;
  }
  y += VERTICAL_GAP / 2;
  const randomized = place(enrollment.randomized, centreLeft, y, CENTRE_BOX_WIDTH);
  arrows.push({
    points: [
      [trunkX, assessed.y + assessed.height],
      [trunkX, randomized.y],
    ],
    arrowhead: true,
  });

  const rowLabels: Layout['rowLabels'] = [{ row: 'enrollment', centreY: assessed.y + assessed.height / 2 }];
  const armCentre = (index: number): number => armsLeft + index * (ARM_BOX_WIDTH + COLUMN_GAP) + ARM_BOX_WIDTH / 2;
  const splitY = randomized.y + randomized.height + VERTICAL_GAP / 2;
  if (arms.length > 0) {
    arrows.push({
      points: [
        [trunkX, randomized.y + randomized.height],
        [trunkX, splitY],
      ],
      arrowhead: false,
    });
    arrows.push({
      points: [
        [armCentre(0), splitY],
        [armCentre(arms.length - 1), splitY],
      ],
      arrowhead: false,
    });
  }
  y = splitY + VERTICAL_GAP / 2;
  for (const row of ARM_ROWS) {
    // Boxes of one row share a height so the arrows between rows line up.
    const height = Math.max(0, ...arms.map((arm) => boxHeight(arm[row], ARM_BOX_WIDTH)));
    arms.forEach((arm, index) => {
      const placed = place(arm[row], armCentre(index) - ARM_BOX_WIDTH / 2, y, ARM_BOX_WIDTH, height);
      const from: Point = row === 'allocation' ? [armCentre(index), splitY] : [armCentre(index), y - VERTICAL_GAP];
      arrows.push({ points: [from, [armCentre(index), placed.y]], arrowhead: true });
    });
    rowLabels.push({ row: ROW_LABEL_FOR_ARM_ROW[row], centreY: y + height / 2 });
    y += height + VERTICAL_GAP;
  }
  return {
    width,
    height: y - VERTICAL_GAP + MARGIN,
    headerLines,
    subtitle,
    rowLabels,
    boxes,
    arrows,
  };
}

/**
 * Attribute values are always double-quoted, so apostrophes need no escaping. XML 1.0 cannot carry most
 * control characters or lone surrogates even escaped; they become U+FFFD.
 */
function escapeXml(text: string): string {
  return text
    .replace(
      // eslint-disable-next-line no-control-regex -- matching the control characters XML 1.0 cannot carry is the point
      /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      '\ufffd',
    )
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** Coordinates are integers or halves; printing them this way keeps the output byte-for-byte stable. */
function coordinate(value: number): string {
  return String(Math.round(value * 2) / 2);
}

function renderBox(placed: PlacedBox): string {
  const parts = [
    `<g data-box="${escapeXml(placed.box.id)}">`,
    `<rect x="${coordinate(placed.x)}" y="${coordinate(placed.y)}" width="${coordinate(placed.width)}" height="${coordinate(placed.height)}" fill="#fff" stroke="#000"/>`,
  ];
  let lineIndex = 0;
  for (const { entry, lines } of wrapBox(placed.box, placed.width)) {
    const textX = placed.x + BOX_PADDING + entry.level * LEVEL_INDENT;
    lines.forEach((line, index) => {
      const baseline = placed.y + BOX_PADDING + lineIndex * LINE_HEIGHT + BASELINE_OFFSET;
      const bullet = BULLETS[entry.level];
      if (index === 0 && bullet !== '') {
        parts.push(`<text x="${coordinate(textX - BULLET_HANG)}" y="${coordinate(baseline)}">${bullet}</text>`);
      }
      const count =
        line.count === undefined
          ? ''
          : `${line.text === '' ? '' : ' '}(<tspan data-pointer="${escapeXml(line.count.pointer)}">${countText(line.count.value)}</tspan>)`;
      parts.push(`<text x="${coordinate(textX)}" y="${coordinate(baseline)}">${escapeXml(line.text)}${count}</text>`);
      lineIndex += 1;
    });
  }
  parts.push('</g>');
  return parts.join('\n');
}

function renderArrow(points: readonly Point[], arrowhead: boolean): string {
  const end = points[points.length - 1];
  const beforeEnd = points[points.length - 2];
  if (end === undefined || beforeEnd === undefined) return '';
  if (!arrowhead) {
    return `<path d="${points.map(([x, y], index) => `${index === 0 ? 'M' : 'L'}${coordinate(x)} ${coordinate(y)}`).join(' ')}"/>`;
  }
  const length = Math.hypot(end[0] - beforeEnd[0], end[1] - beforeEnd[1]);
  const [unitX, unitY] = [(end[0] - beforeEnd[0]) / length, (end[1] - beforeEnd[1]) / length];
  // The shaft stops at the base of the head so that its square end does not poke through the tip.
  const base: Point = [end[0] - unitX * ARROWHEAD_LENGTH, end[1] - unitY * ARROWHEAD_LENGTH];
  const shaft = [...points.slice(0, -1), base];
  const corners: Point[] = [
    end,
    [base[0] - unitY * ARROWHEAD_HALF_WIDTH, base[1] + unitX * ARROWHEAD_HALF_WIDTH],
    [base[0] + unitY * ARROWHEAD_HALF_WIDTH, base[1] - unitX * ARROWHEAD_HALF_WIDTH],
  ];
  return [
    `<path d="${shaft.map(([x, y], index) => `${index === 0 ? 'M' : 'L'}${coordinate(x)} ${coordinate(y)}`).join(' ')}"/>`,
    `<polygon points="${corners.map(([x, y]) => `${coordinate(x)},${coordinate(y)}`).join(' ')}" fill="#000" stroke="none"/>`,
  ].join('\n');
}

export interface ConsortSvgOptions {
  /** Shown above the diagram, e.g. the trial's title. */
  title?: string;
}

/** A standalone SVG document; the same report always gives the same string. */
export function renderConsortSvg(report: ConsortReport, options: ConsortSvgOptions = {}): string {
  const layout = layOut(report, options.title);
  const header = layout.headerLines.map(
    (line, index) =>
      `<text x="${MARGIN}" y="${coordinate(MARGIN + index * TITLE_LINE_HEIGHT + TITLE_FONT_SIZE)}" font-size="${TITLE_FONT_SIZE}" font-weight="bold">${escapeXml(line)}</text>`,
  );
  const subtitleBaseline = MARGIN + layout.headerLines.length * TITLE_LINE_HEIGHT + BASELINE_OFFSET;
  const rowLabels = layout.rowLabels.map(({ row, centreY }) =>
    [
      `<g data-row="${row}">`,
      `<rect x="${MARGIN}" y="${coordinate(centreY - ROW_LABEL_HEIGHT / 2)}" width="${ROW_LABEL_WIDTH}" height="${ROW_LABEL_HEIGHT}" rx="6" fill="#fff" stroke="#000"/>`,
      `<text x="${coordinate(MARGIN + ROW_LABEL_WIDTH / 2)}" y="${coordinate(centreY + FONT_SIZE / 2 - 2)}" text-anchor="middle" font-weight="bold">${ROW_LABELS[row]}</text>`,
      '</g>',
    ].join('\n'),
  );
  const documentTitle = options.title ?? `CONSORT flow diagram, trial ${report.trialId}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${coordinate(layout.width)}" height="${coordinate(layout.height)}" viewBox="0 0 ${coordinate(layout.width)} ${coordinate(layout.height)}" font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}" fill="#000">`,
    `<title>${escapeXml(documentTitle)}</title>`,
    `<rect width="${coordinate(layout.width)}" height="${coordinate(layout.height)}" fill="#fff"/>`,
    ...header,
    `<text x="${MARGIN}" y="${coordinate(subtitleBaseline)}">${escapeXml(layout.subtitle)}</text>`,
    ...rowLabels,
    `<g stroke="#000" fill="none">`,
    ...layout.arrows.map((arrow) => renderArrow(arrow.points, arrow.arrowhead)),
    '</g>',
    ...layout.boxes.map(renderBox),
    '</svg>',
    '',
  ].join('\n');
}

/** Backslashes and quotes escaped; a lone backslash would otherwise start a Graphviz escape such as `\N`. */
function escapeDot(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** Lines left-justified (`\l`), wrapped as in the SVG so both keep the same shape. */
function dotLabel(box: Box, width: number): string {
  const lines = wrapBox(box, width).flatMap(({ entry, lines: wrapped }) =>
    wrapped.map((line, index) => {
      const indent = '  '.repeat(entry.level);
      const bullet = BULLETS[entry.level];
      const prefix = entry.level === 0 ? '' : index === 0 ? `${indent.slice(2)}${bullet} ` : `${indent}`;
      const count = line.count === undefined ? '' : `${line.text === '' ? '' : ' '}(${countText(line.count.value)})`;
      return `${prefix}${line.text}${count}`;
    }),
  );
  return `"${lines.map(escapeDot).join('\\l')}\\l"`;
}

/** Graphviz DOT of the same boxes and arrows; render with `dot -Tpng consort.dot -o consort.png`. */
export function renderConsortDot(report: ConsortReport): string {
  // The SVG layout supplies each box's width, so labels wrap where they do in the SVG.
  const layout = layOut(report, undefined);
  const enrollment = enrollmentBoxes(report);
  const arms = armBoxes(report);
  const nodes = layout.boxes.map((placed) => `  ${placed.box.id} [label=${dotLabel(placed.box, placed.width)}];`);
  const sideBoxes = [enrollment.excluded, enrollment.pending].flatMap((box) => (box === null ? [] : [box]));
  // Invisible points on the trunk let the side boxes hang off it to the right, as in the template.
  const trunkPoints = sideBoxes.map((box) => `trunk_${box.id}`);
  const trunk = ['assessed', ...trunkPoints, 'randomized'];
  const rank = (name: string, members: readonly string[]): string =>
    `  subgraph ${name} { rank=same; ${members.map((member) => `${member};`).join(' ')} }`;
  return [
    'digraph consort {',
    '  rankdir=TB;',
    '  nodesep=0.4;',
    '  ranksep=0.3;',
    '  node [shape=box, fontname="Helvetica", fontsize=10];',
    '  edge [arrowsize=0.7];',
    ...Object.entries(ROW_LABELS).map(
      ([row, label]) => `  row_${row} [label="${escapeDot(label)}", style="rounded,bold"];`,
    ),
    `  ${Object.keys(ROW_LABELS)
      .map((row) => `row_${row}`)
      .join(' -> ')} [style=invis];`,
    ...trunkPoints.map((point) => `  ${point} [shape=point, width=0.01, label=""];`),
    ...nodes,
    ...trunk.slice(0, -1).map((from, index) => {
      const to = trunk[index + 1];
      return `  ${from} -> ${to}${to === 'randomized' ? '' : ' [arrowhead=none]'};`;
    }),
    ...sideBoxes.map((box) => `  trunk_${box.id} -> ${box.id};`),
    ...arms.flatMap((arm) => [
      `  randomized -> ${arm.allocation.id};`,
      `  ${arm.allocation.id} -> ${arm.followUp.id};`,
      `  ${arm.followUp.id} -> ${arm.analysis.id};`,
    ]),
    rank('rank_enrollment', ['row_enrollment', 'assessed']),
    ...sideBoxes.map((box) => rank(`rank_${box.id}`, [`trunk_${box.id}`, box.id])),
    ...ARM_ROWS.map((row) =>
      rank(`rank_${ROW_LABEL_FOR_ARM_ROW[row]}`, [
        `row_${ROW_LABEL_FOR_ARM_ROW[row]}`,
        ...arms.map((arm) => arm[row].id),
      ]),
    ),
    '}',
    '',
  ].join('\n');
}
