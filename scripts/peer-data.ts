/**
 * Build step: compiles the ip-location-db CSV packages (devDependencies) into `peer-data.bin`, the compact
 * form src/enrich/peer.ts reads (layout in src/enrich/peer-format.ts). Offline: it reads only
 * node_modules. scripts/build.mjs bundles this file with esbuild and calls `buildPeerData`.
 *
 * Semantics, which the reader's tests check against a linear scan of the CSV files:
 * - a CSV row is an inclusive range `start,end,…`; where rows overlap (the published files have a few
 *   hundred, mostly a country row nested in a wider one) the narrowest row containing the address wins,
 *   as a longest-prefix match would, and between rows of one width the earlier;
 * - the ASN and the country come from their own databases, so an address may have one without the other;
 * - PEER_RESERVED_RANGES get no answer whatever the data says.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  PEER_FORMAT_VERSION,
  PEER_INDEX_LENGTH,
  PEER_MAGIC,
  PEER_RESERVED_RANGES,
  PEER_SECTIONS,
  PEER_SUB_FLAG,
  type PeerHeader,
  type PeerSectionName,
  type PeerSource,
} from '../src/enrich/peer-format.js';
import { parseCidr } from '../src/net/ip.js';

/**
 * An inclusive range of addresses and the value it maps to (an index into a value table). Addresses are
 * numbers for IPv4 and bigints for IPv6: the build handles a million IPv4 ranges, and bigints for them
 * would cost seconds of allocation.
 */
export interface ValueRange<K extends Key> {
  readonly first: K;
  readonly last: K;
  readonly value: number;
}
export type Key = number | bigint;

/** The arithmetic a family's addresses need. */
export interface KeyOps<K extends Key> {
  readonly zero: K;
  readonly max: K;
  /** k + 1 */
  readonly next: (k: K) => K;
  /** Compares two ranges' widths (last - first): negative when a's is smaller. */
  readonly compareWidths: (a: ValueRange<K>, b: ValueRange<K>) => number;
  readonly parse: (decimal: string) => K;
}

export const V4_OPS: KeyOps<number> = {
  zero: 0,
  max: 0xffffffff,
  next: (k) => k + 1,
  compareWidths: (a, b) => a.last - a.first - (b.last - b.first),
  parse: Number,
};

export const V6_OPS: KeyOps<bigint> = {
  zero: 0n,
  max: (1n << 128n) - 1n,
  next: (k) => k + 1n,
  compareWidths: (a, b) => {
    const d = a.last - a.first - (b.last - b.first);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  },
  parse: BigInt,
};

/** The CSV files' text (the `-num` variants: addresses as decimal integers) and what to say about them. */
export interface PeerCsvInputs {
  readonly asnV4: string;
  readonly asnV6: string;
  readonly countryV4: string;
  readonly countryV6: string;
  readonly asn: PeerSource;
  readonly country: PeerSource;
  /** Licence and notice files shipped with the packages, by file name: kept inside the data file. */
  readonly notices: Readonly<Record<string, string>>;
  /** Recorded in the header so a later build can tell the file is up to date. */
  readonly fingerprint: string;
}

export class PeerDataBuildError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file} line ${line}: ${message}`);
    this.name = 'PeerDataBuildError';
  }
}

/** One CSV line's fields, with RFC 4180 quoting (`"LLC ""SPUTNIK"""`). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line.charCodeAt(i) === 34) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = line.indexOf('"', from);
        if (quote === -1) throw new Error('unterminated quoted field');
        if (line.charCodeAt(quote + 1) === 34) {
          value += line.slice(from, quote + 1);
          from = quote + 2;
        } else {
          value += line.slice(from, quote);
          i = quote + 1;
          break;
        }
      }
      fields.push(value);
      if (i < line.length && line.charCodeAt(i) !== 44) throw new Error('text after a quoted field');
      i++;
    } else {
      let comma = line.indexOf(',', i);
      if (comma === -1) comma = line.length;
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
  return fields;
}

const DECIMAL = /^(0|[1-9][0-9]{0,38})$/;

function* csvRows(text: string, file: string, width: number): Generator<[number, string[]]> {
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line === '' || line === '\r') continue;
    let fields: string[];
    try {
      fields = splitCsvLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    } catch (error) {
      throw new PeerDataBuildError(file, lineNumber, (error as Error).message);
    }
    if (fields.length !== width) {
      throw new PeerDataBuildError(file, lineNumber, `${fields.length} fields, expected ${width}`);
    }
    yield [lineNumber, fields];
  }
}

function parseBounds<K extends Key>(
  fields: string[],
  file: string,
  lineNumber: number,
  ops: KeyOps<K>,
): [K, K] {
  const [start = '', end = ''] = fields;
  if (!DECIMAL.test(start) || !DECIMAL.test(end)) {
    throw new PeerDataBuildError(file, lineNumber, `"${start}", "${end}" are not addresses in numeric form`);
  }
  const first = ops.parse(start);
  const last = ops.parse(end);
  if (first > last || last > ops.max) {
    throw new PeerDataBuildError(file, lineNumber, `bad range ${start}-${end}`);
  }
  return [first, last];
}

/** An interning table: value → its index, in order of first appearance. */
class Interner<T> {
  readonly values: T[] = [];
  private readonly index = new Map<T, number>();
  intern(value: T): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(value, i);
    }
    return i;
  }
}

/**
 * Overlapping rows to sorted, disjoint ranges: at every address the narrowest row containing it wins (the
 * earlier of two of one width). Adjacent ranges with one value are merged.
 */
export function flattenRanges<K extends Key>(
  rows: readonly ValueRange<K>[],
  ops: KeyOps<K>,
): ValueRange<K>[] {
  const at = (i: number) => rows[i] as ValueRange<K>;
  const order = rows.map((_, i) => i);
  let sorted = true;
  for (let i = 1; i < rows.length && sorted; i++) sorted = at(i - 1).first <= at(i).first;
  if (!sorted) order.sort((a, b) => (at(a).first < at(b).first ? -1 : at(a).first > at(b).first ? 1 : a - b));
  const out: ValueRange<K>[] = [];
  const emit = (first: K, last: K, value: number) => {
    const previous = out[out.length - 1];
    if (previous && previous.value === value && ops.next(previous.last) === first) {
      out[out.length - 1] = { first: previous.first, last, value };
    } else {
      out.push({ first, last, value });
    }
  };
  // The rows covering the current position (their index in `rows` breaks ties); rarely more than one.
  const active: number[] = [];
  let next = 0;
  let position = ops.zero;
  while (next < order.length || active.length > 0) {
    // The next point where the set of covering rows changes: a row starts, or one ends (just after its last).
    let point: K | undefined = next < order.length ? at(order[next] as number).first : undefined;
    for (const i of active) {
      const after = ops.next(at(i).last);
      if (point === undefined || after < point) point = after;
    }
    const to = point as K;
    if (active.length > 0 && to > position) {
      let winner = active[0] as number;
      for (const i of active) {
        const c = ops.compareWidths(at(i), at(winner));
        if (c < 0 || (c === 0 && i < winner)) winner = i;
      }
      // `to` is one past the piece's last address; for the family's last address there is no `to`.
      emit(position, lastBefore(to, ops), at(winner).value);
    }
    position = to;
    let kept = 0;
    for (const i of active) if (at(i).last >= to) active[kept++] = i;
    active.length = kept;
    while (next < order.length && at(order[next] as number).first === to)
      active.push(order[next++] as number);
  }
  return out;
}

/** k - 1, for a k the ops produced by `next`. */
function lastBefore<K extends Key>(k: K, ops: KeyOps<K>): K {
  return (typeof ops.zero === 'bigint' ? (k as bigint) - 1n : (k as number) - 1) as K;
}

/**
 * Lays disjoint sorted layers over the whole family and cuts it at every boundary of any layer: calls
 * `visit` with each piece's first address and each layer's value there (-1 where the layer has nothing).
 */
export function overlayLayers<K extends Key>(
  layers: readonly (readonly ValueRange<K>[])[],
  ops: KeyOps<K>,
  visit: (start: K, values: readonly number[]) => void,
): void {
  const cursor = layers.map(() => 0);
  const values = layers.map(() => -1);
  let position = ops.zero;
  for (;;) {
    let boundary: K | undefined;
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l] as readonly ValueRange<K>[];
      let i = cursor[l] as number;
      while (i < layer.length && (layer[i] as ValueRange<K>).last < position) i++;
      cursor[l] = i;
      const range = layer[i];
      values[l] = -1;
      if (range === undefined) continue;
      let end: K;
      if (range.first <= position) {
        values[l] = range.value;
        if (range.last === ops.max) continue;
        end = ops.next(range.last);
      } else {
        end = range.first;
      }
      if (boundary === undefined || end < boundary) boundary = end;
    }
    visit(position, values);
    if (boundary === undefined) return;
    position = boundary;
  }
}

interface FamilyTable<K extends Key> {
  readonly starts: K[];
  readonly rows: number[];
}

/** Compiles the four CSV files into the bytes of `peer-data.bin`. */
export function compilePeerData(inputs: PeerCsvInputs): Uint8Array {
  const orgs = new Interner<string>();
  // One value per distinct (AS number, organisation) pair, keyed asn × 2^20 + organisation (exact below 2^53).
  const asns = new Interner<number>();
  const pairOrg = (value: number) => (asns.values[value] as number) % 2 ** 20;
  const lastPairOf = new Map<number, number>();
  const countries = new Interner<string>();

  const readAsn = <K extends Key>(text: string, file: string, ops: KeyOps<K>): ValueRange<K>[] => {
    const ranges: ValueRange<K>[] = [];
    for (const [lineNumber, fields] of csvRows(text, file, 4)) {
      const [first, last] = parseBounds(fields, file, lineNumber, ops);
      const asn = fields[2] as string;
      if (!DECIMAL.test(asn) || Number(asn) > 0xffffffff) {
        throw new PeerDataBuildError(file, lineNumber, `"${asn}" is not an AS number`);
      }
      // An AS has one organisation in the data: look the pair up by number first, the name only when new.
      const name = fields[3] as string;
      let value = lastPairOf.get(Number(asn));
      if (value === undefined || orgs.values[pairOrg(value)] !== name) {
        const org = orgs.intern(name);
        if (org >= 2 ** 20) throw new PeerDataBuildError(file, lineNumber, 'more than 2^20 organisations');
        value = asns.intern(Number(asn) * 2 ** 20 + org);
        lastPairOf.set(Number(asn), value);
      }
      ranges.push({ first, last, value });
    }
    return ranges;
  };
  const readCountry = <K extends Key>(text: string, file: string, ops: KeyOps<K>): ValueRange<K>[] => {
    const ranges: ValueRange<K>[] = [];
    for (const [lineNumber, fields] of csvRows(text, file, 3)) {
      const [first, last] = parseBounds(fields, file, lineNumber, ops);
      const code = fields[2] as string;
      if (!/^[A-Z]{2}$/.test(code)) {
        throw new PeerDataBuildError(file, lineNumber, `"${code}" is not a two-letter country code`);
      }
      ranges.push({ first, last, value: countries.intern(code) });
    }
    return ranges;
  };
  const reserved = <K extends Key>(ops: KeyOps<K>): ValueRange<K>[] => {
    const v = typeof ops.zero === 'bigint' ? 6 : 4;
    const ranges: ValueRange<K>[] = [];
    for (const text of PEER_RESERVED_RANGES) {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`bad reserved range ${text}`);
      if (cidr.v === v) ranges.push({ first: cidr.first as K, last: cidr.last as K, value: 0 });
    }
    return flattenRanges(ranges, ops);
  };

  // A row is a distinct (ASN pair, country) answer; row 0 is "nothing known".
  const rows = new Interner<number>();
  rows.intern(-1);
  const family = <K extends Key>(
    asnLayer: ValueRange<K>[],
    countryLayer: ValueRange<K>[],
    ops: KeyOps<K>,
  ): FamilyTable<K> => {
    const table: FamilyTable<K> = { starts: [], rows: [] };
    const layers = [flattenRanges(asnLayer, ops), flattenRanges(countryLayer, ops), reserved(ops)];
    overlayLayers(layers, ops, (start, [asn = -1, country = -1, isReserved = -1]) => {
      const row =
        isReserved !== -1 || (asn === -1 && country === -1)
          ? 0
          : rows.intern((asn + 1) * 256 + (country + 1));
      if (table.rows[table.rows.length - 1] === row) return;
      table.starts.push(start);
      table.rows.push(row);
    });
    return table;
  };
  const v4 = family(
    readAsn(inputs.asnV4, 'asn-ipv4-num.csv', V4_OPS),
    readCountry(inputs.countryV4, 'geo-whois-asn-country-ipv4-num.csv', V4_OPS),
    V4_OPS,
  );
  const v6 = family(
    readAsn(inputs.asnV6, 'asn-ipv6-num.csv', V6_OPS),
    readCountry(inputs.countryV6, 'geo-whois-asn-country-ipv6-num.csv', V6_OPS),
    V6_OPS,
  );
  if (countries.values.length > 255) throw new Error('more than 255 countries do not fit one byte');

  const rowCount = rows.values.length;
  const rowAsn = new Uint32Array(rowCount);
  const rowOrg = new Uint32Array(rowCount);
  const rowCountry = new Uint8Array(rowCount);
  rows.values.forEach((key, row) => {
    if (row === 0) return;
    const asn = Math.floor(key / 256) - 1;
    const country = (key % 256) - 1;
    if (asn >= 0) {
      const pair = asns.values[asn] as number;
      rowAsn[row] = Math.floor(pair / 2 ** 20);
      rowOrg[row] = (pair % 2 ** 20) + 1;
    }
    rowCountry[row] = country + 1;
  });
  const encoder = new TextEncoder();
  const orgNames = orgs.values.map((name) => encoder.encode(name));
  const orgOffsets = new Uint32Array(orgNames.length + 1);
  orgNames.forEach((name, i) => {
    orgOffsets[i + 1] = (orgOffsets[i] as number) + name.length;
  });
  const orgBytes = new Uint8Array(orgOffsets[orgNames.length] as number);
  orgNames.forEach((name, i) => {
    orgBytes.set(name, orgOffsets[i]);
  });
  if (rowCount >= PEER_SUB_FLAG) throw new Error(`${rowCount} rows do not fit 23 bits`);

  const v4Low = Uint16Array.from(v4.starts, (start) => start & 0xffff);
  const v4Tops = v4.starts.map((start) => start >>> 16);
  const v6Packed = packV6(v6);
  const v6Tops = v6Packed.main.map(({ hi }) => Number(hi >> 48n));
  const sections: Record<PeerSectionName, Uint8Array | Uint16Array | Uint32Array> = {
    v4Index: bucketIndex(v4Tops),
    v4Low,
    v4Rows: rows24(v4.rows),
    v6Index: bucketIndex(v6Tops),
    v6Mid: Uint16Array.from(v6Packed.main, ({ hi }) => Number((hi >> 32n) & 0xffffn)),
    v6Word1: Uint32Array.from(v6Packed.main, ({ hi }) => Number(hi & 0xffffffffn)),
    v6Rows: rows24(v6Packed.main.map(({ row }) => row)),
    v6SubIndex: Uint32Array.from(v6Packed.subIndex),
    v6SubStarts: Uint32Array.from(
      v6Packed.sub.flatMap(({ lo }) => [Number(lo >> 32n), Number(lo & 0xffffffffn)]),
    ),
    v6SubRows: rows24(v6Packed.sub.map(({ row }) => row)),
    rowAsn,
    rowOrg,
    rowCountry,
    orgOffsets,
    orgBytes,
    countryCodes: encoder.encode(countries.values.join('')),
  };
  return assemble(sections, inputs);
}

/** Row numbers as 3 little-endian bytes each. */
function rows24(rows: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(rows.length * 3);
  rows.forEach((row, i) => {
    bytes[3 * i] = row & 0xff;
    bytes[3 * i + 1] = (row >>> 8) & 0xff;
    bytes[3 * i + 2] = row >>> 16;
  });
  return bytes;
}

/**
 * Entry h: how many entries have a top (their start's top 16 bits) below h, that is where bucket h begins;
 * the last entry is the count. `tops` is sorted.
 */
export function bucketIndex(tops: readonly number[]): Uint32Array {
  const index = new Uint32Array(PEER_INDEX_LENGTH);
  let i = 0;
  for (let h = 0; h < PEER_INDEX_LENGTH; h++) {
    while (i < tops.length && (tops[i] as number) < h) i++;
    index[h] = i;
  }
  return index;
}

const LOW64 = (1n << 64n) - 1n;
const MAX_HI64 = LOW64;

/**
 * IPv6 ranges to /64 entries: a /64 whose only range boundary is its start is one entry with that range's
 * row; a /64 with boundaries inside it is one entry pointing at a small table of its own (its ranges' low
 * 64 bits and rows, the first at 0). After such a /64, the range that covers its end goes on: an entry for
 * the next /64 carries it unless a range starts there anyway.
 */
export function packV6(table: { readonly starts: readonly bigint[]; readonly rows: readonly number[] }) {
  const { starts, rows } = table;
  const main: { hi: bigint; row: number }[] = [];
  const subIndex: number[] = [];
  const sub: { lo: bigint; row: number }[] = [];
  let i = 0;
  while (i < starts.length) {
    const hi = (starts[i] as bigint) >> 64n;
    let j = i + 1;
    while (j < starts.length && (starts[j] as bigint) >> 64n === hi) j++;
    const firstLow = (starts[i] as bigint) & LOW64;
    if (j - i === 1 && firstLow === 0n) {
      main.push({ hi, row: rows[i] as number });
      i = j;
      continue;
    }
    main.push({ hi, row: PEER_SUB_FLAG | subIndex.length });
    subIndex.push(sub.length);
    // The family's first range starts at 0, so a /64 whose first start is inside it has a range before.
    if (firstLow !== 0n) sub.push({ lo: 0n, row: rows[i - 1] as number });
    for (let k = i; k < j; k++) sub.push({ lo: (starts[k] as bigint) & LOW64, row: rows[k] as number });
    const nextHi = j < starts.length ? (starts[j] as bigint) >> 64n : undefined;
    if (hi < MAX_HI64 && (nextHi === undefined || nextHi > hi + 1n))
      main.push({ hi: hi + 1n, row: rows[j - 1] as number });
    i = j;
  }
  subIndex.push(sub.length);
  if (subIndex.length >= PEER_SUB_FLAG) throw new Error('too many finer /64s for 23 bits');
  return { main, subIndex, sub };
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

function assemble(
  sections: Record<PeerSectionName, Uint8Array | Uint16Array | Uint32Array>,
  inputs: PeerCsvInputs,
): Uint8Array {
  const names = Object.keys(PEER_SECTIONS) as PeerSectionName[];
  const encoder = new TextEncoder();
  // The header holds the sections' offsets, which depend on the header's length: lay it out with
  // placeholders of the final width, then fill them in.
  const layout = (headerLength: number) => {
    let offset = align8(16 + headerLength);
    const table = {} as Record<PeerSectionName, [number, number]>;
    for (const name of names) {
      const section = sections[name];
      table[name] = [offset, section.length];
      offset = align8(offset + section.byteLength);
    }
    return { table, size: offset };
  };
  const headerFor = (table: Record<PeerSectionName, [number, number]>) => {
    const header: PeerHeader & { notices: Readonly<Record<string, string>>; fingerprint: string } = {
      asn: inputs.asn,
      country: inputs.country,
      reserved: PEER_RESERVED_RANGES,
      sections: table,
      notices: inputs.notices,
      fingerprint: inputs.fingerprint,
    };
    return encoder.encode(JSON.stringify(header));
  };
  let headerLength = headerFor(layout(0).table).length;
  let placed = layout(headerLength);
  let header = headerFor(placed.table);
  while (header.length !== headerLength) {
    headerLength = header.length;
    placed = layout(headerLength);
    header = headerFor(placed.table);
  }
  const bytes = new Uint8Array(placed.size);
  bytes.set(encoder.encode(PEER_MAGIC), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, PEER_FORMAT_VERSION, true);
  view.setUint32(12, header.length, true);
  bytes.set(header, 16);
  bytes.fill(0x20, 16 + header.length, align8(16 + header.length));
  for (const name of names) {
    const section = sections[name];
    const [offset] = placed.table[name];
    bytes.set(new Uint8Array(section.buffer, section.byteOffset, section.byteLength), offset);
  }
  return bytes;
}

const ASN_PACKAGE = '@ip-location-db/asn';
const COUNTRY_PACKAGE = '@ip-location-db/geo-whois-asn-country';

/** `2.3.2026061719` → `2026-06-17`: the packages are versioned by the date and hour of their data. */
export function dateOfVersion(version: string): string {
  const stamp = version.split('.')[2] ?? '';
  if (!/^\d{10}$/.test(stamp)) throw new Error(`cannot read a date from version ${version}`);
  return `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}`;
}

function packageVersion(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** What the build will read, and the fingerprint that says whether an existing file is still current. */
export function describePeerSources(root: string) {
  const asnDir = join(root, 'node_modules', ASN_PACKAGE);
  const countryDir = join(root, 'node_modules', COUNTRY_PACKAGE);
  const asnVersion = packageVersion(asnDir);
  const countryVersion = packageVersion(countryDir);
  const asn: PeerSource = {
    package: ASN_PACKAGE,
    version: asnVersion,
    date: dateOfVersion(asnVersion),
    licence: 'CC-BY-4.0',
    attribution:
      'IP to ASN data by RouteViews (routeviews.org), the DB-IP IP to ASN Lite database ' +
      "(<a href='https://db-ip.com'>IP Geolocation by DB-IP</a>) and the five RIRs' statistics provided by " +
      'the NRO (nro.net), each under CC BY 4.0; merged and modified by ip-location-db (sapics).',
  };
  const country: PeerSource = {
    package: COUNTRY_PACKAGE,
    version: countryVersion,
    date: dateOfVersion(countryVersion),
    licence: 'CC0-1.0',
    attribution:
      'Country data from ip-location-db geo-whois-asn-country (CC0 1.0), built from GeoFeed, RIR WHOIS and ' +
      "ASN data; the RIRs' statistics provided by the NRO (nro.net) under CC BY 4.0.",
  };
  const noticeFiles = [
    [asnDir, 'ROUTEVIEWS-LICENSE'],
    [asnDir, 'DBIP-LICENSE'],
    [asnDir, 'NRO_LICENSE'],
    [asnDir, 'MODIFICATIONS'],
  ] as const;
  const notices: Record<string, string> = {};
  for (const [dir, file] of noticeFiles) notices[file] = readFileSync(join(dir, file), 'utf8').trim();
  const hash = createHash('sha256');
  hash.update(`${PEER_FORMAT_VERSION} ${asnVersion} ${countryVersion}`);
  for (const file of ['scripts/peer-data.ts', 'src/enrich/peer-format.ts', 'src/net/ip.ts']) {
    hash.update(readFileSync(join(root, file)));
  }
  return { asnDir, countryDir, asn, country, notices, fingerprint: hash.digest('hex').slice(0, 16) };
}

/** Reads the four CSV files of the installed packages. */
export function readPeerInputs(root: string): PeerCsvInputs {
  const { asnDir, countryDir, ...rest } = describePeerSources(root);
  return {
    ...rest,
    asnV4: readFileSync(join(asnDir, 'asn-ipv4-num.csv'), 'utf8'),
    asnV6: readFileSync(join(asnDir, 'asn-ipv6-num.csv'), 'utf8'),
    countryV4: readFileSync(join(countryDir, 'geo-whois-asn-country-ipv4-num.csv'), 'utf8'),
    countryV6: readFileSync(join(countryDir, 'geo-whois-asn-country-ipv6-num.csv'), 'utf8'),
  };
}

/** The header of an existing file, or undefined when there is none or it is not one of ours. */
function existingFingerprint(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    if (readSync(fd, head, 0, 16, 0) !== 16 || head.toString('latin1', 0, 8) !== PEER_MAGIC) return undefined;
    if (head.readUInt32LE(8) !== PEER_FORMAT_VERSION) return undefined;
    const header = Buffer.alloc(head.readUInt32LE(12));
    readSync(fd, header, 0, header.length, 16);
    return (JSON.parse(header.toString('utf8')) as { fingerprint?: string }).fingerprint;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `out` (and a NOTICE beside it) unless it is already current. Returns what it did, for the build's
 * log line.
 */
export function buildPeerData(root: string, out: string): { written: boolean; bytes: number; ms: number } {
  const started = performance.now();
  const { fingerprint } = describePeerSources(root);
  const noticeFile = out.replace(/\.bin$/, '.NOTICE.txt');
  if (existingFingerprint(out) === fingerprint && existsSync(noticeFile)) {
    return { written: false, bytes: readFileSync(out).length, ms: performance.now() - started };
  }
  const inputs = readPeerInputs(root);
  const bytes = compilePeerData(inputs);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  const notice = [
    `${out.split('/').pop()} is compiled from:`,
    `- ${inputs.asn.package} ${inputs.asn.version} (data of ${inputs.asn.date}), ${inputs.asn.licence}: ${inputs.asn.attribution}`,
    `- ${inputs.country.package} ${inputs.country.version} (data of ${inputs.country.date}), ${inputs.country.licence}: ${inputs.country.attribution}`,
    '',
    ...Object.entries(inputs.notices).map(([file, text]) => `== ${file} ==\n${text}\n`),
  ].join('\n');
  writeFileSync(noticeFile, notice);
  return { written: true, bytes: bytes.length, ms: performance.now() - started };
}
