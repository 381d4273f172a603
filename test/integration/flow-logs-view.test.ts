import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viewDefinitions } from '../../src/cli/query.js';
import { type FlowLogsDatabase, openFlowLogs } from '../../src/local/duckdb.js';
import { V2_ACCEPTED_SSH } from '../fixtures/aws-v2-example.js';
import { runCli } from '../helpers/cli.js';
import { LAYOUTS, loadTemplate, resolveIf, type Yaml } from '../helpers/template.js';
import { decode, evaluate } from '../helpers/view.js';

/** DuckDB's type of each value → the Presto type Athena gives the same expression. */
const PRESTO_OF_DUCKDB: Record<string, string> = {
  INTEGER: 'integer',
  BIGINT: 'bigint',
  VARCHAR: 'varchar',
  'VARCHAR[]': 'array(varchar)',
  'MAP(VARCHAR, VARCHAR)': 'map(varchar,varchar)',
  'TIMESTAMP WITH TIME ZONE': 'timestamp(3) with time zone',
};

/** Emitted records as the pipeline writes them (fields without a value left out). */
const RECORDS = [
  {
    // AWS documentation, accepted SSH; tcp_flags FIN|SYN|ACK
    ...V2_ACCEPTED_SSH,
    tcp_flags: 19,
    flags: [],
    severity: 'none',
  },
  {
    // AWS documentation, a ping: no tcp_flags field
    version: 2,
    srcaddr: '203.0.113.12',
    dstaddr: '172.31.16.139',
    srcport: 0,
    dstport: 0,
    protocol: 1,
    start: 1432917027,
    end: 1432917142,
    action: 'ACCEPT',
    log_status: 'OK',
    flags: [],
    severity: 'none',
  },
  {
    // AWS documentation, IPv6 SSH; SYN|ACK
    version: 2,
    srcaddr: '2001:db8:1234:a100:8d6e:3477:df66:f105',
    dstaddr: '2001:db8:1234:a102:3304:8879:34cf:4071',
    srcport: 34892,
    dstport: 22,
    protocol: 6,
    start: 1477913708,
    end: 1477913820,
    action: 'ACCEPT',
    log_status: 'OK',
    tcp_flags: 18,
    flags: [],
    severity: 'none',
  },
  {
    version: 2,
    srcaddr: '10.0.0.5',
    dstaddr: '10.0.9.9',
    protocol: 47,
    start: 1418530010,
    end: 1418530070,
    tcp_flags: 0,
    flags: [],
    severity: 'none',
  },
  {
    version: 2,
    srcaddr: '10.0.0.6',
    dstaddr: '10.0.9.9',
    protocol: 200,
    start: 1418530011,
    end: 1418530070,
    tcp_flags: 63,
    flags: [],
    severity: 'none',
  },
  {
    // AWS documentation, NODATA: no addresses, ports or protocol
    version: 2,
    account_id: '123456789010',
    interface_id: 'eni-1235b8ca123456789',
    start: 1431280876,
    end: 1431280934,
    log_status: 'NODATA',
    flags: [],
    severity: 'none',
  },
];

/** What flow_logs_v derives from each record, in order (times checked with Python's datetime, UTC). */
const DERIVED = [
  {
    start_time: '2014-12-14 04:06:50+00',
    end_time: '2014-12-14 04:07:50+00',
    protocol_name: 'tcp',
    tcp_flag_names: ['fin', 'syn', 'ack'],
    ip_version: 4,
  },
  {
    start_time: '2015-05-29 16:30:27+00',
    end_time: '2015-05-29 16:32:22+00',
    protocol_name: 'icmp',
    tcp_flag_names: null,
    ip_version: 4,
  },
  {
    start_time: '2016-10-31 11:35:08+00',
    end_time: '2016-10-31 11:37:00+00',
    protocol_name: 'tcp',
    tcp_flag_names: ['syn', 'ack'],
    ip_version: 6,
  },
  {
    start_time: '2014-12-14 04:06:50+00',
    end_time: '2014-12-14 04:07:50+00',
    protocol_name: 'gre',
    tcp_flag_names: [],
    ip_version: 4,
  },
  {
    start_time: '2014-12-14 04:06:51+00',
    end_time: '2014-12-14 04:07:50+00',
    protocol_name: '200',
    tcp_flag_names: ['fin', 'syn', 'rst', 'psh', 'ack', 'urg'],
    ip_version: 4,
  },
  {
    start_time: '2015-05-10 18:01:16+00',
    end_time: '2015-05-10 18:02:14+00',
    protocol_name: null,
    tcp_flag_names: null,
    ip_version: null,
  },
];

const out = mkdtempSync(join(tmpdir(), 'flowlog-enrich-view-'));
const schema = join(import.meta.dirname, '..', '..', 'schemas', 'emitted-record.json');

beforeAll(() => {
  const dir = join(
    out,
    'flowlogs',
    'aws_account_id=123456789010',
    'aws_region=us-east-1',
    'dt=2014-12-14',
    'hour=04',
  );
  mkdirSync(dir, { recursive: true });
  const lines = RECORDS.map((record, i) => `${JSON.stringify({ ...record, bytes: i })}\n`).join('');
  writeFileSync(join(dir, 'part-0.gz'), gzipSync(lines));
});

/** The CLI as a user runs it: the environment's enrichment setting (on), not the tests' default. */
const cli = (argv: string[]) => runCli(argv, { ENRICHMENT: undefined });

describe('flow_logs_v (queries/views/flow_logs_v.sql)', () => {
  let db: FlowLogsDatabase;
  beforeAll(async () => {
    db = await openFlowLogs(out, schema, viewDefinitions());
  });
  afterAll(() => db.close());

  it('answers `query --sql "select protocol_name, tcp_flag_names, start_time from flow_logs_v limit 5"`', async () => {
    // Act
    const result = await cli([
      'query',
      '--sql',
      'select protocol_name, tcp_flag_names, start_time from flow_logs_v limit 5',
      '--out',
      out,
      '--json',
    ]);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const rows = JSON.parse(result.stdout) as unknown[];
    expect(rows).toHaveLength(5);
    const possible = DERIVED.map(({ protocol_name, tcp_flag_names, start_time }) => ({
      protocol_name,
      tcp_flag_names,
      start_time,
    }));
    for (const row of rows) expect(possible).toContainEqual(row);
  });

  it('derives start_time, end_time, protocol_name, tcp_flag_names and ip_version', async () => {
    // Act: bytes holds the record's index
    const { rows } = await db.query(
      'SELECT start_time, end_time, protocol_name, tcp_flag_names, ip_version FROM flow_logs_v ORDER BY bytes',
    );

    // Assess
    expect(rows).toStrictEqual(DERIVED);
  });

  it('keeps every column of flow_logs, partitions included, before the derived ones', async () => {
    const base = await db.query('SELECT * FROM flow_logs LIMIT 0');
    const view = await db.query('SELECT * FROM flow_logs_v LIMIT 0');
    expect(view.columns).toStrictEqual([
      ...base.columns,
      'start_time',
      'end_time',
      'protocol_name',
      'tcp_flag_names',
      'ip_version',
    ]);
  });

  it('gives the timestamps as timestamps with time zone, for Athena to compare and format', async () => {
    const { rows } = await db.query(
      "SELECT typeof(start_time) AS t, date_format(start_time, '%Y-%m-%d %H:%i') AS d FROM flow_logs_v ORDER BY bytes LIMIT 1",
    );
    expect(rows).toStrictEqual([{ t: 'TIMESTAMP WITH TIME ZONE', d: '2014-12-14 04:06' }]);
  });

  it('has in Athena (template.yaml) the columns and types the same SQL yields here', async () => {
    // Prepare: the local folders carry all four partition keys, as the default layout does.
    const input = resolveIf(
      loadTemplate().Resources.FlowLogsView?.Properties.TableInput,
      new Set(LAYOUTS['account-region-day-hour']),
    ) as Yaml;
    const athena = decode(evaluate(input.ViewOriginalText, { GlueDatabase: 'flowlogs' })).columns;

    // Act
    const { rows } = await db.query('DESCRIBE SELECT * FROM flow_logs_v');

    // Assess
    expect(
      rows.map((r) => ({
        name: r.column_name,
        type: PRESTO_OF_DUCKDB[String(r.column_type)] ?? r.column_type,
      })),
    ).toStrictEqual(athena);
  });

  it('is written in the SQL both engines run: no DuckDB-only syntax or functions', () => {
    const sql = readFileSync(
      join(import.meta.dirname, '..', '..', 'queries', 'views', 'flow_logs_v.sql'),
      'utf8',
    )
      .replace(/--.*$/gm, '')
      .replace(/'[^']*'/g, "''");
    for (const duckdbOnly of [
      /::/,
      /\blambda\b/i,
      /(?<!ARRAY)\[/,
      /\b(list_\w+|regexp_matches|strftime|strptime|to_timestamp|epoch|len)\s*\(/i,
      /\bSELECT\s+\*\s+(EXCLUDE|REPLACE)\b/i,
    ]) {
      expect(sql).not.toMatch(duckdbOnly);
    }
  });
});
