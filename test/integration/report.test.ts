import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report } from '../../src/cli/report.js';
import type { FlowLogsDatabase } from '../../src/local/duckdb.js';
import { REPORT_LIMITS } from '../../src/local/report-data.js';
import { demoOutput, namedSql, openOutput, runReportCli } from '../helpers/report-fixture.js';

const quiet = { env: {}, stdout: () => {}, stderr: () => {} };
let dir: string;
let out: string;
let db: FlowLogsDatabase;

beforeAll(async () => {
  ({ dir, out } = await demoOutput());
  db = await openOutput(out);
}, 120_000);

afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('flowlog-enrich report over the demo', () => {
  it('writes one page, names no URL, and prints its path as the last line', async () => {
    // Act
    const { code, stdout } = await runReportCli(['report', '--out', out]);

    // Assess
    expect(code).toBe(0);
    const path = join(out, 'report.html');
    expect(stdout.trimEnd().split('\n').at(-1)).toBe(path);
    const html = readFileSync(path, 'utf8');
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=/i);
    expect(html.match(/<canvas /g)).toHaveLength(10);
  });

  it('shows each demo attack: the scan, the brute force, the large transfer out, the internet at the database', async () => {
    // Act
    const { data } = await report({ out, file: 'attacks.html' }, quiet);

    // Assess
    const flags = new Set(data.flags.map((row) => row.flag));
    for (const flag of ['port_scan', 'brute_force', 'large_transfer', 'external_to_internal_tier'])
      expect(flags).toContain(flag);
    expect(data.matrix).toContainEqual(
      expect.objectContaining({ src_tier: 'external', dst_tier: 'database' }),
    );
    expect(data.rejectedPorts[0]).toMatchObject({ dstport: 22 });
    // The large transfer: the app tier's busiest minute carries most of the hour's bytes.
    const app = data.traffic.tiers.find((tier) => tier.name === 'app');
    expect(Math.max(...(app?.bytes ?? [0]))).toBeGreaterThan(data.totals.bytes / 4);
  });

  it("runs the named queries' SQL: top talkers and AWS services as they are, the matrix summing to tier-matrix", async () => {
    // Act
    const { data } = await report({ out, file: 'named.html' }, quiet);

    // Assess
    expect(data.topTalkers).toStrictEqual((await db.query(namedSql('top-talkers'))).rows);
    expect(data.services).toStrictEqual((await db.query(namedSql('traffic-per-aws-service'))).rows);
    const collapsed = new Map<string, { flows: number; bytes: number }>();
    for (const row of data.matrix) {
      const side = (tier: unknown) => (String(tier).startsWith('AWS ') ? 'external' : String(tier));
      const key = `${side(row.src_tier)}→${side(row.dst_tier)}`;
      const sum = collapsed.get(key) ?? { flows: 0, bytes: 0 };
      collapsed.set(key, {
        flows: sum.flows + Number(row.flows),
        bytes: sum.bytes + Number(row.total_bytes),
      });
    }
    const named = (await db.query(namedSql('tier-matrix'))).rows;
    expect(
      new Map(named.map((r) => [`${r.src_tier}→${r.dst_tier}`, { flows: r.flows, bytes: r.total_bytes }])),
    ).toStrictEqual(collapsed);
  });

  it("traffic bins add up to traffic-over-time's five-minute bins", async () => {
    // Act
    const { data } = await report({ out, file: 'bins.html' }, quiet);

    // Assess
    expect(data.traffic.binSeconds).toBe(60);
    const fiveMinutes = new Map<number, number>();
    data.traffic.bins.forEach((bin, i) => {
      const key = bin - (bin % 300);
      const bytes = data.traffic.tiers.reduce((sum, tier) => sum + (tier.bytes[i] ?? 0), 0);
      fiveMinutes.set(key, (fiveMinutes.get(key) ?? 0) + bytes);
    });
    const named = (await db.query(namedSql('traffic-over-time'))).rows;
    expect(new Map(named.map((r) => [Number(r.bin_start), Number(r.total_bytes ?? 0)]))).toStrictEqual(
      // The named query has no row for a bin without flows.
      new Map([...fiveMinutes].filter(([, bytes]) => bytes > 0)),
    );
  });

  it('counts failed lines by reason from errors/', async () => {
    // Act
    const { data } = await report({ out, file: 'health.html' }, quiet);

    // Assess
    const [ok] = (await db.query('SELECT count(*) AS n FROM flow_logs')).rows;
    expect(data.health.results).toStrictEqual([
      { result: 'Ok', records: ok?.n },
      { result: 'ProcessingFailed', records: 2 },
    ]);
    expect(data.health.failureReasons).toStrictEqual([
      { reason: 'field_count', records: 1, example: expect.stringMatching(/found 4$/) },
      { reason: 'invalid_field', records: 1, example: expect.stringMatching(/^field srcport .*"80x"/) },
    ]);
    expect(data.health.enrichment).toStrictEqual([{ enrichment_status: 'ok', flows: ok?.n }]);
  });

  it('--from and --to restrict every number to flows starting in the period', async () => {
    // Act
    const { data } = await report(
      { out, file: 'period.html', from: '2026-11-23T10:10', to: '2026-11-23T10:20:00Z' },
      quiet,
    );

    // Assess
    const [expected] = (
      await db.query(
        'SELECT count(*) AS flows, sum(bytes) AS bytes FROM flow_logs WHERE start >= 1795428600 AND start < 1795429200',
      )
    ).rows;
    expect(data.totals).toMatchObject({ flows: expected?.flows, bytes: expected?.bytes });
    expect(data.traffic.bins[0]).toBe(1795428600);
    expect(data.flags.map((row) => row.flag)).toContain('port_scan');
    expect(data.flags.map((row) => row.flag)).not.toContain('large_transfer');
  });

  it('refuses a bad time and an empty output folder with a usage error', async () => {
    expect((await runReportCli(['report', '--out', out, '--from', 'yesterday'])).stderr).toMatch(
      /--from must be YYYY-MM-DD/,
    );
    const empty = await runReportCli(['report', '--out', join(dir, 'nothing')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/has no flowlogs\/: run `flowlog-enrich run/);
  });
});

describe('report size', () => {
  /** `rows` flows over a year, every one a new address pair, port, flag, tier and AWS service. */
  function writeFlows(outDir: string, rows: number): void {
    const lines: string[] = [];
    for (let i = 0; i < rows; i++) {
      const start = 1_764_547_200 + Math.floor((i * 365 * 86_400) / rows);
      lines.push(
        JSON.stringify({
          version: 2,
          account_id: '123456789012',
          interface_id: `eni-${i.toString(16).padStart(8, '0')}`,
          srcaddr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          dstaddr: `198.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          srcport: 1024 + (i % 60_000),
          dstport: i % 65_536,
          protocol: 6,
          packets: 1,
          bytes: 100 + i,
          start,
          end: start + 60,
          action: i % 3 === 0 ? 'REJECT' : 'ACCEPT',
          log_status: 'OK',
          flow_direction: i % 2 === 0 ? 'ingress' : 'egress',
          subnet_tier: `tier${i % 500}`,
          dst_aws_service: `SERVICE${i % 300}`,
          peer_scope: 'external',
          peer_country: `C${String.fromCharCode(65 + (i % 26))}`,
          peer_asn: 64_512 + (i % 1000),
          flags: [`rule_${i % 200}`],
          severity: i % 7 === 0 ? 'critical' : 'warning',
        }),
      );
    }
    const folder = join(
      outDir,
      'flowlogs',
      'aws_account_id=123456789012',
      'aws_region=us-east-1',
      'dt=2026-12-01',
      'hour=00',
    );
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'part.gz'), gzipSync(`${lines.join('\n')}\n`));
  }

  it('stays bounded whatever the input: 20,000 distinct flows over a year make a page of about the same size as 2,000', async () => {
    // Prepare
    const small = mkdtempSync(join(tmpdir(), 'report-small-'));
    const large = mkdtempSync(join(tmpdir(), 'report-large-'));
    try {
      writeFlows(small, 2_000);
      writeFlows(large, 20_000);

      // Act
      const a = await report({ out: small }, quiet);
      const b = await report({ out: large }, quiet);

      // Assess
      expect(b.data.totals.flows).toBe(20_000);
      expect(b.data.traffic.bins.length).toBeLessThanOrEqual(REPORT_LIMITS.bins);
      expect(b.data.traffic.tiers.length).toBeLessThanOrEqual(REPORT_LIMITS.tiers);
      expect(b.data.matrix.length).toBeLessThanOrEqual(REPORT_LIMITS.matrixCells);
      expect(b.data.flags.length).toBeLessThanOrEqual(REPORT_LIMITS.flags);
      expect(b.bytes).toBeLessThan(2 * 1024 * 1024);
      expect(b.bytes).toBeLessThan(a.bytes * 1.5);
    } finally {
      rmSync(small, { recursive: true, force: true });
      rmSync(large, { recursive: true, force: true });
    }
  }, 60_000);
});
