import { isIP } from 'node:net';
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isInternal, parseAddress, parseCidr, parseIPv4, parseIPv6 } from '../../src/net/ip.js';

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
