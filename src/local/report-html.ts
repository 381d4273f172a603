import type { ReportData, Row } from './report-data.js';

/**
 * Renders the report as one self-contained HTML page: the tables as HTML (exact numbers, readable without
 * script and in print), the charts drawn in the browser by Chart.js from the aggregates embedded as JSON.
 * Nothing is fetched: scripts, styles and data are inline, and the page's Content-Security-Policy forbids any
 * network request, so a page that tried would fail loudly rather than leak.
 */

/** The page's inline assets: the chart library (and its matrix plugin), our script and our styles. */
export interface ReportAssets {
  readonly libraries: readonly string[];
  readonly script: string;
  readonly style: string;
}

/** `int`: a count, grouped by thousands; `id`: a number that names something (a port, an AS), as it is. */
type Kind = 'text' | 'int' | 'id' | 'time';

interface Column {
  readonly key: string;
  readonly label: string;
  readonly kind?: Kind;
}

interface Table {
  readonly id: string;
  readonly columns: readonly Column[];
  /** What the table lists (and the named query it is, where it is one). */
  readonly caption: string;
  readonly rows: readonly Row[];
  readonly empty?: string;
}

interface Chart {
  readonly id: string;
  /** The one-line question the chart answers. */
  readonly caption: string;
  readonly wide?: boolean;
  readonly tall?: boolean;
}

interface Section {
  readonly title: string;
  readonly charts: readonly Chart[];
  readonly tables: readonly Table[];
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  // `://` as an entity: a URL in the data (an error message, a tag) shows as itself but names no address.
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string).replaceAll('://', ':&#47;&#47;');
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` escaped so that no value (a tag,
 * an error message from the input) can close the element, and the line separators JavaScript once refused.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replaceAll('://', ':\\/\\/')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * A library's code made fit to inline: URLs in its comments (the licence banner's home page) are cut to
 * their host-less rest, so the page names no address; a URL in code, or a `</script`, is refused.
 */
export function inlineScript(code: string, name: string): string {
  const cleaned = code.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/https?:\/\//g, ''));
  const url = /https?:\/\//.exec(cleaned);
  if (url) throw new Error(`${name}: a URL in code at offset ${url.index}; the report must not name one`);
  if (/<\/script/i.test(cleaned)) throw new Error(`${name}: contains "</script"; it cannot be inlined`);
  return cleaned;
}

export function formatInt(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  const n = Number(value);
  return Number.isFinite(n) ? n.toLocaleString('en-US') : String(value);
}

/** Epoch seconds → `YYYY-MM-DD HH:MM:SS` (UTC). */
export function formatTime(value: unknown): string {
  if (value === null || value === undefined) return '';
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  return new Date(n * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

function cell(value: unknown, kind: Kind = 'text'): string {
  if (kind === 'int') return `<td class="num">${escapeHtml(formatInt(value))}</td>`;
  if (kind === 'id')
    return `<td class="num">${escapeHtml(value === null || value === undefined ? '' : String(value))}</td>`;
  if (kind === 'time') return `<td class="time">${escapeHtml(formatTime(value))}</td>`;
  if (value === null || value === undefined) return '<td></td>';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return `<td>${escapeHtml(text)}</td>`;
}

function renderTable(table: Table): string {
  const head = table.columns
    .map(
      (c) =>
        `<th scope="col"${c.kind === 'int' || c.kind === 'id' ? ' class="num"' : ''}>${escapeHtml(c.label)}</th>`,
    )
    .join('');
  const body =
    table.rows.length === 0
      ? `<tr><td colspan="${table.columns.length}" class="empty">${escapeHtml(table.empty ?? 'none')}</td></tr>`
      : table.rows
          .map((row) => `<tr>${table.columns.map((c) => cell(row[c.key], c.kind)).join('')}</tr>`)
          .join('\n');
  const keys = escapeHtml(table.columns.map((c) => c.key).join(','));
  return `<table id="${table.id}" data-keys="${keys}"><caption>${escapeHtml(table.caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function renderChart(chart: Chart): string {
  const classes = ['chart', chart.wide ? 'wide' : '', chart.tall ? 'tall' : ''].filter(Boolean).join(' ');
  return `<figure class="${classes}"><div class="canvas-box"><canvas id="${chart.id}" role="img" aria-label="${escapeHtml(chart.caption)}"></canvas></div><figcaption>${escapeHtml(chart.caption)}</figcaption></figure>`;
}

function sections(data: ReportData): Section[] {
  const int = (key: string, label: string): Column => ({ key, label, kind: 'int' });
  const text = (key: string, label: string): Column => ({ key, label });
  const binText = describeBin(data.traffic.binSeconds);
  return [
    {
      title: '1. Traffic over time',
      charts: [
        {
          id: 'chart-traffic-bytes',
          caption: `When did the bytes move, and through which tier? Bytes per ${binText} by the logging interface's tier; triangles mark flagged flows.`,
          wide: true,
        },
        {
          id: 'chart-traffic-flows',
          caption: `When were flows accepted or rejected? Flows per ${binText} by action; triangles mark flagged flows.`,
          wide: true,
        },
      ],
      tables: [],
    },
    {
      title: '2. Tier to tier',
      charts: [
        {
          id: 'chart-matrix',
          caption:
            'Which tiers, AWS services and outside peers talk to which? Connections (counted once, where received) from row to column; colour by connections, log scale.',
          wide: true,
          tall: true,
        },
      ],
      tables: [
        {
          id: 'table-matrix',
          caption: 'Connections between tiers (queries/tier-matrix.sql, outside peers split by AWS service)',
          columns: [
            text('src_tier', 'from'),
            text('dst_tier', 'to'),
            int('flows', 'connections'),
            int('total_bytes', 'bytes'),
          ],
          rows: data.matrix,
        },
      ],
    },
    {
      title: '3. Top talkers and rejected ports',
      charts: [
        { id: 'chart-talkers', caption: 'Which address pairs moved the most bytes?' },
        { id: 'chart-rejected-ports', caption: 'Which destination ports were refused most often?' },
      ],
      tables: [
        {
          id: 'table-talkers',
          caption: 'Top talkers (queries/top-talkers.sql)',
          columns: [
            text('srcaddr', 'source'),
            text('dstaddr', 'destination'),
            int('total_bytes', 'bytes'),
            int('total_packets', 'packets'),
            int('flows', 'flows'),
          ],
          rows: data.topTalkers,
        },
        {
          id: 'table-rejected-ports',
          caption: 'Top rejected destination ports',
          columns: [
            { key: 'dstport', label: 'port', kind: 'id' },
            text('protocol_name', 'protocol'),
            int('attempts', 'rejected flows'),
            int('sources', 'sources'),
            int('targets', 'targets'),
          ],
          rows: data.rejectedPorts,
          empty: 'no rejected flows',
        },
      ],
    },
    {
      title: '4. Flagged flows',
      charts: [
        {
          id: 'chart-flags',
          caption:
            'What did the detection rules find, and how severe is it? Flagged flows by rule and severity.',
          wide: true,
        },
      ],
      tables: [
        {
          id: 'table-flags',
          caption: 'Flagged flows by rule and severity',
          columns: [text('flag', 'flag'), text('severity', 'severity'), int('flows', 'flows')],
          rows: data.flags,
          empty: 'no flagged flows',
        },
        {
          id: 'table-severe',
          caption: 'The most severe flagged flows, by source and destination',
          columns: [
            text('severity', 'severity'),
            text('flags', 'flags'),
            text('srcaddr', 'source'),
            text('dstaddr', 'destination'),
            int('dstports', 'dst ports'),
            text('some_dstports', 'ports (first 5)'),
            text('tier', 'tier'),
            int('flows', 'flows'),
            int('total_bytes', 'bytes'),
            { key: 'first_seen', label: 'first seen (UTC)', kind: 'time' },
            { key: 'last_seen', label: 'last seen (UTC)', kind: 'time' },
          ],
          rows: data.severeFlows,
          empty: 'no flagged flows',
        },
      ],
    },
    {
      title: '5. AWS services and outside peers',
      charts: [
        { id: 'chart-services', caption: 'Which AWS services are the bytes exchanged with?' },
        {
          id: 'chart-peers',
          caption: 'Which countries do outside (non-AWS) peers sit in, by bytes? unknown: in no database.',
        },
      ],
      tables: [
        {
          id: 'table-services',
          caption: 'Traffic per AWS service (queries/traffic-per-aws-service.sql)',
          columns: [text('aws_service', 'AWS service'), int('flows', 'flows'), int('total_bytes', 'bytes')],
          rows: data.services,
          empty: 'no traffic with AWS services',
        },
        {
          id: 'table-peer-countries',
          caption: 'External peers by country',
          columns: [text('country', 'country'), int('flows', 'flows'), int('total_bytes', 'bytes')],
          rows: data.peerCountries,
          empty: 'no external peers',
        },
        {
          id: 'table-peer-asns',
          caption: 'External peers by autonomous system',
          columns: [
            { key: 'peer_asn', label: 'ASN', kind: 'id' },
            text('peer_as_org', 'organisation'),
            text('countries', 'country'),
            int('flows', 'flows'),
            int('total_bytes', 'bytes'),
          ],
          rows: data.peerAsns,
          empty: 'no external peer with a known AS',
        },
      ],
    },
    {
      title: '6. Run health',
      charts: [
        {
          id: 'chart-results',
          caption:
            'Did every line make it? Lines by result (Ok rows in flowlogs/, ProcessingFailed under errors/).',
        },
        {
          id: 'chart-enrichment',
          caption: 'Did every flow get its interface, subnet and tier? Enrichment status.',
        },
      ],
      tables: [
        {
          id: 'table-results',
          caption: 'Lines by result',
          columns: [text('result', 'result'), int('records', 'lines')],
          rows: data.health.results,
        },
        {
          id: 'table-enrichment',
          caption: 'Flows by enrichment status',
          columns: [text('enrichment_status', 'enrichment'), int('flows', 'flows')],
          rows: data.health.enrichment,
        },
        {
          id: 'table-failures',
          caption: 'Why lines failed (errors/)',
          columns: [text('reason', 'why lines failed'), int('records', 'lines'), text('example', 'example')],
          rows: data.health.failureReasons,
          empty: 'no failed lines',
        },
      ],
    },
  ];
}

function describeBin(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? 'day' : `${seconds / 86_400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? 'hour' : `${seconds / 3600} hours`;
  return seconds === 60 ? 'minute' : `${seconds / 60} minutes`;
}

function describePeriod(data: ReportData): string {
  const { first, last, from, to } = data.period;
  const covered = first === null ? 'no flows' : `${formatTime(first)} to ${formatTime(last)} UTC`;
  const filter = from || to ? ` (--from ${from ?? 'start'} --to ${to ?? 'end'})` : '';
  return `${covered}${filter}`;
}

/** The whole page. */
export function renderReport(
  data: ReportData,
  assets: ReportAssets,
  title = 'flowlog-enrich report',
): string {
  const body = sections(data)
    .map(
      (section) =>
        `<section><h2>${escapeHtml(section.title)}</h2>\n<div class="charts">${section.charts.map(renderChart).join('')}</div>\n${section.tables.map(renderTable).join('\n')}</section>`,
    )
    .join('\n');
  const libraries = assets.libraries.map((code) => `<script>${code}</script>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<style>${assets.style}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="period">${escapeHtml(describePeriod(data))}</p>
<dl class="totals">
<div><dt>flows</dt><dd id="total-flows">${formatInt(data.totals.flows)}</dd></div>
<div><dt>bytes</dt><dd id="total-bytes">${formatInt(data.totals.bytes)}</dd></div>
<div><dt>flagged flows</dt><dd id="total-flagged">${formatInt(data.totals.flagged)}</dd></div>
</dl>
</header>
<main>
${body}
</main>
<footer>Made by flowlog-enrich report from what <code>run</code> wrote; DuckDB computed every number. Charts: Chart.js and chartjs-chart-matrix (MIT).</footer>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
${libraries}
<script>${assets.script}</script>
</body>
</html>
`;
}
