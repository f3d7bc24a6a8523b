/** Printable HTML of the DMC reports (pure): one page, plain tables, every figure from the JSON report. */
import type { components } from '../../generated/openapi';

type OpenReport = components['schemas']['DmcOpenReport'];
type ClosedReport = components['schemas']['DmcClosedReport'];

const escape = (value: unknown) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const head = headers.map((h) => `<th>${escape(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c ?? '')}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function page(title: string, sections: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:0.5em 0 1.5em}
th,td{border:1px solid #999;padding:2px 8px;text-align:left}td{font-variant-numeric:tabular-nums}
@media print{h2{break-before:auto}}</style></head>
<body>
<h1>${escape(title)}</h1>
${sections.join('\n')}
</body></html>
`;
}

const pct = (n: number, d: number) => (d > 0 ? `${n} (${((100 * n) / d).toFixed(1)}%)` : String(n));
const fixed = (x: number) => x.toFixed(3);

export function renderOpenReport(r: OpenReport): string {
  const ae = r.adverseEvents;
  return page(`DMC open report — ${r.trialCode} — as of ${r.asOf}`, [
    '<p>Pooled across arms.</p>',
    '<h2>Recruitment by site</h2>',
    table(
      ['Site', 'Month', 'Screened', 'Randomized'],
      r.recruitment.flatMap((s) => [
        ...s.byMonth.map((m) => [s.siteCode, m.month, m.screened, m.randomized]),
        [s.siteCode, 'total', s.screened, s.randomized],
      ]),
    ),
    '<h2>Retention and visit completeness</h2>',
    table(
      ['Visit', 'Site', 'Randomized', 'Expected', 'Completed', 'Missed', 'Overdue'],
      r.followUp.map((v) => [v.visit, v.siteCode, v.randomized, v.expected, v.completed, v.missed, v.overdue]),
    ),
    '<h2>Data queries</h2>',
    table(
      ['Site', 'Open', 'Answered', 'Closed'],
      r.queries.bySite.map((s) => [s.siteCode, s.open, s.answered, s.closed]),
    ),
    `<p>Oldest open query: ${r.queries.oldestOpenDays === null ? 'none open' : `${r.queries.oldestOpenDays} days`}.
Safety reports due: ${r.safetyReports.due}; late: ${r.safetyReports.late}.</p>`,
    '<h2>Adverse events (pooled)</h2>',
    table(
      ['', 'Participants', 'Events'],
      [
        ['Any adverse event', ae.participantsWithEvent, ae.events],
        ['Any serious adverse event', ae.participantsWithSeriousEvent, ae.seriousEvents],
      ],
    ),
    table(
      ['Term', 'Severity', 'Participants', 'Events'],
      ae.terms.map((t) => [t.term, t.severity ?? 'all', t.participants, t.events]),
    ),
  ]);
}

export function renderClosedReport(r: ClosedReport): string {
  const arms = r.harms.arms;
  const terms = [...new Set(arms.flatMap((a) => a.terms.map((t) => `${t.term}\u0000${t.severity ?? ''}`)))];
  return page(`DMC closed report — ${r.trialCode} — as of ${r.asOf}`, [
    '<p><strong>Closed session: by arm. Not for blinded readers.</strong></p>',
    '<h2>CONSORT</h2>',
    table(
      ['', ...r.consort.arms.map((a) => a.arm)],
      [
        ['Allocated', ...r.consort.arms.map((a) => a.allocated)],
        ['Lost to follow-up', ...r.consort.arms.map((a) => a.lostToFollowUp.total)],
        ['Discontinued', ...r.consort.arms.map((a) => a.discontinuedIntervention.total)],
        ['Analysed', ...r.consort.arms.map((a) => a.analysed)],
      ],
    ),
    '<h2>Harms (CONSORT item 19)</h2>',
    table(
      ['', ...arms.map((a) => a.arm)],
      [
        ['Participants at risk', ...arms.map((a) => a.atRisk)],
        ['With ≥1 adverse event', ...arms.map((a) => pct(a.participantsWithEvent, a.atRisk))],
        ['With ≥1 serious adverse event', ...arms.map((a) => pct(a.participantsWithSeriousEvent, a.atRisk))],
        ['Adverse events', ...arms.map((a) => a.events)],
        ['Serious adverse events', ...arms.map((a) => a.seriousEvents)],
      ],
    ),
    table(
      ['Term', 'Severity', ...arms.map((a) => `${a.arm}: participants (events)`)],
      terms.map((key) => {
        const [term, severity] = key.split('\u0000');
        return [
          term,
          severity || 'all',
          ...arms.map((a) => {
            const t = a.terms.find((x) => x.term === term && (x.severity ?? '') === severity);
            return t ? `${pct(t.participants, a.atRisk)} (${t.events})` : '0';
          }),
        ];
      }),
    ),
    r.harms.riskDifferences.length
      ? table(
          ['Outcome', 'Risk difference', `${(r.harms.confidenceLevel * 100).toFixed(0)}% CI (${r.harms.method})`],
          r.harms.riskDifferences.map((d) => [
            `${d.outcome} (${d.first.arm} ${d.first.participants}/${d.first.atRisk} vs ${d.second.arm} ${d.second.participants}/${d.second.atRisk})`,
            fixed(d.estimate),
            `${fixed(d.lower)} to ${fixed(d.upper)}`,
          ]),
        )
      : '<p>Risk differences are given for two arms only.</p>',
  ]);
}
