import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowLogsDatabase } from './duckdb.js';

/**
 * The aggregates behind `flowlog-enrich report`, computed by DuckDB over what `run` wrote. Only aggregates
 * leave this module, each list bounded (the limits below), so the page's size does not grow with the input.
 * Where the stack has a named query for a section (queries/*.sql), its text is run unchanged.
 */

/** Upper bounds on what the page embeds: the report's size depends on these, never on the input's size. */
export const REPORT_LIMITS = {
  /** Time bins of the traffic charts: the bin widens (1 min, 5 min, 15 min, 1 h, … days) to stay under it. */
  bins: 360,
  /** Tiers stacked in the traffic chart; the rest are summed as `other`. */
  tiers: 8,
  /** Cells of the tier-to-tier heat map. */
  matrixCells: 400,
  rejectedPorts: 20,
  flags: 60,
  severeFlows: 25,
  services: 30,
  peers: 20,
  failureReasons: 20,
} as const;

/** Widths of a time bin, in seconds, tried in order; past the last, whole days. */
const BIN_WIDTHS = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86_400];

export type Row = Record<string, unknown>;

export interface ReportData {
  /** The period the report covers: the flows' first start and last end (epoch seconds), and the filter. */
  readonly period: {
    readonly first: number | null;
    readonly last: number | null;
    readonly from: string | null;
    readonly to: string | null;
  };
  readonly totals: { readonly flows: number; readonly bytes: number; readonly flagged: number };
  readonly traffic: {
    /** Seconds per bin. */
    readonly binSeconds: number;
    /** Bin starts, epoch seconds, every bin of the period (empty ones included). */
    readonly bins: number[];
    readonly tiers: { readonly name: string; readonly bytes: number[] }[];
    readonly actions: { readonly name: string; readonly flows: number[] }[];
    /** Flagged flows per bin, by highest severity. */
    readonly flagged: { readonly severity: string; readonly flows: number[] }[];
  };
  /** Tier-to-tier traffic (tier-matrix's counting, external peers split by AWS service where known). */
  readonly matrix: Row[];
  /** queries/top-talkers.sql. */
  readonly topTalkers: Row[];
  readonly rejectedPorts: Row[];
  readonly flags: Row[];
  readonly severities: Row[];
  readonly severeFlows: Row[];
  /** queries/traffic-per-aws-service.sql. */
  readonly services: Row[];
  readonly peerCountries: Row[];
  readonly peerAsns: Row[];
  readonly health: {
    readonly results: Row[];
    readonly enrichment: Row[];
    readonly failureReasons: Row[];
  };
}

export interface ReportOptions {
  /** Epoch seconds: flows that start at or after it. */
  readonly from?: number;
  /** Epoch seconds: flows that start before it. */
  readonly to?: number;
  readonly fromText?: string;
  readonly toText?: string;
}

/** The named queries the report runs unchanged (the text of queries/NAME.sql). */
export interface ReportNamedQueries {
  readonly 'top-talkers': string;
  readonly 'traffic-per-aws-service': string;
}

const SEVERITY_ORDER =
  "CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 WHEN 'info' THEN 2 ELSE 3 END";

/**
 * Restricts `flow_logs` (and so the views over it, flow_logs_v) to flows that start in [from, to): the view
 * is renamed and a filtered one takes its name, so the named queries run over the period unchanged.
 */
export async function restrictPeriod(db: FlowLogsDatabase, options: ReportOptions): Promise<void> {
  const where: string[] = [];
  if (options.from !== undefined) {
    where.push(`start >= ${Math.trunc(options.from)}`);
    // The day partitions let DuckDB skip whole folders.
    where.push(`dt >= '${new Date(options.from * 1000).toISOString().slice(0, 10)}'`);
  }
  if (options.to !== undefined) {
    where.push(`start < ${Math.trunc(options.to)}`);
    where.push(`dt <= '${new Date(options.to * 1000).toISOString().slice(0, 10)}'`);
  }
  if (where.length === 0) return;
  await db.query('ALTER VIEW flow_logs RENAME TO flow_logs_unfiltered');
  await db.query(`CREATE VIEW flow_logs AS SELECT * FROM flow_logs_unfiltered WHERE ${where.join(' AND ')}`);
}

/**
 * Makes the named queries' "the last two days" (`dt >= current_date - 1 day`) cover the whole period: today is
 * set to the day after the oldest day in the data.
 */
export async function coverWholePeriod(db: FlowLogsDatabase): Promise<void> {
  const { rows } = await db.query(
    "SELECT strftime(CAST(min(dt) AS DATE) + INTERVAL 1 DAY, '%Y-%m-%d') AS today FROM flow_logs",
  );
  const today = rows[0]?.today;
  if (typeof today === 'string') await db.setToday(today);
}

/** The bin width that keeps the period within `REPORT_LIMITS.bins` bins. */
export function binWidth(first: number, last: number): number {
  // Bins start at multiples of their width, so the first one may begin before `first`: count aligned bins.
  const bins = (width: number) => Math.floor(Math.max(first, last) / width) - Math.floor(first / width) + 1;
  for (const width of BIN_WIDTHS) if (bins(width) <= REPORT_LIMITS.bins) return width;
  let days = Math.ceil((Math.max(0, last - first) / 86_400 + 1) / REPORT_LIMITS.bins);
  while (bins(86_400 * days) > REPORT_LIMITS.bins) days++;
  return 86_400 * days;
}

const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value ?? 0));

/** Computes every aggregate of the report. `db` has `flow_logs` (already restricted to the period). */
export async function reportData(
  db: FlowLogsDatabase,
  outDir: string,
  named: ReportNamedQueries,
  options: ReportOptions = {},
): Promise<ReportData> {
  const q = async (sql: string) => (await db.query(sql)).rows;
  const [overall] = await q(
    `SELECT count(*) AS flows, coalesce(sum(bytes), 0) AS bytes,
            count(*) FILTER (WHERE severity IS NOT NULL AND severity <> 'none') AS flagged,
            min(start) AS first, max("end") AS last
     FROM flow_logs`,
  );
  const first = overall?.first === null || overall?.first === undefined ? null : num(overall.first);
  const last = overall?.last === null || overall?.last === undefined ? null : num(overall.last);
  const traffic = await trafficData(q, first, last);
  const L = REPORT_LIMITS;
  return {
    period: { first, last, from: options.fromText ?? null, to: options.toText ?? null },
    totals: { flows: num(overall?.flows), bytes: num(overall?.bytes), flagged: num(overall?.flagged) },
    traffic,
    matrix: await q(`
      WITH tiers AS (
        SELECT CASE WHEN flow_direction = 'ingress' THEN dstaddr ELSE srcaddr END AS address,
               max(subnet_tier) AS tier
        FROM flow_logs
        WHERE subnet_tier IS NOT NULL
        GROUP BY 1
      )
      SELECT coalesce(s.tier, 'AWS ' || f.src_aws_service, 'external') AS src_tier,
             coalesce(d.tier, 'AWS ' || f.dst_aws_service, 'external') AS dst_tier,
             count(*) AS flows, coalesce(sum(f.bytes), 0) AS total_bytes
      FROM flow_logs f
      LEFT JOIN tiers s ON f.srcaddr = s.address
      LEFT JOIN tiers d ON f.dstaddr = d.address
      WHERE f.flow_direction = 'ingress' AND f.dstport < f.srcport
      GROUP BY 1, 2
      ORDER BY total_bytes DESC, flows DESC, src_tier, dst_tier
      LIMIT ${L.matrixCells}`),
    topTalkers: await q(named['top-talkers']),
    rejectedPorts: await q(`
      SELECT dstport, protocol_name, count(*) AS attempts, count(DISTINCT srcaddr) AS sources,
             count(DISTINCT dstaddr) AS targets
      FROM flow_logs_v
      WHERE action = 'REJECT' AND dstport IS NOT NULL
      GROUP BY dstport, protocol_name
      ORDER BY attempts DESC, dstport
      LIMIT ${L.rejectedPorts}`),
    flags: await q(`
      SELECT flag, severity, count(*) AS flows
      FROM (SELECT unnest(flags) AS flag, severity FROM flow_logs WHERE severity <> 'none')
      GROUP BY flag, severity
      ORDER BY flows DESC, flag
      LIMIT ${L.flags}`),
    severities: await q(`
      SELECT severity, count(*) AS flows, coalesce(sum(bytes), 0) AS total_bytes
      FROM flow_logs
      WHERE severity IS NOT NULL
      GROUP BY severity
      ORDER BY ${SEVERITY_ORDER}`),
    severeFlows: await q(`
      SELECT severity, array_to_string(list_sort(list_distinct(flatten(list(flags)))), ', ') AS flags,
             srcaddr, dstaddr, count(DISTINCT dstport) AS dstports,
             array_to_string(list_sort(list_distinct(list(dstport)))[1:5], ', ') AS some_dstports,
             coalesce(string_agg(DISTINCT subnet_tier, ', ' ORDER BY subnet_tier), '') AS tier,
             count(*) AS flows, coalesce(sum(bytes), 0) AS total_bytes,
             min(start) AS first_seen, max("end") AS last_seen
      FROM flow_logs
      WHERE severity <> 'none'
      GROUP BY severity, srcaddr, dstaddr
      ORDER BY ${SEVERITY_ORDER}, flows DESC, total_bytes DESC, srcaddr, dstaddr
      LIMIT ${L.severeFlows}`),
    services: await q(`SELECT * FROM (${named['traffic-per-aws-service']}) LIMIT ${L.services}`),
    peerCountries: await q(`
      SELECT coalesce(peer_country, 'unknown') AS country, count(*) AS flows, coalesce(sum(bytes), 0) AS total_bytes
      FROM flow_logs
      WHERE peer_scope = 'external'
      GROUP BY 1
      ORDER BY total_bytes DESC, flows DESC, country
      LIMIT ${L.peers}`),
    peerAsns: await q(`
      SELECT peer_asn, min(peer_as_org) AS peer_as_org, string_agg(DISTINCT peer_country, ', ') AS countries,
             count(*) AS flows, coalesce(sum(bytes), 0) AS total_bytes
      FROM flow_logs
      WHERE peer_asn IS NOT NULL
      GROUP BY peer_asn
      ORDER BY total_bytes DESC, flows DESC, peer_asn
      LIMIT ${L.peers}`),
    health: await healthData(q, outDir),
  };
}

type Query = (sql: string) => Promise<Row[]>;

async function trafficData(
  q: Query,
  first: number | null,
  last: number | null,
): Promise<ReportData['traffic']> {
  if (first === null || last === null)
    return { binSeconds: 60, bins: [], tiers: [], actions: [], flagged: [] };
  const width = binWidth(first, last);
  const start = first - (first % width);
  const bins: number[] = [];
  for (let bin = start; bin <= last; bin += width) bins.push(bin);
  const index = (bin: unknown) => (num(bin) - start) / width;
  const series = (rows: Row[], key: string, value: string) => {
    const byName = new Map<string, number[]>();
    for (const row of rows) {
      const name = String(row[key]);
      const values = byName.get(name) ?? new Array<number>(bins.length).fill(0);
      byName.set(name, values);
      const i = index(row.bin);
      if (i >= 0 && i < bins.length) values[i] = num(row[value]);
    }
    return byName;
  };
  const bin = `start - (start % ${width})`;
  const tierRows = await q(`
    WITH ranked AS (
      SELECT coalesce(subnet_tier, '(no tier)') AS tier FROM flow_logs WHERE start IS NOT NULL
      GROUP BY 1 ORDER BY coalesce(sum(bytes), 0) DESC, tier LIMIT ${REPORT_LIMITS.tiers - 1}
    )
    SELECT ${bin} AS bin, coalesce(r.tier, 'other') AS tier, coalesce(sum(bytes), 0) AS bytes
    FROM flow_logs f LEFT JOIN ranked r ON coalesce(f.subnet_tier, '(no tier)') = r.tier
    WHERE start IS NOT NULL
    GROUP BY 1, 2`);
  const actionRows = await q(`
    SELECT ${bin} AS bin, coalesce(action, '(none)') AS action, count(*) AS flows
    FROM flow_logs WHERE start IS NOT NULL GROUP BY 1, 2`);
  const flaggedRows = await q(`
    SELECT ${bin} AS bin, severity, count(*) AS flows
    FROM flow_logs WHERE start IS NOT NULL AND severity IS NOT NULL AND severity <> 'none' GROUP BY 1, 2`);
  const tiers = series(tierRows, 'tier', 'bytes');
  const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    binSeconds: width,
    bins,
    tiers: [...tiers]
      .sort((a, b) => (a[0] === 'other' ? 1 : b[0] === 'other' ? -1 : total(b[1]) - total(a[1])))
      .map(([name, bytes]) => ({ name, bytes })),
    actions: [...series(actionRows, 'action', 'flows')]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([name, flows]) => ({ name, flows })),
    flagged: ['critical', 'warning', 'info'].flatMap((severity) => {
      const flows = series(flaggedRows, 'severity', 'flows').get(severity);
      return flows ? [{ severity, flows }] : [];
    }),
  };
}

function hasGzipFiles(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true, recursive: true }).some(
    (entry) => entry.isFile() && entry.name.endsWith('.gz'),
  );
}

/**
 * The run's health: lines by result (Ok: the rows of flowlogs/; ProcessingFailed: the records under errors/,
 * Firehose's error-record shape, whose errorMessage `SOURCE:LINE: REASON: DETAIL` gives the reason), and how
 * enrichment went. Failed lines have no time of their own: they are counted whatever the period.
 */
async function healthData(q: Query, outDir: string): Promise<ReportData['health']> {
  const errorsDir = join(outDir, 'errors');
  const [ok] = await q('SELECT count(*) AS records FROM flow_logs');
  let failureReasons: Row[] = [];
  let failed = 0;
  if (hasGzipFiles(errorsDir)) {
    const glob = join(errorsDir, '**', '*.gz').replaceAll("'", "''");
    const errors = `read_ndjson('${glob}', columns = {errorCode: 'VARCHAR', errorMessage: 'VARCHAR'},
                                compression = 'gzip', hive_partitioning = false)`;
    failureReasons = await q(`
      SELECT coalesce(nullif(regexp_extract(errorMessage, ':[0-9]+: ([a-z_]+): ', 1), ''), errorCode, 'unknown') AS reason,
             count(*) AS records,
             left(min(coalesce(nullif(regexp_extract(errorMessage, ':[0-9]+: [a-z_]+: (.*)$', 1), ''), errorMessage)), 160) AS example
      FROM ${errors}
      GROUP BY 1
      ORDER BY records DESC, reason
      LIMIT ${REPORT_LIMITS.failureReasons}`);
    const [count] = await q(`SELECT count(*) AS records FROM ${errors}`);
    failed = num(count?.records);
  }
  return {
    results: [
      { result: 'Ok', records: num(ok?.records) },
      { result: 'ProcessingFailed', records: failed },
    ],
    enrichment: await q(`
      SELECT coalesce(enrichment_status, 'off') AS enrichment_status, count(*) AS flows
      FROM flow_logs GROUP BY 1 ORDER BY flows DESC, enrichment_status`),
    failureReasons,
  };
}
