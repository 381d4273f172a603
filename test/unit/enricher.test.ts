import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEnricher } from '../../src/enrich/enricher.js';
import { createServiceIndex } from '../../src/enrich/ip-ranges.js';
import type { Inventory, LookupOptions, RawNetworkInterface } from '../../src/enrich/ports.js';
import { DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { parseFormat } from '../../src/flowlog/format.js';
import type { Flow } from '../../src/flowlog/parse.js';
import { guard } from '../helpers/guard.js';

const ACCOUNT = '123456789012';
const ENI = 'eni-0123456789abcdef0';
const FLOW: Flow = {
  version: 2,
  account_id: ACCOUNT,
  interface_id: ENI,
  srcaddr: '198.51.100.23',
  dstaddr: '10.0.1.7',
  srcport: 40_000,
  dstport: 443,
  protocol: 6,
  packets: 10,
  bytes: 4_000,
  start: 1_700_000_000,
  end: 1_700_000_060,
  action: 'ACCEPT',
  log_status: 'OK',
};

type Lookup = (
  account: string,
  ids: readonly string[],
  options?: LookupOptions,
) => Promise<RawNetworkInterface[]>;

/** An inventory whose interface lookups are `lookup`; it knows no subnet, VPC or instance. */
function inventoryOf(lookup: Lookup): Inventory & { networkInterfaces: ReturnType<typeof vi.fn<Lookup>> } {
  return {
    networkInterfaces: vi.fn<Lookup>(lookup),
    subnets: async () => [],
    vpcs: async () => [],
    routeTables: async () => [],
    instances: async () => [],
  };
}

function enricherWith(inventory: Inventory) {
  return createEnricher({
    inventory,
    services: createServiceIndex({ prefixes: [] }),
    config: loadConfig({}).enrichment,
    format: parseFormat(DEFAULT_FORMAT),
  });
}

const never = () => new Promise<never>(() => {});

describe('createEnricher when the inventory does not answer in time', () => {
  it('counts the budget running out as a lookup error named TimeoutError', async () => {
    // Prepare
    const enricher = enricherWith(inventoryOf(never));

    // Act
    const batch = await guard(1_000, enricher.prepare([FLOW], Date.now() + 50, { accountId: ACCOUNT }));

    // Assess
    expect(batch.enrichAll().map((e) => e?.status)).toStrictEqual(['unavailable']);
    expect(batch.stats.lookupErrors).toBe(1);
    expect(batch.stats.errors).toStrictEqual({ TimeoutError: 1 });
  });

  it('names throttling that outlasts the budget after the throttling, not a timeout', async () => {
    // Prepare: the adapter reports a throttled attempt and goes on retrying.
    const enricher = enricherWith(
      inventoryOf((_account, _ids, options) => {
        options?.onAttemptError?.(
          Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }),
        );
        return never();
      }),
    );

    // Act
    const batch = await guard(1_000, enricher.prepare([FLOW], Date.now() + 50, { accountId: ACCOUNT }));

    // Assess
    expect(batch.stats.lookupErrors).toBe(1);
    expect(batch.stats.errors).toStrictEqual({ RequestLimitExceeded: 1 });
  });

  it('looks the interface up again in the next batch rather than waiting on the hung lookup', async () => {
    // Prepare: the first lookup hangs, the second answers.
    const inventory = inventoryOf(never);
    const enricher = enricherWith(inventory);
    await enricher.prepare([FLOW], Date.now() + 50, { accountId: ACCOUNT });
    inventory.networkInterfaces.mockImplementation(async () => [
      { NetworkInterfaceId: ENI, OwnerId: ACCOUNT, InterfaceType: 'interface' },
    ]);

    // Act
    const next = await guard(1_000, enricher.prepare([FLOW], Date.now() + 5_000, { accountId: ACCOUNT }));

    // Assess
    expect(inventory.networkInterfaces).toHaveBeenCalledTimes(2);
    expect(next.enrichAll().map((e) => e?.status)).toStrictEqual(['ok']);
    expect(next.stats).toMatchObject({ lookupCalls: 1, lookupErrors: 0, errors: {} });
  });

  it('counts a failed lookup under the name of its error', async () => {
    // Prepare
    const enricher = enricherWith(
      inventoryOf(async () => {
        throw Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' });
      }),
    );

    // Act
    const batch = await enricher.prepare([FLOW, FLOW], Date.now() + 5_000, { accountId: ACCOUNT });

    // Assess
    expect(batch.stats.lookupErrors).toBe(1);
    expect(batch.stats.errors).toStrictEqual({ AccessDenied: 1 });
  });
});

describe("createEnricher and an interface's own addresses", () => {
  it('gives each of them its own facts: an Elastic IP in EC2 ranges is EC2, the private address is not', async () => {
    // Prepare: an interface with a private address and a public one inside an EC2 prefix.
    const enricher = createEnricher({
      inventory: inventoryOf(async () => [
        {
          NetworkInterfaceId: ENI,
          OwnerId: ACCOUNT,
          InterfaceType: 'interface',
          PrivateIpAddress: '10.0.1.7',
          Association: { PublicIp: '3.80.10.20' },
        },
      ]),
      services: createServiceIndex({
        prefixes: [
          {
            ip_prefix: '3.80.0.0/12',
            region: 'us-east-1',
            service: 'EC2',
            network_border_group: 'us-east-1',
          },
        ],
      }),
      config: loadConfig({}).enrichment,
      format: parseFormat(DEFAULT_FORMAT),
    });
    const flows: Flow[] = [
      { ...FLOW, dstaddr: '3.80.10.20' },
      // The packet's own destination (pkt-dstaddr) is not the interface's address: its facts are looked up.
      { ...FLOW, dstaddr: '10.0.1.7', pkt_dstaddr: '3.80.10.21' },
      { ...FLOW, dstaddr: '10.0.1.7' },
      { ...FLOW, srcaddr: '3.80.10.20', dstaddr: '198.51.100.23', srcport: 443, dstport: 40_000 },
    ];

    // Act
    const batch = await enricher.prepare(flows, Date.now() + 5_000, { accountId: ACCOUNT });

    // Assess
    expect(
      batch
        .enrichAll()
        .map((e) => [e?.flow_direction, e?.src_aws_service, e?.dst_aws_service, e?.peer_scope]),
    ).toStrictEqual([
      ['ingress', undefined, 'EC2', 'external'],
      ['ingress', undefined, 'EC2', 'external'],
      ['ingress', undefined, undefined, 'external'],
      ['egress', 'EC2', undefined, 'external'],
    ]);
  });
});
