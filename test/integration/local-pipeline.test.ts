import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { ATTACKERS } from '../../src/sample/generate.js';

/** Runs the CLI in process (stdin optional), capturing its output. */
async function cli(argv: string[], stdin?: string) {
  let stdout = '';
  let stderr = '';
  const original = Object.getOwnPropertyDescriptor(process, 'stdin');
  if (stdin !== undefined)
    Object.defineProperty(process, 'stdin', {
      value: Readable.from([Buffer.from(stdin)]),
      configurable: true,
    });
  try {
    const code = await main(argv, {
      env: {},
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
    });
    return { code, stdout, stderr };
  } finally {
    if (original) Object.defineProperty(process, 'stdin', original);
  }
}

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

function outputLines(out: string): Record<string, unknown>[] {
  return filesUnder(join(out, 'flowlogs'))
    .filter((f) => f.endsWith('.gz'))
    .flatMap((f) => gunzipSync(readFileSync(f)).toString().trimEnd().split('\n'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function errorRecords(out: string): { rawData: string; errorMessage: string; errorCode: string }[] {
  return filesUnder(join(out, 'errors'))
    .flatMap((f) => gunzipSync(readFileSync(f)).toString().trimEnd().split('\n'))
    .map((l) => JSON.parse(l) as { rawData: string; errorMessage: string; errorCode: string });
}

const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-e2e-'));
const sample = join(dir, 'sample.log');
const inventory = join(dir, 'inventory.json');

describe('flowlog-enrich run (end to end)', () => {
  let sampleLines: string[] = [];

  beforeAll(async () => {
    const generated = await cli([
      'generate',
      '--minutes',
      '30',
      '--seed',
      '3',
      '--rate',
      '20',
      '--out',
      sample,
      '--inventory-out',
      inventory,
    ]);
    expect(generated.code).toBe(0);
    sampleLines = readFileSync(sample, 'utf8').trimEnd().split('\n');
  });

  afterAll(() => {
    // Temporary files are left to the OS; nothing else to stop.
  });

  it('writes every line once under the template prefix, enriched and flagged, and answers the queries', async () => {
    // Prepare
    const out = join(dir, 'out-main');

    // Act
    const result = await cli(['run', '--input', sample, '--inventory', inventory, '--out', out, '--quiet']);

    // Assess
    expect(result.code).toBe(0);
    const lines = outputLines(out);
    expect(lines).toHaveLength(sampleLines.length - 1); // the header line is the format, not data
    const partitions = new Set(
      filesUnder(join(out, 'flowlogs')).map((f) => relative(out, f).split('/').slice(0, 5).join('/')),
    );
    expect(partitions).toStrictEqual(
      new Set(['flowlogs/aws_account_id=123456789012/aws_region=us-east-1/dt=2026-11-23/hour=10']),
    );
    const keyOf = (r: Record<string, unknown>) =>
      `${r.interface_id} ${r.srcaddr} ${r.dstaddr} ${r.srcport} ${r.dstport} ${r.start} ${r.bytes}`;
    const expected = sampleLines.slice(1).map((line) => {
      const t = line.split(' ');
      const v = (s: string | undefined) => (s === '-' ? undefined : s);
      return `${t[2]} ${v(t[3])} ${v(t[4])} ${v(t[5])} ${v(t[6])} ${t[10]} ${v(t[9])}`;
    });
    expect(lines.map(keyOf).sort()).toStrictEqual(expected.sort());
    expect(lines.every((l) => l.enrichment_status === 'ok')).toBe(true);
    expect(result.stdout).toMatch(/ProcessingFailed/);
    expect(result.stdout).toMatch(/cost per month on AWS/);

    const scans = await cli(['query', 'port-scans', '--out', out, '--json']);
    expect(scans.code).toBe(0);
    const scanRows = JSON.parse(scans.stdout) as { srcaddr: string; distinct_ports: number }[];
    expect(scanRows.map((r) => r.srcaddr)).toStrictEqual([ATTACKERS.port_scan]);
    expect(Number(scanRows[0]?.distinct_ports)).toBe(40);

    const talkers = await cli(['query', 'top-talkers', '--out', out, '--json']);
    const top = (
      JSON.parse(talkers.stdout) as { srcaddr: string; dstaddr: string; total_bytes: string | number }[]
    )[0];
    expect(top).toMatchObject({ srcaddr: '10.0.2.22', dstaddr: ATTACKERS.large_transfer_out });
    expect(Number(top?.total_bytes)).toBe(1_500_000_000);

    const matrix = await cli(['query', 'tier-matrix', '--out', out, '--json']);
    const pairs = (JSON.parse(matrix.stdout) as { src_tier: string; dst_tier: string }[]).map(
      (r) => `${r.src_tier}→${r.dst_tier}`,
    );
    expect(pairs).toEqual(expect.arrayContaining(['web→app', 'app→database', 'public→web']));
  });

  it('feeds records that did not fit a response back in, as Firehose re-ingests them', async () => {
    // A 3 MB processor buffer cannot answer within one 6 MB response once enriched.
    const out = join(dir, 'out-reingest');
    const result = await cli([
      'run',
      '--input',
      sample,
      '--inventory',
      inventory,
      '--out',
      out,
      '--quiet',
      '--buffer-mb',
      '3',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/re-ingested and processed again/);
    expect(outputLines(out)).toHaveLength(sampleLines.length - 1);
  });

  it('runs every named query without error', async () => {
    const out = join(dir, 'out-main');
    const list = await cli(['query', '--out', out]);
    const names = [...list.stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1] as string);
    expect(names.length).toBeGreaterThanOrEqual(13);
    const rows: Record<string, Record<string, unknown>[]> = {};
    for (const name of names) {
      // The fleet queries take their window; a day covers the sample.
      const window = name.startsWith('fleet-') ? ['--since', '1d'] : [];
      const result = await cli(['query', name, '--out', out, '--json', ...window]);
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      rows[name] = JSON.parse(result.stdout) as Record<string, unknown>[];
      // The Transit Gateway queries have nothing to say about VPC flow logs (tgw-pipeline.test.ts runs them).
      if (!name.startsWith('tgw-')) expect(rows[name]?.length, name).toBeGreaterThan(0);
    }
    // What each query must say about the sample's attacks and its three tiers.
    expect(rows['admin-port-attempts']?.[0]).toStrictEqual({
      srcaddr: ATTACKERS.ssh_brute_force,
      dstport: 22,
      attempts: 30,
      rejected: 30,
      targets: 1,
    });
    expect(rows['fleet-brute-force']?.[0]).toMatchObject({ source: ATTACKERS.ssh_brute_force, attempts: 30 });
    expect(rows['rejected-connections']?.[0]).toMatchObject({
      srcaddr: ATTACKERS.ssh_brute_force,
      dstport: 22,
      attempts: 30,
    });
    expect(rows['external-egress-by-destination']?.[0]).toMatchObject({
      dstaddr: ATTACKERS.large_transfer_out,
      total_bytes: 1_500_000_000,
      flows: 3,
      sources: 1,
    });
    expect(rows['database-port-access']?.map((r) => r.srcaddr)).toContain(ATTACKERS.database_probe);
    expect(rows['protocol-distribution']).toContainEqual(
      expect.objectContaining({ protocol_name: 'gre', flows: 1 }),
    );
    expect(rows['flagged-flows']?.[0]).toMatchObject({ severity: 'critical' });
    expect(rows['flagged-flows']?.map((r) => `${r.severity} ${r.srcaddr}`)).toEqual(
      expect.arrayContaining([
        `critical ${ATTACKERS.port_scan}`,
        `critical ${ATTACKERS.ssh_brute_force}`,
        `critical ${ATTACKERS.internet_to_database}`,
        `info ${ATTACKERS.unusual_protocol}`,
      ]),
    );
    expect(rows['traffic-per-aws-service']?.map((r) => r.aws_service)).toEqual(
      expect.arrayContaining(['S3', 'DYNAMODB']),
    );
    expect(new Set(rows['internal-vs-external']?.map((r) => r.peer_scope))).toStrictEqual(
      new Set(['internal', 'external']),
    );
    expect(rows['traffic-over-time']?.every((r) => Number(r.bin_start) % 300 === 0)).toBe(true);
    expect(rows['top-enis-by-tag']?.[0]).toMatchObject({
      name: 'app-2',
      eni_service: 'EC2',
      subnet_tier: 'app',
    });
  });

  it('reads .gz files, directories, stdin and empty files, and reports corrupt lines by file and line', async () => {
    // Prepare: a directory with a gzip copy, an empty file, and a file with two corrupt lines; and stdin.
    const inputDir = join(dir, 'inputs');
    mkdirSync(inputDir, { recursive: true });
    const body = sampleLines.slice(0, 200).join('\n');
    writeFileSync(join(inputDir, 'a.log.gz'), gzipSync(`${body}\n`));
    writeFileSync(join(inputDir, 'empty.log'), '');
    const corrupt = [...sampleLines.slice(0, 50)];
    corrupt[10] = 'this is not a flow log line';
    corrupt[20] = (corrupt[20] as string).replace(' ACCEPT ', ' MAYBE ');
    writeFileSync(join(inputDir, 'corrupt.log'), `${corrupt.join('\n')}\n`);
    const out = join(dir, 'out-mixed');
    const stdinLines = sampleLines.slice(200, 260);

    // Act
    const result = await cli(
      ['run', '--input', inputDir, '--input', '-', '--inventory', inventory, '--out', out, '--quiet'],
      `${stdinLines.join('\n')}\n`,
    );

    // Assess: every data line is in the output or the error prefix, once.
    expect(result.code).toBe(0);
    const ok = outputLines(out).length;
    const failed = errorRecords(out);
    expect(ok + failed.length).toBe(199 + 49 + 60);
    expect(failed).toHaveLength(2);
    expect(failed.map((f) => f.errorCode)).toStrictEqual([
      'Lambda.ProcessingFailed',
      'Lambda.ProcessingFailed',
    ]);
    expect(failed.map((f) => Buffer.from(f.rawData, 'base64').toString().trim()).sort()).toStrictEqual(
      [corrupt[10], corrupt[20]].sort(),
    );
    expect(result.stdout).toContain(`${join(inputDir, 'corrupt.log')}:11: field_count`);
    expect(result.stdout).toContain(
      `${join(inputDir, 'corrupt.log')}:21: invalid_field: field action (position 13): "MAYBE"`,
    );
  });

  it('replays a tree of error records once the format is fixed', async () => {
    // Prepare: run with the wrong format, so everything fails.
    const custom = join(dir, 'custom.log');
    const format =
      '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags}';
    writeFileSync(
      custom,
      `${sampleLines
        .slice(1, 41)
        .map((l) => `${l} 2`)
        .join('\n')}\n`,
    );
    const wrong = join(dir, 'out-wrong');
    await cli(['run', '--input', custom, '--out', wrong, '--quiet', '--inventory', inventory]);
    expect(errorRecords(wrong)).toHaveLength(40);

    // Act: replay the error prefix with the right format.
    const fixed = join(dir, 'out-fixed');
    const result = await cli([
      'run',
      '--input',
      join(wrong, 'errors'),
      '--format',
      format,
      '--out',
      fixed,
      '--quiet',
      '--inventory',
      inventory,
    ]);

    // Assess
    expect(result.code).toBe(0);
    expect(outputLines(fixed)).toHaveLength(40);
    expect(errorRecords(fixed)).toHaveLength(0);
    expect(outputLines(fixed).every((l) => l.tcp_flags === 2)).toBe(true);
  });

  it('writes Parquet with --parquet, and query reads it', async () => {
    const out = join(dir, 'out-parquet');
    const result = await cli([
      'run',
      '--input',
      sample,
      '--inventory',
      inventory,
      '--out',
      out,
      '--parquet',
      '--quiet',
    ]);
    expect(result.code).toBe(0);
    expect(filesUnder(join(out, 'flowlogs')).some((f) => f.endsWith('.parquet'))).toBe(true);
    const scans = await cli(['query', 'port-scans', '--out', out, '--json']);
    expect((JSON.parse(scans.stdout) as { srcaddr: string }[]).map((r) => r.srcaddr)).toStrictEqual([
      ATTACKERS.port_scan,
    ]);
  });
});

describe('flowlog-enrich run on Parquet as flow logs deliver it to S3', () => {
  it('reads underscored columns back into lines of the matching format', async () => {
    // Prepare: a Parquet file with flow-log columns (as AWS's Parquet delivery names them), written by DuckDB.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const parquetDir = mkdtempSync(join(tmpdir(), 'flowlog-parquet-'));
    const file = join(parquetDir, 'flowlogs.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT * FROM (VALUES
         (2, '123456789010', 'eni-1235b8ca123456789', '172.31.16.139', '172.31.16.21', 20641, 22, 6, 20, 4249, 1418530010, 1418530070, 'ACCEPT', 'OK'),
         (2, '123456789010', 'eni-1235b8ca123456789', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1431280876, 1431280934, NULL, 'NODATA'))
       AS t(version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, "end", action, log_status))
       TO '${file}' (FORMAT parquet)`,
    );
    connection.closeSync();
    instance.closeSync();
    const out = join(parquetDir, 'out');

    // Act
    const result = await cli(['run', '--input', file, '--out', out, '--quiet']);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const lines = outputLines(out);
    expect(lines.map((l) => [l.srcaddr, l.dstport, l.log_status, l.end])).toStrictEqual([
      ['172.31.16.139', 22, 'OK', 1418530070],
      [undefined, undefined, 'NODATA', 1431280934],
    ]);
  });
});

describe('flowlog-enrich run keeps earlier output safe', () => {
  it('refuses a missing input with exit 2 and leaves the previous output as it was', async () => {
    // Prepare
    const base = mkdtempSync(join(tmpdir(), 'flowlog-safe-'));
    const input = join(base, 'in.log');
    writeFileSync(
      input,
      '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n',
    );
    const out = join(base, 'out');
    await cli(['run', '--input', input, '--out', out, '--quiet']);
    const before = outputLines(out);

    // Act
    const result = await cli(['run', '--input', join(base, 'typo.log'), '--out', out, '--quiet']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`input ${join(base, 'typo.log')} does not exist`);
    expect(outputLines(out)).toStrictEqual(before);
    expect(before).toHaveLength(1);
  });

  it('replays <out>/errors into the same --out, keeping what the first run wrote', async () => {
    // Prepare: one line that parses, and one with an extra field (the real format) that fails into out/errors.
    const base = mkdtempSync(join(tmpdir(), 'flowlog-replay-'));
    const input = join(base, 'in.log');
    writeFileSync(
      input,
      '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n' +
        '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20642 22 6 20 4249 1418530010 1418530070 ACCEPT OK 2\n',
    );
    const out = join(base, 'out');
    await cli(['run', '--input', input, '--out', out, '--quiet']);
    expect(errorRecords(out)).toHaveLength(1);

    // Act
    const format =
      '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags}';
    const result = await cli([
      'run',
      '--input',
      join(out, 'errors'),
      '--format',
      format,
      '--out',
      out,
      '--quiet',
    ]);

    // Assess: the first run's good record is still there, the repaired one joined it, nothing failed.
    expect(result.code, result.stderr).toBe(0);
    expect(
      outputLines(out)
        .map((l) => [l.srcport, l.tcp_flags ?? null])
        .sort(),
    ).toStrictEqual([
      [20641, null],
      [20642, 2],
    ]);
    expect(errorRecords(out)).toHaveLength(0);
    expect(readdirSync(out).filter((name) => name.startsWith('.'))).toStrictEqual([]);
  });
});

describe('LocalFirehose', () => {
  it('writes a partition out as several objects once it passes the object size, like the delivery buffer', async () => {
    const { LocalFirehose } = await import('../../src/local/local-firehose.js');
    const { createPipeline } = await import('../../src/pipeline.js');
    const { loadConfig } = await import('../../src/config.js');
    const out = mkdtempSync(join(tmpdir(), 'flowlog-objects-'));
    const firehose = new LocalFirehose({
      outDir: out,
      bufferBytes: 2000,
      objectBytes: 5000,
      region: 'us-east-1',
      runId: 'test',
      pipelineFor: (_format, reingester, onRecordError) =>
        createPipeline({
          config: loadConfig({ ENRICHMENT: 'off' }),
          reingester,
          onRecordError,
          writeLine: () => {},
        }),
    });
    for (let i = 0; i < 200; i++) {
      await firehose.put({
        data: Buffer.from(
          `2 123456789010 eni-1235b8ca123456789 10.0.0.1 10.0.0.2 ${20000 + i} 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n`,
        ),
        source: 'test',
        line: i + 1,
      });
    }
    await firehose.close();
    const objects = filesUnder(join(out, 'flowlogs'));
    expect(objects.length).toBeGreaterThan(5);
    expect(firehose.stats.objectsWritten).toBe(objects.length);
    expect(outputLines(out)).toHaveLength(200);
  });
});
