import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import bundledJson from '../../data/ip-ranges.json' with { type: 'json' };
import { loadConfig } from '../../src/config.js';
import { IP_RANGES_MAX_AGE_DAYS, parseCreateDate } from '../../src/enrich/ip-ranges.js';
import { PeerDataError } from '../../src/enrich/peer.js';
import type { Inventory, RawNetworkInterface } from '../../src/enrich/ports.js';
import type { ResultRecord } from '../../src/firehose/result.js';
import { type ParsedAddress, parseAddress } from '../../src/net/ip.js';
import { createPipeline } from '../../src/pipeline.js';
import { decodeLines, firehoseEvent, firehoseRecord } from '../helpers/events.js';

const FIXTURE = gunzipSync(
  readFileSync(new URL('../fixtures/aws-ip-ranges-2026-08-22.json.gz', import.meta.url)),
).toString('utf8');
const BUNDLED_CREATED = parseCreateDate(bundledJson.createDate) as number;
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-ip-ranges-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const ec2 = parseAddress('44.192.10.10') as ParsedAddress;

async function start(env: Record<string, string>, options: { now?: number; fetch?: typeof fetch } = {}) {
  const lines: Record<string, unknown>[] = [];
  const pipeline = await createPipeline({
    config: loadConfig({ ENRICHMENT: 'off', ...env }),
    writeLine: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    now: () => options.now ?? BUNDLED_CREATED + DAY,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return { pipeline, lines, warnings: lines.filter((l) => l.level === 'WARN') };
}

const respond = (body: string, status = 200): typeof fetch =>
  (async () => new Response(body, { status })) as typeof fetch;

describe('IP_RANGES_SOURCE', () => {
  it('bundled (the default) is the compact snapshot in data/', async () => {
    const { pipeline, warnings } = await start({});
    expect(pipeline.services.createDate).toBe(bundledJson.createDate);
    expect(pipeline.services.match(ec2)?.service).toBe('EC2');
    expect(warnings).toStrictEqual([]);
  });

  it('an https URL is fetched once and compiled from AWS’s format', async () => {
    // Prepare
    const asked: string[] = [];
    const fetchFn = (async (url: string) => {
      asked.push(url);
      return new Response(FIXTURE);
    }) as unknown as typeof fetch;

    // Act
    const { pipeline, warnings } = await start(
      { IP_RANGES_SOURCE: 'https://ip-ranges.amazonaws.com/ip-ranges.json' },
      { fetch: fetchFn },
    );

    // Assess
    expect(asked).toStrictEqual(['https://ip-ranges.amazonaws.com/ip-ranges.json']);
    expect(pipeline.services).toMatchObject({ createDate: '2026-08-22-15-17-05', prefixCount: 16_828 });
    expect(pipeline.services.match(ec2)).toStrictEqual({
      service: 'EC2',
      region: 'us-east-1',
      networkBorderGroup: 'us-east-1',
    });
    expect(warnings).toStrictEqual([]);
  });

  it.each([
    { name: 'an HTTP error', fetch: respond('nope', 503), error: 'HTTP 503' },
    { name: 'a body that is not JSON', fetch: respond('<html>'), error: expect.stringMatching(/JSON/) },
    {
      name: 'JSON that is no ip-ranges',
      fetch: respond('{"hello":1}'),
      error: 'the response is not an ip-ranges document',
    },
    {
      name: 'a network failure',
      fetch: (async () => {
        throw new TypeError('fetch failed');
      }) as typeof fetch,
      error: 'fetch failed',
    },
  ])('an https URL that answers with $name falls back to the bundled snapshot, and says so', async (row) => {
    // Act
    const { pipeline, warnings } = await start(
      { IP_RANGES_SOURCE: 'https://ip-ranges.example/ip-ranges.json' },
      { fetch: row.fetch },
    );

    // Assess
    expect(pipeline.services.createDate).toBe(bundledJson.createDate);
    expect(pipeline.services.match(ec2)?.service).toBe('EC2');
    expect(warnings).toStrictEqual([
      {
        level: 'WARN',
        message: 'could not fetch ip-ranges; using the bundled snapshot',
        source: 'https://ip-ranges.example/ip-ranges.json',
        snapshot: bundledJson.createDate,
        error: row.error,
      },
    ]);
  });

  it.each([
    { name: 'AWS’s file', path: () => file('aws.json', FIXTURE) },
    { name: 'the compact form', path: () => file('compact.json', JSON.stringify(bundledJson)) },
  ])('a path may hold $name', async ({ path }) => {
    const { pipeline } = await start({ IP_RANGES_SOURCE: path() });
    expect(pipeline.services.match(ec2)?.region).toBe('us-east-1');
  });

  it.each([
    { name: 'JSON that is no ip-ranges', source: () => file('other.json', '{"a":1}'), message: /is neither/ },
    { name: 'a plain http URL', source: () => 'http://ip-ranges.example/x.json', message: /only https URLs/ },
  ])('fails the cold start on $name', async ({ source, message }) => {
    await expect(start({ IP_RANGES_SOURCE: source() })).rejects.toThrow(message);
  });
});

describe('age of the ip-ranges at cold start', () => {
  it.each([
    { days: 0, warned: false },
    { days: IP_RANGES_MAX_AGE_DAYS, warned: false },
    { days: IP_RANGES_MAX_AGE_DAYS + 1, warned: true },
  ])('$days days after createDate: warned $warned', async ({ days, warned }) => {
    // Act
    const { warnings } = await start({}, { now: BUNDLED_CREATED + days * DAY });

    // Assess
    expect(warnings).toStrictEqual(
      warned
        ? [
            {
              level: 'WARN',
              message: `ip-ranges are ${days} days old; run npm run update-ip-ranges and deploy again`,
              source: 'bundled',
              createDate: bundledJson.createDate,
              ageDays: days,
            },
          ]
        : [],
    );
  });
});

describe('a large transfer to an EC2 address (regression)', () => {
  // flow-direction tells the direction without an interface lookup (ENRICHMENT=off).
  const FORMAT =
    '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${flow-direction}';
  const LINE =
    '5 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.5 44.192.10.10 49152 443 6 1500000 2000000000 1795420800 1795420860 ACCEPT OK egress\n';

  it.each([
    { name: 'the bundled ip-ranges', source: () => 'bundled', service: 'EC2', exfiltration: false },
    {
      name: 'ip-ranges without its prefix (as the old subset was)',
      source: () => file('without.json', '{"prefixes":[],"ipv6_prefixes":[]}'),
      service: undefined,
      exfiltration: true,
    },
  ])(
    'with $name: dst_aws_service $service, exfiltration_volume $exfiltration',
    async ({ source, service, exfiltration }) => {
      // Prepare
      const { pipeline } = await start({ FLOW_LOG_FORMAT: FORMAT, IP_RANGES_SOURCE: source() });

      // Act
      const response = await pipeline.transform(firehoseEvent([firehoseRecord(LINE)]));

      // Assess
      const [record] = response.records as [ResultRecord & { result: 'Ok' }];
      const [out] = decodeLines(record.data);
      expect(out).toMatchObject({
        dstaddr: '44.192.10.10',
        peer_scope: 'external',
        flow_direction: 'egress',
      });
      expect(out?.dst_aws_service).toBe(service);
      // 2 GB in one flow is a large_transfer either way; only an unknown peer is exfiltration.
      expect(out?.flags).toContain('large_transfer');
      expect(((out?.flags ?? []) as string[]).includes('exfiltration_volume')).toBe(exfiltration);
    },
  );
});

describe('cold start: the warm-up and the peer data are awaited after the rest is built', () => {
  const ENI = 'eni-0a1b2c3d4e5f60718';
  const LINE = `2 123456789012 ${ENI} 10.0.1.5 198.51.100.7 49152 443 6 10 840 1795420800 1795420860 ACCEPT OK\n`;
  /** An inventory that answers nothing and counts the interface lookups it was asked for. */
  const emptyInventory = () => {
    const asked: string[][] = [];
    const inventory: Inventory = {
      networkInterfaces: async (_account, ids) => {
        asked.push([...ids]);
        return [];
      },
      subnets: async () => [],
      vpcs: async () => [],
      routeTables: async () => [],
      instances: async () => [],
    };
    return { inventory, asked };
  };
  const eni: RawNetworkInterface = {
    NetworkInterfaceId: ENI,
    OwnerId: '123456789012',
    InterfaceType: 'interface',
    SubnetId: 'subnet-0123456789abcdef0',
    VpcId: 'vpc-0123456789abcdef0',
    PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.5' }],
  };

  it('primes the cache with what the warm-up listed: the first batch asks EC2 for no interface', async () => {
    // Prepare
    const { inventory, asked } = emptyInventory();
    const lines: string[] = [];
    const pipeline = await createPipeline({
      config: loadConfig({ ENRICHMENT: 'ec2', WARM_UP_ENI_PAGES: '1' }),
      inventory,
      warmUp: async () => ({ accountId: '123456789012', interfaces: [eni] }),
      writeLine: (line) => lines.push(line),
    });

    // Act
    const response = await pipeline.transform(firehoseEvent([firehoseRecord(LINE)]));

    // Assess
    const [out] = decodeLines((response.records[0] as ResultRecord & { result: 'Ok' }).data);
    expect(out).toMatchObject({ interface_id: ENI, vpc_id: 'vpc-0123456789abcdef0' });
    expect(asked).toStrictEqual([]);
    expect(lines.join('\n')).not.toContain('warm-up failed');
  });

  it('says a failed warm-up by its error name and starts anyway', async () => {
    // Prepare
    const { inventory } = emptyInventory();
    const lines: Record<string, unknown>[] = [];

    // Act
    await createPipeline({
      config: loadConfig({ ENRICHMENT: 'ec2', WARM_UP_ENI_PAGES: '1' }),
      inventory,
      warmUp: async () => {
        throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
      },
      writeLine: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    });

    // Assess
    expect(lines).toContainEqual({
      level: 'WARN',
      message: 'cache warm-up failed; the first batches look interfaces up',
      error: 'AccessDenied',
    });
  });

  it('fails the start on a missing peer data file, even while a warm-up is failing too', async () => {
    // Prepare: a rejected warm-up nobody awaits would be an unhandled rejection (vitest fails the run on one).
    const { inventory } = emptyInventory();
    const missing = join(dir, 'no-such-peer-data.bin');

    // Act, Assess
    await expect(
      createPipeline({
        config: loadConfig({ ENRICHMENT: 'ec2', WARM_UP_ENI_PAGES: '1' }),
        inventory,
        warmUp: async () => {
          throw new Error('no credentials');
        },
        writeLine: () => {},
        peerDataPath: missing,
      }),
    ).rejects.toThrow(PeerDataError);
  });
});
