import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { TGW_DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { TGW_HUB_ACCOUNT, TGW_SCANNER } from '../../src/sample/tgw.js';
import { runCli } from '../helpers/cli.js';

// Transit Gateway flow logs end to end: generated hub-and-spoke traffic through `run` (the same transform as
// the Lambda), then the named TGW queries answered by DuckDB over what it wrote.

/** The CLI as a user runs it: the environment's enrichment setting (on), not the tests' default. */
const cli = (argv: string[]) => runCli(argv, { ENRICHMENT: undefined });

async function query(name: string, out: string): Promise<Record<string, unknown>[]> {
  const result = await cli(['query', name, '--out', out, '--json']);
  expect(result.code, `${name}: ${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>[];
}

const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-tgw-'));
const sample = join(dir, 'tgw.log');
const inventory = join(dir, 'tgw-inventory.json');
const out = join(dir, 'out');

describe('Transit Gateway flow logs through run and query', () => {
  let lines: string[] = [];
  let records: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const generated = await cli([
      'generate',
      '--scenario',
      'tgw',
      '--minutes',
      '10',
      '--seed',
      '7',
      '--out',
      sample,
      '--inventory-out',
      inventory,
    ]);
    expect(generated.code, generated.stderr).toBe(0);
    lines = readFileSync(sample, 'utf8').trimEnd().split('\n');
    const run = await cli(['run', '--input', sample, '--inventory', inventory, '--out', out, '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    const files = readdirSync(join(out, 'flowlogs'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.gz'))
      .map((e) => join(e.parentPath, e.name));
    records = files.flatMap((f) =>
      gunzipSync(readFileSync(f))
        .toString()
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    );
  }, 120_000);

  it("writes the generated lines in AWS's default TGW format, all Ok, both sides enriched", () => {
    // Assess: the header is the format; every data line is a record.
    expect(lines[0]).toBe(
      TGW_DEFAULT_FORMAT.split(' ')
        .map((t) => t.slice(2, -1))
        .join(' '),
    );
    expect(records).toHaveLength(lines.length - 1);
    expect(records.every((r) => r.account_id === TGW_HUB_ACCOUNT && r.version === 6)).toBe(true);
    const statuses = new Set(records.map((r) => r.enrichment_status));
    expect(statuses).toStrictEqual(new Set(['ok']));
    const prodToShared = records.find(
      (r) => r.src_vpc_name === 'prod' && r.dst_vpc_name === 'shared-services',
    );
    expect(prodToShared).toMatchObject({
      src_subnet_tier: expect.any(String),
      dst_subnet_tier: expect.any(String),
    });
  });

  it('flags the port scan, the large transfer and the blackholed flows', () => {
    const flagged = (flag: string) => records.filter((r) => (r.flags as string[]).includes(flag));
    expect(new Set(flagged('port_scan').map((r) => r.srcaddr))).toStrictEqual(new Set([TGW_SCANNER]));
    expect(flagged('large_transfer').map((r) => r.bytes)).toContain(1_500_000_000);
    const blackholed = flagged('tgw_blackhole_drops');
    expect(blackholed.length).toBeGreaterThan(0);
    expect(blackholed.every((r) => r.src_vpc_name === 'dev' && r.packets_lost_blackhole === 24)).toBe(true);
  });

  it('answers traffic between VPC pairs by bytes', async () => {
    const rows = await query('tgw-vpc-pairs', out);
    // The 1.5 GB transfer makes prod → the VPN attachment the largest pair.
    expect(rows[0]).toMatchObject({ src_vpc: 'prod', dst_vpc: expect.stringMatching(/^tgw-attach-/) });
    const pairs = new Set(rows.map((r) => `${r.src_vpc} → ${r.dst_vpc}`));
    expect(pairs).toContain('prod → shared-services');
    expect(pairs).toContain('dev → shared-services');
    // dev → prod is blackholed: never delivered.
    expect(pairs).not.toContain('dev → prod');
  });

  it('answers packets lost by reason and attachment', async () => {
    const rows = await query('tgw-packets-lost', out);
    const reasons = new Map(rows.map((r) => [r.reason, r]));
    expect(reasons.get('blackhole')).toMatchObject({ src_vpc_name: 'dev', packets_lost: 24 * 5, flows: 5 });
    expect(reasons.get('mtu_exceeded')).toMatchObject({
      src_vpc_name: 'prod',
      packets_lost: 3 * 2,
      flows: 2,
    });
    expect(reasons.has('no_route')).toBe(false);
  });

  it('answers the top talkers across accounts', async () => {
    const rows = await query('tgw-top-talkers-across-accounts', out);
    // The transfer's pair of addresses also carries other flows that minute: at least its 1.5 GB.
    expect(rows[0]).toMatchObject({ src_account: '222222222222', dst_account: 'on-premises' });
    expect(Number(rows[0]?.total_bytes)).toBeGreaterThanOrEqual(1_500_000_000);
    expect(rows.every((r) => r.src_account !== r.dst_account)).toBe(true);
  });
});
