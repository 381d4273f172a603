import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { communityId } from '../../src/flowlog/community-id.js';
import awsExamples from '../fixtures/community-id/aws-flow-log-examples.json' with { type: 'json' };
import baseline from '../fixtures/community-id/baseline_deflt.json' with { type: 'json' };
import tables from '../fixtures/community-id/baseline_tables_deflt.json' with { type: 'json' };

interface Vector {
  proto: number;
  saddr: string;
  daddr: string;
  sport: number | null;
  dport: number | null;
  communityid: string;
}

/*
 * The vectors of corelight/community-id-spec: baseline/baseline_deflt.json as published (pycommunityid
 * over the repository's pcaps; for ICMP its sport/dport are the type and its counterpart, or the type and
 * code) and the "Default settings" table of baseline/README.md. Seed 0, base64.
 */
describe('Community ID specification vectors', () => {
  it.each((baseline as Vector[]).map((v, i) => ({ ...v, i })))(
    'baseline_deflt.json #$i: proto $proto $saddr $sport → $daddr $dport',
    ({ proto, saddr, daddr, sport, dport, communityid }) => {
      // Act
      const id = communityId(saddr, daddr, proto, sport, dport);

      // Assess
      expect(id).toBe(communityid);
    },
  );

  it.each(tables as (Vector & { comment: string })[])(
    'README table: $comment (proto $proto $saddr $sport → $daddr $dport)',
    ({ proto, saddr, daddr, sport, dport, communityid }) => {
      expect(communityId(saddr, daddr, proto, sport, dport)).toBe(communityid);
    },
  );
});

/*
 * Flow-log lines of the AWS documentation; expected IDs computed apart from this code, with Python's
 * hashlib (test/fixtures/community-id/independent-check.py, which also reproduces every vector above).
 */
describe('AWS documentation flow-log records', () => {
  const value = (token: string | undefined) => (token === '-' || token === undefined ? null : token);
  const integer = (token: string | undefined) => (value(token) === null ? null : Number(token));

  it.each(awsExamples.records)('$name', ({ line, communityid }) => {
    // Prepare: the default format, version 2
    const t = line.split(' ');

    // Act
    const id = communityId(value(t[3]), value(t[4]), integer(t[7]), integer(t[5]), integer(t[6]));

    // Assess
    expect(id).toBe(communityid ?? undefined);
  });

  it('hashes ICMP records (ports 0 0) as echo replies: a ping and its answer differ, the answer matches a packet monitor', () => {
    // Prepare: AWS writes no ICMP type or code, only 0 0
    const request = communityId('203.0.113.12', '172.31.16.139', 1, 0, 0);
    const response = communityId('172.31.16.139', '203.0.113.12', 1, 0, 0);

    // Act: what Zeek or Suricata compute for the echo request (type 8, code 0) of the same ping
    const monitor = communityId('203.0.113.12', '172.31.16.139', 1, 8, 0);

    // Assess
    expect(request).not.toBe(response);
    expect(response).toBe(monitor);
  });

  it('hashes ICMPv6 records with ports 0 0 one-way (type 0 has no counterpart): each direction as written', () => {
    // Expected values from independent-check.py
    expect(communityId('2001:db8::1', '2001:db8::2', 58, 0, 0)).toBe('1:TjV1jRMZRuGvo5LTQFpWQvkb68U=');
    expect(communityId('2001:db8::2', '2001:db8::1', 58, 0, 0)).toBe('1:Z6xGETZ/TcOPCYO1U6q1xond9TU=');
    expect(communityId('2001:db8::1', '2001:db8::2', 58, 128, 0)).toBe('1:u2vMS3HiWth2lIMKHB1fjELshpQ=');
  });
});

describe('addresses and protocols', () => {
  const ssh = '1:hXZclvxUJScaVf0xMIJR6yW6tBQ=';
  it.each([
    '2001:db8:1234:a100:8d6e:3477:df66:f105',
    '2001:0db8:1234:a100:8d6e:3477:df66:f105',
    '2001:DB8:1234:A100:8D6E:3477:DF66:F105',
  ])('reads %s as one address in any notation', (srcaddr) => {
    expect(communityId(srcaddr, '2001:db8:1234:a102:3304:8879:34cf:4071', 6, 34892, 22)).toBe(ssh);
  });

  it.each([
    ['::', '0:0:0:0:0:0:0:0'],
    ['::1', '0:0:0:0:0:0:0:1'],
    ['1::', '1:0:0:0:0:0:0:0'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['fe80::1:2', 'fe80:0:0:0:0:0:1:2'],
    ['::ffff:10.0.0.1', '0:0:0:0:0:ffff:a00:1'],
    ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4:5:6:c000:201'],
  ])('expands %s as %s', (short, full) => {
    expect(communityId(short, 'ff02::1', 17, 5353, 5353)).toBe(communityId(full, 'ff02::1', 17, 5353, 5353));
  });

  it('hashes protocols without ports (GRE, ESP) on addresses and protocol alone, whatever the port fields hold', () => {
    const gre = communityId('10.0.0.1', '10.0.0.2', 47, null, null);
    expect(communityId('10.0.0.1', '10.0.0.2', 47, 0, 0)).toBe(gre);
    expect(communityId('10.0.0.2', '10.0.0.1', 47, 1234, 0)).toBe(gre);
    expect(communityId('10.0.0.1', '10.0.0.2', 50, 0, 0)).not.toBe(gre);
  });

  it('orders equal addresses by port', () => {
    expect(communityId('10.0.0.1', '10.0.0.1', 6, 80, 1234)).toBe(
      communityId('10.0.0.1', '10.0.0.1', 6, 1234, 80),
    );
  });

  it.each([
    { name: 'no source address (NODATA)', args: [null, '10.0.0.1', 6, 1, 2] },
    { name: 'no destination address', args: ['10.0.0.1', undefined, 6, 1, 2] },
    { name: 'a dash', args: ['-', '10.0.0.1', 6, 1, 2] },
    { name: 'an empty address', args: ['', '10.0.0.1', 6, 1, 2] },
    { name: 'three octets', args: ['10.0.1', '10.0.0.1', 6, 1, 2] },
    { name: 'five octets', args: ['10.0.0.1.5', '10.0.0.1', 6, 1, 2] },
    { name: 'an octet over 255', args: ['10.0.0.256', '10.0.0.1', 6, 1, 2] },
    { name: 'a leading zero', args: ['10.0.0.01', '10.0.0.1', 6, 1, 2] },
    { name: 'a trailing dot', args: ['10.0.0.', '10.0.0.1', 6, 1, 2] },
    { name: 'two ::', args: ['1::2::3', '::1', 6, 1, 2] },
    { name: 'nine groups', args: ['1:2:3:4:5:6:7:8:9', '::1', 6, 1, 2] },
    { name: 'eight groups and ::', args: ['1:2:3:4:5:6:7:8::', '::1', 6, 1, 2] },
    { name: 'seven groups', args: ['1:2:3:4:5:6:7', '::1', 6, 1, 2] },
    { name: 'a five-digit group', args: ['12345::', '::1', 6, 1, 2] },
    { name: 'a leading colon', args: [':1:2:3:4:5:6:7', '::1', 6, 1, 2] },
    { name: 'a trailing colon', args: ['1:2:3:4:5:6:7:', '::1', 6, 1, 2] },
    { name: 'a zone', args: ['fe80::1%eth0', '::1', 6, 1, 2] },
    { name: 'a dotted quad too early', args: ['1:2:3:4:5:6:7:1.2.3.4', '::1', 6, 1, 2] },
    { name: 'families mixed', args: ['10.0.0.1', '::1', 6, 1, 2] },
    { name: 'no protocol', args: ['10.0.0.1', '10.0.0.2', null, 1, 2] },
    { name: 'protocol 256', args: ['10.0.0.1', '10.0.0.2', 256, 1, 2] },
    { name: 'protocol 6.5', args: ['10.0.0.1', '10.0.0.2', 6.5, 1, 2] },
    { name: 'TCP without ports', args: ['10.0.0.1', '10.0.0.2', 6, null, null] },
    { name: 'UDP with one port', args: ['10.0.0.1', '10.0.0.2', 17, 53, null] },
    { name: 'a port over 65535', args: ['10.0.0.1', '10.0.0.2', 6, 65536, 80] },
  ] as { name: string; args: Parameters<typeof communityId> }[])('has no ID with $name', ({ args }) => {
    expect(communityId(...args)).toBeUndefined();
  });
});

/**
 * A readable implementation from bytes, as the specification's pseudo code reads, to hold the fast one
 * (which parses text into one reused buffer and orders it in place) against.
 */
function reference(src: Buffer, dst: Buffer, protocol: number, sport: number, dport: number): string {
  const pairs: Record<number, Record<number, number>> = {
    1: { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17 },
    58: {
      ...{ 128: 129, 129: 128, 130: 131, 131: 130, 133: 134, 134: 133 },
      ...{ 135: 136, 136: 135, 139: 140, 140: 139, 144: 145, 145: 144 },
    },
  };
  const ports = [1, 6, 17, 58, 132].includes(protocol);
  let oneWay = false;
  let [a, b, p, q] = [src, dst, sport, dport];
  const counterpart = pairs[protocol]?.[p];
  if (pairs[protocol]) {
    if (counterpart === undefined) oneWay = true;
    else q = counterpart;
  }
  const order = Buffer.compare(a, b);
  if (!oneWay && (order > 0 || (order === 0 && ports && p > q))) [a, b, p, q] = [b, a, q, p];
  const seedAndProto = [Buffer.from([0, 0]), a, b, Buffer.from([protocol, 0])];
  const portBytes = Buffer.alloc(4);
  portBytes.writeUInt16BE(p, 0);
  portBytes.writeUInt16BE(q, 2);
  const data = Buffer.concat(ports ? [...seedAndProto, portBytes] : seedAndProto);
  return `1:${createHash('sha1').update(data).digest('base64')}`;
}

const ipv4Text = (bytes: Buffer) => [...bytes].join('.');
const ipv6Full = (bytes: Buffer) =>
  Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16)).join(':');
/** RFC 5952 text (WHATWG URL serialises IPv6 hosts that way): compressed, lower case. */
const ipv6Canonical = (bytes: Buffer) => new URL(`http://[${ipv6Full(bytes)}]/`).hostname.slice(1, -1);

describe('against a reference implementation', () => {
  // Few distinct bytes, and often the same address twice, so that the ordering's edge cases happen.
  const byte = fc.constantFrom(0, 1, 2, 10, 127, 128, 255);
  const pair = (size: number) =>
    fc
      .tuple(
        fc.array(byte, { minLength: size, maxLength: size }),
        fc.array(byte, { minLength: size, maxLength: size }),
        fc.boolean(),
      )
      .map(([s, d, same]) => [Buffer.from(s), Buffer.from(same ? s : d)] as const);
  const protocol = fc.oneof(fc.constantFrom(1, 6, 17, 58, 132, 47, 50), fc.integer({ min: 0, max: 255 }));
  const port = fc.oneof(
    fc.constantFrom(0, 7, 443),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 65535 }),
  );

  it('maps every ICMP and ICMPv6 type, in both directions, as the reference does', () => {
    const [low, high] = [Buffer.from([10, 0, 0, 1]), Buffer.from([10, 0, 0, 2])];
    const [low6, high6] = [Buffer.alloc(16, 0), Buffer.alloc(16, 0)];
    high6[15] = 1;
    for (let type = 0; type < 256; type++) {
      for (const [src, dst] of [
        [low, high],
        [high, low],
      ] as const)
        expect([type, communityId(ipv4Text(src), ipv4Text(dst), 1, type, 3)]).toStrictEqual([
          type,
          reference(src, dst, 1, type, 3),
        ]);
      for (const [src, dst] of [
        [low6, high6],
        [high6, low6],
      ] as const)
        expect([type, communityId(ipv6Full(src), ipv6Full(dst), 58, type, 3)]).toStrictEqual([
          type,
          reference(src, dst, 58, type, 3),
        ]);
    }
  });

  it('answers from its memo only for the input it hashed, through evictions', () => {
    // Prepare: more than twice as many tuples as the memo has slots, IPv4 and IPv6, with and without ports
    const tuples = Array.from({ length: 10_000 }, (_, i) => {
      const v6 = i % 5 === 0;
      const src = Buffer.alloc(v6 ? 16 : 4);
      src.writeUInt16BE(i, src.length - 2);
      const dst = Buffer.alloc(v6 ? 16 : 4, 10);
      return { src, dst, protocol: i % 7 === 0 ? 47 : 6, sport: i % 3, dport: 443 };
    });
    const text = (bytes: Buffer) => (bytes.length === 4 ? ipv4Text(bytes) : ipv6Full(bytes));
    const expected = tuples.map((t) => reference(t.src, t.dst, t.protocol, t.sport, t.dport));

    // Act: twice, forwards then backwards, and the reverse direction of each
    const forwards = tuples.map((t) => communityId(text(t.src), text(t.dst), t.protocol, t.sport, t.dport));
    const backwards = [...tuples]
      .reverse()
      .map((t) => communityId(text(t.dst), text(t.src), t.protocol, t.dport, t.sport))
      .reverse();

    // Assess
    expect(forwards).toStrictEqual(expected);
    expect(backwards).toStrictEqual(expected);
  });

  fcTest.prop([pair(4), protocol, port, port])('IPv4', ([src, dst], proto, sport, dport) => {
    expect(communityId(ipv4Text(src), ipv4Text(dst), proto, sport, dport)).toBe(
      reference(src, dst, proto, sport, dport),
    );
  });

  fcTest.prop([pair(16), protocol, port, port, fc.boolean()])(
    'IPv6, full and compressed',
    ([src, dst], proto, sport, dport, compressed) => {
      const text = compressed ? ipv6Canonical : ipv6Full;
      expect(communityId(text(src), text(dst), proto, sport, dport)).toBe(
        reference(src, dst, proto, sport, dport),
      );
    },
  );

  fcTest.prop([fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({ maxLength: 40 }))])(
    'has an ID exactly for what node:net takes as an address',
    (text) => {
      fc.pre(!text.includes('%'));
      const other = text.includes(':') ? '::1' : '10.0.0.1';
      expect(communityId(text, other, 6, 1, 2) !== undefined).toBe(isIP(text) !== 0);
    },
  );

  fcTest.prop([fc.ipV4(), fc.ipV4(), fc.constantFrom(6, 17, 132, 47), port, port])(
    'gives both directions of a flow one ID',
    (a, b, proto, sport, dport) => {
      expect(communityId(a, b, proto, sport, dport)).toBe(communityId(b, a, proto, dport, sport));
    },
  );
});
