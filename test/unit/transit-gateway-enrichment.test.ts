import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Inventory } from '../../src/enrich/ports.js';
import { createStaticInventory } from '../../src/enrich/static-inventory.js';
import type { ResultRecord } from '../../src/firehose/result.js';
import { DEFAULT_FORMAT, TGW_DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { validateEmittedRecord } from '../../src/generated/validators.js';
import { createPipeline } from '../../src/pipeline.js';
import {
  SPOKE_ACCOUNT,
  TGW_ACCOUNT,
  TGW_INVENTORY,
  tgwLine,
  tgwRecord,
  VPN_SOURCE,
} from '../fixtures/tgw-lines.js';
import { decodeLines, firehoseEvent, firehoseRecord } from '../helpers/events.js';

// A Transit Gateway line through the whole transform: read, both sides enriched from the inventory (each
// in its own VPC's account), flagged by the rules that apply to a line without `action`.

const CUSTOM_TGW_FORMAT =
  '${version} ${account-id} ${tgw-id} ${tgw-attachment-id} ${tgw-src-vpc-account-id} ${tgw-dst-vpc-account-id} ${tgw-src-eni} ${tgw-dst-eni} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${packets-lost-blackhole}';
const VPC_LINE =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

/** The static inventory, counting which interfaces were asked for in which account. */
function recordingInventory(): { inventory: Inventory; asked: [string, string[]][] } {
  const inner = createStaticInventory(TGW_INVENTORY);
  const asked: [string, string[]][] = [];
  return {
    asked,
    inventory: {
      ...inner,
      networkInterfaces: async (account, ids, options) => {
        asked.push([account, [...ids]]);
        return inner.networkInterfaces(account, ids, options);
      },
    },
  };
}

async function transformLines(format: string, lines: string[], env: Record<string, string> = {}) {
  const { inventory, asked } = recordingInventory();
  const { transform } = await createPipeline({
    config: loadConfig({ FLOW_LOG_FORMAT: format, PEER_LOOKUP: 'off', ...env }),
    inventory,
    writeLine: () => {},
  });
  const response = await transform(firehoseEvent(lines.map((line) => firehoseRecord(`${line}\n`))));
  return { records: response.records as (ResultRecord & { data: string })[], asked };
}

const SIDES = {
  src_vpc_name: 'shared-services',
  src_subnet_name: 'shared-tools-a',
  src_subnet_tier: 'tools',
  dst_vpc_name: 'prod',
  dst_subnet_name: 'prod-app-b',
  dst_subnet_tier: 'app',
};

describe('a Transit Gateway line through the transform', () => {
  it.each([
    { name: "AWS's default TGW format", format: TGW_DEFAULT_FORMAT },
    { name: 'a custom TGW format', format: CUSTOM_TGW_FORMAT },
  ])('comes back Ok from $name: typed fields, both sides enriched, a valid record', async ({ format }) => {
    // Act
    const { records, asked } = await transformLines(format, [tgwLine(format)]);

    // Assess
    const [record] = records;
    expect(record?.result).toBe('Ok');
    const [emitted] = decodeLines(record?.data ?? '');
    const own = Object.fromEntries(Object.entries(tgwRecord(format)).filter(([, v]) => v !== null));
    expect(emitted).toMatchObject({ ...own, ...SIDES, enrichment_status: 'ok', flags: [], severity: 'none' });
    expect(validateEmittedRecord(emitted)).toBe(true);
    // Each side in its own VPC's account (a spoke's through its cross-account role), in one round.
    expect(asked).toStrictEqual([
      [TGW_ACCOUNT, ['eni-0aaaaaaaaaaaaaaa1']],
      [SPOKE_ACCOUNT, ['eni-0bbbbbbbbbbbbbbb2']],
    ]);
  });

  it('writes the sides once, at the end of the enrichment members, and no interface columns', async () => {
    // Act
    const { records } = await transformLines(TGW_DEFAULT_FORMAT, [tgwLine()]);

    // Assess
    const [emitted] = decodeLines(records[0]?.data ?? '');
    const keys = Object.keys(emitted ?? {});
    expect(keys.filter((k) => k.startsWith('src_') || k.startsWith('dst_'))).toStrictEqual(
      Object.keys(SIDES),
    );
    for (const key of ['eni_type', 'subnet_tier', 'vpc_name', 'interface_id'])
      expect(keys).not.toContain(key);
  });

  it('reports not_found when a side is unknown, and still names the side it found', async () => {
    // Prepare
    const line = tgwLine(TGW_DEFAULT_FORMAT, { 'tgw-dst-eni': 'eni-0ccccccccccccccc3' });

    // Act
    const { records } = await transformLines(TGW_DEFAULT_FORMAT, [line]);

    // Assess
    const [emitted] = decodeLines(records[0]?.data ?? '');
    expect(emitted).toMatchObject({ enrichment_status: 'not_found', src_vpc_name: 'shared-services' });
    expect(emitted).not.toHaveProperty('dst_vpc_name');
  });

  it('looks up only the side a VPN attachment leaves: the source has no interface', async () => {
    // Prepare
    const vpn = VPN_SOURCE;

    // Act
    const { records, asked } = await transformLines(TGW_DEFAULT_FORMAT, [tgwLine(TGW_DEFAULT_FORMAT, vpn)]);

    // Assess
    const [emitted] = decodeLines(records[0]?.data ?? '');
    expect(emitted).toMatchObject({ enrichment_status: 'ok', dst_vpc_name: 'prod', dst_subnet_tier: 'app' });
    expect(emitted).not.toHaveProperty('src_vpc_name');
    expect(asked).toStrictEqual([[SPOKE_ACCOUNT, ['eni-0bbbbbbbbbbbbbbb2']]]);
  });

  it('reads VPC and TGW lines in one stream (two formats): each Ok, each enriched its own way', async () => {
    // Act
    const { records } = await transformLines(`${DEFAULT_FORMAT},${TGW_DEFAULT_FORMAT}`, [
      VPC_LINE,
      tgwLine(),
    ]);

    // Assess
    expect(records.map((r) => r.result)).toStrictEqual(['Ok', 'Ok']);
    const [vpc] = decodeLines(records[0]?.data ?? '');
    const [tgw] = decodeLines(records[1]?.data ?? '');
    expect(vpc).toMatchObject({ interface_id: 'eni-1235b8ca123456789', enrichment_status: 'not_found' });
    expect(vpc).not.toHaveProperty('src_vpc_name');
    expect(tgw).toMatchObject({ ...SIDES, enrichment_status: 'ok' });
  });

  it('fails a line with a bad transit gateway id, alone, with invalid_field', async () => {
    // Act
    const { records } = await transformLines(TGW_DEFAULT_FORMAT, [
      tgwLine(TGW_DEFAULT_FORMAT, { 'tgw-id': 'tgw-NOTHEX0000000000' }),
      tgwLine(),
    ]);

    // Assess
    expect(records.map((r) => r.result)).toStrictEqual(['ProcessingFailed', 'Ok']);
  });
});

describe('rules on Transit Gateway lines (no action)', () => {
  const cases: { name: string; overrides: Record<string, number>; flags: string[] }[] = [
    { name: 'a large transfer', overrides: { bytes: 50_000_000 }, flags: ['large_transfer'] },
    {
      name: 'blackhole drops beyond the threshold (10)',
      overrides: { 'packets-lost-blackhole': 11 },
      flags: ['tgw_blackhole_drops'],
    },
    { name: 'blackhole drops at the threshold', overrides: { 'packets-lost-blackhole': 10 }, flags: [] },
    {
      name: 'GRE',
      overrides: { protocol: 47, srcport: 0, dstport: 0, 'tcp-flags': 0 },
      flags: ['unusual_protocol'],
    },
    // Rules that read `action` are not evaluated: a rejected-looking SSH attempt is not flagged.
    { name: 'SSH (needs action)', overrides: { dstport: 22 }, flags: [] },
  ];
  it.each(cases)('flags $name with $flags', async ({ overrides, flags }) => {
    // Act
    const { records } = await transformLines(TGW_DEFAULT_FORMAT, [tgwLine(TGW_DEFAULT_FORMAT, overrides)]);

    // Assess
    const [emitted] = decodeLines(records[0]?.data ?? '');
    expect(emitted?.flags).toStrictEqual(flags);
  });

  it('follows TGW_BLACKHOLE_PACKETS_THRESHOLD', async () => {
    // Act
    const line = tgwLine(TGW_DEFAULT_FORMAT, { 'packets-lost-blackhole': 3 });
    const { records } = await transformLines(TGW_DEFAULT_FORMAT, [line], {
      TGW_BLACKHOLE_PACKETS_THRESHOLD: '2',
    });

    // Assess
    expect(decodeLines(records[0]?.data ?? '')[0]).toMatchObject({
      flags: ['tgw_blackhole_drops'],
      severity: 'warning',
    });
  });

  it('flags a port scan across the transit gateway', async () => {
    // Prepare: one source reaching 25 ports of a host in another VPC.
    const lines = Array.from({ length: 25 }, (_, i) => tgwLine(TGW_DEFAULT_FORMAT, { dstport: 1000 + i }));

    // Act
    const { records } = await transformLines(TGW_DEFAULT_FORMAT, lines);

    // Assess
    const flags = records.map((r) => decodeLines(r.data)[0]?.flags);
    expect(flags.every((f) => JSON.stringify(f) === '["port_scan"]')).toBe(true);
  });
});

describe('the sample Transit Gateway event (events/tgw-hub-and-spoke.json)', () => {
  it('comes back all Ok through invoke, every record enriched on both sides from events/tgw-inventory.json', async () => {
    // Prepare
    const { main } = await import('../../src/cli.js');
    let stdout = '';

    // Act
    const code = await main(
      ['invoke', '--event', 'events/tgw-hub-and-spoke.json', '--inventory', 'events/tgw-inventory.json'],
      {
        env: {},
        stdout: (text) => {
          stdout += text;
        },
        stderr: () => {},
      },
    );

    // Assess
    expect(code).toBe(0);
    const response = JSON.parse(stdout) as { records: (ResultRecord & { data: string })[] };
    expect(response.records.length).toBeGreaterThan(50);
    expect(new Set(response.records.map((r) => r.result))).toStrictEqual(new Set(['Ok']));
    const emitted = response.records.flatMap((r) => decodeLines(r.data));
    expect(new Set(emitted.map((e) => e.enrichment_status))).toStrictEqual(new Set(['ok']));
    expect(emitted.every((e) => validateEmittedRecord(e))).toBe(true);
    expect(new Set(emitted.map((e) => e.src_vpc_name ?? 'on-premises'))).toStrictEqual(
      new Set(['shared-services', 'prod', 'dev', 'on-premises']),
    );
    expect(emitted.some((e) => (e.flags as string[]).includes('tgw_blackhole_drops'))).toBe(true);
  });
});
