import { describe, expect, it } from 'vitest';
import ipRanges from '../../data/ip-ranges.json' with { type: 'json' };
import { loadConfig } from '../../src/config.js';
import { createDetector } from '../../src/detect/detector.js';
import { createEnricher } from '../../src/enrich/enricher.js';
import { createServiceIndex } from '../../src/enrich/ip-ranges.js';
import { createStaticInventory } from '../../src/enrich/static-inventory.js';
import type { ResultRecord } from '../../src/firehose/result.js';
import { ALL_FIELDS_FORMAT, DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { ATTACKERS, type AttackKind, generateSample, renderLine } from '../../src/sample/generate.js';
import { createTransformer } from '../../src/transform.js';
import { decodeLines, firehoseEvent, firehoseRecord } from '../helpers/events.js';

// The labelled scenario suite: benign multi-tier traffic with both directions of every connection
// (requests, replies, NAT return traffic) and each attack, interleaved by time.
const EXPECTED: Record<AttackKind, string[]> = {
  port_scan: ['port_scan'],
  ssh_brute_force: ['admin_port_rejected', 'brute_force'],
  database_probe: ['db_port_rejected'],
  large_transfer_out: ['large_transfer'],
  internet_to_database: ['external_to_internal_tier'],
  unusual_protocol: ['unusual_protocol'],
};

/** The transform as the Lambda builds it, over a static inventory and the bundled ip-ranges subset. */
function transformerOver(
  config: ReturnType<typeof loadConfig>,
  inventory: Parameters<typeof createStaticInventory>[0],
  report: (summary: { counts: Record<string, number> }) => void = () => {},
) {
  return createTransformer({
    config,
    enricher: createEnricher({
      inventory: createStaticInventory(inventory),
      services: createServiceIndex(ipRanges),
      config: config.enrichment,
      format: config.format,
    }),
    detector: createDetector(config.detection),
    report,
  });
}

async function runScenario(format: string) {
  const config = loadConfig({ FLOW_LOG_FORMAT: format });
  const sample = generateSample({ minutes: 30, seed: 7, requestsPerMinute: 15 });
  const transform = transformerOver(config, sample.inventory);
  const out: { attack?: AttackKind; record: Record<string, unknown> }[] = [];
  for (let i = 0; i < sample.flows.length; i += 400) {
    const batch = sample.flows.slice(i, i + 400);
    const response = await transform(
      firehoseEvent(batch.map((flow) => firehoseRecord(`${renderLine(flow, config.format)}\n`))),
    );
    response.records.forEach((result: ResultRecord, n) => {
      expect(result.result).toBe('Ok');
      const [record] = decodeLines((result as ResultRecord & { result: 'Ok' }).data);
      const attack = batch[n]?.attack;
      out.push({ ...(attack ? { attack } : {}), record: record as Record<string, unknown> });
    });
  }
  return out;
}

describe.each([
  { name: 'the default v2 format', format: DEFAULT_FORMAT },
  { name: 'a custom format with tcp-flags and flow-direction', format: ALL_FIELDS_FORMAT },
])('the labelled scenario, $name', ({ format }) => {
  it('flags every attack with the right ids and no benign flow', async () => {
    const results = await runScenario(format);
    const benignFlagged = results.filter((r) => !r.attack && (r.record.flags as string[]).length > 0);
    expect(benignFlagged.map((r) => r.record)).toStrictEqual([]);
    for (const [attack, flags] of Object.entries(EXPECTED)) {
      const lines = results.filter((r) => r.attack === attack);
      expect(lines.length, attack).toBeGreaterThan(0);
      for (const line of lines)
        expect(line.record.flags, `${attack}: ${JSON.stringify(line.record)}`).toEqual(
          expect.arrayContaining(flags),
        );
    }
    // 1.5 GB to one address over three minutes: the window sees the total cross 1 GB on the last transfer.
    const transfers = results.filter((r) => r.attack === 'large_transfer_out');
    expect(transfers.map((r) => (r.record.flags as string[]).includes('exfiltration_volume'))).toStrictEqual([
      false,
      true,
      true,
    ]);
    expect(
      results.filter((r) => r.attack === 'port_scan').every((r) => r.record.severity === 'critical'),
    ).toBe(true);
    expect(
      results
        .filter((r) => r.attack === 'ssh_brute_force')
        .every((r) => r.record.srcaddr === ATTACKERS.ssh_brute_force),
    ).toBe(true);
  });

  it('enriches every line of the three-tier sample', async () => {
    const results = await runScenario(format);
    const statuses = new Set(results.map((r) => r.record.enrichment_status));
    expect(statuses).toStrictEqual(new Set(['ok']));
    const tiers = new Set(results.map((r) => r.record.subnet_tier));
    expect(tiers).toStrictEqual(new Set(['public', 'web', 'app', 'database', 'private', 'isolated']));
  });
});

describe('suppression by a tag the output does not keep', () => {
  it('silences a scanner tagged Role=scanner although TAG_KEYS does not list Role', async () => {
    // Prepare: the sample's web-1 interface tagged as a vulnerability scanner, scanning web-2.
    const config = loadConfig({ SUPPRESSIONS: '[{"flags":["*"],"tag":"Role=scanner"}]' });
    const sample = generateSample({ minutes: 1, seed: 1, requestsPerMinute: 1, attacks: false });
    const inventory = {
      ...sample.inventory,
      NetworkInterfaces: (sample.inventory.NetworkInterfaces ?? []).map((e) =>
        e.PrivateIpAddress === '10.0.1.11'
          ? { ...e, TagSet: [...(e.TagSet ?? []), { Key: 'Role', Value: 'scanner' }] }
          : e,
      ),
    };
    const web1 = inventory.NetworkInterfaces.find((e) => e.PrivateIpAddress === '10.0.1.11');
    if (!web1) throw new Error('fixture has no web-1');
    const summaries: { counts: Record<string, number> }[] = [];
    const transform = transformerOver(config, inventory, (s) => summaries.push(s));
    const eni = (web1 as { NetworkInterfaceId: string }).NetworkInterfaceId;
    const lines = Array.from(
      { length: 30 },
      (_, i) =>
        `2 123456789012 ${eni} 10.0.1.11 10.0.1.12 ${40000 + i} ${1000 + i} 6 1 44 1795420800 1795420860 REJECT OK\n`,
    );

    // Act
    const response = await transform(firehoseEvent(lines.map((line) => firehoseRecord(line))));

    // Assess
    const out = response.records.flatMap((r) => decodeLines((r as ResultRecord & { result: 'Ok' }).data));
    expect(out.every((r) => (r.flags as string[]).length === 0)).toBe(true);
    expect(out[0]?.eni_tags).not.toHaveProperty('Role');
    expect(summaries[0]?.counts.Suppressed_port_scan).toBe(30);
  });
});

describe('enrichment counts', () => {
  it('counts each status once per flow, however the statuses alternate', async () => {
    // Prepare: lines of a known interface, an unknown one and none (`-`), in runs of 1, 2 and 3.
    const config = loadConfig({});
    const sample = generateSample({ minutes: 1, seed: 1, requestsPerMinute: 1, attacks: false });
    const known = sample.inventory.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
    const summaries: { counts: Record<string, number> }[] = [];
    const transform = transformerOver(config, sample.inventory, (s) => summaries.push(s));
    const interfaces = [known, 'eni-0000000000000dead', '-', '-', known, known, 'eni-0000000000000dead'];
    interfaces.push(...interfaces.slice().reverse(), known);
    const line = (eni: string) =>
      `2 123456789012 ${eni} 10.0.1.11 10.0.1.12 40000 443 6 1 44 1795420800 1795420860 ACCEPT OK\n`;

    // Act
    const response = await transform(firehoseEvent(interfaces.map((eni) => firehoseRecord(line(eni)))));

    // Assess: what each record says, and the summary's counts of it.
    const out = response.records.flatMap((r) => decodeLines((r as ResultRecord & { result: 'Ok' }).data));
    const expected = interfaces.map((eni) => (eni === known ? 'ok' : eni === '-' ? 'skipped' : 'not_found'));
    expect(out.map((r) => r.enrichment_status)).toStrictEqual(expected);
    const count = (status: string) => expected.filter((s) => s === status).length;
    expect(summaries[0]?.counts).toMatchObject({
      Enrichment_ok: count('ok'),
      Enrichment_not_found: count('not_found'),
      Enrichment_skipped: count('skipped'),
    });
  });
});
