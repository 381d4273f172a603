import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { openFlowLogs } from '../local/duckdb.js';
import {
  coverWholePeriod,
  type ReportData,
  type ReportNamedQueries,
  reportData,
  restrictPeriod,
} from '../local/report-data.js';
import { inlineScript, type ReportAssets, renderReport } from '../local/report-html.js';
import { type CliContext, UsageError } from './context.js';
import { projectRoot } from './project-root.js';
import { namedQueries, viewDefinitions } from './query.js';

export interface ReportFlags {
  readonly out: string;
  /** The page's file name, under `out` (an absolute path is used as it is). */
  readonly file?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface ReportResult {
  readonly path: string;
  readonly bytes: number;
  readonly data: ReportData;
}

/** `--from`/`--to`: a date (`2026-11-23`, midnight UTC) or an ISO date and time (UTC unless it says). */
export function parseTime(text: string, flag: string): number {
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
  if (!iso.test(text)) throw new UsageError(`${flag} must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]`);
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/.test(text) || text.length === 10 ? text : `${text}Z`;
  const ms = Date.parse(zoned.replace(' ', 'T'));
  if (Number.isNaN(ms)) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a valid date`);
  return ms / 1000;
}

/** Chart.js's browser build and the matrix plugin's, and the page's own script and styles. */
export function reportAssets(): ReportAssets {
  const require = createRequire(import.meta.url);
  // chart.js exports no subpath for its UMD build: it sits beside the CommonJS entry point.
  const chartJs = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  const matrix = join(
    dirname(require.resolve('chartjs-chart-matrix/package.json')),
    'dist',
    'chartjs-chart-matrix.min.js',
  );
  const local = join(projectRoot(), 'src', 'local');
  return {
    libraries: [
      inlineScript(readFileSync(chartJs, 'utf8'), 'chart.js'),
      inlineScript(readFileSync(matrix, 'utf8'), 'chartjs-chart-matrix'),
    ],
    script: inlineScript(readFileSync(join(local, 'report-page.js'), 'utf8'), 'report-page.js'),
    style: readFileSync(join(local, 'report-page.css'), 'utf8'),
  };
}

/**
 * `flowlog-enrich report`: one self-contained HTML page of charts and tables over what `run` wrote under
 * `--out`, every number from DuckDB (the named queries' SQL where the stack has one).
 */
export async function report(flags: ReportFlags, ctx: CliContext): Promise<ReportResult> {
  if (!existsSync(join(flags.out, 'flowlogs')))
    throw new UsageError(
      `${flags.out} has no flowlogs/: run \`flowlog-enrich run --out ${flags.out}\` first`,
    );
  const from = flags.from === undefined ? undefined : parseTime(flags.from, '--from');
  const to = flags.to === undefined ? undefined : parseTime(flags.to, '--to');
  if (from !== undefined && to !== undefined && from >= to)
    throw new UsageError('--from must be before --to');
  const byName = new Map(namedQueries().map((q) => [q.name, q.sql]));
  const named = (name: keyof ReportNamedQueries) => {
    const sql = byName.get(name);
    if (!sql) throw new Error(`queries/${name}.sql is missing`);
    return sql;
  };
  const assets = reportAssets();
  const db = await openFlowLogs(flags.out, undefined, viewDefinitions());
  let data: ReportData;
  try {
    await restrictPeriod(db, {
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    });
    await coverWholePeriod(db);
    data = await reportData(
      db,
      flags.out,
      { 'top-talkers': named('top-talkers'), 'traffic-per-aws-service': named('traffic-per-aws-service') },
      {
        ...(from === undefined ? {} : { from, fromText: flags.from }),
        ...(to === undefined ? {} : { to, toText: flags.to }),
      },
    );
  } finally {
    db.close();
  }
  const html = renderReport(data, assets);
  const path = resolve(flags.out, flags.file ?? 'report.html');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, html);
  const bytes = Buffer.byteLength(html);
  ctx.stdout(
    `report: ${data.totals.flows.toLocaleString('en-US')} flows, ${data.totals.flagged.toLocaleString('en-US')} flagged, ${(bytes / 1024).toFixed(0)} KB; open it in a browser:\n${path}\n`,
  );
  return { path, bytes, data };
}
