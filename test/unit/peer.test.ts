import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fc, test as fcTest } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { PEER_DATA_FILE } from '../../scripts/build.mjs';
import { buildPeerData, flattenRanges, splitCsvLine, V4_OPS } from '../../scripts/peer-data.js';
import {
  loadPeerDatabase,
  type PeerDatabase,
  PeerDataError,
  type PeerInfo,
  parseIPv6Words,
  parsePeerDatabase,
} from '../../src/enrich/peer.js';
import { PEER_EMBEDDED_V4_PREFIXES, PEER_RESERVED_RANGES } from '../../src/enrich/peer-format.js';
import { type Cidr, cidrContains, parseAddress, parseCidr, parseIPv6 } from '../../src/net/ip.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dataFile = join(root, PEER_DATA_FILE);
const asnDir = join(root, 'node_modules/@ip-location-db/asn');
const countryDir = join(root, 'node_modules/@ip-location-db/geo-whois-asn-country');
const ASN_VERSION = '2.3.2026061719';

let peers: PeerDatabase;
beforeAll(async () => {
  // The file `npm run build` ships (built by `npm ci` already; rebuilt here only when it is stale).
  buildPeerData(root, dataFile);
  peers = await loadPeerDatabase(dataFile);
}, 120_000);

describe('peer lookup: well-known addresses', () => {
  // Answers as the 2026-06-17 data gives them (1.1.1.0/24 is registered to APNIC's research lab in AU).
  it.each([
    { address: '8.8.8.8', peer: { asn: 15169, org: 'Google LLC', country: 'US' } },
    { address: '8.8.4.4', peer: { asn: 15169, org: 'Google LLC', country: 'US' } },
    { address: '1.1.1.1', peer: { asn: 13335, org: 'Cloudflare, Inc.', country: 'AU' } },
    { address: '9.9.9.9', peer: { asn: 19281, org: 'Quad9', country: 'US' } },
    { address: '2001:4860:4860::8888', peer: { asn: 15169, org: 'Google LLC', country: 'US' } },
    { address: '2606:4700:4700::1111', peer: { asn: 13335, org: 'Cloudflare, Inc.', country: 'US' } },
    { address: '2620:fe::fe', peer: { asn: 19281, org: 'Quad9', country: 'US' } },
    // Other spellings of the same addresses.
    { address: '2001:4860:4860:0:0:0:0:8888', peer: { asn: 15169, org: 'Google LLC', country: 'US' } },
    { address: '2001:4860:4860::8888%eth0', peer: { asn: 15169, org: 'Google LLC', country: 'US' } },
    { address: '::ffff:8.8.8.8', peer: { asn: 15169, org: 'Google LLC', country: 'US' } },
    { address: '::ffff:808:808', peer: { asn: 15169, org: 'Google LLC', country: 'US' } },
    { address: '64:ff9b::808:808', peer: { asn: 15169, org: 'Google LLC', country: 'US' } },
  ])('$address', ({ address, peer }) => {
    // Act
    const found = peers.lookup(address);
    // Assess
    expect(found).toStrictEqual(peer);
  });

  it('answers a parsed address and the uint32 form with the same object', () => {
    // Prepare
    const parsed = parseAddress('8.8.8.8');
    // Act
    const fromText = peers.lookup('8.8.8.8');
    // Assess
    expect(parsed?.v).toBe(4);
    expect(peers.lookup(parsed as NonNullable<typeof parsed>)).toBe(fromText);
    expect(peers.lookupV4(0x08080808)).toBe(fromText);
    expect(peers.lookup({ v: 6, n: parseIPv6('2001:4860:4860::8888') })).toBe(fromText);
    expect(Object.isFrozen(fromText)).toBe(true);
  });

  it('says which data it holds, and the licences travel inside the file', () => {
    // Prepare
    const header = readFileSync(dataFile).subarray(0, 8192).toString('latin1');
    // Act, Assess
    expect(peers.asnDate).toBe('2026-06-17');
    expect(peers.countryDate).toBe('2026-06-17');
    expect(peers.sources.asn).toMatchObject({ package: '@ip-location-db/asn', version: ASN_VERSION });
    expect(peers.sources.asn.licence).toBe('CC-BY-4.0');
    expect(peers.sources.country).toMatchObject({ package: '@ip-location-db/geo-whois-asn-country' });
    for (const text of ['routeviews.org', 'DB-IP', 'nro.net', 'Creative Commons Attribution 4.0']) {
      expect(header).toContain(text);
    }
  });
});

describe('peer lookup: nobody on the internet', () => {
  it.each([
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.127.255.255',
    '169.254.169.254',
    '127.0.0.1',
    '0.0.0.0',
    '224.0.0.251',
    '239.255.255.250',
    '255.255.255.255',
    '192.0.2.1',
    '198.51.100.7',
    '203.0.113.9',
    '::',
    '::1',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '2001:db8::1',
    '2001:db8:ffff::1',
    '::ffff:10.0.0.1',
    '64:ff9b::192.168.0.1',
  ])('%s has no peer', (address) => {
    expect(peers.lookup(address)).toBeUndefined();
  });

  it.each(['', 'localhost', '1.2.3', '1.2.3.256', '2001:db8::g', '1::2::3', ':1', '1:'])(
    'malformed %j has no peer',
    (address) => {
      expect(peers.lookup(address)).toBeUndefined();
    },
  );

  it.each([-1, 2 ** 32, 1.5, Number.NaN])('lookupV4(%s) has no peer', (n) => {
    expect(peers.lookupV4(n)).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------------
// The reference: a linear scan over the original CSV files (their text form, parsed with ip.ts, not the
// numeric files the build reads). Where rows overlap, the narrowest containing row wins, then the earlier.

// IPv4 bounds stay numbers: a scan compares every row, and bigints would make it ten times slower.
interface CsvRow<K extends number | bigint> {
  readonly first: K;
  readonly last: K;
  readonly width: K;
  readonly fields: readonly string[];
}

function readCsv<V extends 4 | 6>(file: string, v: V): CsvRow<V extends 4 ? number : bigint>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const fields = splitCsvLine(line);
      const first = parseAddress(fields[0] as string);
      const last = parseAddress(fields[1] as string);
      if (first?.v !== v || last?.v !== v) throw new Error(`unreadable row ${line}`);
      const width =
        v === 4 ? (last.n as number) - (first.n as number) : (last.n as bigint) - (first.n as bigint);
      return { first: first.n, last: last.n, width, fields } as unknown as CsvRow<
        V extends 4 ? number : bigint
      >;
    });
}

/** Whether rows come in order of their first address: then a scan can stop at the first row past the address. */
function inOrder<K extends number | bigint>(rows: readonly CsvRow<K>[]): boolean {
  return rows.every((row, i) => i === 0 || (rows[i - 1] as CsvRow<K>).first <= row.first);
}

function scan<K extends number | bigint>(rows: readonly CsvRow<K>[], address: K): CsvRow<K> | undefined {
  const ordered = sortedFiles.has(rows);
  let best: CsvRow<K> | undefined;
  for (const row of rows) {
    if (ordered && row.first > address) break;
    if (row.first <= address && address <= row.last && (!best || row.width < best.width)) best = row;
  }
  return best;
}

/** The files whose rows are in order (checked when read, not assumed). */
const sortedFiles = new WeakSet<readonly CsvRow<number | bigint>[]>();

const reserved = PEER_RESERVED_RANGES.map((text) => parseCidr(text) as Cidr);

interface Reference {
  readonly asn: { readonly 4: CsvRow<number>[]; readonly 6: CsvRow<bigint>[] };
  readonly country: { readonly 4: CsvRow<number>[]; readonly 6: CsvRow<bigint>[] };
}

function referenceLookup(ref: Reference, v: 4 | 6, n: bigint): PeerInfo | undefined {
  if (v === 6) {
    for (const prefix of PEER_EMBEDDED_V4_PREFIXES) {
      if (n >> 32n === prefix >> 32n) return referenceLookup(ref, 4, n & 0xffffffffn);
    }
  }
  const address = v === 4 ? { v: 4 as const, n: Number(n) } : { v: 6 as const, n };
  if (reserved.some((cidr) => cidrContains(cidr, address))) return undefined;
  const asn = address.v === 4 ? scan(ref.asn[4], address.n) : scan(ref.asn[6], address.n);
  const country = address.v === 4 ? scan(ref.country[4], address.n) : scan(ref.country[6], address.n);
  if (!asn && !country) return undefined;
  return {
    asn: asn ? Number(asn.fields[2]) : null,
    org: asn ? (asn.fields[3] as string) : null,
    country: country ? (country.fields[2] as string) : null,
  };
}

const text = (v: 4 | 6, n: bigint): string => {
  if (v === 4) return [24n, 16n, 8n, 0n].map((shift) => (n >> shift) & 255n).join('.');
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((n >> shift) & 0xffffn).toString(16));
  return groups.join(':');
};

describe('peer lookup: the compact form agrees with a linear scan of the CSV files', () => {
  let ref: Reference;
  beforeAll(() => {
    ref = {
      asn: { 4: readCsv(join(asnDir, 'asn-ipv4.csv'), 4), 6: readCsv(join(asnDir, 'asn-ipv6.csv'), 6) },
      country: {
        4: readCsv(join(countryDir, 'geo-whois-asn-country-ipv4.csv'), 4),
        6: readCsv(join(countryDir, 'geo-whois-asn-country-ipv6.csv'), 6),
      },
    };
    for (const rows of [ref.asn[4], ref.asn[6], ref.country[4], ref.country[6]] as CsvRow<
      number | bigint
    >[][])
      if (inOrder(rows)) sortedFiles.add(rows);
    // The scan stays right either way; this says when a data release out of order makes it slow again.
    expect(
      [ref.asn[4], ref.asn[6], ref.country[4], ref.country[6]].map((rows) => sortedFiles.has(rows)),
    ).toStrictEqual([true, true, true, true]);
  }, 120_000);

  // An address at or next to a boundary of some row is where an off-by-one would show.
  const nearRow = (v: 4 | 6) =>
    fc
      .tuple(
        fc.constantFrom<'asn' | 'country'>('asn', 'country'),
        fc.nat(),
        fc.constantFrom(-1n, 0n, 1n),
        fc.boolean(),
      )
      .map(([db, i, offset, atEnd]) => {
        const rows: readonly CsvRow<number | bigint>[] = ref[db][v];
        const row = rows[i % rows.length] as CsvRow<number | bigint>;
        const max = v === 4 ? 0xffffffffn : (1n << 128n) - 1n;
        const n = BigInt(atEnd ? row.last : row.first) + offset;
        return n < 0n ? 0n : n > max ? max : n;
      });
  const anyV4 = fc.ipV4().map((a) => BigInt((parseAddress(a) as { n: number }).n));
  // Random IPv6 addresses are almost all unallocated: draw from 2000::/3 and its busy first bytes too.
  const anyV6 = fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    fc.bigInt({ min: 0x2000n << 112n, max: (0x4000n << 112n) - 1n }),
    fc.bigInt({ min: 0x2a00n << 112n, max: (0x2a10n << 112n) - 1n }),
  );

  fcTest.prop([fc.oneof(anyV4, nearRow(4))], { numRuns: 200 })('IPv4', (n) => {
    expect(peers.lookup(text(4, n)) ?? null).toStrictEqual(referenceLookup(ref, 4, n) ?? null);
  });

  fcTest.prop([fc.oneof(anyV6, nearRow(6))], { numRuns: 100 })('IPv6', (n) => {
    expect(peers.lookup(text(6, n)) ?? null).toStrictEqual(referenceLookup(ref, 6, n) ?? null);
  });

  it('where CSV rows overlap, at every edge of every overlapping row', () => {
    // Prepare: rows that overlap their predecessor in file order, and that predecessor.
    const edges: [4 | 6, bigint][] = [];
    for (const v of [4, 6] as const) {
      for (const rows of [ref.asn[v], ref.country[v]] as readonly CsvRow<number | bigint>[][]) {
        rows.forEach((row, i) => {
          const previous = rows[i - 1];
          if (!previous || row.first > previous.last) return;
          for (const r of [row, previous]) {
            for (const n of [BigInt(r.first) - 1n, BigInt(r.first), BigInt(r.last), BigInt(r.last) + 1n]) {
              edges.push([v, n]);
            }
          }
        });
      }
    }
    // Act, Assess
    expect(edges.length).toBeGreaterThan(100);
    // Some 5,000 edges, 8 per overlap: every 21st (prime to 8, so every kind of edge in turn) keeps the
    // scan to seconds.
    for (const [v, n] of edges.filter((_, i) => i % 21 === 0)) {
      expect(peers.lookup(text(v, n)) ?? null, text(v, n)).toStrictEqual(referenceLookup(ref, v, n) ?? null);
    }
  });

  it('at the edges of IPv6 rows that cut a /64', () => {
    // Prepare: rows starting or ending inside a /64 (some 16,000); the file keeps those /64s apart.
    const low64 = (1n << 64n) - 1n;
    const edges: bigint[] = [];
    for (const rows of [ref.asn[6], ref.country[6]]) {
      for (const row of rows) {
        if ((row.first & low64) !== 0n) edges.push(row.first - 1n, row.first);
        if (((row.last + 1n) & low64) !== 0n) edges.push(row.last, row.last + 1n);
      }
    }
    // Act, Assess
    expect(edges.length).toBeGreaterThan(1000);
    for (const n of edges.filter((_, i) => i % 97 === 0)) {
      expect(peers.lookup(text(6, n)) ?? null, text(6, n)).toStrictEqual(referenceLookup(ref, 6, n) ?? null);
    }
  });
});

describe('peer data: building and loading', () => {
  it('flattens overlapping rows: the narrowest wins, then the earlier', () => {
    // Prepare
    const rows = [
      { first: 0, last: 99, value: 1 },
      { first: 10, last: 19, value: 2 }, // nested
      { first: 10, last: 19, value: 3 }, // same width, later: loses
      { first: 90, last: 120, value: 4 }, // crosses the end of the first
      { first: 200, last: 200, value: 5 },
    ];
    // Act
    const flat = flattenRanges(rows, V4_OPS);
    // Assess
    expect(flat).toStrictEqual([
      { first: 0, last: 9, value: 1 },
      { first: 10, last: 19, value: 2 },
      { first: 20, last: 89, value: 1 },
      { first: 90, last: 120, value: 4 },
      { first: 200, last: 200, value: 5 },
    ]);
  });

  it('reads quoted CSV fields', () => {
    expect(splitCsvLine('1,2,201907,"LLC ""SPUTNIK"""')).toStrictEqual(['1', '2', '201907', 'LLC "SPUTNIK"']);
    expect(splitCsvLine('1,2,13335,"Cloudflare, Inc."')).toStrictEqual([
      '1',
      '2',
      '13335',
      'Cloudflare, Inc.',
    ]);
  });

  it('ships one file well under the 50 MB package limit', () => {
    expect(readFileSync(dataFile).length).toBeLessThan(24 * 2 ** 20);
  });

  it.each([
    { name: 'a missing file', bytes: undefined, message: /ENOENT/ },
    { name: 'another file', bytes: Buffer.from('{"not":"peer data"}'), message: /not a peer data file/ },
    { name: 'another format version', bytes: 'version', message: /format 99, expected \d+: rebuild it/ },
    { name: 'a truncated file', bytes: 'truncated', message: /out of bounds|truncated/ },
  ] as const)('refuses $name with a PeerDataError naming the file', async ({ bytes, message }) => {
    // Prepare
    const path = join(tmpdir(), `peer-data-test-${process.pid}-${Math.random()}.bin`);
    const good = readFileSync(dataFile);
    if (bytes === 'version') {
      const copy = Buffer.from(good);
      copy.writeUInt32LE(99, 8);
      writeFileSync(path, copy);
    } else if (bytes === 'truncated') {
      writeFileSync(path, good.subarray(0, good.length / 2));
    } else if (bytes) {
      writeFileSync(path, bytes);
    }
    // Act, Assess
    await expect(loadPeerDatabase(path)).rejects.toThrow(PeerDataError);
    await expect(loadPeerDatabase(path)).rejects.toThrow(message);
    await expect(loadPeerDatabase(path)).rejects.toThrow(path);
  });

  it('reads bytes at any offset (a pooled Buffer need not be aligned)', () => {
    // Prepare
    const good = readFileSync(dataFile);
    const shifted = new Uint8Array(good.length + 3);
    shifted.set(good, 3);
    // Act
    const db = parsePeerDatabase(shifted.subarray(3));
    // Assess
    expect(db.lookup('9.9.9.9')).toStrictEqual({ asn: 19281, org: 'Quad9', country: 'US' });
  });

  it('README names the data, its date and its licences', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const t of [`@ip-location-db/asn\` ${ASN_VERSION}`, 'CC BY 4.0', 'DB-IP', 'RouteViews', 'NRO']) {
      expect(readme).toContain(t);
    }
  });
});

describe('IPv6 words', () => {
  const words = new Uint32Array(4);
  const asBigint = (w: Uint32Array) =>
    (BigInt(w[0] as number) << 96n) |
    (BigInt(w[1] as number) << 64n) |
    (BigInt(w[2] as number) << 32n) |
    BigInt(w[3] as number);

  fcTest.prop([fc.oneof(fc.ipV6(), fc.string({ maxLength: 40 }), fc.stringMatching(/^[0-9a-fA-F:]{0,40}$/))])(
    'agree with parseIPv6 wherever they answer, and answer every hexadecimal address',
    (address) => {
      const ok = parseIPv6Words(address, words);
      const n = parseIPv6(address);
      if (ok) expect(asBigint(words)).toBe(n);
      else if (!address.includes('.') && !address.includes('%')) expect(n).toBe(-1n);
    },
  );
});
