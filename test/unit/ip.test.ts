import { isIP } from 'node:net';
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import ipRanges from '../../data/ip-ranges.json' with { type: 'json' };
import { isInternal, parseAddress, parseCidr, parseIPv4, parseIPv6 } from '../../src/enrich/ip.js';
import { createServiceIndex } from '../../src/enrich/ip-ranges.js';

describe('address parsing', () => {
  it.each([
    { text: '0.0.0.0', v4: 0 },
    { text: '10.0.1.5', v4: 0x0a000105 },
    { text: '255.255.255.255', v4: 0xffffffff },
    { text: '256.1.1.1', v4: -1 },
    { text: '1.2.3', v4: -1 },
    { text: '1.2.3.4.5', v4: -1 },
    { text: '01.2.3.4x', v4: -1 },
  ])('IPv4 $text', ({ text, v4 }) => {
    expect(parseIPv4(text)).toBe(v4);
  });

  it.each([
    { text: '::', value: 0n },
    { text: '::1', value: 1n },
    { text: '2001:db8::1', value: 0x20010db8000000000000000000000001n },
    { text: '::ffff:10.0.0.1', value: 0xffff0a000001n },
    { text: 'fe80::1%eth0', value: 0xfe800000000000000000000000000001n },
    { text: '1::2::3', value: -1n },
    { text: '12345::', value: -1n },
    { text: 'g::1', value: -1n },
  ])('IPv6 $text', ({ text, value }) => {
    expect(parseIPv6(text)).toBe(value);
  });

  fcTest.prop([fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 40 }))])(
    'agrees with node:net on what is an address',
    (text) => {
      expect(parseAddress(text) !== undefined).toBe(isIP(text) !== 0);
    },
  );
});

describe('peer scope', () => {
  it.each([
    { address: '10.1.2.3', internal: true },
    { address: '172.31.255.1', internal: true },
    { address: '172.32.0.1', internal: false },
    { address: '192.168.0.1', internal: true },
    { address: '100.64.0.1', internal: true },
    { address: 'fd12:3456::1', internal: true },
    { address: '203.0.113.9', internal: false },
    { address: '198.51.100.7', internal: false },
    { address: '169.254.169.254', internal: false },
    { address: '2600:1f18::1', internal: false },
  ])('$address is internal: $internal', ({ address, internal }) => {
    expect(isInternal(parseAddress(address) as never)).toBe(internal);
  });

  it('treats configured ranges as internal', () => {
    const extra = [parseCidr('203.0.113.0/24')].filter((c) => c !== undefined);
    expect(isInternal(parseAddress('203.0.113.9') as never, extra)).toBe(true);
  });
});

describe('ip-ranges index', () => {
  const index = createServiceIndex(ipRanges);
  it.each([
    { address: '52.216.8.14', service: 'S3' },
    { address: '52.95.128.179', service: 'S3' },
    { address: '52.94.0.12', service: 'DYNAMODB' },
    { address: '3.80.10.20', service: 'EC2' },
    { address: '3.1.2.3', service: 'AMAZON' },
    { address: '13.32.4.5', service: 'CLOUDFRONT' },
    { address: '2600:1f18::1', service: 'EC2' },
    { address: '2600:1f00::1', service: 'AMAZON' },
    { address: '203.0.113.9', service: undefined },
  ])('$address → $service', ({ address, service }) => {
    expect(index.lookup(parseAddress(address) as never)).toBe(service);
  });

  it('prefers the longest prefix of a named service over AMAZON, and over EC2 on a tie', () => {
    const nested = createServiceIndex({
      prefixes: [
        { ip_prefix: '10.0.0.0/8', service: 'AMAZON' },
        { ip_prefix: '10.1.0.0/16', service: 'EC2' },
        { ip_prefix: '10.1.2.0/24', service: 'S3' },
        { ip_prefix: '10.1.2.0/24', service: 'EC2' },
      ],
    });
    expect(
      ['10.2.0.1', '10.1.0.1', '10.1.2.1'].map((a) => nested.lookup(parseAddress(a) as never)),
    ).toStrictEqual(['AMAZON', 'EC2', 'S3']);
  });

  fcTest.prop([
    fc.array(
      fc.tuple(fc.ipV4(), fc.integer({ min: 8, max: 32 }), fc.constantFrom('AMAZON', 'EC2', 'S3', 'ROUTE53')),
      { maxLength: 40 },
    ),
    fc.ipV4(),
  ])('answers like a linear scan over every prefix', (prefixes, address) => {
    const document = {
      prefixes: prefixes.map(([ip, length, service]) => ({ ip_prefix: `${ip}/${length}`, service })),
    };
    const parsed = parseAddress(address) as { v: 4; n: number };
    const covering = document.prefixes
      .map((p) => ({ ...p, cidr: parseCidr(p.ip_prefix) as { first: number; last: number; length: number } }))
      .filter((p) => parsed.n >= p.cidr.first && parsed.n <= p.cidr.last);
    const rank = (p: (typeof covering)[number]) =>
      (p.service === 'AMAZON' ? 0 : 1000) + p.cidr.length * 2 + (p.service === 'EC2' ? 0 : 1);
    const best = covering.sort((a, b) => rank(b) - rank(a) || a.service.localeCompare(b.service))[0];
    expect(createServiceIndex(document).lookup(parsed)).toBe(best?.service);
  });
});
