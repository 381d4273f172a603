import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import bundledJson from '../../data/ip-ranges.json' with { type: 'json' };
import { compileSource, serializeCompact } from '../../scripts/update-ip-ranges.mjs';
import * as compiler from '../../src/enrich/ip-ranges.js';
import {
  type AwsPrefixMatch,
  type CompactIpRanges,
  compileIpRanges,
  createServiceIndex,
  type IpRangesDocument,
  ipRangesAgeDays,
  parseCreateDate,
} from '../../src/enrich/ip-ranges.js';
import { type ParsedAddress, parseAddress, parseCidr } from '../../src/net/ip.js';

// AWS's published ip-ranges.json of 2026-08-22 (byte for byte, gzipped): the reference every answer is checked
// against, whatever snapshot data/ip-ranges.json holds later.
const FIXTURE_PATH = new URL('../fixtures/aws-ip-ranges-2026-08-22.json.gz', import.meta.url);
const FIXTURE_BYTES = gunzipSync(readFileSync(FIXTURE_PATH));
const FIXTURE = JSON.parse(FIXTURE_BYTES.toString('utf8')) as Required<IpRangesDocument>;
const FIXTURE_FILE = compileSource(
  { bytes: FIXTURE_BYTES, source: '/somewhere/aws-ip-ranges-2026-08-22.json' },
  compiler,
);
// Through the file's exact text, as the handler's bundle gets it.
const index = createServiceIndex(JSON.parse(serializeCompact(FIXTURE_FILE)) as CompactIpRanges);
const bundled = createServiceIndex(bundledJson);

const parse = (text: string) => parseAddress(text) as ParsedAddress;

/** The readable specification: every prefix that contains the address, the best by the documented rule. */
interface Reference {
  readonly v: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
  readonly length: number;
  readonly match: AwsPrefixMatch;
}
function referenceEntries(document: IpRangesDocument): Reference[] {
  const rows = [
    ...(document.prefixes ?? []).map((p) => ({ ...p, prefix: p.ip_prefix })),
    ...(document.ipv6_prefixes ?? []).map((p) => ({ ...p, prefix: p.ipv6_prefix })),
  ];
  return rows.flatMap((row) => {
    const cidr = parseCidr(row.prefix);
    if (!cidr) return [];
    return [
      {
        v: cidr.v,
        first: BigInt(cidr.first),
        last: BigInt(cidr.last),
        length: cidr.length,
        match: {
          service: row.service.toUpperCase(),
          region: row.region || undefined,
          networkBorderGroup: row.network_border_group || undefined,
        },
      },
    ];
  });
}
function referenceMatch(entries: readonly Reference[], address: ParsedAddress): AwsPrefixMatch | undefined {
  const n = BigInt(address.n);
  const sortKey = (e: Reference) =>
    [
      e.match.service === 'AMAZON' ? 1 : 0,
      -e.length,
      e.match.service === 'EC2' ? 1 : 0,
      e.match.service,
      e.match.region ?? '',
      e.match.networkBorderGroup ?? '',
    ] as const;
  const covering = entries.filter((e) => e.v === address.v && e.first <= n && n <= e.last);
  covering.sort((a, b) => {
    const x = sortKey(a);
    const y = sortKey(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as never) < (y[i] as never) ? -1 : 1;
    return 0;
  });
  return covering[0]?.match;
}
const REFERENCE = referenceEntries(FIXTURE);
const REFERENCE_V4 = REFERENCE.filter((e) => e.v === 4);
const REFERENCE_V6 = REFERENCE.filter((e) => e.v === 6);

const at = (service: string, region: string, networkBorderGroup = region) => ({
  service,
  region,
  networkBorderGroup,
});

describe('ip-ranges lookup over AWS’s file of 2026-08-22', () => {
  it.each([
    { name: 'EC2 (the regression: was unknown)', address: '44.192.10.10', match: at('EC2', 'us-east-1') },
    { name: 'an S3 /28 inside the EC2 /11', address: '44.192.134.241', match: at('S3', 'us-east-1') },
    { name: 'its last address', address: '44.192.134.255', match: at('S3', 'us-east-1') },
    { name: 'one below it: the /11 again', address: '44.192.134.239', match: at('EC2', 'us-east-1') },
    {
      name: 'one past it: the next prefix',
      address: '44.192.135.0',
      match: at('ROUTE53_RESOLVER', 'us-east-1'),
    },
    { name: 'S3 beside AMAZON', address: '52.216.8.14', match: at('S3', 'us-east-1') },
    { name: 'S3 over EC2 on the same prefix', address: '3.5.0.10', match: at('S3', 'us-east-1') },
    { name: 'DynamoDB', address: '52.94.0.12', match: at('DYNAMODB', 'us-east-1') },
    { name: 'CloudFront, global', address: '13.32.4.5', match: at('CLOUDFRONT', 'GLOBAL') },
    { name: 'Route 53 health checks', address: '15.177.0.5', match: at('ROUTE53_HEALTHCHECKS', 'GLOBAL') },
    {
      name: 'a /24 in another region inside a global /17',
      address: '35.55.17.9',
      match: at('IVS_REALTIME', 'eu-central-1'),
    },
    {
      name: 'a Local Zone',
      address: '15.253.0.5',
      match: at('EC2', 'us-west-2', 'us-west-2-lax-1'),
    },
    { name: 'IPv6 EC2', address: '2600:1f18::1', match: at('EC2', 'us-east-1') },
    {
      name: 'IPv6, the last address of that /33',
      address: '2600:1f18:7fff:ffff:ffff:ffff:ffff:ffff',
      match: at('EC2', 'us-east-1'),
    },
    {
      name: 'IPv6, one past it: a Wavelength zone',
      address: '2600:1f18:8000::',
      match: at('EC2', 'us-east-1', 'us-east-1-wl1-was-wlz-1'),
    },
    { name: 'IPv6 CloudFront', address: '2600:9000:2000::1', match: at('CLOUDFRONT', 'GLOBAL') },
    { name: 'an IPv6 /128', address: '2a01:578:0:7301::1', match: at('AMAZON', 'eu-west-3') },
  ])('$address → $match.service ($name)', ({ address, match }) => {
    // Act
    const found = index.match(parse(address));

    // Assess
    expect(found).toStrictEqual(match);
    expect(index.lookup(parse(address))).toBe(match.service);
    expect(referenceMatch(REFERENCE, parse(address))).toStrictEqual(match);
  });

  it.each([
    { name: 'one below 44.192.0.0/11', address: '44.191.255.255' },
    { name: 'one below the isolated 18.34.72.0/21 (S3)', address: '18.34.71.255' },
    { name: 'one past it', address: '18.34.80.0' },
    { name: 'documentation range', address: '203.0.113.9' },
    { name: 'the first IPv4 address', address: '0.0.0.0' },
    { name: 'the last IPv4 address', address: '255.255.255.255' },
    { name: 'one below 2600:1f18::/33', address: '2600:1f17:ffff:ffff:ffff:ffff:ffff:ffff' },
    { name: 'one past an IPv6 /128', address: '2a01:578:0:7301::2' },
    { name: 'one below it', address: '2a01:578:0:7301::' },
    { name: 'IPv6 loopback', address: '::1' },
    { name: 'the last IPv6 address', address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' },
  ])('$address is no AWS address ($name)', ({ address }) => {
    expect(index.match(parse(address))).toBeUndefined();
    expect(referenceMatch(REFERENCE, parse(address))).toBeUndefined();
  });

  it('keeps the source’s dates and counts', () => {
    expect(index).toMatchObject({
      createDate: '2026-08-22-15-17-05',
      syncToken: '1787411825',
      prefixCount: 10_668 + 6_160,
    });
    expect(FIXTURE_FILE).toMatchObject({
      prefixCount: { ipv4: 10_668, ipv6: 6_160 },
      source: 'file:aws-ip-ranges-2026-08-22.json',
      sourceSha256: '752894ac9db21ac9e4c274246f43f3c4b0257eb0b098b0420160db10e756c965',
    });
  });

  // Addresses at and around prefix edges are where an interval build goes wrong; uniform ones cover the gaps.
  const near = <N extends number | bigint>(
    entries: readonly Reference[],
    uniform: fc.Arbitrary<N>,
    toAddress: (n: bigint) => ParsedAddress | undefined,
  ) =>
    fc.oneof(
      uniform.map((n) => toAddress(BigInt(n))),
      fc
        .tuple(
          fc.nat(entries.length - 1),
          fc.constantFrom(-1n, 0n, 1n),
          fc.boolean(),
          fc.bigInt(0n, 1n << 64n),
        )
        .map(([i, delta, atFirst, offset]) => {
          const entry = entries[i] as Reference;
          const size = entry.last - entry.first + 1n;
          const edge = atFirst ? entry.first + delta : entry.last + delta;
          return toAddress(delta === 0n && offset % 3n === 0n ? entry.first + (offset % size) : edge);
        }),
    );
  const v4 = (n: bigint) => (n >= 0n && n < 1n << 32n ? ({ v: 4, n: Number(n) } as const) : undefined);
  const v6 = (n: bigint) => (n >= 0n && n < 1n << 128n ? ({ v: 6, n } as const) : undefined);

  fcTest.prop([near(REFERENCE_V4, fc.integer({ min: 0, max: 2 ** 32 - 1 }), v4)], { numRuns: 3000 })(
    'answers every IPv4 address as a linear scan over the original file does',
    (address) => {
      if (address === undefined) return;
      expect(index.match(address)).toStrictEqual(referenceMatch(REFERENCE_V4, address));
    },
  );

  fcTest.prop([near(REFERENCE_V6, fc.bigInt(0n, (1n << 128n) - 1n), v6)], { numRuns: 3000 })(
    'answers every IPv6 address as a linear scan over the original file does',
    (address) => {
      if (address === undefined) return;
      expect(index.match(address)).toStrictEqual(referenceMatch(REFERENCE_V6, address));
    },
  );

  it('answers the first and last address of every prefix as the linear scan does', () => {
    // Prepare: every 7th prefix (the scan is quadratic), both ends.
    const sample = REFERENCE.filter((_, i) => i % 7 === 0).flatMap((e) =>
      [e.first, e.last].map((n) => (e.v === 4 ? { v: 4 as const, n: Number(n) } : { v: 6 as const, n })),
    );

    // Act
    const differing = sample.filter(
      (address) =>
        JSON.stringify(index.match(address)) !==
        JSON.stringify(referenceMatch(address.v === 4 ? REFERENCE_V4 : REFERENCE_V6, address)),
    );

    // Assess
    expect(differing).toStrictEqual([]);
  });

  it('does not depend on the order of the prefixes', () => {
    const reversed = {
      ...FIXTURE,
      prefixes: [...FIXTURE.prefixes].reverse(),
      ipv6_prefixes: [...FIXTURE.ipv6_prefixes].reverse(),
    };
    expect(compileIpRanges(reversed)).toStrictEqual(compileIpRanges(FIXTURE));
  });

  it('the compact form is far smaller than the original', () => {
    expect(serializeCompact(FIXTURE_FILE).length).toBeLessThan(FIXTURE_BYTES.length / 10);
  });
});

describe('the bundled snapshot (data/ip-ranges.json)', () => {
  it('resolves 44.192.10.10 to EC2 in us-east-1 (it was unknown, so flagged exfiltration_volume)', () => {
    expect(bundled.match(parse('44.192.10.10'))).toStrictEqual(at('EC2', 'us-east-1'));
  });

  it('is the whole file, with a createDate and a syncToken', () => {
    expect(bundled.prefixCount).toBeGreaterThan(10_000);
    expect(bundled.createDate && parseCreateDate(bundled.createDate)).toBeGreaterThan(0);
    expect(bundled.syncToken).toMatch(/^\d+$/);
  });

  // Holds while the fixture is the bundled snapshot; `npm run update-ip-ranges` moves the snapshot on.
  it.runIf(bundledJson.syncToken === FIXTURE.syncToken)(
    'is exactly what the script derives from the fixture',
    () => {
      const text = readFileSync(new URL('../../data/ip-ranges.json', import.meta.url), 'utf8');
      expect(text).toBe(serializeCompact(FIXTURE_FILE));
    },
  );
});

describe('precedence among prefixes', () => {
  it('prefers a named service over AMAZON, the longest named prefix, and any service over EC2 on a tie', () => {
    // Prepare
    const nested = createServiceIndex({
      prefixes: [
        { ip_prefix: '10.0.0.0/8', service: 'AMAZON', region: 'r0' },
        { ip_prefix: '10.1.0.0/16', service: 'EC2', region: 'r1' },
        { ip_prefix: '10.1.2.0/24', service: 'S3', region: 'r2' },
        { ip_prefix: '10.1.2.0/24', service: 'EC2', region: 'r2' },
        // AMAZON inside a named prefix does not take the address from it.
        { ip_prefix: '10.1.3.0/24', service: 'AMAZON', region: 'r3' },
      ],
    });

    // Act
    const answers = ['10.2.0.1', '10.1.0.1', '10.1.2.1', '10.1.3.1', '11.0.0.0'].map(
      (a) => nested.match(parse(a)) && [nested.match(parse(a))?.service, nested.match(parse(a))?.region],
    );

    // Assess
    expect(answers).toStrictEqual([['AMAZON', 'r0'], ['EC2', 'r1'], ['S3', 'r2'], ['EC2', 'r1'], undefined]);
  });

  it('covers the ends of both address spaces', () => {
    const whole = createServiceIndex({
      prefixes: [{ ip_prefix: '0.0.0.0/0', service: 'AMAZON' }],
      ipv6_prefixes: [{ ipv6_prefix: '::/0', service: 'AMAZON' }],
    });
    expect(
      ['0.0.0.0', '255.255.255.255', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'].map((a) =>
        whole.lookup(parse(a)),
      ),
    ).toStrictEqual(['AMAZON', 'AMAZON', 'AMAZON', 'AMAZON']);
    expect(createServiceIndex({ prefixes: [] }).match(parse('1.2.3.4'))).toBeUndefined();
  });

  it('hands out one shared answer object per prefix kind (no allocation per lookup)', () => {
    expect(index.match(parse('44.192.10.10'))).toBe(index.match(parse('44.192.99.1')));
    expect(Object.isFrozen(index.match(parse('44.192.10.10')))).toBe(true);
  });

  const prefixes = fc.array(
    fc.tuple(
      fc.oneof(
        fc.tuple(fc.ipV4(), fc.integer({ min: 8, max: 32 })).map(([ip, length]) => `${ip}/${length}`),
        fc
          .tuple(
            fc.constantFrom('2600:1f00::', '2600:1f18::', '2a05:d000::'),
            fc.integer({ min: 16, max: 128 }),
          )
          .map(([ip, length]) => `${ip}/${length}`),
      ),
      fc.constantFrom('AMAZON', 'EC2', 'S3', 'ROUTE53'),
      fc.constantFrom('us-east-1', 'eu-west-1', 'GLOBAL'),
    ),
    { maxLength: 40 },
  );
  fcTest.prop([
    prefixes,
    fc.oneof(fc.ipV4(), fc.constantFrom('2600:1f00::1', '2600:1f18:1::', '2a05:d000::')),
  ])('answers small random documents as a linear scan does', (rows, address) => {
    // Prepare
    const document: IpRangesDocument = {
      prefixes: rows
        .filter(([prefix]) => !prefix.includes(':'))
        .map(([prefix, service, region]) => ({
          ip_prefix: prefix,
          service,
          region,
          network_border_group: region,
        })),
      ipv6_prefixes: rows
        .filter(([prefix]) => prefix.includes(':'))
        .map(([prefix, service, region]) => ({
          ipv6_prefix: prefix,
          service,
          region,
          network_border_group: region,
        })),
    };

    // Act
    const compact = JSON.parse(JSON.stringify(compileIpRanges(document))) as CompactIpRanges;

    // Assess
    expect(createServiceIndex(compact).match(parse(address))).toStrictEqual(
      referenceMatch(referenceEntries(document), parse(address)),
    );
  });
});

describe('a compact form that is not one', () => {
  const good = compileIpRanges({ prefixes: [{ ip_prefix: '10.0.0.0/8', service: 'EC2' }] });
  const swap = (family: 'ipv4' | 'ipv6', part: Partial<CompactIpRanges['ipv4']>) => ({
    ...good,
    [family]: { ...good[family], ...part },
  });
  const le32 = (...words: number[]) => Buffer.from(new Uint32Array(words).buffer).toString('base64');
  const le16 = (...ids: number[]) => Buffer.from(new Uint16Array(ids).buffer).toString('base64');
  it.each([
    {
      name: 'a short starts block',
      compact: swap('ipv4', { starts: le32(0) }),
      message: /starts hold 4 bytes, not 12/,
    },
    {
      name: 'starts out of order',
      compact: swap('ipv4', { starts: le32(0, 5, 3) }),
      message: /not increasing at interval 2/,
    },
    {
      name: 'a first start other than 0',
      compact: swap('ipv4', { starts: le32(1, 5, 7) }),
      message: /does not start at address 0/,
    },
    {
      name: 'an unknown match id',
      compact: swap('ipv4', { ids: le16(0, 9, 0) }),
      message: /names match 9 of 1/,
    },
    { name: 'no intervals', compact: swap('ipv6', { intervals: 0 }), message: /ipv6 interval count 0/ },
    { name: 'a short match row', compact: { ...good, matches: [['EC2']] }, message: /bad match row/ },
  ])('is refused at load: $name', ({ compact, message }) => {
    expect(() => createServiceIndex(compact)).toThrow(message);
  });
});

describe('age of the snapshot', () => {
  const created = Date.UTC(2026, 7, 22, 15, 17, 5);
  it.each([
    { name: 'the moment it was made', now: created, days: 0 },
    { name: 'a day less a second later', now: created + 86_399_000, days: 0 },
    { name: 'a day later', now: created + 86_400_000, days: 1 },
    { name: 'on 2026-12-02', now: Date.UTC(2026, 11, 2), days: 101 },
    { name: 'before it was made (a skewed clock)', now: created - 86_400_000, days: 0 },
  ])('is $days days $name', ({ now, days }) => {
    expect(ipRangesAgeDays('2026-08-22-15-17-05', now)).toBe(days);
    expect(index.ageDays(now)).toBe(days);
  });

  it.each(['2026-08-22', '2026-08-22T15:17:05Z', '', 'yesterday'])(
    'does not read %j as a createDate',
    (text) => {
      expect(parseCreateDate(text)).toBeUndefined();
      expect(() => ipRangesAgeDays(text, 0)).toThrow(/is not YYYY-MM-DD-hh-mm-ss/);
    },
  );

  it('is unknown for a source without a date', () => {
    expect(createServiceIndex({ prefixes: [] }).ageDays(Date.now())).toBeUndefined();
  });
});
